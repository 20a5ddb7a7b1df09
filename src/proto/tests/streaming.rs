//! Messages streamed both ways in the core: fragments written as produced
//! and pieces read as they arrive, compressed or not, cut anywhere; the
//! limits, giving up on either side, and the rules between fragments.

use super::*;
use crate::proto::streamed::{Piece, Streamed};
use crate::MessageKind;

fn streaming_pair(compressed: bool, config: &Config) -> (Connection, Connection) {
    let now = Instant::now();
    let client = Connection::new(Role::Client, config, now);
    let server = Connection::new(Role::Server, config, now);
    if !compressed {
        return (client, server);
    }
    #[cfg(feature = "deflate")]
    {
        let (params, deflate) = (crate::DeflateParams::default(), crate::DeflateConfig::default());
        (
            client.with_deflate(params, &deflate),
            server.with_deflate(params, &deflate),
        )
    }
    #[cfg(not(feature = "deflate"))]
    (client, server)
}

/// Sends `data` as one streamed message, flushing a fragment at each cut.
fn send_streamed(from: &mut Connection, kind: MessageKind, data: &[u8], cuts: &[usize]) {
    from.start_streamed(kind, true).unwrap();
    let mut at = 0;
    for &cut in cuts.iter().chain([data.len()].iter()) {
        let cut = cut.clamp(at, data.len());
        let mut rest = &data[at..cut];
        while !rest.is_empty() {
            let taken = from.write_streamed(rest).unwrap();
            rest = &rest[taken..];
        }
        from.flush_streamed();
        at = cut;
    }
    from.finish_streamed().unwrap();
}

/// Feeds `bytes` in reads of `read` bytes and collects what `poll_streamed` hands on.
fn receive_streamed(conn: &mut Connection, bytes: &[u8], read: usize) -> Vec<Streamed> {
    let now = Instant::now();
    let mut out = Vec::new();
    for chunk in bytes.chunks(read.max(1)) {
        conn.handle_bytes(chunk, now);
        while let Some(streamed) = conn.poll_streamed() {
            out.push(streamed);
        }
    }
    out
}

/// The pieces as whole messages, checking each message's first and last flags.
fn joined(pieces: &[Streamed]) -> Vec<(MessageKind, Vec<u8>)> {
    let mut messages: Vec<(MessageKind, Vec<u8>)> = Vec::new();
    let mut open = false;
    for streamed in pieces {
        let Streamed::Piece(Piece {
            kind,
            first,
            last,
            data,
        }) = streamed
        else {
            continue;
        };
        assert_eq!(*first, !open, "first exactly on a message's first piece");
        if *first {
            messages.push((*kind, Vec::new()));
        }
        messages.last_mut().unwrap().1.extend_from_slice(data);
        open = !last;
    }
    assert!(!open, "every message ended");
    messages
}

proptest! {
    #[test]
    fn streamed_messages_arrive_intact_however_they_are_cut(
        data in proptest::collection::vec(0u8..8, 0..20_000),
        cuts in proptest::collection::vec(0usize..20_000, 0..5),
        read in 1usize..3000,
        compressed: bool,
        text: bool,
    ) {
        let config = config(|c| c.streamed_frame_size(4096));
        let (mut client, mut server) = streaming_pair(compressed, &config);
        let kind = if text { MessageKind::Text } else { MessageKind::Binary };
        send_streamed(&mut client, kind, &data, &cuts);
        client.send(Message::text("after")).unwrap();
        let wire = take_output(&mut client);
        let pieces = receive_streamed(&mut server, &wire, read);
        prop_assert_eq!(server.error().map(|e| e.to_string()), None);
        prop_assert_eq!(joined(&pieces), vec![(kind, data.clone()), (MessageKind::Text, b"after".to_vec())]);
        // The same bytes read whole by `poll_message`.
        let (_, mut whole) = streaming_pair(compressed, &config);
        let expected = if text { Message::text(String::from_utf8(data).unwrap()) } else { Message::binary(data) };
        prop_assert_eq!(read_all(&mut whole, &wire, Instant::now()).unwrap(), vec![expected, Message::text("after")]);
    }
}

#[test]
fn a_streamed_message_may_pass_the_whole_message_limits_but_not_its_own() {
    let config = config(|c| {
        c.max_frame_size(1024)
            .max_message_size(1024)
            .max_streamed_message_size(5000)
    });
    let (mut client, mut server) = streaming_pair(false, &config);
    client.send(Message::binary(vec![7; 4000])).unwrap(); // one frame of 4000
    let pieces = receive_streamed(&mut server, &take_output(&mut client), 1000);
    assert_eq!(joined(&pieces), vec![(MessageKind::Binary, vec![7; 4000])]);
    assert!(pieces.len() >= 4, "handed on as it arrived, not gathered");
    client.send(Message::binary(vec![7; 5001])).unwrap();
    receive_streamed(&mut server, &take_output(&mut client), 1000);
    assert!(matches!(
        failure(&server),
        Some(ProtocolError::FrameTooLarge { max: 5000, .. })
    ));
    assert_eq!(close_sent_by(&mut server).map(|f| f.code), Some(CloseCode::SIZE));
}

#[cfg(feature = "deflate")]
#[test]
fn a_compressed_bomb_is_handed_on_in_bounded_pieces_and_stopped_at_the_limit() {
    let config = config(|c| c.max_streamed_message_size(8 << 20));
    let (mut client, mut server) = streaming_pair(true, &config);
    client.send(Message::binary(vec![0; 4 << 20])).unwrap(); // a few KiB on the wire
    let wire = take_output(&mut client);
    assert!(wire.len() < 64 << 10, "{} bytes on the wire", wire.len());
    let pieces = receive_streamed(&mut server, &wire, wire.len());
    let largest = pieces
        .iter()
        .map(|p| if let Streamed::Piece(p) = p { p.data.len() } else { 0 })
        .max();
    assert!(largest <= Some(128 << 10), "largest piece {largest:?}");
    assert_eq!(joined(&pieces)[0].1.len(), 4 << 20);
    client.send(Message::binary(vec![0; 9 << 20])).unwrap();
    receive_streamed(&mut server, &take_output(&mut client), 4096);
    assert!(matches!(failure(&server), Some(ProtocolError::MessageTooLarge { .. })));
    assert_eq!(close_sent_by(&mut server).map(|f| f.code), Some(CloseCode::SIZE));
}

#[test]
fn invalid_streamed_text_fails_at_the_piece_holding_the_bad_byte() {
    let (mut client, mut server) = streaming_pair(false, &Config::default());
    client.send(Message::text("x".repeat(100))).unwrap();
    let mut wire = take_output(&mut client);
    let at = wire.len() - 50;
    wire.truncate(at + 1);
    receive_streamed(&mut server, &wire[..at], at);
    assert_eq!(server.error().map(|e| e.to_string()), None, "valid so far");
    // The byte at `at` is an 'x' masked: send 0xff masked the same way.
    let key_byte = wire[at] ^ b'x';
    let pieces = receive_streamed(&mut server, &[key_byte ^ 0xff], 1);
    assert!(pieces.is_empty());
    assert_eq!(failure(&server), Some(ProtocolError::InvalidUtf8));
}

#[test]
fn a_given_up_message_is_dropped_and_the_next_one_arrives() {
    let (mut client, mut server) = streaming_pair(false, &Config::default());
    client.send(Message::binary(vec![1; 3000])).unwrap();
    client.send(Message::text("next")).unwrap();
    let wire = take_output(&mut client);
    server.handle_bytes(&wire[..1000], Instant::now());
    assert!(matches!(
        server.poll_streamed(),
        Some(Streamed::Piece(Piece {
            first: true,
            last: false,
            ..
        }))
    ));
    server.discard_streamed();
    server.handle_bytes(&wire[1000..], Instant::now());
    // Whole again: the rest of the given-up message never shows.
    assert_eq!(server.poll_message(), Some(Message::text("next")));
    assert_eq!(server.poll_message(), None);
    assert_eq!(server.error().map(|e| e.to_string()), None);
}

#[test]
fn pings_between_pieces_are_answered() {
    let (mut client, mut server) = streaming_pair(false, &Config::default());
    client.start_streamed(MessageKind::Binary, false).unwrap();
    client.write_streamed(b"part one").unwrap();
    client.flush_streamed();
    client.send(Message::Ping(Bytes::from_static(b"p"))).unwrap();
    client.write_streamed(b"part two").unwrap();
    client.finish_streamed().unwrap();
    let pieces = receive_streamed(&mut server, &take_output(&mut client), 5);
    assert!(pieces.contains(&Streamed::Control(Message::Ping(Bytes::from_static(b"p")))));
    assert_eq!(
        joined(&pieces),
        vec![(MessageKind::Binary, b"part onepart two".to_vec())]
    );
    assert_eq!(
        read_all(&mut client, &take_output(&mut server), Instant::now()).unwrap(),
        vec![Message::Pong(Bytes::from_static(b"p"))]
    );
}

#[test]
fn no_data_message_may_come_between_fragments() {
    let (mut client, _) = streaming_pair(false, &Config::default());
    client.start_streamed(MessageKind::Text, true).unwrap();
    let refused = client.send(Message::text("cut in"));
    assert!(matches!(
        refused,
        Err(Error::InvalidMessage(SendError::StreamedMessageInProgress))
    ));
    let second = client.start_streamed(MessageKind::Text, true);
    assert!(matches!(
        second,
        Err(Error::InvalidMessage(SendError::StreamedMessageInProgress))
    ));
    let bad_text = client.write_streamed(&[0xff]);
    assert!(matches!(bad_text, Err(Error::InvalidMessage(SendError::InvalidUtf8))));
    client.write_streamed("€".as_bytes().split_at(1).0).unwrap();
    let cut_char = client.finish_streamed();
    assert!(matches!(cut_char, Err(Error::InvalidMessage(SendError::InvalidUtf8))));
}

#[test]
fn giving_up_before_any_fragment_left_costs_nothing_after_it_closes_with_1011() {
    let (mut client, mut server) = streaming_pair(false, &Config::default());
    client.start_streamed(MessageKind::Binary, true).unwrap();
    client.write_streamed(b"never sent").unwrap();
    client.abandon_streamed();
    client.send(Message::text("still open")).unwrap();
    assert_eq!(
        read_all(&mut server, &take_output(&mut client), Instant::now()).unwrap(),
        vec![Message::text("still open")]
    );
    client.start_streamed(MessageKind::Binary, true).unwrap();
    client.write_streamed(b"half").unwrap();
    client.flush_streamed();
    client.abandon_streamed();
    let received = read_all(&mut server, &take_output(&mut client), Instant::now()).unwrap();
    let [Message::Close(Some(frame))] = &received[..] else {
        panic!("{received:?}")
    };
    assert_eq!(frame.code, CloseCode::ERROR);
}

#[cfg(feature = "deflate")]
#[test]
fn a_compressed_streamed_message_sets_rsv1_on_its_first_frame_only() {
    let (mut client, mut server) = streaming_pair(true, &Config::default());
    client.start_streamed(MessageKind::Binary, true).unwrap();
    let mut starts = Vec::new();
    for part in [&b"aaaa"[..], b"bbbb", b"cccc"] {
        starts.push(client.buffered_amount());
        client.write_streamed(part).unwrap();
        client.flush_streamed();
    }
    starts.push(client.buffered_amount());
    client.finish_streamed().unwrap();
    let wire = take_output(&mut client);
    let firsts: Vec<u8> = starts.iter().map(|&at| wire[at]).collect();
    assert_eq!(firsts, [0x42, 0x00, 0x00, 0x80], "RSV1 + binary, continuations, FIN");
    assert_eq!(
        read_all(&mut server, &wire, Instant::now()).unwrap(),
        vec![Message::binary(&b"aaaabbbbcccc"[..])]
    );
}

proptest! {
    #[test]
    fn bytes_written_by_reference_and_by_copy_arrive_in_order(
        parts in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..9000), any::<bool>()), 1..6),
        compressed: bool,
        server_sends: bool,
    ) {
        let config = config(|c| c.streamed_frame_size(4096));
        let (mut client, mut server) = streaming_pair(compressed, &config);
        let (from, to) = if server_sends { (&mut server, &mut client) } else { (&mut client, &mut server) };
        from.start_streamed(MessageKind::Binary, true).unwrap();
        let mut sent = Vec::new();
        for (part, as_bytes) in &parts {
            sent.extend_from_slice(part);
            if *as_bytes {
                from.write_streamed_bytes(Bytes::from(part.clone())).unwrap();
            } else {
                let mut rest = &part[..];
                while !rest.is_empty() {
                    rest = &rest[from.write_streamed(rest).unwrap()..];
                }
            }
        }
        from.finish_streamed().unwrap();
        let wire = take_output(from);
        prop_assert_eq!(read_all(to, &wire, Instant::now()).unwrap(), vec![Message::binary(sent)]);
    }
}

#[test]
fn a_control_frame_over_max_frame_size_is_refused_however_messages_are_read() {
    // Found by the `connection` fuzz target: streaming used to accept it.
    let config = config(|c| c.max_frame_size(4));
    for streaming in [false, true] {
        let (_, mut server) = streaming_pair(false, &config);
        server.handle_bytes(&client_frame(true, 0x9, b"a ping of 20 bytes!!"), Instant::now());
        if streaming {
            while server.poll_streamed().is_some() {}
        } else {
            while server.poll_message().is_some() {}
        }
        assert!(
            matches!(failure(&server), Some(ProtocolError::FrameTooLarge { max: 4, .. })),
            "streaming: {streaming}"
        );
    }
}

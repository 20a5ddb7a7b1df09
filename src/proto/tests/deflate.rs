//! permessage-deflate in the core: RFC 7692's examples, round trips, the
//! RSV1 rules, bombs, corrupt data, 8-bit windows and the memory held.

use flate2::{Compress, Compression, FlushCompress};

use super::*;
use crate::proto::frame::OpCode;
use crate::{DeflateConfig, DeflateParams};

/// A masked client frame of any length, RSV1 as given.
fn frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [9, 8, 7, 6];
    let mut header = FrameHeader::new(OpCode::from_u8(opcode).unwrap(), payload.len() as u64);
    header.fin = fin;
    header.rsv = if rsv1 { 0x40 } else { 0 };
    header.mask = Some(key);
    let mut out = [0; frame::MAX_HEADER_LEN];
    let len = header.encode(&mut out);
    let mut bytes = out[..len].to_vec();
    let start = bytes.len();
    bytes.extend_from_slice(payload);
    apply_mask(&mut bytes[start..], key, 0);
    bytes
}

/// Raw DEFLATE of `data`, sync-flushed, its `00 00 ff ff` tail cut off.
fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut stream = Compress::new(Compression::new(level), false);
    let mut out = Vec::with_capacity(data.len() + 1024);
    while stream.total_in() < data.len() as u64 || !out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.reserve(64 << 10);
        let rest = &data[stream.total_in() as usize..];
        stream.compress_vec(rest, &mut out, FlushCompress::Sync).unwrap();
    }
    out.truncate(out.len() - 4);
    out
}

fn server_with(params: DeflateParams, config: &DeflateConfig, socket: &Config) -> Connection {
    Connection::new(Role::Server, socket, Instant::now()).with_deflate(params, config)
}

fn server(peer_keeps_context: bool) -> Connection {
    let params = DeflateParams {
        client_no_context_takeover: !peer_keeps_context,
        ..DeflateParams::default()
    };
    server_with(params, &DeflateConfig::default().threshold(0), &Config::default())
}

fn client(params: DeflateParams) -> Connection {
    let config = DeflateConfig::default().threshold(0);
    Connection::new(Role::Client, &Config::default(), Instant::now()).with_deflate(params, &config)
}

#[test]
fn rfc_7692_examples_inflate() {
    let now = Instant::now();
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    // §7.2.3.1: one frame, then the same message in two fragments.
    let mut wire = frame(true, true, 0x1, &hello);
    wire.extend(frame(false, true, 0x1, &hello[..3]));
    wire.extend(frame(true, false, 0x0, &hello[3..]));
    // §7.2.3.3: a stored (uncompressed) DEFLATE block; §7.2.3.4: BFINAL set.
    wire.extend(frame(
        true,
        true,
        0x1,
        &[0x00, 0x05, 0x00, 0xfa, 0xff, b'H', b'e', b'l', b'l', b'o', 0x00],
    ));
    wire.extend(frame(
        true,
        true,
        0x1,
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    ));
    // A message after a BFINAL block starts a new stream.
    wire.extend(frame(true, true, 0x2, &hello));
    let messages = read_all(&mut server(false), &wire, now).unwrap();
    let text = Message::text("Hello");
    assert_eq!(
        messages,
        [
            text.clone(),
            text.clone(),
            text.clone(),
            text,
            Message::binary(&b"Hello"[..])
        ]
    );
    // §7.2.3.2: the second message refers back into the first.
    let mut wire = frame(true, true, 0x1, &hello);
    wire.extend(frame(true, true, 0x1, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
    assert_eq!(
        read_all(&mut server(true), &wire, now).unwrap(),
        [Message::text("Hello"), Message::text("Hello")]
    );
}

proptest! {
    #[test]
    fn messages_round_trip_compressed_both_ways(
        messages in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..3000), 1..6),
        client_resets in any::<bool>(),
        server_resets in any::<bool>(),
    ) {
        let now = Instant::now();
        let params = DeflateParams {
            client_no_context_takeover: client_resets,
            server_no_context_takeover: server_resets,
            ..DeflateParams::default()
        };
        let mut client = client(params);
        let mut server = server_with(params, &DeflateConfig::default().threshold(0), &Config::default());
        for data in &messages {
            client.send(Message::binary(data.clone())).unwrap();
            server.send(Message::binary(data.clone())).unwrap();
        }
        let up = take_output(&mut client);
        let down = take_output(&mut server);
        prop_assert_eq!(up[0] & 0x40, 0x40, "RSV1 set");
        let expected: Vec<Message> = messages.iter().map(|d| Message::binary(d.clone())).collect();
        prop_assert_eq!(read_all(&mut server, &up, now).unwrap(), expected.clone());
        prop_assert_eq!(read_all(&mut client, &down, now).unwrap(), expected);
    }
}

#[test]
fn context_takeover_shrinks_a_repeated_message() {
    let mut client = client(DeflateParams::default());
    let json = r#"{"user":"ada","status":"online","rooms":["general","rust"]}"#;
    client.send(Message::text(json)).unwrap();
    let first = take_output(&mut client).len();
    client.send(Message::text(json)).unwrap();
    let second = take_output(&mut client).len();
    assert!(second < first / 3, "{second} bytes, first {first}");
}

#[test]
fn small_and_opted_out_messages_go_uncompressed() {
    let config = DeflateConfig::default(); // threshold 128
    let mut server = server_with(DeflateParams::default(), &config, &Config::default());
    server.send(Message::text("short")).unwrap();
    assert_eq!(take_output(&mut server)[0], 0x81, "FIN, text, no RSV1");
    server.send_uncompressed(Message::text("secret ".repeat(40))).unwrap();
    assert_eq!(take_output(&mut server)[0], 0x81);
    server.send(Message::text("public ".repeat(40))).unwrap();
    assert_eq!(take_output(&mut server)[0], 0xc1, "FIN, RSV1, text");
    server.send(Message::Ping(Bytes::from_static(&[0; 125]))).unwrap();
    assert_eq!(take_output(&mut server)[0], 0x89, "control frames are never compressed");
}

#[test]
fn rsv1_is_refused_where_rfc_7692_does_not_give_it() {
    let now = Instant::now();
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    // On a control frame, on a continuation, and without the extension.
    let ping = frame(true, true, 0x9, b"");
    assert_eq!(
        read_all(&mut server(false), &ping, now),
        Err(ProtocolError::ReservedBits)
    );
    let mut wire = frame(false, true, 0x1, &hello[..3]);
    wire.extend(frame(true, true, 0x0, &hello[3..]));
    assert_eq!(
        read_all(&mut server(false), &wire, now),
        Err(ProtocolError::ReservedBits)
    );
    let (_, mut plain) = pair();
    assert_eq!(
        read_all(&mut plain, &frame(true, true, 0x1, &hello), now),
        Err(ProtocolError::ReservedBits)
    );
    assert_eq!(close_sent_by(&mut plain).unwrap().code, CloseCode::PROTOCOL);
}

#[test]
fn a_bomb_is_closed_with_1009_before_its_memory_is_spent() {
    let now = Instant::now();
    let max = 64 << 10;
    let socket = config(|c| c.max_message_size(max));
    let mut server = server_with(DeflateParams::default(), &DeflateConfig::default(), &socket);
    // About 1 KiB on the wire, 1 MiB inflated.
    let bomb = deflate(&vec![0; 1 << 20], 9);
    assert!(bomb.len() < 1100, "{}", bomb.len());
    let error = read_all(&mut server, &frame(true, true, 0x2, &bomb), now).unwrap_err();
    let ProtocolError::MessageTooLarge { size, .. } = error else {
        panic!("{error:?}")
    };
    assert!(
        size as usize <= max + (8 << 10),
        "inflated {size} bytes for a {max}-byte limit"
    );
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::SIZE);
}

#[test]
fn a_bomb_split_across_fragments_is_caught_too() {
    let now = Instant::now();
    let socket = config(|c| c.max_message_size(100_000));
    let mut server = server_with(DeflateParams::default(), &DeflateConfig::default(), &socket);
    let bomb = deflate(&vec![b'a'; 300_000], 9);
    let (a, b) = bomb.split_at(bomb.len() / 2);
    let mut wire = frame(false, true, 0x1, a);
    wire.extend(frame(true, false, 0x0, b));
    assert!(matches!(
        read_all(&mut server, &wire, now),
        Err(ProtocolError::MessageTooLarge { .. })
    ));
}

#[test]
fn corrupt_data_and_invalid_inflated_text_close_with_1007() {
    let now = Instant::now();
    let mut server1 = server(false);
    // BTYPE 11 is reserved (RFC 1951 §3.2.3).
    let error = read_all(&mut server1, &frame(true, true, 0x2, &[0xff, 0xff, 0xff]), now);
    assert_eq!(error, Err(ProtocolError::InvalidCompressedData));
    assert_eq!(close_sent_by(&mut server1).unwrap().code, CloseCode::INVALID);
    let mut server2 = server(false);
    let bad_text = deflate(b"ok so far \xed\xa0\x80 then a surrogate", 1);
    let error = read_all(&mut server2, &frame(true, true, 0x1, &bad_text), now);
    assert_eq!(error, Err(ProtocolError::InvalidUtf8));
}

#[test]
fn empty_messages_after_a_compressed_one_are_read() {
    let now = Instant::now();
    let mut wire = frame(true, true, 0x1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    wire.extend(frame(true, true, 0x1, &[0x00])); // RFC 7692 §7.2.3.6: an empty message
    wire.extend(frame(true, true, 0x2, &[])); // no payload at all
    wire.extend(frame(true, true, 0x1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]));
    let messages = read_all(&mut server(false), &wire, now).unwrap();
    assert_eq!(
        messages,
        [
            Message::text("Hello"),
            Message::text(""),
            Message::binary(Bytes::new()),
            Message::text("Hello")
        ]
    );
}

#[test]
fn an_eight_bit_window_is_inflated_with_nine_and_never_compressed_with() {
    let now = Instant::now();
    let params = DeflateParams {
        client_max_window_bits: Some(8),
        ..DeflateParams::default()
    };
    // A client told to compress with 8 bits sends uncompressed instead.
    let mut client = client(params);
    client.send(Message::text("Hello ".repeat(50))).unwrap();
    let wire = take_output(&mut client);
    assert_eq!(wire[0], 0x81, "no RSV1");
    let mut server = server_with(params, &DeflateConfig::default(), &Config::default());
    assert_eq!(
        read_all(&mut server, &wire, now).unwrap(),
        [Message::text("Hello ".repeat(50))]
    );
    // The server reads an 8-bit peer's compressed messages (distances < 256).
    let short_range = deflate(b"abcabcabcabcabc", 1);
    assert_eq!(
        read_all(&mut server, &frame(true, true, 0x1, &short_range), now).unwrap(),
        [Message::text("abcabcabcabcabc")]
    );
}

#[test]
fn a_quiet_socket_holds_no_compressor_and_no_stateless_inflater() {
    let start = Instant::now();
    for peer_keeps_context in [false, true] {
        let mut server = server(peer_keeps_context);
        let mut client = client(DeflateParams {
            client_no_context_takeover: !peer_keeps_context,
            ..DeflateParams::default()
        });
        assert!(!server.holds_deflate_memory(), "nothing before the first message");
        let wire = frame(true, true, 0x1, &deflate(&b"x".repeat(4000), 1));
        read_all(&mut server, &wire, start).unwrap();
        server.send(Message::text("y".repeat(4000))).unwrap();
        read_all(&mut client, &take_output(&mut server), start).unwrap();
        assert!(server.holds_deflate_memory());
        // The heartbeat's interval passes with nothing received: the clocks
        // see the message sent, then (at the next look) nothing since.
        server.handle_timeout(start + Duration::from_secs(31));
        assert!(
            server.holds_deflate_memory(),
            "a message went out since the clocks last looked"
        );
        let quiet = start + Duration::from_secs(32);
        server.handle_timeout(quiet);
        assert_eq!(
            server.holds_deflate_memory(),
            peer_keeps_context,
            "only a stateful inflater stays"
        );
        // Our restarted compressor's output reads on a peer that kept its window.
        server.send(Message::text("z".repeat(300))).unwrap();
        let received = read_all(&mut client, &take_output(&mut server), quiet).unwrap();
        assert_eq!(received.last(), Some(&Message::text("z".repeat(300))));
    }
    // And a dropped stateless inflater starts afresh for the next message.
    let mut server = server(false);
    read_all(&mut server, &frame(true, true, 0x1, &deflate(b"one", 1)), start).unwrap();
    server.handle_timeout(start + Duration::from_secs(31));
    let wire = frame(true, true, 0x1, &deflate(b"two", 1));
    assert_eq!(
        read_all(&mut server, &wire, start + Duration::from_secs(32)).unwrap(),
        [Message::text("two")]
    );
}

/// A shared message to servers that hold no compressor of their own (no
/// context kept, or a parked one) is compressed once; servers that keep
/// their compressor compress it with their own stream. Every client reads
/// it back, and a parked context still serves the next unshared message.
#[test]
fn shared_messages_compress_once_per_setting_unless_the_compressor_is_kept() {
    let now = Instant::now();
    let text: String = (0..60)
        .flat_map(|i| ["item ".to_owned(), i.to_string(), format!(" costs {}, ", i * 37 % 101)])
        .collect();
    let one = SharedMessage::new(Message::text(text.clone())).unwrap();
    let parked = DeflateConfig::default().threshold(0);
    let held = parked.clone().keep_compressor(true);
    let mut wires = Vec::new();
    for (server_no_context_takeover, config) in [(true, &parked), (false, &parked), (false, &held)] {
        let params = DeflateParams {
            server_no_context_takeover,
            ..DeflateParams::default()
        };
        let mut server = server_with(params, config, &Config::default());
        let mut client = Connection::new(Role::Client, &Config::default(), now).with_deflate(params, config);
        // Twice: a kept compressor makes the second copy smaller than the first.
        for _ in 0..2 {
            server.send_shared(&one).unwrap();
            let wire = take_output(&mut server);
            assert_eq!(wire[0], 0xc1, "FIN, RSV1, text");
            assert!(wire.len() < text.len() / 2, "compressed: {} bytes", wire.len());
            assert_eq!(read_all(&mut client, &wire, now), Ok(vec![Message::text(text.clone())]));
            wires.push(wire);
        }
        // The parked context holds the shared message: an unshared copy refers back to it.
        server.send(Message::text(text.clone())).unwrap();
        let wire = take_output(&mut server);
        assert_eq!(read_all(&mut client, &wire, now), Ok(vec![Message::text(text.clone())]));
        let context_used = wire.len() < wires[wires.len() - 1].len();
        assert_eq!(context_used, !server_no_context_takeover, "{wire:?}");
    }
    assert!(wires[..4].windows(2).all(|w| w[0] == w[1]), "fresh streams, same bytes");
    assert!(wires[5].len() < wires[4].len(), "the kept compressor's context is used");
    assert_eq!(one.compressed_copies(), 1);
}

//! A client and a server `Connection` talking in memory, on a made-up clock.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::proto::Heartbeat;
use crate::Config;

/// Everything `from` has queued, as it would arrive at its peer.
fn take_output(from: &mut Connection) -> Vec<u8> {
    let outbox = from.outbox();
    let mut bytes = Vec::new();
    while !outbox.is_empty() {
        let mut slices = [std::io::IoSlice::new(&[]); 16];
        let used = outbox.io_slices(&mut slices);
        let chunk: Vec<u8> = slices[..used].iter().flat_map(|s| s.iter().copied()).collect();
        outbox.advance(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    bytes
}

/// Reads every message `bytes` holds.
fn read_all(conn: &mut Connection, bytes: &[u8], now: Instant) -> Result<Vec<Message>, ProtocolError> {
    let mut buf = BytesMut::from(bytes);
    let mut messages = Vec::new();
    while let Some(message) = conn.read(&mut buf, now)? {
        messages.push(message);
    }
    Ok(messages)
}

fn pair() -> (Connection, Connection) {
    let config = Config::default();
    (
        Connection::new(Role::Client, &config, Instant::now()),
        Connection::new(Role::Server, &config, Instant::now()),
    )
}

/// A client frame written by hand, for frames `Connection` refuses to send.
fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut frame = vec![(if fin { 0x80 } else { 0 }) | opcode];
    assert!(payload.len() < 126);
    frame.push(0x80 | payload.len() as u8);
    frame.extend_from_slice(&key);
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], key, 0);
    frame
}

/// The close frame `server` queued, as its client peer reads it.
fn close_sent_by(server: &mut Connection) -> Option<CloseFrame> {
    let mut client = Connection::new(Role::Client, &Config::default(), Instant::now());
    match read_all(&mut client, &take_output(server), Instant::now())
        .unwrap()
        .pop()
    {
        Some(Message::Close(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[test]
fn messages_cross_in_both_directions() {
    let now = Instant::now();
    let (mut client, mut server) = pair();
    client.send(Message::text("hello"), now).unwrap();
    client.send(Message::binary(vec![1, 2, 3]), now).unwrap();
    let wire = take_output(&mut client);
    assert_ne!(&wire[6..11], b"hello", "client frames are masked");
    assert_eq!(
        read_all(&mut server, &wire, now).unwrap(),
        [Message::text("hello"), Message::binary(vec![1, 2, 3])]
    );
    server.send(Message::text("back"), now).unwrap();
    assert_eq!(
        read_all(&mut client, &take_output(&mut server), now).unwrap(),
        [Message::text("back")]
    );
}

#[test]
fn fragments_join_around_an_interleaved_ping() {
    let now = Instant::now();
    let (_, mut server) = pair();
    let mut wire = client_frame(false, 0x1, "κό".as_bytes());
    wire.extend(client_frame(true, 0x9, b"probe"));
    wire.extend(client_frame(false, 0x0, &"σμε".as_bytes()[..3])); // splits a character
    wire.extend(client_frame(true, 0x0, &"σμε".as_bytes()[3..]));
    let messages = read_all(&mut server, &wire, now).unwrap();
    assert_eq!(
        messages,
        [Message::Ping(Bytes::from_static(b"probe")), Message::text("κόσμε")]
    );
    let mut client = Connection::new(Role::Client, &Config::default(), Instant::now());
    let answer = read_all(&mut client, &take_output(&mut server), now).unwrap();
    assert_eq!(answer, [Message::Pong(Bytes::from_static(b"probe"))]);
}

#[test]
fn invalid_text_fails_before_the_frame_is_complete() {
    let now = Instant::now();
    let (_, mut server) = pair();
    // One 20-byte text frame whose middle holds a UTF-16 surrogate (invalid).
    let payload = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64";
    let frame = client_frame(true, 0x1, payload);
    let mut buf = BytesMut::from(&frame[..6 + 5]);
    assert_eq!(server.read(&mut buf, now), Ok(None), "valid so far");
    buf.extend_from_slice(&frame[11..6 + 14]);
    assert_eq!(
        server.read(&mut buf, now),
        Err(ProtocolError::InvalidUtf8),
        "fails fast"
    );
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::INVALID);
    assert!(!server.state().delivers_input());
}

#[test]
fn the_peers_close_is_echoed_and_ends_the_conversation() {
    let now = Instant::now();
    let (mut client, mut server) = pair();
    let bye = CloseFrame {
        code: CloseCode::AWAY,
        reason: "bye".into(),
    };
    client.send(Message::Close(Some(bye.clone())), now).unwrap();
    assert!(matches!(client.state(), CloseState::CloseSent { .. }));
    assert_eq!(client.send(Message::text("late"), now), Err(SendError::Closed));

    let received = read_all(&mut server, &take_output(&mut client), now).unwrap();
    assert_eq!(received, [Message::Close(Some(bye))]);
    assert_eq!(server.state(), CloseState::Closed, "the server closes TCP at once");

    let reply = read_all(&mut client, &take_output(&mut server), now).unwrap();
    assert_eq!(reply, [Message::Close(Some(CloseFrame::from_code(CloseCode::AWAY)))]);
    assert!(
        matches!(client.state(), CloseState::Draining { .. }),
        "the client waits for the server's FIN"
    );
    assert_eq!(client.handle_eof(), Eof::Clean);
}

#[test]
fn an_unanswered_close_times_out() {
    let now = Instant::now();
    let timeout = Duration::from_secs(3);
    let mut server = Connection::new(Role::Server, &Config::default().close_timeout(timeout), Instant::now());
    server.send(Message::Close(None), now).unwrap();
    assert_eq!(server.poll_timeout(), Some(now + timeout));
    assert_eq!(server.handle_timeout(now + timeout / 2), None);
    assert_eq!(server.handle_timeout(now + timeout), Some(Timeout::Close));
    assert_eq!(server.state(), CloseState::Closed);
}

#[test]
fn an_oversize_message_fails_from_its_header() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default().max_message_size(100), Instant::now());
    let header_only = [0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4]; // binary, 256 bytes, masked
    let result = read_all(&mut server, &header_only, now);
    assert_eq!(result, Err(ProtocolError::MessageTooLarge { size: 256, max: 100 }));
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::SIZE);
}

#[test]
fn fragments_count_toward_the_message_limit() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default().max_message_size(10), Instant::now());
    let mut wire = client_frame(false, 0x2, &[0; 6]);
    wire.extend(client_frame(true, 0x0, &[0; 6]));
    assert_eq!(
        read_all(&mut server, &wire, now),
        Err(ProtocolError::MessageTooLarge { size: 12, max: 10 })
    );
}

#[test]
fn each_protocol_violation_sends_its_close_code() {
    let cases: Vec<(Vec<u8>, ProtocolError, CloseCode)> = vec![
        (
            client_frame(true, 0x0, b"x"),
            ProtocolError::UnexpectedContinuation,
            CloseCode::PROTOCOL,
        ),
        (
            [client_frame(false, 0x1, b"a"), client_frame(true, 0x1, b"b")].concat(),
            ProtocolError::ExpectedContinuation,
            CloseCode::PROTOCOL,
        ),
        (
            client_frame(true, 0x3, b""),
            ProtocolError::ReservedOpcode(3),
            CloseCode::PROTOCOL,
        ),
        (
            client_frame(true, 0x8, &[3]),
            ProtocolError::InvalidClosePayload,
            CloseCode::PROTOCOL,
        ),
        (
            client_frame(true, 0x8, &[0x03, 0xED]),
            ProtocolError::InvalidCloseCode(1005),
            CloseCode::PROTOCOL,
        ),
        (
            client_frame(true, 0x8, b"\x03\xe8\xff"),
            ProtocolError::InvalidUtf8,
            CloseCode::INVALID,
        ),
        (
            vec![0x81, 0x01, b'x'],
            ProtocolError::UnmaskedFrame,
            CloseCode::PROTOCOL,
        ),
        (
            {
                let mut f = client_frame(true, 0x1, b"x");
                f[0] |= 0x40;
                f
            },
            ProtocolError::ReservedBits,
            CloseCode::PROTOCOL,
        ),
    ];
    for (wire, error, code) in cases {
        let (_, mut server) = pair();
        assert_eq!(read_all(&mut server, &wire, Instant::now()), Err(error.clone()));
        assert_eq!(close_sent_by(&mut server).unwrap().code, code, "{error}");
    }
}

#[test]
fn a_server_frame_must_not_be_masked() {
    let (mut client, _) = pair();
    let masked = client_frame(true, 0x1, b"x");
    assert_eq!(
        read_all(&mut client, &masked, Instant::now()),
        Err(ProtocolError::MaskedFrame)
    );
}

#[test]
fn invalid_outgoing_control_frames_are_refused() {
    let now = Instant::now();
    let (mut client, _) = pair();
    assert_eq!(
        client.send(Message::Ping(vec![0; 126].into()), now),
        Err(SendError::ControlFrameTooLarge(126))
    );
    let reserved = CloseFrame::from_code(CloseCode::ABNORMAL);
    assert_eq!(
        client.send(Message::Close(Some(reserved)), now),
        Err(SendError::InvalidCloseCode(CloseCode::ABNORMAL))
    );
    assert!(client.outbox().is_empty());
    assert_eq!(client.state(), CloseState::Open);
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        "\\PC{0,300}".prop_map(Message::from),
        proptest::collection::vec(any::<u8>(), 0..70_000).prop_map(Message::from),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|p| Message::Ping(p.into())),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|p| Message::Pong(p.into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn messages_arrive_whole_however_the_bytes_are_cut(messages in proptest::collection::vec(message(), 1..6), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let now = Instant::now();
        let (mut client, mut server) = pair();
        for m in &messages {
            client.send(m.clone(), now).unwrap();
        }
        let wire = take_output(&mut client);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(wire.len());
        let mut buf = BytesMut::new();
        let mut received = Vec::new();
        let mut start = 0;
        for cut in cuts {
            buf.extend_from_slice(&wire[start..cut]);
            start = cut;
            while let Some(m) = server.read(&mut buf, now).unwrap() {
                received.push(m);
            }
        }
        prop_assert_eq!(received, messages);
    }

    #[test]
    fn arbitrary_input_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8), role_is_server: bool) {
        let role = if role_is_server { Role::Server } else { Role::Client };
        let mut conn = Connection::new(role, &Config::default().max_message_size(1000).accept_unmasked_frames(true), Instant::now());
        let now = Instant::now();
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            while let Ok(Some(_)) = conn.read(&mut buf, now) {}
            let _ = conn.handle_timeout(now + Duration::from_secs(60));
        }
    }
}

#[test]
fn after_a_failure_the_peers_close_reply_still_completes_the_handshake() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default().max_message_size(4), Instant::now());
    let mut wire = client_frame(true, 0x2, b"too long"); // breaks the limit at its header
    wire.extend(client_frame(true, 0x1, b"late")); // sent before the peer saw our close
    wire.extend(client_frame(true, 0x8, &[0x03, 0xF1])); // the peer's reply: 1009
    let mut buf = BytesMut::from(&wire[..]);
    assert!(matches!(
        server.read(&mut buf, now),
        Err(ProtocolError::MessageTooLarge { .. })
    ));
    assert!(matches!(server.state(), CloseState::Failing { .. }));
    assert_eq!(server.read(&mut buf, now), Ok(None), "nothing more is delivered");
    assert_eq!(server.state(), CloseState::Closed, "the reply completed the handshake");
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::SIZE);
}

#[test]
fn a_frame_that_fails_midway_is_skipped_to_its_end() {
    let now = Instant::now();
    let (_, mut server) = pair();
    let invalid = client_frame(true, 0x1, b"ok so far \xff and more text after it");
    let mut buf = BytesMut::from(&invalid[..20]);
    assert_eq!(server.read(&mut buf, now), Err(ProtocolError::InvalidUtf8));
    buf.extend_from_slice(&invalid[20..]);
    buf.extend_from_slice(&client_frame(true, 0x8, &[0x03, 0xEF]));
    assert_eq!(server.read(&mut buf, now), Ok(None));
    assert_eq!(server.state(), CloseState::Closed);
}

#[test]
fn unparseable_input_after_a_failure_is_drained() {
    let now = Instant::now();
    let (_, mut server) = pair();
    let mut buf = BytesMut::from(&[0x83, 0x80, 0, 0, 0, 0][..]); // reserved opcode 3
    assert_eq!(server.read(&mut buf, now), Err(ProtocolError::ReservedOpcode(3)));
    assert_eq!(server.read(&mut buf, now), Ok(None));
    assert!(matches!(server.state(), CloseState::Draining { .. }));
    assert!(buf.is_empty());
    assert!(server.should_shutdown_write(), "the server closes TCP first");
}

#[test]
fn our_heartbeat_pong_is_kept_internal_and_unsolicited_pongs_are_delivered() {
    let start = Instant::now();
    let config = Config::default().heartbeat(Duration::from_secs(30), Duration::from_secs(10));
    let mut server = Connection::new(Role::Server, &config, start);
    let ping_at = start + Duration::from_secs(30);
    assert_eq!(server.handle_timeout(ping_at), None);
    let Heartbeat::AwaitingPong { payload, .. } = server.heartbeat() else {
        panic!("expected a ping to be out")
    };
    let mut client = Connection::new(Role::Client, &Config::default().no_heartbeat(), start);
    let seen = read_all(&mut client, &take_output(&mut server), ping_at).unwrap();
    assert_eq!(seen, [Message::Ping(Bytes::copy_from_slice(&payload))]);

    // An unsolicited pong first: the application's, and not the answer.
    let mut wire = client_frame(true, 0xA, b"unsolicited");
    wire.extend(take_output(&mut client)); // the client's automatic answer
    let later = ping_at + Duration::from_secs(1);
    let delivered = read_all(&mut server, &wire, later).unwrap();
    assert_eq!(delivered, [Message::Pong(Bytes::from_static(b"unsolicited"))]);
    assert_eq!(
        server.heartbeat(),
        Heartbeat::Idle {
            next_ping: later + Duration::from_secs(30)
        }
    );
}

#[test]
fn every_client_frame_gets_a_fresh_mask_key() {
    let now = Instant::now();
    let mut client = Connection::new(Role::Client, &Config::default(), now);
    let mut keys = std::collections::HashSet::new();
    for _ in 0..1000 {
        client.send(Message::text("same text"), now).unwrap();
        let wire = take_output(&mut client);
        let (header, _) = FrameHeader::parse(&wire).unwrap().unwrap();
        keys.insert(header.mask.expect("client frames are masked"));
    }
    assert_eq!(keys.len(), 1000, "a mask key was reused");
}

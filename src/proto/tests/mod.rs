//! A client and a server `Connection` talking in memory, on a made-up clock.
//! `mod.rs` holds the helpers and the message round trips; `closing.rs` the
//! closing handshake and the transport's end; `faults.rs` what a
//! misbehaving peer gets; `reading.rs` how much read buffer is held.

mod closing;
#[cfg(feature = "deflate")]
mod deflate;
mod faults;
mod reading;
mod shared;
mod streaming;

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;

use super::close::{CloseCode, CloseFrame};
use super::error::{Error, ProtocolError, SendError};
use super::frame::FrameHeader;
use super::mask::apply_mask;
use super::message::Message;
use super::*;
use crate::Config;

/// Everything `from` has queued, as it would arrive at its peer.
pub(super) fn take_output(from: &mut Connection) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let mut slices = [std::io::IoSlice::new(&[]); 16];
        let used = from.poll_transmit(&mut slices);
        if used == 0 {
            return bytes;
        }
        let chunk: Vec<u8> = slices[..used].iter().flat_map(|s| s.iter().copied()).collect();
        from.handle_written(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
}

/// The protocol error `conn` failed with, if it did.
pub(super) fn failure(conn: &Connection) -> Option<ProtocolError> {
    match conn.error() {
        Some(Error::Protocol(e)) => Some(e),
        _ => None,
    }
}

/// Reads every message `bytes` holds, or the protocol error they broke.
pub(super) fn read_all(conn: &mut Connection, bytes: &[u8], now: Instant) -> Result<Vec<Message>, ProtocolError> {
    conn.handle_bytes(bytes, now);
    let mut messages = Vec::new();
    while let Some(message) = conn.poll_message() {
        messages.push(message);
    }
    failure(conn).map_or(Ok(messages), Err)
}

pub(super) fn config(build: impl FnOnce(crate::ConfigBuilder) -> crate::ConfigBuilder) -> Config {
    build(Config::builder()).build().unwrap()
}

pub(super) fn pair() -> (Connection, Connection) {
    let config = Config::default();
    (
        Connection::new(Role::Client, &config, Instant::now()),
        Connection::new(Role::Server, &config, Instant::now()),
    )
}

/// A client frame written by hand, for frames `Connection` refuses to send.
pub(super) fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
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
pub(super) fn close_sent_by(server: &mut Connection) -> Option<CloseFrame> {
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
    client.send(Message::text("hello")).unwrap();
    client.send(Message::binary(vec![1, 2, 3])).unwrap();
    let wire = take_output(&mut client);
    assert_ne!(&wire[6..11], b"hello", "client frames are masked");
    assert_eq!(
        read_all(&mut server, &wire, now).unwrap(),
        [Message::text("hello"), Message::binary(vec![1, 2, 3])]
    );
    server.send(Message::text("back")).unwrap();
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
    assert_eq!(read_all(&mut server, &frame[..6 + 5], now), Ok(vec![]), "valid so far");
    assert_eq!(
        read_all(&mut server, &frame[11..6 + 14], now),
        Err(ProtocolError::InvalidUtf8),
        "fails fast"
    );
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::INVALID);
    assert!(!server.state.delivers_input());
}

#[test]
fn invalid_outgoing_control_frames_are_refused() {
    let (mut client, _) = pair();
    assert!(matches!(
        client.send(Message::Ping(vec![0; 126].into())),
        Err(Error::InvalidMessage(SendError::ControlFrameTooLarge(126)))
    ));
    let reserved = CloseFrame::from_code(CloseCode::ABNORMAL);
    assert!(matches!(
        client.send(Message::Close(Some(reserved))),
        Err(Error::InvalidMessage(SendError::InvalidCloseCode(CloseCode::ABNORMAL)))
    ));
    assert_eq!(client.buffered_amount(), 0);
    assert!(client.send_error().is_none(), "still open");
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
            client.send(m.clone()).unwrap();
        }
        let wire = take_output(&mut client);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(wire.len());
        let mut received = Vec::new();
        let mut start = 0;
        for cut in cuts {
            received.extend(read_all(&mut server, &wire[start..cut], now).unwrap());
            start = cut;
        }
        prop_assert_eq!(received, messages);
    }

    #[test]
    fn arbitrary_input_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8), role_is_server: bool) {
        let role = if role_is_server { Role::Server } else { Role::Client };
        let now = Instant::now();
        let mut conn = Connection::new(role, &config(|c| c.max_message_size(1000)), now);
        conn.accept_unmasked_frames();
        for chunk in chunks {
            let _ = read_all(&mut conn, &chunk, now);
            conn.handle_timeout(now + Duration::from_secs(60));
        }
    }
}

#[test]
fn our_heartbeat_pong_is_kept_internal_and_unsolicited_pongs_are_delivered() {
    let start = Instant::now();
    let heartbeat = config(|c| c.heartbeat(Duration::from_secs(30), Duration::from_secs(10)));
    let mut server = Connection::new(Role::Server, &heartbeat, start);
    let ping_at = start + Duration::from_secs(30);
    server.handle_timeout(ping_at);
    let mut client = Connection::new(Role::Client, &config(crate::ConfigBuilder::no_heartbeat), start);
    let seen = read_all(&mut client, &take_output(&mut server), ping_at).unwrap();
    let [Message::Ping(payload)] = seen.as_slice() else {
        panic!("expected our ping, got {seen:?}")
    };
    assert_eq!(payload.len(), 8);

    // An unsolicited pong first: the application's, and not the answer.
    let mut wire = client_frame(true, 0xA, b"unsolicited");
    wire.extend(take_output(&mut client)); // the client's automatic answer
    let later = ping_at + Duration::from_secs(1);
    let delivered = read_all(&mut server, &wire, later).unwrap();
    assert_eq!(delivered, [Message::Pong(Bytes::from_static(b"unsolicited"))]);
    // Alive: at the ping's deadline the check moves to 30 s after the answer.
    server.handle_timeout(ping_at + Duration::from_secs(10));
    assert_eq!(server.poll_timeout(), Some(later + Duration::from_secs(30)));
    assert!(server.error().is_none());
}

/// RFC 6455 §5.3 asks for masking keys the peer cannot predict. 1000 keys
/// must be distinct, must not step by a constant (a counter, or any
/// arithmetic sequence, fails here), and every one of the 32 bits must be
/// set in 30-70% of them (a counter from a small start fails here too). A
/// uniform source fails any one check with probability below 1e-30.
#[test]
fn every_client_frame_gets_an_unpredictable_mask_key() {
    let now = Instant::now();
    let mut client = Connection::new(Role::Client, &Config::default(), now);
    let keys: Vec<u32> = (0..1000)
        .map(|_| {
            client.send(Message::text("same text")).unwrap();
            let wire = take_output(&mut client);
            let (header, _) = FrameHeader::parse(&wire).unwrap().unwrap();
            u32::from_be_bytes(header.mask.expect("client frames are masked"))
        })
        .collect();
    assert_unpredictable(&keys);
}

fn assert_unpredictable(keys: &[u32]) {
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "a mask key was reused");
    let steps: std::collections::HashSet<u32> = keys.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    assert!(
        steps.len() > keys.len() / 2,
        "keys step by a few constants: predictable"
    );
    for bit in 0..32 {
        let set = keys.iter().filter(|k| *k & (1 << bit) != 0).count();
        assert!((300..=700).contains(&set), "bit {bit} is set in {set} of 1000 keys");
    }
}

#[test]
fn the_mask_key_check_catches_predictable_sequences() {
    let counter: Vec<u32> = (1..=1000).collect();
    assert!(std::panic::catch_unwind(|| assert_unpredictable(&counter)).is_err());
    let strided: Vec<u32> = (0..1000u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
    assert!(std::panic::catch_unwind(|| assert_unpredictable(&strided)).is_err());
}

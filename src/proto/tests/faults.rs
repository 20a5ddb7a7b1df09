//! What a peer that breaks the protocol gets: the matching close code.

use std::time::Instant;

use super::super::close::CloseCode;
use super::super::error::ProtocolError;
use super::super::{Connection, Role};
use super::*;

#[test]
fn an_oversize_message_fails_from_its_header() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &config(|c| c.max_message_size(100)), now);
    let header_only = [0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4]; // binary, 256 bytes, masked
    let result = read_all(&mut server, &header_only, now);
    assert_eq!(result, Err(ProtocolError::MessageTooLarge { size: 256, max: 100 }));
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::SIZE);
}

#[test]
fn fragments_count_toward_the_message_limit() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &config(|c| c.max_message_size(10)), now);
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
        (
            // "x" with its length in the 16-bit form (RFC 6455 §5.2: minimal bytes MUST be used).
            vec![0x81, 0xFE, 0, 1, 0, 0, 0, 0, b'x'],
            ProtocolError::NonMinimalLength(1),
            CloseCode::PROTOCOL,
        ),
        (
            // A 64-bit length with its most significant bit set (§5.2: "MUST be 0").
            vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
            ProtocolError::InvalidLength,
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

/// Our own bug is not the peer's protocol error: it is closed with 1011
/// and reported as `Error::Internal`.
#[test]
fn our_broken_invariant_closes_with_1011_and_is_reported_as_ours() {
    use super::super::error::{Error, ReadError};
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    server.fail(ReadError::Internal("a test's broken invariant"), now);
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::ERROR);
    server.handle_eof();
    match server.poll_end() {
        Some(Err(Error::Internal(what))) => assert_eq!(what, "a test's broken invariant"),
        other => panic!("expected our own fault, got {other:?}"),
    }
}

/// In debug builds (tests, fuzzing) a broken invariant is loud.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "hyperws invariant broken: on purpose")]
fn a_broken_invariant_panics_in_debug_builds() {
    let _ = super::super::error::ReadError::broken("on purpose");
}

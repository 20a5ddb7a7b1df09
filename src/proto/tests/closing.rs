//! The closing handshake and how the transport's end is read.

use std::time::{Duration, Instant};

use super::super::close::{CloseCode, CloseFrame};
use super::super::closing::CloseState;
use super::super::error::{Error, ProtocolError};
use super::super::message::Message;
use super::super::{Connection, Role};
use super::*;

#[test]
fn the_peers_close_is_echoed_and_ends_the_conversation() {
    let now = Instant::now();
    let (mut client, mut server) = pair();
    let bye = CloseFrame {
        code: CloseCode::AWAY,
        reason: "bye".into(),
    };
    client.close(Some(bye.clone()), now).unwrap();
    assert!(matches!(client.state, CloseState::CloseSent { .. }));
    assert!(matches!(client.send(Message::text("late")), Err(Error::Closed)));

    let received = read_all(&mut server, &take_output(&mut client), now).unwrap();
    assert_eq!(received, [Message::Close(Some(bye))]);
    assert!(
        matches!(server.poll_end(), Some(Ok(()))),
        "the server closes TCP at once"
    );

    let reply = read_all(&mut client, &take_output(&mut server), now).unwrap();
    assert_eq!(reply, [Message::Close(Some(CloseFrame::from_code(CloseCode::AWAY)))]);
    assert!(client.poll_end().is_none(), "the client waits for the server's FIN");
    client.handle_eof();
    assert!(matches!(client.poll_end(), Some(Ok(()))), "a clean end");
}

#[test]
fn a_transport_reset_after_a_completed_close_is_not_an_error() {
    let now = Instant::now();
    let reset = || std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    // The peer closes with 1000, then resets the connection.
    let (mut client, mut server) = pair();
    server
        .close(Some(CloseFrame::from_code(CloseCode::NORMAL)), now)
        .unwrap();
    let received = read_all(&mut client, &take_output(&mut server), now).unwrap();
    assert_eq!(
        received,
        [Message::Close(Some(CloseFrame::from_code(CloseCode::NORMAL)))]
    );
    client.handle_transport_error(reset());
    assert!(matches!(client.poll_end(), Some(Ok(()))));
    // We close, the peer answers, then resets.
    let (mut client, mut server) = pair();
    client.close(None, now).unwrap();
    read_all(&mut server, &take_output(&mut client), now).unwrap();
    read_all(&mut client, &take_output(&mut server), now).unwrap();
    client.handle_transport_error(reset());
    assert!(matches!(client.poll_end(), Some(Ok(()))));
    // A reset before the handshake completes is the transport's failure.
    let (mut client, _) = pair();
    client.close(None, now).unwrap();
    client.handle_transport_error(reset());
    assert!(matches!(client.poll_end(), Some(Err(Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionReset));
}

#[test]
fn an_unanswered_close_times_out() {
    let now = Instant::now();
    let timeout = Duration::from_secs(3);
    let mut server = Connection::new(Role::Server, &config(|c| c.close_timeout(timeout)), now);
    server.send(Message::Close(None)).unwrap();
    assert_eq!(server.poll_timeout(), Some(now + timeout));
    server.handle_timeout(now + timeout / 2);
    assert!(server.poll_end().is_none());
    server.handle_timeout(now + timeout);
    assert!(matches!(server.poll_end(), Some(Err(Error::CloseTimeout))));
}

#[test]
fn after_a_failure_the_peers_close_reply_still_completes_the_handshake() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &config(|c| c.max_message_size(4)), now);
    let mut wire = client_frame(true, 0x2, b"too long"); // breaks the limit at its header
    wire.extend(client_frame(true, 0x1, b"late")); // sent before the peer saw our close
    wire.extend(client_frame(true, 0x8, &[0x03, 0xF1])); // the peer's reply: 1009
    server.handle_bytes(&wire, now);
    assert_eq!(server.poll_message(), None, "nothing is delivered after the fault");
    assert!(matches!(failure(&server), Some(ProtocolError::MessageTooLarge { .. })));
    assert!(
        matches!(server.poll_end(), Some(Err(Error::Protocol(_)))),
        "the reply completed the handshake; the fault is reported"
    );
    assert_eq!(close_sent_by(&mut server).unwrap().code, CloseCode::SIZE);
}

#[test]
fn a_frame_that_fails_midway_is_skipped_to_its_end() {
    let now = Instant::now();
    let (_, mut server) = pair();
    let invalid = client_frame(true, 0x1, b"ok so far \xff and more text after it");
    assert_eq!(
        read_all(&mut server, &invalid[..20], now),
        Err(ProtocolError::InvalidUtf8)
    );
    assert!(server.poll_end().is_none(), "waiting for the peer's close");
    let rest = [&invalid[20..], &client_frame(true, 0x8, &[0x03, 0xEF])].concat();
    let _ = read_all(&mut server, &rest, now);
    assert!(matches!(
        server.poll_end(),
        Some(Err(Error::Protocol(ProtocolError::InvalidUtf8)))
    ));
}

#[test]
fn unparseable_input_after_a_failure_is_drained() {
    let now = Instant::now();
    let (_, mut server) = pair();
    let reserved_opcode = [0x83, 0x80, 0, 0, 0, 0];
    assert_eq!(
        read_all(&mut server, &reserved_opcode, now),
        Err(ProtocolError::ReservedOpcode(3))
    );
    assert!(matches!(server.state, CloseState::Draining { .. }));
    assert!(server.input.is_empty());
    take_output(&mut server);
    assert!(server.wants_shutdown_write(), "the server closes TCP first");
}

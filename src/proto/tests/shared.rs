//! Shared messages: encoded once, sent by many connections, read back intact.

use super::*;

fn shared(message: Message) -> SharedMessage {
    SharedMessage::new(message).unwrap()
}

#[test]
fn every_server_sends_the_same_frame_and_each_client_reads_it() {
    let now = Instant::now();
    let big = Message::binary(vec![7u8; 20_000]);
    for message in [Message::text("tick"), big] {
        let one = shared(message.clone());
        let mut servers: Vec<Connection> = (0..3)
            .map(|_| Connection::new(Role::Server, &Config::default(), now))
            .collect();
        let mut wires = Vec::new();
        for server in &mut servers {
            server.send_shared(&one).unwrap();
            assert_eq!(server.buffered_amount(), one.frame_len());
            wires.push(take_output(server));
        }
        assert!(wires.windows(2).all(|w| w[0] == w[1]), "one encoding for all");
        let mut client = Connection::new(Role::Client, &Config::default(), now);
        assert_eq!(read_all(&mut client, &wires[0], now), Ok(vec![message]));
    }
}

#[test]
fn a_client_masks_a_shared_message() {
    let now = Instant::now();
    let mut client = Connection::new(Role::Client, &Config::default(), now);
    client.send_shared(&shared(Message::text("hello"))).unwrap();
    let wire = take_output(&mut client);
    assert_eq!(wire[1] & 0x80, 0x80, "MASK bit set");
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    assert_eq!(read_all(&mut server, &wire, now), Ok(vec![Message::text("hello")]));
}

#[test]
fn control_messages_are_not_shareable() {
    for message in [
        Message::Ping(Bytes::new()),
        Message::Pong(Bytes::new()),
        Message::Close(None),
    ] {
        assert!(matches!(
            SharedMessage::new(message),
            Err(Error::InvalidMessage(SendError::NotShareable))
        ));
    }
}

#[test]
fn nothing_is_shared_after_a_close() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    server.close(None, now).unwrap();
    let before = server.buffered_amount();
    assert!(matches!(
        server.send_shared(&shared(Message::text("late"))),
        Err(Error::Closed)
    ));
    assert_eq!(server.buffered_amount(), before);
}

#[test]
fn the_message_comes_back_whole() {
    assert_eq!(shared(Message::text("héllo")).message(), Message::text("héllo"));
    let one = shared(Message::binary(vec![1, 2, 3]));
    assert_eq!((one.payload_len(), one.frame_len()), (3, 5));
}

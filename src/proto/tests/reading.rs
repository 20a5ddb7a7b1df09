//! How much read buffer a connection holds: little for small frames,
//! enough for a bulk transfer while it lasts, and never the whole of a
//! large frame before its bytes arrive.

use std::time::Instant;

use bytes::BufMut;

use super::super::{Connection, Role};
use super::*;

/// Reads `wire` as a transport would: into `read_buffer`, as much as it
/// offers room for, at most `chunk` at a time.
fn transport_read(conn: &mut Connection, mut wire: &[u8], chunk: usize, now: Instant) -> (Vec<Message>, usize) {
    let (mut messages, mut reads) = (Vec::new(), 0);
    while !wire.is_empty() {
        let mut buffer = conn.read_buffer();
        let n = wire.len().min(chunk).min(buffer.chunk_mut().len());
        buffer.put_slice(&wire[..n]);
        drop(buffer);
        wire = &wire[n..];
        conn.handle_read(n, now);
        reads += 1;
        messages.extend(std::iter::from_fn(|| conn.poll_message()));
    }
    (messages, reads)
}

#[test]
fn small_frames_keep_the_read_buffer_small() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    // A pong every read, as a heartbeat's answers arrive.
    for _ in 0..1000 {
        let pong = client_frame(true, 0xA, b"heartbeat");
        assert_eq!(transport_read(&mut server, &pong, 512, now).0.len(), 1);
    }
    let (_, capacity) = super::super::internals::read_buffer_use(&server);
    assert!(capacity <= 16 << 10, "{capacity} bytes held for 15-byte frames");
}

#[test]
fn a_burst_grows_the_room_and_its_end_gives_it_back() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    let mut client = Connection::new(Role::Client, &Config::default(), now);
    for _ in 0..8 {
        client.send(Message::binary(vec![7; 256 << 10])).unwrap();
    }
    let burst = take_output(&mut client);
    let (messages, reads) = transport_read(&mut server, &burst, 1 << 20, now);
    assert_eq!(messages.len(), 8);
    // 2 MiB in 4 KiB reads would take 512; the room grows to a frame's size.
    assert!(reads <= 40, "{reads} reads for 8 frames of 256 KiB");
    for _ in 0..20 {
        transport_read(&mut server, &client_frame(true, 0xA, b"small again"), 512, now);
    }
    let (_, after) = super::super::internals::read_buffer_use(&server);
    assert!(after <= 16 << 10, "{after} bytes still held after the burst");
}

#[test]
fn a_declared_large_frame_reserves_only_as_its_bytes_come() {
    let now = Instant::now();
    let config = config(|c| c.max_frame_size(16 << 20).max_message_size(16 << 20));
    let mut server = Connection::new(Role::Server, &config, now);
    // A header declaring 16 MiB, then 1 KiB of it.
    let mut wire = vec![0x82, 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 0, 1, 2, 3, 4];
    wire.extend_from_slice(&[0; 1024]);
    transport_read(&mut server, &wire, 512, now);
    let (_, capacity) = super::super::internals::read_buffer_use(&server);
    assert!(
        capacity <= 256 << 10,
        "{capacity} bytes reserved for 1 KiB of a 16 MiB frame"
    );
}

#[test]
fn a_quiet_socket_answering_the_heartbeat_holds_no_read_room() {
    let now = Instant::now();
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    // As the driver reads while there is no read buffer: a few bytes
    // through `handle_bytes`, a pong after each of the heartbeat's checks.
    for _ in 0..3 {
        server.handle_bytes(&client_frame(true, 0xA, b"heartbeat"), now);
        assert_eq!(std::iter::from_fn(|| server.poll_message()).count(), 1);
        let (_, capacity) = super::super::internals::read_buffer_use(&server);
        assert!(capacity < 64, "{capacity} bytes held for a 15-byte frame");
        server.release_read_buffer(); // the next check
    }
    // A second short read before the socket is quiet again: it is busy,
    // and reads into a whole buffer from now on.
    server.handle_bytes(&client_frame(true, 0x1, b"hello"), now);
    server.handle_bytes(&client_frame(true, 0x1, b"again"), now);
    assert_eq!(std::iter::from_fn(|| server.poll_message()).count(), 2);
    let (_, capacity) = super::super::internals::read_buffer_use(&server);
    assert!(
        capacity >= 4 << 10,
        "a busy socket reads into a whole buffer ({capacity} bytes)"
    );
}

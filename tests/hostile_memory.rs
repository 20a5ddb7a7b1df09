//! Memory under hostile input stays bounded, counted in live heap bytes
//! (dhat's allocator, so the allocator's own caching does not blur it):
//! a frame declared huge reserves only what has arrived, many connections
//! each holding a partial frame hold little each, and a flood of tiny
//! compressed messages holds no more than a few of them, and a compressed
//! message arriving a byte at a time is not copied once per byte. One test
//! in the file: dhat's profiler is process-wide.
#![cfg(feature = "deflate")]

use std::time::Instant;

use hyperws::proto::{Connection, Role};
use hyperws::{Config, DeflateConfig, DeflateParams, Message};

mod common;
use common::take_output;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn live_bytes() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// A masked binary frame header declaring `len` bytes (64-bit form).
fn header_declaring(len: u64) -> Vec<u8> {
    let mut header = vec![0x82, 0xFF];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    header
}

fn limits(bytes: usize) -> Config {
    Config::builder()
        .max_frame_size(bytes)
        .max_message_size(bytes)
        .build()
        .unwrap()
}

/// Live bytes per connection while `count` connections each hold the
/// header of a frame declaring `declared` bytes and then a 10-byte trickle.
fn held_per_partial_frame(count: usize, declared: u64, trickles: usize) -> usize {
    let (config, now) = (limits(16 << 20), Instant::now());
    let before = live_bytes();
    let mut conns: Vec<Connection> = (0..count)
        .map(|_| Connection::new(Role::Server, &config, now))
        .collect();
    for conn in &mut conns {
        conn.handle_bytes(&header_declaring(declared), now);
        for _ in 0..trickles {
            conn.handle_bytes(&[0; 10], now);
            assert!(conn.poll_message().is_none());
        }
    }
    (live_bytes() - before) / count
}

/// Live bytes a server connection holds after `count` tiny compressed messages.
fn held_after_compressed(count: usize) -> usize {
    let (config, now) = (Config::default(), Instant::now());
    let settings = DeflateConfig::default().threshold(0);
    let params = DeflateParams::default(); // context takeover both ways: the inflater stays
    let mut client = Connection::new(Role::Client, &config, now).with_deflate(params, &settings);
    let mut server = Connection::new(Role::Server, &config, now).with_deflate(params, &settings);
    let before = live_bytes();
    for i in 0..count {
        client.send(Message::text(format!("tick {}", i % 10))).unwrap();
        server.handle_bytes(&take_output(&mut client), now);
        assert!(server.poll_message().is_some());
    }
    live_bytes() - before
}

/// Bytes and blocks allocated (in all, freed or not) while a server takes
/// one 16 KiB message, compressed or not, one byte per read.
fn allocated_for_a_byte_at_a_time(compressed: bool) -> (u64, u64) {
    let (config, now) = (Config::default(), Instant::now());
    let settings = DeflateConfig::default().level(0); // stored: as long on the wire
    let params = DeflateParams::default();
    let mut client = Connection::new(Role::Client, &config, now).with_deflate(params, &settings);
    let mut server = Connection::new(Role::Server, &config, now).with_deflate(params, &settings);
    let text: String = (0u8..26).cycle().take(16 << 10).map(|i| char::from(b'a' + i)).collect();
    if compressed {
        client.send(Message::text(text)).unwrap();
    } else {
        client.send_uncompressed(Message::text(text)).unwrap();
    }
    let wire = take_output(&mut client);
    let before = dhat::HeapStats::get();
    let mut received = 0;
    for byte in &wire {
        server.handle_bytes(std::slice::from_ref(byte), now);
        received += std::iter::from_fn(|| server.poll_message()).count();
    }
    assert_eq!(received, 1);
    let after = dhat::HeapStats::get();
    (
        after.total_bytes - before.total_bytes,
        after.total_blocks - before.total_blocks,
    )
}

#[test]
fn hostile_input_holds_bounded_memory() {
    let _profiler = dhat::Profiler::builder().testing().build();

    // A header near the limit, then a trickle: room grows with what arrived.
    let trickled = held_per_partial_frame(1, (16 << 20) - 1, 100);
    println!("a 16 MiB frame after 1 KB arrived: {trickled} bytes held");
    assert!(
        trickled <= 80 << 10,
        "{trickled} bytes held for 1 KB of a declared 16 MiB frame"
    );

    // Many connections each holding a partial frame: the same small amount
    // each, whatever size the frames declare.
    let small = held_per_partial_frame(200, 1 << 20, 1);
    let huge = held_per_partial_frame(200, (16 << 20) - 1, 1);
    println!("per connection holding a partial frame: {small} bytes (1 MiB declared), {huge} (16 MiB)");
    assert!(
        huge <= 80 << 10 && huge <= small + 1024,
        "{huge} bytes each (1 MiB declared: {small})"
    );

    // A flood of tiny compressed messages: no more held after 10 000 than after 100.
    let few = held_after_compressed(100);
    let flood = held_after_compressed(10_000);
    println!("after tiny compressed messages: {few} bytes (100), {flood} bytes (10 000)");
    assert!(
        flood <= few + 4096,
        "{flood} bytes after 10 000 messages, {few} after 100"
    );

    // A message arriving a byte at a time is not copied once per byte (the
    // fuzzer's `roundtrip` found the inflated body regrown on every byte:
    // 344 MB allocated for an 18 KB message).
    let plain = allocated_for_a_byte_at_a_time(false);
    let compressed = allocated_for_a_byte_at_a_time(true);
    println!("allocated for 16 KiB a byte at a time (bytes, blocks): plain {plain:?}, compressed {compressed:?}");
    assert!(compressed.0 < 2 << 20, "{compressed:?} allocated (plain: {plain:?})");
    assert!(compressed.1 < 100, "{compressed:?} allocated (plain: {plain:?})");
}

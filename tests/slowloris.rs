//! Slowloris on every server the README shows: a client that sends its
//! request head one byte at a time is dropped once the handshake timeout
//! (10 s by default) has passed, by the hyper-only echo, the tower layer
//! example, the axum echo and the chat example, each run as its own process.
//!
//! `cargo test` builds the examples before it runs this file.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::process::start_example;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The handshake timeout every example uses (`ServerConfig`'s default).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends a request head one byte every 100 ms, forever; returns how long
/// the server let it go on before closing the connection.
async fn dribble_until_dropped(addr: SocketAddr) -> Duration {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nX-Slow: ";
    let mut bytes = head.iter().copied().chain(std::iter::repeat(b'a'));
    let started = Instant::now();
    let mut buf = [0; 512];
    while started.elapsed() < TIMEOUT * 3 {
        if tcp.write_all(&[bytes.next().unwrap()]).await.is_err() {
            return started.elapsed();
        }
        // Anything else is a 408 before the close, or nothing yet.
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await {
            return started.elapsed();
        }
    }
    panic!("still connected after {:?}", started.elapsed());
}

async fn is_dropped_at_the_timeout(example: &str) {
    let (_server, addr) = start_example(example, &[]);
    let lasted = dribble_until_dropped(addr).await;
    assert!(
        lasted + Duration::from_millis(500) >= TIMEOUT && lasted < TIMEOUT * 2,
        "{example}: dropped after {lasted:?}, expected about {TIMEOUT:?}"
    );
}

#[tokio::test]
async fn the_hyper_echo_drops_a_slowloris_client() {
    is_dropped_at_the_timeout("echo").await;
}

#[tokio::test]
async fn the_tower_layer_example_drops_a_slowloris_client() {
    is_dropped_at_the_timeout("tower_layer").await;
}

#[tokio::test]
async fn the_axum_echo_drops_a_slowloris_client() {
    is_dropped_at_the_timeout("axum_echo").await;
}

#[tokio::test]
async fn the_chat_example_drops_a_slowloris_client() {
    is_dropped_at_the_timeout("chat").await;
}

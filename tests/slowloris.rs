//! Slowloris on every server the README shows: a client that sends its
//! request head one byte at a time is dropped once the handshake timeout
//! (10 s by default) has passed, by the hyper-only echo, the tower layer
//! example, the axum echo and the chat example, each run as its own process.
//!
//! `cargo test` builds the examples before it runs this file.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The handshake timeout every example uses (`ServerConfig`'s default).
const TIMEOUT: Duration = Duration::from_secs(10);

/// An example server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example_binary(name: &str) -> PathBuf {
    // target/debug/deps/slowloris-… -> target/debug/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    assert!(
        path.exists(),
        "{} missing: run `cargo build --examples`",
        path.display()
    );
    path
}

/// Starts an example on a free port and waits for its first line (it listens).
fn start(name: &str) -> (Server, SocketAddr) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = Command::new(example_binary(name))
        .arg(addr.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty(), "{name} did not start");
    (Server(child), addr)
}

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
    let (_server, addr) = start(example);
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

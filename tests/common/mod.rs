//! A hyper server on a free loopback port whose WebSocket handler each test chooses.

#![allow(dead_code)] // each test file uses its own part of this module

#[cfg(any(feature = "redis", feature = "nats"))]
pub(crate) mod chat;
#[cfg(any(feature = "redis", feature = "nats"))]
pub(crate) mod fake_server;
#[cfg(feature = "nats")]
pub(crate) mod nats;
pub(crate) mod process;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "topics")]
pub(crate) mod stamped;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyperws::{upgrade_request, Message, ServerConfig, UpgradedIo, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) type ServerSocket = WebSocket<UpgradedIo>;

/// Serves `handler` for every WebSocket that connects; returns the address.
pub(crate) async fn serve<F, Fut>(config: impl Into<ServerConfig>, handler: F) -> SocketAddr
where
    F: Fn(ServerSocket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let config: ServerConfig = config.into();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (config, handler) = (config.clone(), handler.clone());
            let service = service_fn(move |mut request: Request<Incoming>| {
                let (config, handler) = (config.clone(), handler.clone());
                async move {
                    Ok::<_, Infallible>(match upgrade_request(&mut request, &config) {
                        Ok((response, upgraded)) => {
                            upgraded.on_upgrade(handler);
                            response
                        }
                        Err(refused) => refused.to_response::<Full<Bytes>>(),
                    })
                }
            });
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    addr
}

/// Echoes text and binary messages until the connection ends.
pub(crate) async fn echo(mut ws: ServerSocket) {
    while let Some(Ok(message)) = ws.recv().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// Sends raw HTTP and returns the whole response head and body as text.
pub(crate) async fn raw_http(addr: SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let n = tcp.read(&mut chunk).await.unwrap();
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response);
        if n == 0 || head_and_body_complete(&text) {
            return text.into_owned();
        }
    }
}

fn head_and_body_complete(text: &str) -> bool {
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    body.len() >= length
}

/// The URL of a test server.
pub(crate) fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}/")
}

/// Shorthand for a text message.
pub(crate) fn text(s: &str) -> Message {
    Message::text(s.to_owned())
}

/// What a recording handler saw: each `recv` item, then `None` when the stream ended.
pub(crate) type Recording = tokio::sync::mpsc::UnboundedReceiver<Option<Result<Message, hyperws::Error>>>;

/// Serves a handler that only receives, and reports every item it gets.
pub(crate) async fn serve_recording(config: impl Into<ServerConfig>) -> (SocketAddr, Recording) {
    let (handler, seen) = recorder();
    (serve(config, handler).await, seen)
}

/// A handler that only receives, and the channel of every item it gets.
fn recorder() -> (
    impl Fn(ServerSocket) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Clone + Send + Sync,
    Recording,
) {
    let (seen_tx, seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let handler = move |mut ws: ServerSocket| {
        let seen_tx = seen_tx.clone();
        Box::pin(async move {
            while let Some(item) = ws.recv().await {
                let _ = seen_tx.send(Some(item));
            }
            let _ = seen_tx.send(None);
        }) as std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
    };
    (handler, seen_rx)
}

/// A raw TCP client that has completed the opening handshake and then does
/// only what the test makes it do: the misbehaving peers are written with it.
pub(crate) async fn raw_upgrade(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(UPGRADE_REQUEST).await.unwrap();
    read_101(&mut tcp).await;
    tcp
}

/// A masked client frame (payload under 126 bytes).
pub(crate) fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    frame
}

/// Serves `handler` through the hyper door over an in-memory pipe (no
/// socket, so tests on tokio's paused clock stay deterministic), and returns
/// the client's end after the 101, as [`raw_upgrade`] does for TCP.
pub(crate) async fn raw_upgrade_in_memory<F, Fut>(
    config: impl Into<ServerConfig>,
    handler: F,
) -> tokio::io::DuplexStream
where
    F: Fn(ServerSocket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let config: ServerConfig = config.into();
    let (server_end, mut client_end) = tokio::io::duplex(1 << 16);
    let service = service_fn(move |mut request: Request<Incoming>| {
        let (config, handler) = (config.clone(), handler.clone());
        async move {
            let (response, upgraded) = upgrade_request(&mut request, &config).unwrap();
            tokio::spawn(async move { handler(upgraded.await.unwrap()).await });
            Ok::<_, Infallible>(response)
        }
    });
    tokio::spawn(
        http1::Builder::new()
            .serve_connection(TokioIo::new(server_end), service)
            .with_upgrades(),
    );
    client_end.write_all(UPGRADE_REQUEST).await.unwrap();
    read_101(&mut client_end).await;
    client_end
}

/// Serves a handler that only receives, in memory, reporting every item.
pub(crate) async fn recording_in_memory(config: impl Into<ServerConfig>) -> (tokio::io::DuplexStream, Recording) {
    let (handler, seen) = recorder();
    (raw_upgrade_in_memory(config, handler).await, seen)
}

const UPGRADE_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

/// Reads the 101 head byte by byte so no frame after it is consumed.
async fn read_101(io: &mut (impl AsyncReadExt + Unpin)) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        assert_eq!(io.read(&mut byte).await.unwrap(), 1, "closed during the handshake");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
}

/// What `tracing` logged on this thread since [`capture_logs`].
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything logged so far, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures what `tracing` logs on this thread (and the tasks of a
/// current-thread runtime) while the guard lives.
pub(crate) fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    capture_logs_from(tracing::Level::INFO)
}

/// [`capture_logs`] of events at `level` and above.
pub(crate) fn capture_logs_from(level: tracing::Level) -> (Captured, tracing::subscriber::DefaultGuard) {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (log, tracing::subscriber::set_default(subscriber))
}

/// Everything `conn` has queued, taken as a transport that accepts it all would.
pub(crate) fn take_output(conn: &mut hyperws::proto::Connection) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        let used = conn.poll_transmit(&mut slices);
        if used == 0 {
            return out;
        }
        let before = out.len();
        for slice in &slices[..used] {
            out.extend_from_slice(slice);
        }
        conn.handle_written(out.len() - before);
    }
}

/// A WebSocket upgrade request for `path`, with `origin` if given.
pub(crate) fn upgrade_request_text(path: &str, origin: Option<&str>) -> String {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    if let Some(origin) = origin {
        request = request + "Origin: " + origin + "\r\n";
    }
    request + "\r\n"
}

/// The status code the server at `addr` answers an upgrade request with.
pub(crate) async fn upgrade_status(addr: SocketAddr, path: &str, origin: Option<&str>) -> String {
    let response = raw_http(addr, &upgrade_request_text(path, origin)).await;
    response.split(' ').nth(1).unwrap_or("none").to_owned()
}

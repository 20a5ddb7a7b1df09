//! Fan-out: one publisher, many subscribers on one server process.
//! `topics` publishes through `hyperws::topics::Topics` (encoded once,
//! queued, each socket writes its own mail); `broadcast` is axum's chat
//! example, what axum apps write: a `tokio::sync::broadcast` channel and a
//! task per socket that receives from it and `send`s (its capacity is the
//! run's message count, so nobody lags and every message is delivered);
//! `loop` is the plainest: the publisher holds every socket's writer and
//! `send`s each message to each in turn. The load connects N clients, says
//! "go" on the first, and counts frames until every client has all of them.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use hyperws::topics::{Policy, SlowConsumer, Subscribe, Topics};
use hyperws::{Message, WebSocket, WebSocketWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::load::{cpu_ns, handshake_with};
use crate::wire::{masked_frame_with, parse_header};

/// Publications between two yields of the publisher: it publishes as fast
/// as it can, letting the sockets write now and then.
const BURST: usize = 64;

/// The shape of one run: `count` messages of `size` bytes to each subscriber.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub subscribers: usize,
    pub size: usize,
    pub count: usize,
}

type Writers = Rc<RefCell<Vec<WebSocketWriter<TcpStream>>>>;

/// Serves fan-out `mode` (`topics` or `loop`) until killed.
pub async fn serve(mode: &str, size: usize, count: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    // Room for a whole run per subscriber: this measures speed, not policy.
    let budget = count * (size + 16);
    let topics = Topics::builder()
        .slow_consumer(SlowConsumer::new(budget, Policy::default()).expect("a budget"))
        .build()
        .expect("valid topics");
    let writers: Writers = Rc::default();
    let (channel, _) = tokio::sync::broadcast::channel::<bytes::Bytes>(count);
    let config = hyperws::Config::builder().no_heartbeat().build().unwrap();
    loop {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let (topics, writers, mode) = (topics.clone(), Rc::clone(&writers), mode.to_owned());
        let (config, channel) = (config.clone(), channel.clone());
        tokio::task::spawn_local(async move {
            let ws = accept(tcp, &config).await;
            match mode.as_str() {
                "topics" => subscriber(ws, topics, size, count).await,
                "broadcast" => broadcast_member(ws, channel, size, count).await,
                _ => loop_member(ws, writers, size, count).await,
            }
        });
    }
}

/// A hyperws socket over `tcp`, after reading the upgrade request by hand
/// (the load's request is fixed; hyper would only add noise here).
pub async fn accept(mut tcp: TcpStream, config: &hyperws::Config) -> WebSocket<TcpStream> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let accept = hyperws::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    tcp.write_all(response.as_bytes()).await.unwrap();
    WebSocket::from_raw_socket(tcp, hyperws::Role::Server, config)
}

pub async fn subscriber(mut ws: WebSocket<TcpStream>, topics: Topics, size: usize, count: usize) {
    ws.subscribe(&topics, "t").unwrap();
    while let Some(Ok(message)) = ws.recv().await {
        if message.is_text() {
            let topics = topics.clone();
            tokio::task::spawn_local(async move {
                let shared = hyperws::topics::SharedMessage::new(Message::binary(vec![7u8; size])).unwrap();
                for i in 0..count {
                    topics.publish_shared("t", &shared);
                    if i % BURST == BURST - 1 {
                        tokio::task::yield_now().await;
                    }
                }
            });
        }
    }
}

/// axum's chat example: a task per socket forwards what the channel
/// carries; the reader half waits for "go".
pub async fn broadcast_member(
    ws: WebSocket<TcpStream>,
    channel: tokio::sync::broadcast::Sender<bytes::Bytes>,
    size: usize,
    count: usize,
) {
    let (mut reader, mut writer) = ws.into_split();
    let mut rx = channel.subscribe();
    tokio::task::spawn_local(async move {
        while let Ok(payload) = rx.recv().await {
            if writer.send(Message::Binary(payload)).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(message)) = reader.recv().await {
        if message.is_text() {
            let channel = channel.clone();
            tokio::task::spawn_local(async move {
                let payload = bytes::Bytes::from(vec![7u8; size]);
                for i in 0..count {
                    let _ = channel.send(payload.clone());
                    if i % BURST == BURST - 1 {
                        tokio::task::yield_now().await;
                    }
                }
            });
        }
    }
}

async fn loop_member(ws: WebSocket<TcpStream>, writers: Writers, size: usize, count: usize) {
    let (mut reader, writer) = ws.into_split();
    writers.borrow_mut().push(writer);
    while let Some(Ok(message)) = reader.recv().await {
        if message.is_text() {
            let writers = Rc::clone(&writers);
            tokio::task::spawn_local(async move {
                let payload = bytes::Bytes::from(vec![7u8; size]);
                let mut all = std::mem::take(&mut *writers.borrow_mut());
                for _ in 0..count {
                    for writer in &mut all {
                        let _ = writer.send(Message::Binary(payload.clone())).await;
                    }
                }
            });
        }
    }
}

/// Connects the subscribers, starts the publisher and waits until each
/// has every message; prints `RESULT deliveries_per_s server_ns_per_delivery`.
pub async fn load(addr: SocketAddr, shape: Shape, server_pid: u32) {
    let done = Rc::new(RefCell::new(0usize));
    let mut first = None;
    for i in 0..shape.subscribers {
        let (tcp, _) = handshake_with(addr, "").await;
        if i == 0 {
            first = Some(tcp);
            continue;
        }
        let done = Rc::clone(&done);
        tokio::task::spawn_local(async move { count_frames(tcp, shape, &done).await });
    }
    // Every handler subscribes right after its handshake; give the last a moment.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut first = first.unwrap();
    let (started, cpu_before) = (Instant::now(), cpu_ns(server_pid));
    first.write_all(&masked_frame_with(0x81, b"go")).await.unwrap();
    count_frames(first, shape, &done).await;
    while *done.borrow() < shape.subscribers {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let (elapsed, cpu) = (started.elapsed(), cpu_ns(server_pid) - cpu_before);
    let deliveries = (shape.subscribers * shape.count) as f64;
    println!(
        "RESULT {} {} {}",
        deliveries / elapsed.as_secs_f64(),
        cpu as f64 / deliveries,
        peak_rss_kib(server_pid)
    );
}

/// The server's peak resident memory (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    crate::report::status_kib(pid, "VmHWM:")
}

/// Reads frames until `shape.count` have come, checking each one's size.
async fn count_frames(mut tcp: TcpStream, shape: Shape, done: &RefCell<usize>) {
    let mut input = BytesMut::with_capacity(64 << 10);
    let mut seen = 0;
    while seen < shape.count {
        input.reserve(64 << 10);
        assert!(
            tcp.read_buf(&mut input).await.unwrap() > 0,
            "the server closed after {seen} messages"
        );
        while let Some((header_len, len, masked)) = parse_header(&input) {
            if input.len() < header_len + len {
                break;
            }
            assert!(!masked && len == shape.size, "a wrong frame");
            input.advance(header_len + len);
            seen += 1;
        }
    }
    *done.borrow_mut() += 1;
}

/// Runs both modes for 16 B and 1 KiB messages, the server on core 0 and
/// the load on core 1, and prints the table.
pub fn run(quick: bool) {
    let subscribers = if quick { 200 } else { 10_000 };
    println!("fan-out: one publisher, {subscribers} subscribers on one server core (deliveries/s; server CPU ns per delivery; server peak RSS)");
    println!("| message | Topics | broadcast + task per socket (axum's chat) | plain loop | Topics / broadcast | Topics / loop | ns per delivery: Topics / broadcast / loop | peak RSS MiB: Topics / broadcast / loop |");
    println!("|---|---|---|---|---|---|---|---|");
    for (size, count) in [(16, if quick { 20 } else { 200 }), (1024, if quick { 10 } else { 100 })] {
        let shape = Shape {
            subscribers,
            size,
            count,
        };
        let [topics, channel, plain] = ["topics", "broadcast", "loop"].map(|mode| measure(mode, shape));
        let mib = |kib: f64| kib / 1024.0;
        println!(
            "| {size} B × {count} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.0} / {:.0} / {:.0} | {:.1} / {:.1} / {:.1} |",
            topics.0,
            channel.0,
            plain.0,
            topics.0 / channel.0,
            topics.0 / plain.0,
            topics.1,
            channel.1,
            plain.1,
            mib(topics.2),
            mib(channel.2),
            mib(plain.2)
        );
    }
}

fn measure(mode: &str, shape: Shape) -> (f64, f64, f64) {
    use std::process::Command;
    let (size, count) = (shape.size.to_string(), shape.count.to_string());
    let server = crate::report::Server::start_with(&["fanout-server", mode, &size, &count]);
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("taskset")
        .args(["-c", "1"])
        .arg(&exe)
        .args(["fanout-load", &server.addr, &shape.subscribers.to_string(), &size])
        .args([count, server.pid().to_string()])
        .output()
        .unwrap();
    drop(server);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "{mode}: no result\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let mut fields = result.split(' ').map(|f| f.parse::<f64>().unwrap());
    let mut next = || fields.next().unwrap();
    (next(), next(), next())
}

//! The scale test users run (issue #24): many compressed connections, each
//! in one of 50 rooms; the server publishes a 1 KiB JSON message to one
//! room every 100 ms (so every connection gets one every 5 s) and each
//! connection sends one message every 30 s. hyperws publishes through
//! `Topics`; the peers the way their users would, a channel per socket.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyperws::topics::Subscribe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use crate::servers::{accept_loop, hyper_conn};
use crate::wire::{masked_frame_with, parse_header};

const ROOMS: usize = 50;
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
const SEND_EVERY: Duration = Duration::from_secs(30);

/// The servers run by default, by command-line name. `sockudo-ws` runs
/// when named: in this shape 60% of its deliveries did not arrive (its
/// stream under `select!` is suspect), so its row is not comparable yet.
pub const SERVERS: [&str; 4] = [
    "hyperws-balanced",
    "hyperws-least-memory",
    "hyperws-smallest-on-wire",
    "yawc",
];

/// The `n`th message: 1 KiB of JSON, different each time.
fn message(n: usize) -> String {
    let mut text = format!(r#"{{"seq":{n},"room":"room-{}","events":["#, n % ROOMS);
    let mut i = n;
    while text.len() < 1000 {
        i = i.wrapping_mul(2_654_435_761).wrapping_add(12_345) % 1_000_003;
        text.push_str(&format!(
            r#"{{"user":"user{}","price":{}.{:02},"ok":{}}},"#,
            i % 500,
            i % 1000,
            i % 100,
            i.is_multiple_of(2)
        ));
    }
    text.pop();
    text.push_str("]}");
    text
}

/// Serves `name` on `listener` until killed.
pub async fn serve(name: &str, listener: TcpListener) {
    match name {
        "hyperws-balanced" => hyperws_rooms(listener, hyperws::DeflateConfig::balanced()).await,
        "hyperws-least-memory" => hyperws_rooms(listener, hyperws::DeflateConfig::least_memory()).await,
        "hyperws-smallest-on-wire" => hyperws_rooms(listener, hyperws::DeflateConfig::smallest_on_wire()).await,
        "yawc" => channel_rooms(listener, Library::Yawc).await,
        "sockudo-ws" => channel_rooms(listener, Library::Sockudo).await,
        _ => panic!("unknown scale server {name}"),
    }
}

thread_local! {
    static TOPICS: hyperws::topics::Topics = hyperws::topics::Topics::builder().build().unwrap();
    static CONFIG: RefCell<Option<hyperws::ServerConfig>> = const { RefCell::new(None) };
    static JOINED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The peers' rooms: each socket's channel.
    static MEMBERS: RefCell<Vec<Vec<UnboundedSender<Bytes>>>> = RefCell::new(vec![Vec::new(); ROOMS]);
}

/// The room for the next connection.
fn next_room() -> usize {
    JOINED.with(|joined| {
        joined.set(joined.get() + 1);
        joined.get() % ROOMS
    })
}

async fn hyperws_rooms(listener: TcpListener, deflate: hyperws::DeflateConfig) {
    let socket = hyperws::Config::builder().deflate(deflate).build().unwrap();
    CONFIG.with(|config| *config.borrow_mut() = Some(socket.into()));
    tokio::task::spawn_local(async move {
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        for n in 0.. {
            tick.tick().await;
            let text = hyperws::Message::text(message(n));
            TOPICS
                .with(|topics| topics.publish(&format!("room-{}", n % ROOMS), text))
                .expect("a data message");
        }
    });
    accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_member)).await;
}

async fn hyperws_member(mut request: Request<Incoming>) -> Response<http_body_util::Full<Bytes>> {
    let upgrade = CONFIG.with(|config| hyperws::upgrade_request(&mut request, config.borrow().as_ref().unwrap()));
    let (response, upgraded) = upgrade.unwrap();
    tokio::task::spawn_local(async move {
        let Ok(mut ws) = upgraded.await else { return };
        let topic = format!("room-{}", next_room());
        TOPICS.with(|topics| ws.subscribe(topics, &topic)).unwrap();
        while let Some(Ok(_)) = ws.recv().await {}
    });
    response
}

#[derive(Clone, Copy)]
enum Library {
    Yawc,
    Sockudo,
}

/// The peers: a channel per socket, the publisher sends each member the
/// message (each socket compresses its own copy, as those libraries do).
async fn channel_rooms(listener: TcpListener, library: Library) {
    tokio::task::spawn_local(async move {
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        for n in 0.. {
            tick.tick().await;
            let text = Bytes::from(message(n));
            MEMBERS.with(|rooms| rooms.borrow_mut()[n % ROOMS].retain(|member| member.send(text.clone()).is_ok()));
        }
    });
    match library {
        Library::Yawc => accept_loop(listener, |tcp| hyper_conn(tcp, yawc_member)).await,
        Library::Sockudo => accept_loop(listener, sockudo_member).await,
    }
}

/// A new member's channel, in the next room.
fn join() -> tokio::sync::mpsc::UnboundedReceiver<Bytes> {
    let (sender, receiver) = unbounded_channel();
    let room = next_room();
    MEMBERS.with(|rooms| rooms.borrow_mut()[room].push(sender));
    receiver
}

async fn yawc_member(mut request: Request<Incoming>) -> Response<http_body_util::Empty<Bytes>> {
    let options = yawc::Options::default().with_compression_level(yawc::CompressionLevel::default());
    let (response, upgraded) = yawc::WebSocket::upgrade_with_options(&mut request, options).unwrap();
    tokio::task::spawn_local(async move {
        let Ok(mut ws) = upgraded.await else { return };
        let mut mail = join();
        loop {
            tokio::select! {
                frame = ws.next() => if frame.is_none() { return },
                text = mail.recv() => {
                    let Some(text) = text else { return };
                    if ws.send(yawc::Frame::text(text)).await.is_err() { return }
                }
            }
        }
    });
    response
}

async fn sockudo_member(tcp: TcpStream) {
    let Some(mut ws) = crate::servers::sockudo_deflate_accept(tcp).await else {
        return;
    };
    let mut mail = join();
    loop {
        tokio::select! {
            frame = ws.next() => if !matches!(frame, Some(Ok(_))) { return },
            text = mail.recv() => {
                let Some(text) = text else { return };
                if ws.send(sockudo_ws::protocol::Message::Text(text)).await.is_err() { return }
            }
        }
    }
}

/// The offer Chromium makes.
const OFFER: &str = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// Opens `count` connections to `addr`, prints `HELD`, then every second
/// `STATS messages bytes` received so far (frames and their wire bytes).
pub async fn load(addr: SocketAddr, count: usize) {
    let received = Rc::new(RefCell::new((0u64, 0u64)));
    for i in 0..count {
        let (tcp, head) = crate::load::handshake_with(addr, OFFER).await;
        assert!(head.contains("permessage-deflate"), "compression agreed: {head}");
        let stagger = SEND_EVERY.mul_f64(i as f64 / count as f64);
        tokio::task::spawn_local(member(tcp, stagger, Rc::clone(&received)));
    }
    println!("HELD");
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (messages, bytes) = *received.borrow();
        println!("STATS {messages} {bytes}");
    }
}

async fn member(tcp: TcpStream, stagger: Duration, received: Rc<RefCell<(u64, u64)>>) {
    let (mut reader, mut writer) = tcp.into_split();
    tokio::task::spawn_local(async move {
        tokio::time::sleep(stagger).await;
        let frame = masked_frame_with(0x81, message(7).as_bytes());
        let mut tick = tokio::time::interval(SEND_EVERY);
        loop {
            tick.tick().await;
            if writer.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    let mut input = BytesMut::with_capacity(4096);
    loop {
        while let Some((header_len, len, _)) = parse_header(&input) {
            if input.len() < header_len + len {
                break;
            }
            input.advance(header_len + len);
            let mut counts = received.borrow_mut();
            counts.0 += 1;
            counts.1 += (header_len + len) as u64;
        }
        if input.capacity() - input.len() < 2048 {
            input.reserve(4096);
        }
        match reader.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

//! `transfer` (a binary of its own): one large message each way over one connection,
//! plain and compressed: hyperws streaming (`recv_streaming` /
//! `send_streaming`) against hyperws whole (`recv` / `send` with the limits
//! raised), yawc's streaming API (`into_streaming`, fragment by fragment)
//! and tokio-tungstenite (which gathers whole messages; it does not
//! compress). Each server runs in a fresh process on core 0, so its peak
//! memory (`VmHWM`) is this one transfer's; the load (our client, the same
//! for every server, 1 MiB fragments) runs on core 1. Reported: throughput,
//! the server's CPU time, and its peak memory growth.

use std::time::Instant;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{Empty, Full};
use hyper::body::Incoming as Body;
use hyper::{Request, Response};
use hyperws::{Config, DeflateConfig, Message, MessageKind, Received};
use tokio::net::{TcpListener, TcpStream};

use crate::servers::{accept_loop, hyper_conn};

/// The servers, by command-line name.
pub const SERVERS: [&str; 4] = [
    "transfer-hyperws-stream",
    "transfer-hyperws-whole",
    "transfer-yawc-stream",
    "transfer-tungstenite",
];

/// How much each write (and each client fragment) carries.
const CHUNK: usize = 1 << 20;
/// The largest message any server accepts.
const LIMIT: usize = 2 << 30;

/// 1 MiB of JSON-like records: compressible about as real payloads are.
fn block() -> &'static Bytes {
    static BLOCK: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    BLOCK.get_or_init(|| {
        let mut text = crate::compressed::messages(16 << 10).concat().into_bytes();
        text.resize(CHUNK, b' ');
        Bytes::from(text)
    })
}

fn hyperws_config() -> Config {
    let deflate = DeflateConfig::default().peer_context_takeover(true);
    Config::builder()
        .deflate(deflate)
        .max_message_size(LIMIT)
        .max_frame_size(LIMIT)
        .max_streamed_message_size(LIMIT as u64)
        // Fragments of 1 MiB, as yawc's server sends (one frame per MiB) and
        // the load writes: the same frames on the wire for every library.
        .streamed_frame_size(CHUNK)
        .build()
        .unwrap()
}

/// Serves `name` on `listener` forever.
pub async fn serve(name: &str, listener: TcpListener) {
    match name {
        "transfer-hyperws-stream" => accept_loop(listener, |tcp| hyper_conn(tcp, |r| hyperws_upgrade(r, true))).await,
        "transfer-hyperws-whole" => accept_loop(listener, |tcp| hyper_conn(tcp, |r| hyperws_upgrade(r, false))).await,
        "transfer-yawc-stream" => accept_loop(listener, |tcp| hyper_conn(tcp, yawc_upgrade)).await,
        "transfer-tungstenite" => accept_loop(listener, tungstenite_conn).await,
        other => panic!("unknown server {other}; one of {SERVERS:?}"),
    }
}

/// What a connection's path asks for: `/up`, or `/down/SIZE`.
fn wanted(path: &str) -> Option<usize> {
    path.strip_prefix("/down/").map(|size| size.parse().unwrap())
}

async fn hyperws_upgrade(mut request: Request<Body>, streaming: bool) -> Response<Full<Bytes>> {
    let down = wanted(request.uri().path());
    let (response, upgraded) = hyperws::upgrade_request(&mut request, &hyperws_config().into()).unwrap();
    tokio::task::spawn_local(async move {
        let Ok(mut ws) = upgraded.await else { return };
        match (down, streaming) {
            (None, true) => {
                let Some(Ok(Received::Message(mut reader))) = ws.recv_streaming().await else {
                    return;
                };
                let mut size = 0;
                while let Some(Ok(piece)) = reader.next_piece().await {
                    size += piece.len();
                }
                drop(reader);
                let _ = ws.send(Message::text(format!("ok {size}"))).await;
            }
            (None, false) => {
                let Some(Ok(Message::Binary(data))) = ws.recv().await else {
                    return;
                };
                let _ = ws.send(Message::text(format!("ok {}", data.len()))).await;
            }
            (Some(size), true) => {
                // `write_bytes`: the block is queued by reference, as yawc's
                // frames of `Bytes` are.
                let mut writer = ws.send_streaming(MessageKind::Binary).unwrap();
                for len in chunks(size) {
                    writer.write_bytes(block().slice(..len)).await.unwrap();
                }
                writer.finish().await.unwrap();
            }
            (Some(size), false) => ws.send(Message::Binary(whole(size))).await.unwrap(),
        }
        let _ = ws.close(None).await;
    });
    response
}

/// The lengths of the writes that make `size` bytes.
fn chunks(size: usize) -> impl Iterator<Item = usize> {
    (0..size.div_ceil(CHUNK)).map(move |i| CHUNK.min(size - i * CHUNK))
}

/// The message whole in memory, as a library without streaming must hold it.
fn whole(size: usize) -> Bytes {
    let mut data = Vec::with_capacity(size);
    for len in chunks(size) {
        data.extend_from_slice(&block()[..len]);
    }
    Bytes::from(data)
}

async fn yawc_upgrade(mut request: Request<Body>) -> Response<Empty<Bytes>> {
    let down = wanted(request.uri().path());
    // Level 1, hyperws's default, so a compressed transfer compares the
    // libraries, not zlib's levels (yawc's default is 6).
    let options = yawc::Options::default()
        .with_compression_level(yawc::CompressionLevel::fast())
        .with_max_payload_read(LIMIT);
    let (response, upgraded) = yawc::WebSocket::upgrade_with_options(&mut request, options).unwrap();
    tokio::task::spawn_local(async move {
        let Ok(ws) = upgraded.await else { return };
        let mut ws = ws.into_streaming();
        let Some(size) = down else {
            let mut size = 0;
            while let Some(frame) = ws.next().await {
                size += frame.payload().len();
                if frame.is_fin() {
                    break;
                }
            }
            let _ = ws.send(yawc::Frame::text(format!("ok {size}"))).await;
            return close_yawc(ws).await;
        };
        let count = size.div_ceil(CHUNK);
        for (i, len) in chunks(size).enumerate() {
            let payload = block().slice(..len);
            let frame = if i == 0 {
                yawc::Frame::binary(payload)
            } else {
                yawc::Frame::continuation(payload)
            };
            ws.send(frame.with_fin(i + 1 == count)).await.unwrap();
        }
        close_yawc(ws).await;
    });
    response
}

async fn close_yawc<S>(mut ws: yawc::streaming::Streaming<S>)
where
    yawc::streaming::Streaming<S>: futures_util::Stream<Item = yawc::Frame> + futures_util::Sink<yawc::Frame> + Unpin,
{
    let _ = ws.send(yawc::Frame::close(yawc::close::CloseCode::Normal, b"")).await;
    while ws.next().await.is_some() {}
}

#[allow(clippy::result_large_err)] // tungstenite's callback type, not ours
async fn tungstenite_conn(tcp: TcpStream) {
    use tungstenite::handshake::server::{Request as Req, Response as Resp};
    let mut path = String::new();
    let record = |request: &Req, response: Resp| {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(LIMIT))
        .max_frame_size(Some(LIMIT));
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async_with_config(tcp, record, Some(config)).await else {
        return;
    };
    match wanted(&path) {
        None => {
            let Some(Ok(tungstenite::Message::Binary(data))) = ws.next().await else {
                return;
            };
            let _ = ws.send(tungstenite::Message::text(format!("ok {}", data.len()))).await;
        }
        Some(size) => ws.send(tungstenite::Message::Binary(whole(size))).await.unwrap(),
    }
    let _ = ws.close(None).await;
    while ws.next().await.is_some() {}
}

/// The load: one transfer of `size` bytes `up` or down, compressed or not;
/// prints `TRANSFER seconds`.
pub async fn load(addr: &str, up: bool, size: usize, compressed: bool) {
    // One offer, with client_no_context_takeover (one message: nothing to
    // keep): yawc 0.5 declines a header holding two offers.
    let builder = hyperws_config().to_builder();
    let deflate = DeflateConfig::default().context_takeover(false);
    let builder = if compressed {
        builder.deflate(deflate)
    } else {
        builder.no_deflate()
    };
    let config = builder.build().unwrap();
    let url = if up {
        format!("ws://{addr}/up")
    } else {
        format!("ws://{addr}/down/{size}")
    };
    let (mut ws, _) = hyperws::ClientBuilder::new(url).config(config).connect().await.unwrap();
    assert_eq!(ws.deflate().is_some(), compressed, "compression agreed as asked");
    let started = Instant::now();
    let received = if up {
        let mut writer = ws.send_streaming(MessageKind::Binary).unwrap();
        for len in chunks(size) {
            writer.write_all(&block()[..len]).await.unwrap();
        }
        writer.finish().await.unwrap();
        let Some(Ok(Message::Text(reply))) = ws.recv().await else {
            panic!("no reply")
        };
        reply.as_str().strip_prefix("ok ").unwrap().parse::<usize>().unwrap()
    } else {
        let Some(Ok(Received::Message(mut reader))) = ws.recv_streaming().await else {
            panic!("no message")
        };
        let mut received = 0;
        while let Some(piece) = reader.next_piece().await {
            received += piece.unwrap().len();
        }
        received
    };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(received, size, "the whole message arrived");
    println!("TRANSFER {seconds}");
    let _ = ws.close(None).await;
}

//! One echo server per library, each written the way that library's docs
//! teach, echoing text and binary messages. Libraries with a `Sink` echo in
//! batches: feed every message that is ready, then flush once.

use std::convert::Infallible;
use std::future::Future;

use futures_util::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use http_body_util::{Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The servers, by the name the command line uses.
pub const SERVERS: [&str; 8] = [
    "hyperws",
    "hyperws-no-heartbeat",
    "hyperws-axum",
    "axum-ws",
    "fastwebsockets",
    "tokio-websockets",
    "sockudo-ws",
    "ceiling",
];

/// Serves `name` on `listener` forever.
pub async fn run(name: &str, listener: TcpListener) {
    match name {
        "hyperws" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_upgrade)).await,
        "hyperws-no-heartbeat" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_upgrade_no_heartbeat)).await,
        "hyperws-axum" => axum_serve(listener, hyperws_axum_router()).await,
        "axum-ws" => axum_serve(listener, axum_ws_router()).await,
        "fastwebsockets" => accept_loop(listener, |tcp| hyper_conn(tcp, fastwebsockets_upgrade)).await,
        "tokio-websockets" => accept_loop(listener, tokio_websockets_conn).await,
        "sockudo-ws" => accept_loop(listener, sockudo_conn).await,
        "ceiling" => accept_loop(listener, ceiling_conn).await,
        "hyperws-deflate" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_deflate)).await,
        "hyperws-deflate-level6" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_deflate_level6)).await,
        "hyperws-deflate-defaults" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_deflate_defaults)).await,
        "hyperws-least-memory" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_least_memory)).await,
        "hyperws-smallest-on-wire" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_smallest_on_wire)).await,
        "yawc" => accept_loop(listener, |tcp| hyper_conn(tcp, yawc_upgrade)).await,
        "sockudo-ws-deflate" => accept_loop(listener, sockudo_deflate_conn).await,
        other => panic!("unknown server {other}; one of {SERVERS:?}"),
    }
}

pub(crate) async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    loop {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        tokio::task::spawn_local(serve(tcp));
    }
}

pub(crate) async fn hyper_conn<F, Fut, B>(tcp: TcpStream, upgrade: F)
where
    F: Fn(Request<Incoming>) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = service_fn(move |request| upgrade(request).map(Ok::<_, Infallible>));
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades()
        .await;
}

// ----- hyperws -----

async fn hyperws_upgrade(request: Request<Incoming>) -> Response<Full<Bytes>> {
    hyperws_upgrade_with(request, hyperws::ServerConfig::default())
}

async fn hyperws_upgrade_no_heartbeat(request: Request<Incoming>) -> Response<Full<Bytes>> {
    let socket = hyperws::Config::builder().no_heartbeat().build().unwrap();
    hyperws_upgrade_with(request, socket.into())
}

// ----- compressed (permessage-deflate) -----

/// Context takeover both ways, as the peers do by default.
async fn hyperws_deflate(request: Request<Incoming>) -> Response<Full<Bytes>> {
    hyperws_deflating(request, hyperws::DeflateConfig::default().peer_context_takeover(true))
}

/// As `hyperws_deflate`, at the peers' zlib level.
async fn hyperws_deflate_level6(request: Request<Incoming>) -> Response<Full<Bytes>> {
    let settings = hyperws::DeflateConfig::default().peer_context_takeover(true).level(6);
    hyperws_deflating(request, settings)
}

/// hyperws's own defaults (the `balanced` preset): the server asks clients
/// not to keep context.
async fn hyperws_deflate_defaults(request: Request<Incoming>) -> Response<Full<Bytes>> {
    hyperws_deflating(request, hyperws::DeflateConfig::default())
}

/// The `least_memory` preset: no context kept either way.
async fn hyperws_least_memory(request: Request<Incoming>) -> Response<Full<Bytes>> {
    hyperws_deflating(request, hyperws::DeflateConfig::least_memory())
}

/// The `smallest_on_wire` preset: level 6, a compressor per socket.
async fn hyperws_smallest_on_wire(request: Request<Incoming>) -> Response<Full<Bytes>> {
    hyperws_deflating(request, hyperws::DeflateConfig::smallest_on_wire())
}

fn hyperws_deflating(request: Request<Incoming>, settings: hyperws::DeflateConfig) -> Response<Full<Bytes>> {
    let socket = hyperws::Config::builder().deflate(settings).build().unwrap();
    hyperws_upgrade_with(request, socket.into())
}

async fn yawc_upgrade(mut request: Request<Incoming>) -> Response<Empty<Bytes>> {
    let options = yawc::Options::default().with_compression_level(yawc::CompressionLevel::default());
    let (response, upgraded) = yawc::WebSocket::upgrade_with_options(&mut request, options).unwrap();
    tokio::task::spawn_local(async move {
        let Ok(mut ws) = upgraded.await else { return };
        while let Some(frame) = ws.next().await {
            let echo = match frame.opcode() {
                yawc::OpCode::Text => yawc::Frame::text(frame.into_payload()),
                yawc::OpCode::Binary => yawc::Frame::binary(frame.into_payload()),
                yawc::OpCode::Close => return,
                _ => continue,
            };
            if ws.send(echo).await.is_err() {
                return;
            }
        }
    });
    response
}

/// sockudo-ws's handshake with permessage-deflate, as its docs show: the
/// compressed stream, or `None` if the client did not offer it (or left).
pub(crate) async fn sockudo_deflate_accept(
    mut tcp: TcpStream,
) -> Option<sockudo_ws::CompressedWebSocketStream<TcpStream>> {
    use sockudo_ws::deflate::{negotiate_server_deflate, DeflateConfig};
    use sockudo_ws::handshake::{build_response, generate_accept_key, parse_request};
    let mut buf = bytes::BytesMut::with_capacity(4096);
    let negotiated = loop {
        if matches!(tcp.read_buf(&mut buf).await, Ok(0) | Err(_)) {
            return None;
        }
        if let Ok(Some((request, _))) = parse_request(&buf) {
            let negotiated = request
                .extensions
                .and_then(|offers| negotiate_server_deflate(offers, &DeflateConfig::default()));
            let header = negotiated.as_ref().map(|n| n.to_response_header());
            let response = build_response(&generate_accept_key(request.key), None, header.as_deref());
            tcp.write_all(&response).await.ok()?;
            break negotiated?;
        }
    };
    let config = sockudo_ws::Config::default();
    Some(sockudo_ws::CompressedWebSocketStream::server(
        tcp,
        config,
        negotiated.config,
    ))
}

async fn sockudo_deflate_conn(tcp: TcpStream) {
    let Some(ws) = sockudo_deflate_accept(tcp).await else {
        return;
    };
    echo_batched(ws, |m: &sockudo_ws::protocol::Message| {
        matches!(
            m,
            sockudo_ws::protocol::Message::Text(_) | sockudo_ws::protocol::Message::Binary(_)
        )
    })
    .await;
}

fn hyperws_upgrade_with(mut request: Request<Incoming>, config: hyperws::ServerConfig) -> Response<Full<Bytes>> {
    match hyperws::upgrade_request(&mut request, &config) {
        Ok((response, upgraded)) => {
            tokio::task::spawn_local(async move {
                if let Ok(ws) = upgraded.await {
                    hyperws_echo(ws).await;
                }
            });
            response
        }
        Err(refused) => refused.to_response(),
    }
}

/// The echo `examples/echo.rs` shows: `feed` queues, `recv` writes the batch.
pub(crate) async fn hyperws_echo<IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut ws: hyperws::WebSocket<IO>,
) {
    while let Some(Ok(message)) = ws.recv().await {
        if (message.is_text() || message.is_binary()) && ws.feed(message).await.is_err() {
            return;
        }
    }
}

fn hyperws_axum_router() -> axum::Router {
    axum::Router::new().route(
        "/",
        axum::routing::any(|ws: hyperws::axum::WebSocketUpgrade| async move {
            ws.on_upgrade(|ws| hyperws_echo(ws.into_inner()))
        }),
    )
}

// ----- axum's own ws, batched through its Sink -----

pub(crate) fn axum_ws_router() -> axum::Router {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    axum::Router::new().route(
        "/",
        axum::routing::any(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|socket| {
                echo_batched(socket, |m: &Message| matches!(m, Message::Text(_) | Message::Binary(_)))
            })
        }),
    )
}

/// axum's server runs its own multi-task accept loop; it is given the same one core.
async fn axum_serve(listener: TcpListener, app: axum::Router) {
    axum::serve(listener, app).await.unwrap();
}

/// Echoes through a `Stream` + `Sink`: every message that is ready is fed,
/// then one flush writes the batch.
pub(crate) async fn echo_batched<S, M, E>(mut ws: S, is_data: impl Fn(&M) -> bool)
where
    S: Stream<Item = Result<M, E>> + Sink<M> + Unpin,
{
    while let Some(Ok(first)) = ws.next().await {
        let mut batch = Some(first);
        while let Some(message) = batch.take() {
            if is_data(&message) && ws.feed(message).await.is_err() {
                return;
            }
            if let Some(Some(Ok(next))) = ws.next().now_or_never() {
                batch = Some(next);
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

// ----- fastwebsockets (no Sink: one write per frame) -----

async fn fastwebsockets_upgrade(mut request: Request<Incoming>) -> Response<Empty<Bytes>> {
    let (response, upgraded) = fastwebsockets::upgrade::upgrade(&mut request).unwrap();
    tokio::task::spawn_local(fastwebsockets_echo(upgraded));
    response
}

/// fastwebsockets' echo as its docs show: whole messages, one write each.
pub(crate) async fn fastwebsockets_echo(upgraded: fastwebsockets::upgrade::UpgradeFut) {
    let Ok(ws) = upgraded.await else { return };
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    while let Ok(frame) = ws.read_frame().await {
        match frame.opcode {
            fastwebsockets::OpCode::Close => return,
            fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary => {}
            _ => continue,
        }
        if ws.write_frame(frame).await.is_err() {
            return;
        }
    }
}

// ----- tokio-websockets, batched through its Sink -----

async fn tokio_websockets_conn(tcp: TcpStream) {
    let Ok((_request, ws)) = tokio_websockets::ServerBuilder::new().accept(tcp).await else {
        return;
    };
    echo_batched(ws, |m: &tokio_websockets::Message| m.is_text() || m.is_binary()).await;
}

// ----- sockudo-ws, batched through its Sink -----

async fn sockudo_conn(tcp: TcpStream) {
    let Some(ws) = sockudo_accept(tcp).await else { return };
    echo_batched(ws, |m: &sockudo_ws::protocol::Message| {
        matches!(
            m,
            sockudo_ws::protocol::Message::Text(_) | sockudo_ws::protocol::Message::Binary(_)
        )
    })
    .await;
}

/// sockudo-ws's handshake, as its docs show: the stream, or `None` if the client left.
pub(crate) async fn sockudo_accept(mut tcp: TcpStream) -> Option<sockudo_ws::WebSocketStream<TcpStream>> {
    use sockudo_ws::handshake::{build_response, generate_accept_key, parse_request};
    let mut buf = bytes::BytesMut::with_capacity(4096);
    loop {
        match tcp.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if let Ok(Some((request, _))) = parse_request(&buf) {
            let response = build_response(&generate_accept_key(request.key), None, None);
            tcp.write_all(&response).await.ok()?;
            return Some(sockudo_ws::WebSocketStream::server(tcp, sockudo_ws::Config::default()));
        }
    }
}

// ----- the ceiling: validates nothing, one write per read -----

/// Answers the handshake blindly, then unmasks every whole frame it has
/// read into one reply buffer and writes it with one write per read.
async fn ceiling_conn(mut tcp: TcpStream) {
    let mut input = bytes::BytesMut::with_capacity(16 << 10);
    while !input.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    let reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    if tcp.write_all(reply).await.is_err() {
        return;
    }
    input.clear();
    let mut output = Vec::with_capacity(16 << 10);
    loop {
        // Room for the whole frame in progress, so large messages take few reads.
        let frame_len = crate::wire::parse_header(&input).map_or(0, |(header, len, _)| header + len);
        input.reserve(frame_len.saturating_sub(input.len()).max(64 << 10));
        match tcp.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        while let Some(consumed) = crate::wire::unmask_into(&input, &mut output) {
            bytes::Buf::advance(&mut input, consumed);
        }
        if !output.is_empty() {
            if tcp.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
    }
}

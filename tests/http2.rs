//! WebSocket connections over HTTP/2 (RFC 8441): several at once on one connection,
//! through the axum extractor and through the tower layer, driven by hyper's
//! own HTTP/2 client.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::{any, get};
use axum::Router;
use http::{Method, Request, StatusCode, Version};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::client::conn::http2::SendRequest;
use hyper::ext::Protocol;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyperws::axum::WebSocketUpgrade;
use hyperws::tower::WebSocketLayer;
use hyperws::Role;
use hyperws::{Config, Message, WebSocket};
use tokio::net::{TcpListener, TcpStream};

async fn echo(mut ws: WebSocket) {
    while let Some(Ok(message)) = ws.recv().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

async fn serve() -> SocketAddr {
    let app = app();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // axum::serve speaks HTTP/2 with extended CONNECT enabled.
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn app() -> Router {
    Router::new()
        .route(
            "/extractor",
            any(|ws: WebSocketUpgrade| async move { ws.on_upgrade(|ws| echo(ws.into_inner())) }),
        )
        .route("/plain", get(|| async { "plain HTTP/2" }))
        .layer(WebSocketLayer::new(echo).path("/layer"))
}

/// One HTTP/2 connection (prior knowledge), once the server has enabled extended CONNECT.
async fn connect(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
        .await
        .unwrap();
    // Drive the connection until the server's SETTINGS enable extended
    // CONNECT. Processing SETTINGS wakes nobody, so re-check every few ms.
    let mut connection = Box::pin(connection);
    let wait = async {
        while !connection.is_extended_connect_protocol_enabled() {
            tokio::select! {
                result = connection.as_mut() => panic!("connection ended early: {result:?}"),
                () = tokio::time::sleep(Duration::from_millis(2)) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the server never enabled extended CONNECT");
    tokio::spawn(connection);
    sender
}

async fn open(
    sender: &mut SendRequest<Empty<Bytes>>,
    addr: SocketAddr,
    path: &str,
) -> WebSocket<TokioIo<hyper::upgrade::Upgraded>> {
    let request = Request::builder()
        .method(Method::CONNECT)
        .version(Version::HTTP_2)
        .uri(format!("http://{addr}{path}"))
        .header("sec-websocket-version", "13")
        .extension(Protocol::from_static("websocket"))
        .body(Empty::new())
        .unwrap();
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "RFC 8441: 200, not 101");
    let upgraded = hyper::upgrade::on(response).await.unwrap();
    WebSocket::from_raw_socket(TokioIo::new(upgraded), Role::Client, &Config::default())
}

async fn several_sockets_share_one_connection(path: &'static str) {
    several_sockets_share_one_connection_at(serve().await, path).await;
}

async fn several_sockets_share_one_connection_at(addr: SocketAddr, path: &'static str) {
    let sender = connect(addr).await;
    let mut tasks = Vec::new();
    for socket in 0..4 {
        let mut sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            let mut ws = open(&mut sender, addr, path).await;
            for i in 0..25 {
                let text = format!("socket {socket} message {i}");
                ws.send(Message::text(text.clone())).await.unwrap();
                assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(text));
            }
            ws.close(None).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn the_extractor_serves_several_sockets_on_one_connection() {
    several_sockets_share_one_connection("/extractor").await;
}

#[tokio::test]
async fn the_layer_serves_several_sockets_on_one_connection() {
    several_sockets_share_one_connection("/layer").await;
}

#[tokio::test]
async fn plain_requests_on_the_same_connection_still_reach_the_app() {
    let addr = serve().await;
    let mut sender = connect(addr).await;
    let _ws = open(&mut sender, addr, "/layer").await;
    let request = Request::get(format!("http://{addr}/plain"))
        .version(Version::HTTP_2)
        .body(Empty::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, "plain HTTP/2");
}

#[tokio::test]
async fn hyperws_serve_speaks_http2_too() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { hyperws::serve(listener, app(), &hyperws::ServerConfig::default()).await });
    several_sockets_share_one_connection_at(addr, "/extractor").await;
}

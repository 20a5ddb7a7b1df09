//! The three doors alike after the 101: whichever accepted the socket (the
//! axum extractor, the tower layer, `upgrade_request()` with
//! `UpgradeFut::on_upgrade`), a panicking handler is logged inside the
//! socket's span and its socket closed with 1011, and a connection that
//! cannot be taken over is logged and reaches the door's failed-upgrade hook.
//!
//! One test on purpose, in a file of its own: it captures `tracing` output,
//! and tracing caches per call site whether anyone listens, which a test on
//! another thread with no subscriber can race (see `tests/panic.rs`).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::any;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use hyperws::tower::WebSocketLayer;
use hyperws::{upgrade_request, Message, ServerConfig, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::CloseCode as TCode;
use tungstenite::Message as T;

const PATIENCE: Duration = Duration::from_secs(10);

async fn panicky(mut ws: WebSocket) {
    while let Some(Ok(message)) = ws.recv().await {
        assert!(message != Message::text("boom"), "handler bug triggered by boom");
    }
}

/// Which door a server uses.
#[derive(Clone, Copy, Debug)]
enum Door {
    Axum,
    Tower,
    Hyper,
}

/// The door's app, reporting failed upgrades on `failed`.
fn app(door: Door, failed: mpsc::UnboundedSender<String>) -> Router {
    match door {
        Door::Axum => Router::new().route(
            "/ws",
            any(move |ws: hyperws::axum::WebSocketUpgrade| {
                let failed = failed.clone();
                async move {
                    ws.on_failed_upgrade(move |e: axum::Error| failed.send(e.to_string()).unwrap())
                        .on_upgrade(|ws| panicky(ws.into_inner()))
                }
            }),
        ),
        Door::Tower => Router::new().layer(
            WebSocketLayer::new(panicky)
                .path("/ws")
                .on_failed_upgrade(move |e| failed.send(e.to_string()).unwrap()),
        ),
        Door::Hyper => Router::new().route(
            "/ws",
            any(move |mut request: http::Request<axum::body::Body>| {
                let failed = failed.clone();
                async move {
                    match upgrade_request(&mut request, &ServerConfig::default()) {
                        Ok((response, upgraded)) => {
                            upgraded
                                .on_failed_upgrade(move |e| failed.send(e.to_string()).unwrap())
                                .on_upgrade(panicky);
                            response.map(axum::body::Body::new)
                        }
                        Err(refused) => refused.to_response(),
                    }
                }
            }),
        ),
    }
}

/// Serves `app` with hyper's http1 builder on plain TCP, with or without
/// upgrades (without, hyper cannot hand the connection over after the 101).
async fn serve(app: Router, with_upgrades: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(app.clone());
            let connection = http1::Builder::new().serve_connection(TokioIo::new(tcp), service);
            if with_upgrades {
                tokio::spawn(connection.with_upgrades());
            } else {
                tokio::spawn(connection);
            }
        }
    });
    addr
}

async fn close_code_after_boom(addr: SocketAddr) -> TCode {
    let (mut client, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    client.send(T::text("boom")).await.unwrap();
    match timeout(PATIENCE, client.next()).await.unwrap() {
        Some(Ok(T::Close(Some(frame)))) => frame.code,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// Sends an upgrade request by hand and reads the 101's head.
async fn upgrade_by_hand(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(common::upgrade_request_text("/ws", None).as_bytes())
        .await
        .unwrap();
    let mut head = [0; 12];
    tcp.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
    tcp
}

#[tokio::test]
async fn every_door_logs_a_panic_closes_with_1011_and_reports_a_failed_upgrade() {
    let (log, _guard) = common::capture_logs_from(tracing::Level::DEBUG);
    for (failures_before, door) in [Door::Axum, Door::Tower, Door::Hyper].into_iter().enumerate() {
        let (failed_tx, mut failed) = mpsc::unbounded_channel();
        let addr = serve(app(door, failed_tx.clone()), true).await;
        assert_eq!(close_code_after_boom(addr).await, TCode::Error, "{door:?}");
        let logged = log.text();
        let mut panics = logged
            .lines()
            .filter(|line| line.contains("WebSocket handler panicked"));
        assert_eq!(panics.clone().count(), failures_before + 1, "{door:?}: {logged}");
        let this_panic = panics.next_back().unwrap();
        // Inside the socket's span: the peer (hyper served the raw TCP stream) and the path.
        assert!(
            this_panic.contains("websocket{peer=Some(127.0.0.1:"),
            "{door:?}: {this_panic}"
        );
        assert!(this_panic.contains("path=/ws"), "{door:?}: {this_panic}");
        assert!(
            this_panic.contains("handler bug triggered by boom"),
            "{door:?}: {this_panic}"
        );

        let addr = serve(app(door, failed_tx), false).await;
        let _tcp = upgrade_by_hand(addr).await;
        let error = timeout(PATIENCE, failed.recv()).await.expect("the hook was called");
        assert!(error.is_some(), "{door:?}");
        let logged = log.text();
        assert_eq!(
            logged.matches("WebSocket upgrade failed after the response").count(),
            failures_before + 1,
            "{door:?}: logged once per failure: {logged}"
        );
    }
}

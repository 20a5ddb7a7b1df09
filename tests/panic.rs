//! A handler that panics closes its socket with 1011 and is logged; the
//! server goes on serving other connections.
//!
//! This file holds one test on purpose: it captures `tracing` output, and
//! tracing caches per call site whether anyone listens, which a test on
//! another thread with no subscriber can race. (The tower layer's panic
//! test is in `tests/tower.rs`.)

mod common;

use std::net::SocketAddr;

use axum::routing::any;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::CloseCode as TCode;
use tungstenite::Message as T;

async fn panicky(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(text) = message {
            assert!(text.as_str() != "boom", "handler bug triggered by {text}");
            let _ = socket.send(Message::Text(text)).await;
        }
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn close_code_after_boom(url: &str) -> TCode {
    let (mut client, _) = connect_async(url).await.unwrap();
    client.send(T::text("fine")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("fine"));
    client.send(T::text("boom")).await.unwrap();
    match client.next().await.unwrap().unwrap() {
        T::Close(Some(frame)) => frame.code,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_panicking_extractor_handler_closes_with_1011_is_logged_and_the_server_survives() {
    let (log, _guard) = common::capture_logs();

    let addr =
        serve(Router::new().route("/ws", any(|ws: WebSocketUpgrade| async move { ws.on_upgrade(panicky) }))).await;
    let url = format!("ws://{addr}/ws");
    assert_eq!(close_code_after_boom(&url).await, TCode::Error);
    // The next connection is served as if nothing happened.
    assert_eq!(close_code_after_boom(&url).await, TCode::Error);

    let logged = log.text();
    assert!(logged.contains("WebSocket handler panicked"), "{logged}");
    assert!(logged.contains("handler bug triggered by boom"), "{logged}");
    // Inside the connection's span, which names the path (axum::serve hides
    // the TCP stream, and with it the peer address; hyperws::serve does not).
    assert!(
        logged.contains("websocket{peer=None path=/ws protocol=None}"),
        "{logged}"
    );
}

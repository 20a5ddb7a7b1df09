// An axum WebSocket app written the way axum's `extract::ws` docs teach.
// `tests/axum.rs` compiles this same file twice: once after
// `use axum::extract::ws::{..}` and once after `use hyperws::axum::{..}`.
// Nothing here may name either library: the `use` line is the only switch.

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

pub(crate) fn app() -> Router {
    Router::new()
        .route("/echo", any(echo_handler))
        .route("/split", any(split_handler))
        .route("/protocols", any(protocols_handler))
        .route("/close", any(close_handler))
        .route("/limited", any(limited_handler))
}

async fn echo_handler(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(handle_echo)
}

async fn handle_echo(mut socket: WebSocket) {
    while let Some(msg) = socket.recv().await {
        let Ok(msg) = msg else {
            // client disconnected
            return;
        };
        if socket.send(msg).await.is_err() {
            // client disconnected
            return;
        }
    }
}

async fn split_handler(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(handle_split)
}

async fn handle_split(socket: WebSocket) {
    let (sender, receiver) = socket.split();
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(write(sender, rx));
    read(receiver, tx).await;
}

async fn read(mut receiver: SplitStream<WebSocket>, tx: mpsc::Sender<String>) {
    while let Some(Ok(msg)) = receiver.next().await {
        if let Message::Text(text) = msg {
            if tx.send(text.as_str().to_uppercase()).await.is_err() {
                return;
            }
        }
    }
}

async fn write(mut sender: SplitSink<WebSocket, Message>, mut rx: mpsc::Receiver<String>) {
    sender.send(Message::Text("writer ready".into())).await.ok();
    while let Some(text) = rx.recv().await {
        if sender.send(Message::Text(format!("shouted: {text}").into())).await.is_err() {
            return;
        }
    }
}

async fn protocols_handler(ws: WebSocketUpgrade) -> Response {
    ws.protocols(["graphql-transport-ws", "chat"]).on_upgrade(|mut socket: WebSocket| async move {
        let selected = socket.protocol().map(|p| p.to_str().unwrap().to_owned()).unwrap_or_default();
        socket.send(Message::Text(format!("selected: {selected}").into())).await.ok();
    })
}

async fn close_handler(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut socket: WebSocket| async move {
        socket
            .send(Message::Close(Some(CloseFrame {
                code: close_code::AWAY,
                reason: Utf8Bytes::from_static("server going away"),
            })))
            .await
            .ok();
        // Keep reading until the client answers the close.
        while let Some(Ok(_)) = socket.recv().await {}
    })
}

async fn limited_handler(ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(1024).on_upgrade(handle_echo)
}

// A chat room written the way axum's own chat example writes it: nested
// `use` trees, `State`, a broadcast channel, join and leave announced,
// `hyperws::axum::WebSocketUpgrade` by its second path and a close code by
// its full path. `tests/axum_migration.rs` compiles this file as it is
// (axum's ws) and `migrated/chat.rs`, which `scripts/migrate-from-axum-ws`
// made from it (hyperws), and runs the same tests on both.

use std::sync::Arc;

use axum::{extract::State, response::IntoResponse, routing::any, Router};
use hyperws::axum::{Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;

struct AppState {
    tx: broadcast::Sender<String>,
}

pub(crate) fn app() -> Router {
    let (tx, _rx) = broadcast::channel(100);
    let state = Arc::new(AppState { tx });
    Router::new().route("/chat", any(websocket_handler)).with_state(state)
}

async fn websocket_handler(
    ws: hyperws::axum::WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
) -> impl IntoResponse {
    ws.on_upgrade(|socket| websocket(socket, state))
}

async fn websocket(stream: WebSocket, state: Arc<AppState>) {
    let (mut sender, mut receiver) = stream.split();
    // The first message names the user.
    let username = loop {
        match receiver.next().await {
            Some(Ok(Message::Text(name))) if !name.is_empty() => break name.to_string(),
            Some(Ok(_)) => {}
            _ => return,
        }
    };
    let mut rx = state.tx.subscribe();
    let _ = state.tx.send(format!("{username} joined."));

    let mut send_task = tokio::spawn(async move {
        while let Ok(msg) = rx.recv().await {
            if sender.send(Message::text(msg)).await.is_err() {
                break;
            }
        }
        let goodbye = hyperws::axum::CloseFrame {
            code: hyperws::axum::close_code::NORMAL,
            reason: Utf8Bytes::from_static("room closed"),
        };
        let _ = sender.send(Message::Close(Some(goodbye))).await;
    });

    let tx = state.tx.clone();
    let name = username.clone();
    let mut recv_task = tokio::spawn(async move {
        while let Some(Ok(Message::Text(text))) = receiver.next().await {
            let _ = tx.send(format!("{name}: {text}"));
        }
    });

    tokio::select! {
        _ = &mut send_task => recv_task.abort(),
        _ = &mut recv_task => send_task.abort(),
    };
    let _ = state.tx.send(format!("{username} left."));
}

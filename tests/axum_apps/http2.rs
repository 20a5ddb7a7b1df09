// WebSockets over HTTP/2 (RFC 8441) as axum's websockets-http2 example
// writes them: `any` routing, the `ws` module imported as a module, the
// request's HTTP version read by the handler. Served over TLS (ALPN h2) in
// `tests/axum_migration.rs`, as this file is and as
// `scripts/migrate-from-axum-ws` rewrote it (`migrated/http2.rs`).

use axum::{
    extract::ws::{self, WebSocketUpgrade},
    http::Version,
    response::Response,
    routing::any,
    Router,
};

pub(crate) fn app() -> Router {
    Router::new().route("/ws", any(ws_handler))
}

async fn ws_handler(ws: WebSocketUpgrade, version: Version) -> Response {
    ws.on_upgrade(move |mut socket| async move {
        let greeting = format!("hello over {version:?}");
        if socket.send(ws::Message::text(greeting)).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = socket.recv().await {
            if let ws::Message::Text(text) = message {
                if socket.send(ws::Message::Text(text)).await.is_err() {
                    return;
                }
            }
        }
    })
}

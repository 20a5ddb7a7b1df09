//! An axum WebSocket echo server using hyperws's drop-in extractor: text
//! and binary messages come back as they were sent, on any path, compressed
//! (permessage-deflate) when the client offers it.
//!
//! ```sh
//! cargo run --release --example axum_echo -- 127.0.0.1:9002
//! ```
//!
//! The router is served by `hyperws::serve`, a drop-in for `axum::serve`
//! that also drops a client that has not sent its request head within the
//! handshake timeout: `axum::serve` gives hyper no timer, so it has no
//! such deadline and a slowloris client holds its connection forever.

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
use hyperws::{DeflateConfig, ServerConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".into());
    let app = Router::new().fallback(any(handler));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("axum echo server listening on ws://{}", listener.local_addr()?);
    hyperws::serve(listener, app, &ServerConfig::default()).await
}

async fn handler(ws: WebSocketUpgrade) -> Response {
    // Compress every message (threshold 0), as the Autobahn suite expects.
    ws.deflate(DeflateConfig::default().threshold(0)).on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            // `feed` queues; `recv` writes the queue out before it waits.
            if socket.feed(message).await.is_err() {
                return;
            }
        }
    }
}

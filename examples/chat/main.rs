//! A chat room: every message a browser sends is broadcast to every
//! connected browser. `GET /` serves a page whose JavaScript uses the
//! browser's own `WebSocket`; `/ws` is the axum extractor.
//!
//! ```sh
//! cargo run --example chat -- 127.0.0.1:3000    # then open http://127.0.0.1:3000/ in two tabs
//! ```
//!
//! Ctrl-C shuts down gracefully: every browser is sent close 1001 (Going
//! Away), and the server exits once they have all closed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, Response};
use axum::routing::{any, get};
use axum::Router;
use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
use hyperws::{Config, DeflateConfig, ServerConfig, Shutdown};
use tokio::sync::broadcast;

#[derive(Clone)]
struct Room {
    messages: broadcast::Sender<String>,
    next_guest: Arc<AtomicUsize>,
    config: ServerConfig,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into());
    let shutdown = Shutdown::new();
    // Browsers always offer permessage-deflate; messages from 128 bytes up
    // are sent compressed.
    let socket = Config::builder().deflate(DeflateConfig::default()).build();
    let config = ServerConfig::builder()
        .socket(socket.expect("valid socket settings"))
        .shutdown(&shutdown)
        .build()
        .expect("a valid server config");
    let room = Room {
        messages: broadcast::channel(256).0,
        next_guest: Arc::new(AtomicUsize::new(1)),
        config: config.clone(),
    };
    let app = Router::new()
        .route("/", get(|| async { Html(include_str!("index.html")) }))
        .route("/ws", any(join))
        .with_state(room);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("chat on http://{}/ (Ctrl-C to stop)", listener.local_addr()?);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            println!("shutting down: closing {} sockets", shutdown.open_sockets());
            shutdown.trigger();
        }
    });
    // Returns once the shutdown is triggered and every socket has closed.
    hyperws::serve(listener, app, &config).await
}

async fn join(ws: WebSocketUpgrade, State(room): State<Room>) -> Response {
    ws.config(room.config.clone())
        .on_upgrade(move |socket| chat(socket, room))
}

async fn chat(socket: WebSocket, room: Room) {
    let name = format!("guest {}", room.next_guest.fetch_add(1, Ordering::Relaxed));
    let mut inbox = room.messages.subscribe();
    let (mut reader, mut writer) = socket.into_split();
    let _ = room.messages.send(format!("{name} joined"));

    // One task forwards the room to this browser...
    let mut forward = tokio::spawn(async move {
        loop {
            match inbox.recv().await {
                Ok(line) => {
                    if writer.send(Message::text(line)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let _ = writer.send(Message::text(format!("({missed} messages skipped)"))).await;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    // ...while this one reads what the browser says.
    let messages = room.messages.clone();
    let speaker = name.clone();
    let mut listen = tokio::spawn(async move {
        while let Some(Ok(message)) = reader.recv().await {
            if let Message::Text(text) = message {
                let _ = messages.send(format!("{speaker}: {text}"));
            }
        }
    });
    // When either side ends, end the other.
    tokio::select! {
        _ = &mut forward => listen.abort(),
        _ = &mut listen => forward.abort(),
    }
    let _ = room.messages.send(format!("{name} left"));
}

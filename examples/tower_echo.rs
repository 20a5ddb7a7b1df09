//! The tower door's echo: `WebSocketLayer` in front of a service that
//! answers 404, on hyper's http1 builder. Text and binary messages come back
//! as they were sent, on any path, compressed (permessage-deflate, every
//! message) when the client offers it, as the Autobahn suite expects
//! (`AUTOBAHN_SERVER_EXAMPLE=tower_echo scripts/autobahn`).
//!
//! ```sh
//! cargo run --release --example tower_echo -- 127.0.0.1:9004
//! ```

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use hyperws::tower::WebSocketLayer;
use hyperws::{Config, DeflateConfig, Message, ServerConfig, WebSocket};
use tokio::net::TcpListener;
use tower::{service_fn, ServiceBuilder};

async fn echo(mut ws: WebSocket) {
    while let Some(Ok(message)) = ws.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            // `feed` queues; `recv` writes the queue out before it waits.
            if ws.feed(message).await.is_err() {
                return;
            }
        }
    }
}

async fn not_found(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::from("not found\n"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9004".into());
    let socket = Config::builder().deflate(DeflateConfig::default().threshold(0)).build();
    let config = ServerConfig::from(socket.expect("valid settings"));
    let handshake_timeout = config.handshake_timeout();
    let service = ServiceBuilder::new()
        .layer(WebSocketLayer::new(echo).config(config))
        .service(service_fn(not_found));
    let listener = TcpListener::bind(&addr).await?;
    println!("tower echo listening on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            // A client must send its request head within the handshake
            // timeout (slowloris); hyper needs a timer to enforce it.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(handshake_timeout)
                .serve_connection(TokioIo::new(tcp), service);
            if let Err(e) = connection.with_upgrades().await {
                eprintln!("connection error: {e}");
            }
        });
    }
}

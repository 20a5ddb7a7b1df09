//! A plain hyper server whose tower service gains a WebSocket endpoint at
//! `/ws` from `WebSocketLayer`; every other request reaches the inner service.
//!
//! ```sh
//! cargo run --example tower_layer -- 127.0.0.1:9003
//! curl http://127.0.0.1:9003/          # the inner service
//! # and any WebSocket client on ws://127.0.0.1:9003/ws (an echo)
//! ```

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use hyperws::tower::WebSocketLayer;
use hyperws::{Config, Message, WebSocket};
use tokio::net::TcpListener;
use tower::{service_fn, ServiceBuilder};

/// How long a client may take to send its request head (slowloris).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

async fn echo(mut ws: WebSocket) {
    while let Some(Ok(message)) = ws.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            if ws.send(message).await.is_err() {
                return;
            }
        }
    }
}

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::from(format!(
        "plain HTTP: {}\n",
        request.uri().path()
    ))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".into());
    let service = ServiceBuilder::new()
        .layer(
            WebSocketLayer::new(echo)
                .config(Config::builder().max_message_size(1 << 20).build().unwrap())
                .path("/ws"),
        )
        .service(service_fn(hello));
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "listening on http://{0}/ (WebSocket echo at ws://{0}/ws)",
        listener.local_addr()?
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            // A client must send its request head within HEADER_TIMEOUT
            // (slowloris); hyper needs a timer to enforce it.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service);
            if let Err(e) = connection.with_upgrades().await {
                eprintln!("connection error: {e}");
            }
        });
    }
}

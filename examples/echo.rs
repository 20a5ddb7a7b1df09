//! A hyper-only WebSocket echo server: text and binary messages come back
//! as they were sent, on any path. It accepts permessage-deflate and
//! compresses every message it sends (threshold 0), as the Autobahn
//! conformance suite expects of an echo. A plain browser visit (no upgrade)
//! gets a small page that connects back and shows the echoes.
//!
//! ```sh
//! cargo run --release --example echo -- 127.0.0.1:9001
//! DEFLATE=least_memory cargo run --release --example echo   # or smallest_on_wire; default balanced
//! ```

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyperws::{upgrade_request, Config, DeflateConfig, Message, ServerConfig, WebSocket};
use tokio::net::TcpListener;

/// What a browser gets at any path: a page whose script talks to this echo.
const PAGE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/echo.html"));

/// The echo's settings: the defaults plus compression of every message,
/// with the compression preset `DEFLATE` names.
fn config() -> &'static ServerConfig {
    static CONFIG: std::sync::OnceLock<ServerConfig> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| {
        let socket = Config::builder().deflate(deflate_preset().threshold(0)).build();
        socket.expect("valid settings").into()
    })
}

/// `DEFLATE=least_memory`, `balanced` (the default) or `smallest_on_wire`.
fn deflate_preset() -> DeflateConfig {
    let name = std::env::var("DEFLATE").unwrap_or_else(|_| "balanced".into());
    DeflateConfig::preset(&name).expect("DEFLATE: least_memory, balanced or smallest_on_wire")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = service_fn(handle);
            // A client must send its request head within the handshake
            // timeout (slowloris); hyper needs a timer to enforce it.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(config().handshake_timeout())
                .serve_connection(TokioIo::new(tcp), service);
            // `with_upgrades` lets hyper hand the connection over after the 101.
            if let Err(e) = connection.with_upgrades().await {
                eprintln!("connection error: {e}");
            }
        });
    }
}

async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if !request.headers().contains_key(hyper::header::UPGRADE) {
        let page = Response::builder().header(hyper::header::CONTENT_TYPE, "text/html; charset=utf-8");
        return Ok(page
            .body(Full::new(Bytes::from_static(PAGE.as_bytes())))
            .expect("a valid response"));
    }
    match upgrade_request(&mut request, config()) {
        Ok((response, upgraded)) => {
            // Runs `echo` in its own task once hyper hands the connection
            // over; a panic in it closes the socket with 1011 and is logged.
            upgraded.on_upgrade(echo);
            Ok(response)
        }
        Err(refused) => Ok(refused.to_response()),
    }
}

async fn echo(mut ws: WebSocket) {
    while let Some(message) = ws.recv().await {
        match message {
            // `feed` only queues; `recv` writes the queue out before it waits
            // for more input, so a burst of messages is echoed in one write.
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.feed(message).await.is_err() {
                    break;
                }
            }
            Ok(_) => {} // pings are answered automatically; a close ends the loop next
            Err(e) => {
                eprintln!("websocket error: {e}");
                break;
            }
        }
    }
}

//! A server door built from hyperws's public handshake API alone, as a
//! framework integration would build one: hyper parses HTTP, and
//! `hyperws::handshake::server` validates the request, checks the origin,
//! chooses the subprotocol (`echo`, if offered) and permessage-deflate and writes the response;
//! `WebSocket::from_negotiated` then builds the socket with what was
//! agreed. It echoes, compressing every message, so the Autobahn suite can
//! run through it (`AUTOBAHN_SERVER_EXAMPLE=custom_door scripts/autobahn`).
//!
//! ```sh
//! cargo run --release --example custom_door -- 127.0.0.1:9003
//! ```

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyperws::handshake::server::{validate, RequestHead};
use hyperws::handshake::Negotiated;
use hyperws::{Config, DeflateConfig, Message, OriginPolicy, Role, WebSocket};
use tokio::net::TcpListener;

/// The socket settings: the defaults plus compression of every message.
fn config() -> Config {
    let deflate = DeflateConfig::default().threshold(0);
    Config::builder().deflate(deflate).build().expect("valid settings")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("custom door listening on ws://{}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(async move {
            let connection = http1::Builder::new().serve_connection(TokioIo::new(tcp), service_fn(handle));
            if let Err(e) = connection.with_upgrades().await {
                eprintln!("connection error: {e}");
            }
        });
    }
}

async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let head = RequestHead::new(request.method(), request.version(), request.uri(), request.headers());
    let mut accept = match validate(&head) {
        Ok(accept) => accept,
        Err(refused) => return Ok(refused.to_response()),
    };
    if let Err(refused) = accept.check_origin(&OriginPolicy::default()) {
        return Ok(refused.to_response());
    }
    accept.select_protocol(&[HeaderValue::from_static("echo")]);
    accept.negotiate_deflate(config().deflate());
    let negotiated = accept.negotiated();
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => echo(upgraded, negotiated).await,
            Err(e) => eprintln!("upgrade failed: {e}"),
        }
    });
    Ok(accept.response())
}

async fn echo(upgraded: hyper::upgrade::Upgraded, negotiated: Negotiated) {
    let io = TokioIo::new(upgraded);
    let mut ws = WebSocket::from_negotiated(io, &[], Role::Server, &config(), negotiated);
    while let Some(Ok(message)) = ws.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            if ws.feed(message).await.is_err() {
                return;
            }
        }
    }
}

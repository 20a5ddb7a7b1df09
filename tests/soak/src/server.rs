//! The echo server under test: `upgrade_request` on hyper's http1 builder,
//! as `examples/echo.rs`, with a short heartbeat so that a few minutes
//! exercise many cycles.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyperws::{upgrade_request, Config, ServerConfig, UpgradeFut};
use tokio::net::TcpListener;

pub async fn run(interval: Duration, timeout: Duration) {
    let socket = Config::builder()
        .heartbeat(interval, timeout)
        .build()
        .expect("valid heartbeat");
    let config: &'static ServerConfig = Box::leak(Box::new(socket.into()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of file descriptors: wait for some to close.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(move |mut request: Request<Incoming>| async move {
                let response = match upgrade_request(&mut request, config) {
                    Ok((response, upgraded)) => {
                        tokio::spawn(echo(upgraded));
                        response
                    }
                    Err(refused) => refused.to_response(),
                };
                Ok::<Response<Full<Bytes>>, Infallible>(response)
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(config.handshake_timeout())
                .serve_connection(TokioIo::new(tcp), service);
            let _ = connection.with_upgrades().await;
        });
    }
}

async fn echo(upgraded: UpgradeFut) {
    let Ok(mut ws) = upgraded.await else { return };
    while let Some(Ok(message)) = ws.recv().await {
        if (message.is_text() || message.is_binary()) && ws.feed(message).await.is_err() {
            break;
        }
    }
}

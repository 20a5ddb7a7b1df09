//! Cross-site WebSocket hijacking: another site's `Origin` is refused with
//! 403 by default; allowed lists and "any origin" open it up.

mod common;

use std::net::SocketAddr;

use axum::routing::any;
use axum::Router;
use hyperws::axum::WebSocketUpgrade;
use hyperws::{Config, ServerConfig};
use tokio::net::TcpListener;

fn upgrade_request(path: &str, origin: Option<&str>) -> String {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    if let Some(origin) = origin {
        request = request + "Origin: " + origin + "\r\n";
    }
    request + "\r\n"
}

async fn status(addr: SocketAddr, path: &str, origin: Option<&str>) -> String {
    let response = common::raw_http(addr, &upgrade_request(path, origin)).await;
    response.split(' ').nth(1).unwrap_or("none").to_owned()
}

async fn serve_axum() -> SocketAddr {
    let app =
        Router::new()
            .route(
                "/default",
                any(|ws: WebSocketUpgrade| async move { ws.on_upgrade(common::echo) }),
            )
            .route(
                "/listed",
                any(|ws: WebSocketUpgrade| async move {
                    ws.allowed_origins(["https://app.example"]).on_upgrade(common::echo)
                }),
            )
            .route(
                "/any",
                any(|ws: WebSocketUpgrade| async move { ws.allow_any_origin().on_upgrade(common::echo) }),
            );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn the_extractor_refuses_other_sites_by_default() {
    let addr = serve_axum().await;
    assert_eq!(status(addr, "/default", None).await, "101", "no Origin: not a browser");
    assert_eq!(
        status(addr, "/default", Some("http://localhost")).await,
        "101",
        "same host"
    );
    assert_eq!(status(addr, "/default", Some("https://evil.example")).await, "403");
    assert_eq!(status(addr, "/default", Some("null")).await, "403");
    let refusal = common::raw_http(addr, &upgrade_request("/default", Some("https://evil.example"))).await;
    assert!(refusal.contains("Origin are not allowed"), "{refusal}");
}

#[tokio::test]
async fn the_extractor_honours_allowed_origins_and_any_origin() {
    let addr = serve_axum().await;
    assert_eq!(status(addr, "/listed", Some("https://app.example")).await, "101");
    assert_eq!(
        status(addr, "/listed", Some("http://localhost")).await,
        "403",
        "only the list counts"
    );
    assert_eq!(status(addr, "/any", Some("https://evil.example")).await, "101");
}

#[tokio::test]
async fn the_hyper_door_applies_the_configured_policy() {
    let strict = common::serve(Config::default(), common::echo).await;
    assert_eq!(status(strict, "/", Some("https://evil.example")).await, "403");
    assert_eq!(status(strict, "/", Some("http://localhost")).await, "101");
    let open = common::serve(
        ServerConfig::builder().allow_any_origin().build().unwrap(),
        common::echo,
    )
    .await;
    assert_eq!(status(open, "/", Some("https://evil.example")).await, "101");
}

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
    // The body names the origin, the rule and the setting that would allow it.
    assert!(
        refusal.contains("Origin https://evil.example may not connect"),
        "{refusal}"
    );
    assert!(refusal.contains("allowed_origins"), "{refusal}");
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

#[tokio::test]
async fn allowed_origins_take_port_and_subdomain_patterns() {
    let config = ServerConfig::builder()
        .allowed_origins(["http://localhost:*", "https://*.example.com"])
        .build()
        .unwrap();
    let addr = common::serve(config, common::echo).await;
    for (origin, expected) in [
        ("http://localhost:5173", "101"), // a dev server on another port
        ("http://LOCALHOST:3000", "101"),
        ("http://localhost", "403"), // no port: list it too if you need it
        ("http://127.0.0.1:3000", "403"),
        ("https://app.example.com", "101"),
        ("https://a.b.example.com", "101"),
        ("https://example.com", "403"),
        ("http://app.example.com", "403"),
        ("https://evil.com/.example.com", "403"),
        ("null", "403"),
    ] {
        assert_eq!(status(addr, "/", Some(origin)).await, expected, "{origin}");
    }
}

#[tokio::test]
async fn a_refused_origin_is_logged_with_what_would_allow_it() {
    let (log, _guard) = common::capture_logs();
    let addr = common::serve(Config::default(), common::echo).await;
    assert_eq!(status(addr, "/chat", Some("http://127.0.0.1:3000")).await, "403");
    let logged = log.text();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(
        logged.contains("Origin http://127.0.0.1:3000 may not connect"),
        "{logged}"
    );
    assert!(
        logged.contains("(localhost)") && logged.contains("allowed_origins"),
        "{logged}"
    );
    assert!(logged.contains("path=/chat"), "{logged}");
}

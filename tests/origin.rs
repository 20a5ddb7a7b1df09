//! Cross-site WebSocket hijacking: another site's `Origin` is refused with
//! 403 by default; allowed lists and "any origin" open it up.

mod common;

use std::net::SocketAddr;

use axum::routing::any;
use axum::Router;
use common::upgrade_status;
use hyperws::axum::WebSocketUpgrade;
use hyperws::{Config, ServerConfig};
use tokio::net::TcpListener;

async fn serve_axum() -> SocketAddr {
    let app =
        Router::new()
            .route(
                "/default",
                any(|ws: WebSocketUpgrade| async move { ws.on_upgrade(|ws| common::echo(ws.into_inner())) }),
            )
            .route(
                "/listed",
                any(|ws: WebSocketUpgrade| async move {
                    ws.allowed_origins(["https://app.example"])
                        .on_upgrade(|ws| common::echo(ws.into_inner()))
                }),
            )
            .route(
                "/any",
                any(|ws: WebSocketUpgrade| async move {
                    ws.allow_any_origin().on_upgrade(|ws| common::echo(ws.into_inner()))
                }),
            );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn the_extractor_refuses_other_sites_by_default() {
    let addr = serve_axum().await;
    assert_eq!(
        upgrade_status(addr, "/default", None).await,
        "101",
        "no Origin: not a browser"
    );
    assert_eq!(
        upgrade_status(addr, "/default", Some("http://localhost")).await,
        "101",
        "same host"
    );
    assert_eq!(
        upgrade_status(addr, "/default", Some("https://evil.example")).await,
        "403"
    );
    assert_eq!(upgrade_status(addr, "/default", Some("null")).await, "403");
    let refusal = common::raw_http(
        addr,
        &common::upgrade_request_text("/default", Some("https://evil.example")),
    )
    .await;
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
    assert_eq!(
        upgrade_status(addr, "/listed", Some("https://app.example")).await,
        "101"
    );
    assert_eq!(
        upgrade_status(addr, "/listed", Some("http://localhost")).await,
        "403",
        "only the list counts"
    );
    assert_eq!(upgrade_status(addr, "/any", Some("https://evil.example")).await, "101");
}

#[tokio::test]
async fn the_hyper_door_applies_the_configured_policy() {
    let strict = common::serve(Config::default(), common::echo).await;
    assert_eq!(upgrade_status(strict, "/", Some("https://evil.example")).await, "403");
    assert_eq!(upgrade_status(strict, "/", Some("http://localhost")).await, "101");
    let open = common::serve(
        ServerConfig::builder().allow_any_origin().build().unwrap(),
        common::echo,
    )
    .await;
    assert_eq!(upgrade_status(open, "/", Some("https://evil.example")).await, "101");
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
        assert_eq!(upgrade_status(addr, "/", Some(origin)).await, expected, "{origin}");
    }
}

//! One `ServerConfig`, three doors: the axum extractor, the tower layer and
//! `upgrade_request()` answer the same requests with the same status,
//! headers and selected subprotocol, because they share one accept path.

mod common;

use std::net::SocketAddr;

use axum::routing::any;
use axum::Router;
use hyperws::axum::WebSocketUpgrade;
use hyperws::tower::WebSocketLayer;
use hyperws::{Config, DeflateConfig, ServerConfig};
use tokio::net::TcpListener;

fn config() -> ServerConfig {
    ServerConfig::builder()
        .socket(Config::builder().deflate(DeflateConfig::default()).build().unwrap())
        .protocols(["chat", "superchat"])
        .allowed_origins(["https://app.example"])
        .build()
        .unwrap()
}

async fn listen(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn axum_door() -> SocketAddr {
    let config = config();
    let handler = move |ws: WebSocketUpgrade| {
        let config = config.clone();
        async move { ws.config(config).on_upgrade(|ws| common::echo(ws.into_inner())) }
    };
    listen(Router::new().route("/ws", any(handler))).await
}

async fn tower_door() -> SocketAddr {
    listen(Router::new().layer(WebSocketLayer::new(common::echo).config(config()))).await
}

async fn hyper_door() -> SocketAddr {
    common::serve(config(), common::echo).await
}

/// What a client can see of an answer: the status and the headers the
/// handshake sets.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: String,
    headers: Vec<(String, String)>,
}

const WATCHED: [&str; 6] = [
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "sec-websocket-version",
];

async fn answer(addr: SocketAddr, request: &str) -> Answer {
    let response = common::raw_http(addr, request).await;
    let head = response.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().to_owned();
    let mut headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_ascii_lowercase()))
        .filter(|(name, _)| WATCHED.contains(&name.as_str()))
        .collect();
    headers.sort();
    Answer { status, headers }
}

fn request(method: &str, version: &str, extra: &[&str]) -> String {
    let mut text = format!(
        "{method} /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for header in extra {
        text = text + header + "\r\n";
    }
    text + "\r\n"
}

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_ascii_lowercase())
}

#[tokio::test]
async fn the_three_doors_answer_alike() {
    let doors = [axum_door().await, tower_door().await, hyper_door().await];
    let accept = header("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    let switching_with = |protocol: Option<&str>, extensions: Option<&str>| {
        let mut headers = vec![
            header("connection", "upgrade"),
            accept.clone(),
            header("upgrade", "websocket"),
        ];
        if let Some(protocol) = protocol {
            headers.push(header("sec-websocket-protocol", protocol));
        }
        if let Some(extensions) = extensions {
            headers.push(header("sec-websocket-extensions", extensions));
        }
        headers.sort();
        Answer {
            status: "101".into(),
            headers,
        }
    };
    let switching = |protocol| switching_with(protocol, None);
    let refused = |status: &str, headers: Vec<(String, String)>| Answer {
        status: status.into(),
        headers,
    };
    let cases = [
        (
            request(
                "GET",
                "13",
                &["Origin: https://app.example", "Sec-WebSocket-Protocol: superchat, chat"],
            ),
            switching(Some("chat")),
        ),
        (request("GET", "13", &["Sec-WebSocket-Protocol: mqtt"]), switching(None)),
        (request("GET", "13", &[]), switching(None)),
        // Several permessage-deflate offers: the first needs an 8-bit window
        // (declined), the second is malformed, the third is taken.
        (
            request(
                "GET",
                "13",
                &[
                    "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8",
                    "Sec-WebSocket-Extensions: permessage-deflate; foo, permessage-deflate; client_max_window_bits",
                ],
            ),
            switching_with(None, Some("permessage-deflate; client_no_context_takeover")),
        ),
        (
            request("GET", "13", &["Origin: https://evil.example"]),
            refused("403", vec![]),
        ),
        (
            request("GET", "8", &[]),
            refused("426", vec![header("sec-websocket-version", "13")]),
        ),
        (request("POST", "13", &[]), refused("405", vec![])),
    ];
    for (request, expected) in cases {
        for (door, addr) in ["axum extractor", "tower layer", "upgrade_request"].iter().zip(doors) {
            assert_eq!(answer(addr, &request).await, expected, "{door}: {request}");
        }
    }
}

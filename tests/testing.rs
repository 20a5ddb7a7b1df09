//! `hyperws::testing`: an unchanged axum handler tested end to end in
//! memory — handshake, messages, close codes, refusals — and a connected
//! socket pair.

use std::time::Duration;

use axum::routing::any;
use axum::Router;
use hyperws::axum::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use hyperws::{testing, ClientBuilder, CloseCode, Config, ConnectError, DeflateConfig};

/// A handler as an app writes it: greets, echoes, says goodbye with 4000
/// on "bye".
async fn chat(mut socket: WebSocket) {
    if socket.send(Message::text("welcome")).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        match message {
            Message::Text(text) if text == "bye" => {
                let frame = CloseFrame {
                    code: CloseCode::from(4000),
                    reason: "see you".into(),
                };
                let _ = socket.close(Some(frame)).await;
                return;
            }
            Message::Text(text) => {
                let _ = socket.send(Message::text(format!("you said {text}"))).await;
            }
            _ => {}
        }
    }
}

fn app() -> Router {
    Router::new().route(
        "/chat",
        any(|ws: WebSocketUpgrade| async { ws.protocols(["chat"]).on_upgrade(chat) }),
    )
}

#[tokio::test]
async fn a_handler_runs_end_to_end_without_a_port() {
    let mut ws = testing::connect_in_memory(app(), "/chat").await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("welcome"));
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("you said hello"));
    ws.send(Message::text("bye")).await.unwrap();
    match ws.recv().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::from(4000));
            assert_eq!(frame.reason, "see you");
        }
        other => panic!("expected the handler's close, got {other:?}"),
    }
    assert!(ws.recv().await.is_none());
}

#[tokio::test]
async fn the_builder_adds_headers_protocols_and_compression() {
    let config = Config::builder().deflate(DeflateConfig::default()).build().unwrap();
    let app = app().route(
        "/deflate",
        any(|ws: WebSocketUpgrade| async { ws.deflate(DeflateConfig::default()).on_upgrade(chat) }),
    );
    let (mut ws, response) = ClientBuilder::new("ws://localhost/deflate")
        .protocols(["chat"])
        .config(config)
        .connect_on(testing::serve_in_memory(app))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert!(ws.deflate().is_some(), "permessage-deflate agreed in memory too");
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("welcome"));
    let long = "x".repeat(1000);
    ws.send(Message::text(long.clone())).await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap().unwrap(),
        Message::text(format!("you said {long}"))
    );
}

#[tokio::test]
async fn a_refusal_comes_back_with_the_servers_response() {
    let refused = ClientBuilder::new("ws://localhost/chat")
        .header("origin", "https://evil.example")
        .connect_on(testing::serve_in_memory(app()))
        .await;
    let Err(ConnectError::UnexpectedStatus(response)) = refused else {
        panic!("expected a refusal, got {:?}", refused.map(|_| ()));
    };
    assert_eq!(response.status(), 403);
    let body = String::from_utf8_lossy(response.body());
    assert!(body.contains("https://evil.example"), "{body}");
    let missing = testing::connect_in_memory(app(), "/nowhere").await;
    assert!(matches!(missing, Err(ConnectError::UnexpectedStatus(r)) if r.status() == 404));
}

/// A handler written against channels, as axum's testing example does:
/// the pair stands in for the network.
async fn forward(mut socket: hyperws::WebSocket<tokio::io::DuplexStream>, out: tokio::sync::mpsc::Sender<String>) {
    while let Some(Ok(Message::Text(text))) = socket.recv().await {
        if out.send(text.to_string()).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_pair_tests_code_that_takes_a_socket() {
    let (server, mut client) = testing::pair(&Config::default());
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let task = tokio::spawn(forward(server, tx));
    client.send(Message::text("one")).await.unwrap();
    client.send(Message::text("two")).await.unwrap();
    assert_eq!(rx.recv().await.as_deref(), Some("one"));
    assert_eq!(rx.recv().await.as_deref(), Some("two"));
    client
        .close(Some(CloseFrame::from_code(close_code::NORMAL)))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

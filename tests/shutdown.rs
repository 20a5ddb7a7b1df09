//! Graceful shutdown: every open socket is sent 1001 (Going Away), waits
//! for the peer's close up to the close timeout, and the server returns.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use hyperws::tower::WebSocketLayer;
use hyperws::Role;
use hyperws::{Config, Error, Message, ServerConfig, Shutdown, WebSocket};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::CloseCode as TCode;
use tungstenite::Message as T;

#[tokio::test]
async fn every_socket_is_closed_with_1001_and_serve_returns() {
    let shutdown = Shutdown::new();
    let config = ServerConfig::builder().shutdown(&shutdown).build().unwrap();
    let app = axum::Router::new().layer(WebSocketLayer::new(common::echo).config(config.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move { hyperws::serve(listener, app, &config).await });

    let mut clients = Vec::new();
    for _ in 0..3 {
        let (client, _) = connect_async(format!("ws://{addr}/")).await.unwrap();
        clients.push(client);
    }
    // Each socket is open and echoing.
    for client in &mut clients {
        futures_util::SinkExt::send(client, T::text("up")).await.unwrap();
        assert_eq!(client.next().await.unwrap().unwrap(), T::text("up"));
    }
    assert_eq!(shutdown.open_sockets(), 3);

    shutdown.trigger();
    for mut client in clients {
        match client.next().await.unwrap().unwrap() {
            T::Close(Some(frame)) => assert_eq!(frame.code, TCode::Away),
            other => panic!("expected close 1001, got {other:?}"),
        }
        // Reading on sends tungstenite's reply; the server then closes TCP.
        assert!(client.next().await.is_none());
    }
    let finished = tokio::time::timeout(Duration::from_secs(10), serving).await;
    finished
        .expect("serve did not return after the shutdown")
        .unwrap()
        .unwrap();
    assert_eq!(shutdown.open_sockets(), 0);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_ignores_the_shutdown_is_dropped_after_the_close_timeout() {
    let shutdown = Shutdown::new();
    let config = Config::builder().close_timeout(Duration::from_secs(3)).build().unwrap();
    let (io, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = WebSocket::from_raw_socket(io, Role::Server, &config).with_shutdown(&shutdown);
    let handler = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(item) = ws.recv().await {
            seen.push(item);
        }
        seen
    });
    tokio::task::yield_now().await;
    let started = tokio::time::Instant::now();
    shutdown.trigger();
    shutdown.closed().await;
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    let seen = handler.await.unwrap();
    assert!(matches!(seen.as_slice(), [Err(Error::CloseTimeout)]), "{seen:?}");
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(&wire[..4], [0x88, 22, 0x03, 0xE9], "close 1001 with its reason");
    assert_eq!(&wire[4..], b"server shutting down");
}

#[tokio::test]
async fn sockets_opened_without_the_shutdown_are_not_counted() {
    let shutdown = Shutdown::new();
    let (io, _peer) = tokio::io::duplex(64);
    let _untracked = WebSocket::from_raw_socket(io, Role::Server, &Config::default());
    assert_eq!(shutdown.open_sockets(), 0);
    shutdown.closed().await; // resolves at once
    let (io, _peer) = tokio::io::duplex(64);
    let tracked = WebSocket::from_raw_socket(io, Role::Server, &Config::default()).with_shutdown(&shutdown);
    assert_eq!(shutdown.open_sockets(), 1);
    drop(tracked);
    assert_eq!(shutdown.open_sockets(), 0);
}

#[tokio::test]
async fn a_socket_that_only_sends_hears_the_shutdown() {
    let shutdown = Shutdown::new();
    let (io, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = WebSocket::from_raw_socket(io, Role::Server, &Config::default()).with_shutdown(&shutdown);
    ws.send(Message::text("before")).await.unwrap();
    shutdown.trigger();
    let after = ws.send(Message::text("after")).await;
    assert!(matches!(after, Err(Error::Closed)), "{after:?}");
    ws.flush().await.unwrap();
    let mut wire = [0; 8 + 24];
    peer.read_exact(&mut wire).await.unwrap();
    assert_eq!(&wire[..8], b"\x81\x06before");
    assert_eq!(&wire[8..12], [0x88, 22, 0x03, 0xE9], "close 1001 with its reason");
}

//! hyper hands over the connection: bytes it read past the handshake are
//! kept, and transports other than TCP work through hyper's own IO.

mod common;

use std::convert::Infallible;

use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyperws::{upgrade_request, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tungstenite::Message as T;

#[tokio::test]
async fn a_frame_sent_with_the_handshake_is_not_lost() {
    let (kind_tx, mut kind_rx) = tokio::sync::mpsc::unbounded_channel();
    let addr = common::serve(Config::default(), move |ws| {
        let kind_tx = kind_tx.clone();
        async move {
            kind_tx.send(ws.get_ref().tcp_stream().is_some()).unwrap();
            common::echo(ws).await;
        }
    })
    .await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // The request and a masked "Hello" (RFC 6455 §5.7) in one write, so
    // hyper reads the frame along with the request head.
    let mut bytes = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        .to_vec();
    bytes.extend_from_slice(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    tcp.write_all(&bytes).await.unwrap();
    let mut received = Vec::new();
    let echo = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o'];
    while !received.ends_with(&echo) {
        let mut chunk = [0; 512];
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut chunk)).await;
        let n = read
            .expect("the echo never came: the frame read with the handshake was lost")
            .unwrap();
        assert!(
            n > 0,
            "connection closed before the echo: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&chunk[..n]);
    }
    assert!(received.starts_with(b"HTTP/1.1 101 "));
    assert!(
        kind_rx.recv().await.unwrap(),
        "the raw TcpStream was taken back from hyper"
    );
}

#[tokio::test]
async fn a_non_tcp_transport_goes_through_hypers_io() {
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let service = service_fn(|mut request: Request<Incoming>| async move {
        let (response, upgraded) = upgrade_request(&mut request, &hyperws::ServerConfig::default()).unwrap();
        tokio::spawn(async move {
            let ws = upgraded.await.unwrap();
            assert!(ws.get_ref().tcp_stream().is_none());
            common::echo(ws).await;
        });
        Ok::<Response<Full<Bytes>>, Infallible>(response)
    });
    tokio::spawn(
        http1::Builder::new()
            .serve_connection(TokioIo::new(server_io), service)
            .with_upgrades(),
    );
    let (mut client, _) = tokio_tungstenite::client_async("ws://in-memory/", client_io)
        .await
        .unwrap();
    client.send(T::text("over a duplex pipe")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("over a duplex pipe"));
}

#[tokio::test]
async fn a_connection_served_without_upgrades_is_refused_with_426() {
    let (server_io, mut client_io) = tokio::io::duplex(1 << 16);
    let service = service_fn(|mut request: Request<Incoming>| async move {
        // No OnUpgrade in the extensions: as if hyper could not upgrade.
        request.extensions_mut().clear();
        let response = match upgrade_request(&mut request, &hyperws::ServerConfig::default()) {
            Ok((response, _)) => response,
            Err(refused) => refused.to_response(),
        };
        Ok::<Response<Full<Bytes>>, Infallible>(response)
    });
    tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(server_io), service));
    client_io
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    let mut chunk = [0; 1024];
    let n = client_io.read(&mut chunk).await.unwrap();
    let response = String::from_utf8_lossy(&chunk[..n]);
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(response.contains("cannot be upgraded"), "{response}");
}

#[tokio::test]
async fn hyperws_serve_hands_over_the_raw_tcp_stream() {
    use axum::routing::any;
    use hyperws::axum::WebSocketUpgrade;

    let app = axum::Router::new().route(
        "/",
        any(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut ws| async move {
                let transport = if ws.get_ref().tcp_stream().is_some() {
                    "tcp"
                } else {
                    "boxed"
                };
                let _ = ws.send(hyperws::Message::text(transport)).await;
                while ws.recv().await.is_some() {}
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { hyperws::serve(listener, app, &hyperws::ServerConfig::default()).await });
    let (mut client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("tcp"));
}

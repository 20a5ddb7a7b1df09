//! The client against real servers: our own, tokio-tungstenite's, a TLS
//! server with a certificate made in the test, and servers that misbehave.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyperws::handshake::client::UpgradeError;
use hyperws::{ClientBuilder, CloseCode, CloseFrame, ConnectError, Message, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tungstenite::Message as T;

#[tokio::test]
async fn against_our_own_server() {
    let addr = common::serve(
        ServerConfig::builder().protocols(["chat"]).build().unwrap(),
        common::echo,
    )
    .await;
    let (mut ws, response) = ClientBuilder::new(format!("ws://{addr}/room"))
        .protocols(["superchat", "chat"])
        .connect()
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(ws.protocol().unwrap(), "chat");
    for message in [
        Message::text("κόσμε"),
        Message::binary(vec![0u8; 70_000]),
        Message::text(""),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), message);
    }
    ws.close(Some(CloseFrame::from_code(CloseCode::NORMAL))).await.unwrap();
    assert!(ws.recv().await.is_none());
}

#[tokio::test]
async fn against_a_tokio_tungstenite_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut seen = Vec::new();
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() || message.is_binary() {
                seen.push(message.clone());
                ws.send(message).await.unwrap();
            }
        }
        seen
    });
    let (mut ws, _) = hyperws::connect(format!("ws://{addr}/")).await.unwrap();
    ws.send(Message::text("hello tungstenite")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("hello tungstenite"));
    ws.send(Message::binary(vec![1u8; 300_000])).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::binary(vec![1u8; 300_000]));
    ws.close(None).await.unwrap();
    // tungstenite checks that every client frame is masked; it saw both.
    assert_eq!(
        server.await.unwrap(),
        [T::text("hello tungstenite"), T::binary(vec![1u8; 300_000])]
    );
}

#[tokio::test]
async fn custom_headers_reach_the_server() {
    use axum::routing::any;
    let app = axum::Router::new().route(
        "/",
        any(
            |headers: http::HeaderMap, ws: hyperws::axum::WebSocketUpgrade| async move {
                let token = headers["authorization"].to_str().unwrap().to_owned();
                ws.on_upgrade(move |mut ws| async move {
                    let _ = ws.send(Message::text(token)).await;
                })
            },
        ),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (mut ws, _) = ClientBuilder::new(format!("ws://{addr}/"))
        .header("authorization", "Bearer s3cret")
        .connect()
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("Bearer s3cret"));
}

/// A TLS echo server with a certificate for `localhost` made here; returns
/// its address and a client config that trusts that certificate.
async fn tls_server() -> (SocketAddr, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(|mut request| async move {
                    let (response, upgraded) =
                        hyperws::upgrade_request(&mut request, &hyperws::ServerConfig::default()).unwrap();
                    tokio::spawn(async move { common::echo(upgraded.await.unwrap()).await });
                    Ok::<_, std::convert::Infallible>(response)
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (addr, Arc::new(client_config))
}

#[tokio::test]
async fn wss_against_a_local_tls_server() {
    let (addr, trust) = tls_server().await;
    let url = format!("wss://localhost:{}/", addr.port());
    let (mut ws, _) = ClientBuilder::new(&url).tls(trust).connect().await.unwrap();
    assert!(ws.get_ref().is_tls());
    ws.send(Message::text("over TLS")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("over TLS"));
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (addr, _) = tls_server().await;
    // As an app does: the process's crypto provider, which the client uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The default roots do not include the test's self-signed certificate.
    let result = hyperws::connect(format!("wss://localhost:{}/", addr.port())).await;
    let Err(ConnectError::Tls(e)) = result else {
        panic!("expected a TLS error, got {:?}", result.map(|_| ()));
    };
    assert!(
        e.to_string().contains("certificate"),
        "the process's provider was used: {e}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let result = hyperws::connect(format!("ws://{addr}/")).await;
    assert!(matches!(result, Err(ConnectError::Connect(_))), "{:?}", result.err());
}

#[tokio::test]
async fn invalid_urls_are_named() {
    for url in ["http://example.com/", "ws://", "not a url"] {
        let result = hyperws::connect(url).await;
        assert!(
            matches!(result, Err(ConnectError::InvalidUrl(_))),
            "{url}: {:?}",
            result.err()
        );
    }
}

#[tokio::test]
async fn a_refusal_keeps_the_servers_response() {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { (http::StatusCode::FORBIDDEN, "go away") }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let refused = hyperws::connect(format!("ws://{addr}/")).await.expect_err("refused");
    assert!(refused.is_peer_fault() && !refused.is_caller_fault() && !refused.is_network());
    let ConnectError::UnexpectedStatus(response) = refused else {
        panic!("expected the refusal, got {refused:?}")
    };
    assert_eq!(response.status(), 403);
    assert_eq!(response.body(), "go away");
}

/// A raw server that answers every request with `answer`.
async fn raw_server(answer: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = Vec::new();
                while !request.ends_with(b"\r\n\r\n") {
                    let mut byte = [0];
                    if tcp.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    request.push(byte[0]);
                }
                let _ = tcp.write_all(answer.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_wrong_accept_key_is_refused() {
    let addr = raw_server(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    )
    .await;
    let result = hyperws::connect(format!("ws://{addr}/")).await;
    assert!(
        matches!(result, Err(ConnectError::Upgrade(UpgradeError::BadAcceptKey))),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts TCP (the kernel does), never reads or answers.
    let started = tokio::time::Instant::now();
    let result = ClientBuilder::new(format!("ws://{addr}/"))
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(matches!(result, Err(ConnectError::Timeout)), "{:?}", result.err());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    drop(listener);
}

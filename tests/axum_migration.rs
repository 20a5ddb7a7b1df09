//! The documented migration, followed mechanically: apps written as axum's
//! examples write them (`tests/axum_apps/`), rewritten by
//! `scripts/migrate-from-axum-ws` (`tests/axum_apps/migrated/`), compile
//! and pass the same tests under axum's ws and under hyperws.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;
use tungstenite::Message as T;

mod with_axum {
    pub(crate) mod chat {
        include!("axum_apps/chat.rs");
    }
    pub(crate) mod channels {
        include!("axum_apps/channels.rs");
    }
    pub(crate) mod http2 {
        include!("axum_apps/http2.rs");
    }
    pub(crate) mod signaling {
        include!("axum_apps/signaling.rs");
    }
}

mod with_hyperws {
    pub(crate) mod chat {
        include!("axum_apps/migrated/chat.rs");
    }
    pub(crate) mod channels {
        include!("axum_apps/migrated/channels.rs");
    }
    pub(crate) mod http2 {
        include!("axum_apps/migrated/http2.rs");
    }
    pub(crate) mod signaling {
        include!("axum_apps/migrated/signaling.rs");
    }
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(client: &mut Client) -> String {
    let next = tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .unwrap();
    match next.unwrap().unwrap() {
        T::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn chat_room(app: axum::Router) {
    let addr = serve(app).await;
    let (mut ada, _) = connect_async(format!("ws://{addr}/chat")).await.unwrap();
    ada.send(T::text("ada")).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "ada joined.");
    let (mut bob, _) = connect_async(format!("ws://{addr}/chat")).await.unwrap();
    bob.send(T::text("bob")).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "bob joined.");
    assert_eq!(next_text(&mut bob).await, "bob joined.");
    ada.send(T::text("hello")).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "ada: hello");
    assert_eq!(next_text(&mut bob).await, "ada: hello");
    bob.close(None).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "bob left.");
}

async fn channel_handler_through_a_socket(app: axum::Router) {
    let addr = serve(app).await;
    let (mut client, _) = connect_async(format!("ws://{addr}/integration-testable"))
        .await
        .unwrap();
    client.send(T::text("foo")).await.unwrap();
    assert_eq!(next_text(&mut client).await, "You said: foo");
}

/// Two peers of a signaling room exchange an offer and an answer; a third
/// is turned away.
async fn signaling_room(app: axum::Router) {
    let addr = serve(app).await;
    let url = format!("ws://{addr}/signal/call-1");
    let (mut offerer, _) = connect_async(&url).await.unwrap();
    assert_eq!(next_text(&mut offerer).await, "joined");
    let (mut answerer, _) = connect_async(&url).await.unwrap();
    assert_eq!(next_text(&mut answerer).await, "joined");
    offerer.send(T::text(r#"{"sdp":"offer"}"#)).await.unwrap();
    assert_eq!(next_text(&mut answerer).await, r#"{"sdp":"offer"}"#);
    answerer.send(T::text(r#"{"sdp":"answer"}"#)).await.unwrap();
    assert_eq!(next_text(&mut offerer).await, r#"{"sdp":"answer"}"#);
    let (mut third, _) = connect_async(&url).await.unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(5), third.next())
        .await
        .unwrap();
    assert!(
        !matches!(refused, Some(Ok(T::Text(_)))),
        "a full room sends nothing: {refused:?}"
    );
}

#[tokio::test]
async fn signaling_room_with_axum() {
    signaling_room(with_axum::signaling::app()).await;
}

#[tokio::test]
async fn signaling_room_with_hyperws() {
    signaling_room(with_hyperws::signaling::app()).await;
}

#[tokio::test]
async fn chat_room_with_axum() {
    chat_room(with_axum::chat::app()).await;
}

#[tokio::test]
async fn chat_room_with_hyperws() {
    chat_room(with_hyperws::chat::app()).await;
}

#[tokio::test]
async fn channel_handler_unit_test_with_axum() {
    use axum::extract::ws::Message;
    let mut written: Vec<Message> = Vec::new();
    with_axum::channels::unit_testable_handler(&mut written, with_axum::channels::scripted_input()).await;
    assert_eq!(
        written,
        [Message::text("You said: one"), Message::text("You said: two")]
    );
}

#[tokio::test]
async fn channel_handler_unit_test_with_hyperws() {
    use hyperws::axum::Message;
    let mut written: Vec<Message> = Vec::new();
    with_hyperws::channels::unit_testable_handler(&mut written, with_hyperws::channels::scripted_input()).await;
    assert_eq!(
        written,
        [Message::text("You said: one"), Message::text("You said: two")]
    );
}

#[tokio::test]
async fn channel_handler_on_a_socket_with_axum() {
    channel_handler_through_a_socket(with_axum::channels::app()).await;
}

#[tokio::test]
async fn channel_handler_on_a_socket_with_hyperws() {
    channel_handler_through_a_socket(with_hyperws::channels::app()).await;
}

/// The migrated files are exactly what the script makes of the originals.
#[test]
fn the_migration_is_the_scripts_output() {
    for app in ["chat", "channels", "http2", "signaling"] {
        let output = std::process::Command::new("python3")
            .arg("scripts/migrate-from-axum-ws")
            .arg("--print")
            .arg(format!("tests/axum_apps/{app}.rs"))
            .output()
            .expect("python3 runs the migration script");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let committed = std::fs::read_to_string(format!("tests/axum_apps/migrated/{app}.rs")).unwrap();
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            committed,
            "{app}: rerun the script"
        );
    }
}

/// Serves `app` over TLS with ALPN `h2` and HTTP/2 extended CONNECT; returns
/// its address and a client config that trusts it.
async fn serve_h2_tls(app: axum::Router) -> (SocketAddr, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .enable_connect_protocol()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec()];
    (addr, Arc::new(client))
}

/// An RFC 8441 WebSocket over TLS and HTTP/2, through hyper's client.
async fn h2_socket(
    addr: SocketAddr,
    trust: Arc<rustls::ClientConfig>,
) -> hyperws::WebSocket<TokioIo<hyper::upgrade::Upgraded>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(trust)
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
        .await
        .unwrap();
    let mut connection = Box::pin(connection);
    // The server's SETTINGS enable extended CONNECT; nothing wakes us for it.
    let settings = async {
        while !connection.is_extended_connect_protocol_enabled() {
            tokio::select! {
                result = connection.as_mut() => panic!("connection ended early: {result:?}"),
                () = tokio::time::sleep(Duration::from_millis(2)) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), settings)
        .await
        .expect("the server never enabled extended CONNECT");
    tokio::spawn(connection);
    let request = http::Request::builder()
        .method(http::Method::CONNECT)
        .version(http::Version::HTTP_2)
        .uri(format!("https://localhost:{}/ws", addr.port()))
        .header("sec-websocket-version", "13")
        .extension(hyper::ext::Protocol::from_static("websocket"))
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .unwrap();
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200, "RFC 8441: 200, not 101");
    let upgraded = hyper::upgrade::on(response).await.unwrap();
    hyperws::WebSocket::from_raw_socket(
        TokioIo::new(upgraded),
        hyperws::Role::Client,
        &hyperws::Config::default(),
    )
}

async fn http2_over_tls(app: axum::Router) {
    let (addr, trust) = serve_h2_tls(app).await;
    let mut ws = h2_socket(addr, trust).await;
    assert_eq!(
        ws.recv().await.unwrap().unwrap(),
        hyperws::Message::text("hello over HTTP/2.0")
    );
    ws.send(hyperws::Message::text("over h2")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), hyperws::Message::text("over h2"));
}

#[tokio::test]
async fn http2_over_tls_with_axum() {
    http2_over_tls(with_axum::http2::app()).await;
}

#[tokio::test]
async fn http2_over_tls_with_hyperws() {
    http2_over_tls(with_hyperws::http2::app()).await;
}

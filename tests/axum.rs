//! One axum app, compiled against `axum::extract::ws` and against
//! `hyperws::axum` with only its `use` line changed, behaves the same under
//! the same tokio-tungstenite client.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;

mod common;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::CloseCode as TCode;
use tungstenite::Message as T;

mod with_axum {
    use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
    include!("axum_app/app.rs");
}

mod with_hyperws {
    use hyperws::axum::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
    include!("axum_app/app.rs");
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Runs a test body against both builds of the app.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn with_axum() {
                ($body)(serve(crate::with_axum::app()).await).await;
            }

            #[tokio::test]
            async fn with_hyperws() {
                ($body)(serve(crate::with_hyperws::app()).await).await;
            }
        }
    };
}

both!(echo, |addr: SocketAddr| async move {
    let (mut client, _) = connect_async(format!("ws://{addr}/echo")).await.unwrap();
    for message in [T::text("hello"), T::binary(vec![1u8, 2, 3]), T::text("κόσμε")] {
        client.send(message.clone()).await.unwrap();
        assert_eq!(client.next().await.unwrap().unwrap(), message);
    }
});

both!(split_halves, |addr: SocketAddr| async move {
    let (mut client, _) = connect_async(format!("ws://{addr}/split")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("writer ready"));
    client.send(T::text("quiet")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("shouted: QUIET"));
});

both!(subprotocols, |addr: SocketAddr| async move {
    use tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/protocols").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "mqtt, chat".parse().unwrap());
    let (mut client, response) = connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("selected: chat"));
});

both!(server_close, |addr: SocketAddr| async move {
    let (mut client, _) = connect_async(format!("ws://{addr}/close")).await.unwrap();
    match client.next().await.unwrap().unwrap() {
        T::Close(Some(frame)) => {
            assert_eq!(frame.code, TCode::Away);
            assert_eq!(frame.reason.as_str(), "server going away");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert!(client.next().await.is_none());
});

// Not run against axum's own extractor: there, an oversize message drops the
// connection without any close frame (tungstenite reports
// `ResetWithoutClosingHandshake` to the client), where RFC 6455 asks for 1009.
#[tokio::test]
async fn oversize_message_is_closed_with_1009() {
    let addr = serve(with_hyperws::app()).await;
    let (mut client, _) = connect_async(format!("ws://{addr}/limited")).await.unwrap();
    client.send(T::binary(vec![0u8; 1024])).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::binary(vec![0u8; 1024]));
    client.send(T::binary(vec![0u8; 2048])).await.unwrap();
    let code = loop {
        match client.next().await {
            Some(Ok(T::Close(Some(frame)))) => break frame.code,
            Some(Ok(_)) => {}
            other => panic!("expected a close, got {other:?}"),
        }
    };
    assert_eq!(code, TCode::Size);
}

/// The extractor's rejections, each with its status and a body naming the rule.
#[tokio::test]
async fn the_extractor_rejects_each_broken_rule_with_its_status() {
    use axum::body::Body;
    use axum::routing::any;
    use http::Request;
    use tower::ServiceExt;

    async fn handler(ws: hyperws::axum::WebSocketUpgrade) -> axum::response::Response {
        ws.on_upgrade(|_| async {})
    }
    let app = axum::Router::new().route("/ws", any(handler));
    let request = |method: &str, version: Option<&'static str>, upgrade: bool| {
        let mut builder = Request::builder().method(method).uri("/ws").header("host", "localhost");
        if upgrade {
            builder = builder.header("upgrade", "websocket").header("connection", "Upgrade");
        }
        if let Some(version) = version {
            builder = builder.header("sec-websocket-version", version);
        }
        builder
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .body(Body::empty())
            .unwrap()
    };
    let cases = [
        (request("POST", Some("13"), true), 405, "GET method"),
        (request("GET", Some("13"), false), 400, "`Upgrade: websocket`"),
        (request("GET", Some("8"), true), 426, "version 13"),
        // oneshot requests carry no hyper upgrade handle: nothing to take over.
        (request("GET", Some("13"), true), 426, "cannot be upgraded"),
    ];
    for (request, status, rule) in cases {
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), status);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains(rule), "{status}: {body:?}");
    }
}

/// Code that matches axum's rejection variants compiles and sees the same
/// variant axum would give.
#[test]
fn rejections_carry_axums_variants() {
    use hyperws::axum::rejection::WebSocketUpgradeRejection as R;
    use hyperws::handshake::HandshakeError as H;

    let filed = |e: H| R::from(e);
    assert!(matches!(filed(H::MethodNotGet), R::MethodNotGet(_)));
    assert!(matches!(filed(H::MethodNotConnect), R::MethodNotConnect(_)));
    assert!(matches!(
        filed(H::MissingConnectionUpgrade),
        R::InvalidConnectionHeader(_)
    ));
    assert!(matches!(filed(H::MissingUpgradeWebSocket), R::InvalidUpgradeHeader(_)));
    assert!(matches!(
        filed(H::MissingProtocolPseudoHeader),
        R::InvalidProtocolPseudoheader(_)
    ));
    assert!(matches!(
        filed(H::UnsupportedVersion),
        R::InvalidWebSocketVersionHeader(_)
    ));
    assert!(matches!(filed(H::InvalidKey), R::WebSocketKeyHeaderMissing(_)));
    assert!(matches!(
        filed(H::ConnectionNotUpgradable),
        R::ConnectionNotUpgradable(_)
    ));
    let rejection = filed(H::UnsupportedVersion);
    assert_eq!(rejection.status(), 426);
    assert_eq!(rejection.handshake_error(), H::UnsupportedVersion);
}

/// The socket's errors are `axum::Error`, as with axum; the typed
/// `hyperws::Error` is inside.
#[tokio::test]
async fn socket_errors_are_axums_with_the_typed_error_inside() {
    use axum::routing::any;
    use hyperws::axum::{socket_error, WebSocket, WebSocketUpgrade};

    let (errors_tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/",
        any(move |ws: WebSocketUpgrade| {
            let errors_tx = errors_tx.clone();
            async move {
                ws.on_upgrade(move |mut socket: WebSocket| async move {
                    while let Some(received) = socket.recv().await {
                        let received: Result<_, axum::Error> = received;
                        if let Err(e) = received {
                            errors_tx
                                .send(socket_error(&e).map(hyperws::Error::is_peer_fault))
                                .unwrap();
                        }
                    }
                })
            }
        }),
    );
    let addr = serve(app).await;
    let mut tcp = common::raw_upgrade(addr).await;
    // Invalid UTF-8 in a text frame: the peer's fault (1007).
    tcp.write_all(&common::client_frame(0x1, &[0xff, 0xfe])).await.unwrap();
    // We do not answer the server's 1007; the error is reported when the
    // connection ends, so end it.
    drop(tcp);
    let seen = tokio::time::timeout(std::time::Duration::from_secs(5), errors.recv())
        .await
        .unwrap();
    assert_eq!(seen, Some(Some(true)), "a typed peer fault inside axum::Error");
}

//! The tower layer adds WebSocket endpoints to any service: under axum's
//! `Router::layer`, under `ServiceBuilder`, and as a plain hyper service.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use hyperws::tower::WebSocketLayer;
use hyperws::Config;
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;
use tower::{service_fn, ServiceBuilder};
use tungstenite::Message as T;

async fn serve_router(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn assert_echoes(url: String) {
    let (mut client, _) = connect_async(url).await.unwrap();
    client.send(T::text("through the layer")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("through the layer"));
}

#[tokio::test]
async fn under_axum_router_layer_other_routes_are_untouched() {
    let app = Router::new()
        .route("/hello", get(|| async { "hello from axum" }))
        .layer(WebSocketLayer::new(common::echo).path("/ws"));
    let addr = serve_router(app).await;
    assert_echoes(format!("ws://{addr}/ws")).await;
    let plain = common::raw_http(addr, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(
        plain.starts_with("HTTP/1.1 200") && plain.ends_with("hello from axum"),
        "{plain}"
    );
    // An upgrade request for a path the layer does not serve reaches the app.
    let elsewhere = common::raw_http(
        addr,
        "GET /hello HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    assert!(
        elsewhere.starts_with("HTTP/1.1 200") && elsewhere.ends_with("hello from axum"),
        "{elsewhere}"
    );
}

#[tokio::test]
async fn an_invalid_upgrade_on_a_served_path_gets_the_rule_it_broke() {
    let app = Router::new().layer(WebSocketLayer::new(common::echo).path("/ws"));
    let addr = serve_router(app).await;
    let response = common::raw_http(
        addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("sec-websocket-version: 13"),
        "{response}"
    );
}

#[tokio::test]
async fn under_service_builder_as_a_plain_hyper_service() {
    let inner = service_fn(|_request: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::<Bytes>::from("plain hyper")))
    });
    let layer = WebSocketLayer::new(common::echo)
        .config(Config::builder().max_message_size(1 << 20).build().unwrap())
        .predicate(|uri| uri.path().starts_with("/ws/"));
    let service = ServiceBuilder::new().layer(layer).service(inner);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    assert_echoes(format!("ws://{addr}/ws/room-1")).await;
    let plain = common::raw_http(addr, "GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(plain.ends_with("plain hyper"), "{plain}");
}

#[tokio::test]
async fn a_panicking_handler_closes_its_socket_with_1011() {
    use hyperws::{Message, WebSocket};
    use tungstenite::protocol::frame::coding::CloseCode as TCode;

    async fn panicky(mut socket: WebSocket) {
        while let Some(Ok(message)) = socket.recv().await {
            assert!(message != Message::text("boom"), "handler bug");
            let _ = socket.send(message).await;
        }
    }
    let addr = serve_router(Router::new().layer(WebSocketLayer::new(panicky))).await;
    for _ in 0..2 {
        let (mut client, _) = connect_async(format!("ws://{addr}/")).await.unwrap();
        client.send(T::text("boom")).await.unwrap();
        match client.next().await.unwrap().unwrap() {
            T::Close(Some(frame)) => assert_eq!(frame.code, TCode::Error),
            other => panic!("expected close 1011, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_accept_hook_refuses_with_its_own_response_or_lets_the_upgrade_through() {
    use hyperws::{testing, ClientBuilder, ConnectError};
    let layer = WebSocketLayer::new(common::echo).accept(|request: http::Request<()>| async move {
        // An async check, as a session lookup would be.
        tokio::task::yield_now().await;
        match request.headers().get("authorization") {
            Some(token) if token == "Bearer s3cret" => Ok(()),
            Some(_) => Err(http::Response::builder()
                .status(429)
                .body("slow down".to_owned())
                .unwrap()),
            None => Err(http::Response::builder()
                .status(401)
                .body("log in first".to_owned())
                .unwrap()),
        }
    });
    let app = Router::new().layer(layer);
    for (token, status, body) in [(None, 401, "log in first"), (Some("Bearer nope"), 429, "slow down")] {
        let mut builder = ClientBuilder::new("ws://localhost/ws");
        if let Some(token) = token {
            builder = builder.header("authorization", token);
        }
        let refused = builder.connect_on(testing::serve_in_memory(app.clone())).await;
        let Err(ConnectError::UnexpectedStatus(response)) = refused else {
            panic!("expected {status}, got {:?}", refused.map(|_| ()));
        };
        assert_eq!(response.status(), status);
        assert_eq!(response.body(), body);
    }
    let (mut ws, _) = ClientBuilder::new("ws://localhost/ws")
        .header("authorization", "Bearer s3cret")
        .connect_on(testing::serve_in_memory(app))
        .await
        .unwrap();
    ws.send(common::text("in")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), common::text("in"));
}

//! WebSocket handlers tested in memory, without binding a port: run an axum
//! `Router` (or any tower service, or a hyper service) on one end of an
//! in-memory pipe and connect the hyperws client to the other. The handler
//! under test is unchanged: the real handshake, frames and close codes run
//! end to end; only the network is missing.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use axum::{routing::any, Router};
//! use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
//! use hyperws::testing;
//!
//! async fn shout(mut socket: WebSocket) {
//!     while let Some(Ok(Message::Text(text))) = socket.recv().await {
//!         let _ = socket.send(Message::text(text.to_uppercase())).await;
//!     }
//! }
//!
//! let app = Router::new().route("/ws", any(|ws: WebSocketUpgrade| async { ws.on_upgrade(shout) }));
//! let mut ws = testing::connect_in_memory(app, "/ws").await.unwrap();
//! ws.send(Message::text("hi")).await.unwrap();
//! assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("HI"));
//! # }
//! ```
//!
//! [`pair`] gives two sockets already connected, for testing code that
//! takes a `WebSocket` without any handshake.

use std::convert::Infallible;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::DuplexStream;

use crate::proto::Role;
use crate::{ClientBuilder, Config, ConnectError, WebSocket};

/// Room in each direction of the in-memory pipe.
const PIPE_CAPACITY: usize = 1 << 20;

/// Serves `service` (an axum `Router`, any tower service of hyper
/// requests) over an in-memory HTTP/1.1 connection with upgrades, as
/// `axum::serve` would over TCP; returns the client's end, for
/// [`ClientBuilder::connect_on`].
///
/// # Panics
/// Outside a tokio runtime.
pub fn serve_in_memory<S, B>(service: S) -> DuplexStream
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (client, server) = tokio::io::duplex(PIPE_CAPACITY);
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(server), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "in-memory test connection ended with an error");
        }
    });
    client
}

/// Connects the hyperws client to `path` of `service`, in memory: the
/// socket, once the handshake succeeded. Use
/// [`ClientBuilder::connect_on`] with [`serve_in_memory`] to add headers,
/// subprotocols or a config.
///
/// # Errors
/// The server refused (`ConnectError::UnexpectedStatus`, with its
/// response) or broke the handshake.
pub async fn connect_in_memory<S, B>(service: S, path: &str) -> Result<WebSocket<DuplexStream>, ConnectError>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let url = format!("ws://localhost{path}");
    let (ws, _response) = ClientBuilder::new(url).connect_on(serve_in_memory(service)).await?;
    Ok(ws)
}

/// A server socket and a client socket connected to each other in memory,
/// with `config` (no handshake: for code that takes a `WebSocket`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use hyperws::{testing, Config, Message};
/// let (mut server, mut client) = testing::pair(&Config::default());
/// client.send(Message::text("ping")).await.unwrap();
/// assert_eq!(server.recv().await.unwrap().unwrap(), Message::text("ping"));
/// # }
/// ```
#[must_use]
pub fn pair(config: &Config) -> (WebSocket<DuplexStream>, WebSocket<DuplexStream>) {
    let (server, client) = tokio::io::duplex(PIPE_CAPACITY);
    (
        WebSocket::from_raw_socket(server, Role::Server, config),
        WebSocket::from_raw_socket(client, Role::Client, config),
    )
}

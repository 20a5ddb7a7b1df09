//! [`serve`]: an HTTP server with everything a WebSocket server needs.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;

use crate::{ServerConfig, Shutdown};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves `service` on `listener` until `ServerConfig::shutdown` is triggered (or
/// forever): HTTP/1.1 with upgrades and HTTP/2 with extended CONNECT, so
/// every server door works; a client that has not sent its request headers
/// within `ServerConfig::handshake_timeout` is dropped (slowloris); on shutdown it
/// stops accepting, lets open HTTP connections finish, and returns once
/// every WebSocket tied to the shutdown has closed.
///
/// `service` is any tower service, an axum `Router` included.
///
/// # Errors
/// Binding problems surface when the listener is made; this returns `Ok`
/// after a shutdown. Accept errors (such as running out of file
/// descriptors) are logged and retried.
///
/// ```no_run
/// use axum::{routing::any, Router};
/// use hyperws::{axum::WebSocketUpgrade, ServerConfig, Shutdown};
///
/// # async fn run() -> std::io::Result<()> {
/// let shutdown = Shutdown::new();
/// let app = Router::new().route("/ws", any(|ws: WebSocketUpgrade| async move {
///     ws.on_upgrade(|mut socket| async move { while socket.recv().await.is_some() {} })
/// }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// let config = ServerConfig::builder().shutdown(&shutdown).build().expect("valid config");
/// hyperws::serve(listener, app, &config).await
/// # }
/// ```
pub async fn serve<S, B>(listener: TcpListener, service: S, config: &ServerConfig) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let shutdown = config.shutdown().cloned();
    let handshake_timeout = config.handshake_timeout();
    loop {
        let accepted = match &shutdown {
            Some(shutdown) => tokio::select! {
                accepted = listener.accept() => accepted,
                () = shutdown.triggered() => break,
            },
            None => listener.accept().await,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let result = serve_connection(tcp, service, handshake_timeout, shutdown.as_ref()).await;
            match result {
                Err(e) if is_handshake_timeout(&*e) => {
                    tracing::debug!(%peer, "dropped a client that did not send its request headers in time");
                }
                Err(e) => tracing::debug!(%peer, error = %e, "HTTP connection ended with an error"),
                Ok(()) => {}
            }
        });
    }
    if let Some(shutdown) = shutdown {
        shutdown.closed().await;
    }
    Ok(())
}

/// Serves one connection with hyper's HTTP/1 or HTTP/2 builder, chosen by
/// peeking at the first bytes. (hyper-util's auto builder would hide the
/// `TcpStream` inside a private wrapper, so the upgrade could not take the
/// raw stream back for the fast path.)
async fn serve_connection<S, B>(
    tcp: TcpStream,
    service: TowerToHyperService<S>,
    handshake_timeout: Duration,
    shutdown: Option<&Shutdown>,
) -> Result<(), BoxError>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let is_http2 = match tokio::time::timeout(handshake_timeout, starts_with_http2_preface(&tcp)).await {
        Ok(sniffed) => sniffed?,
        Err(_) => return Err(Box::new(io::Error::from(io::ErrorKind::TimedOut))),
    };
    let io = TokioIo::new(tcp);
    if is_http2 {
        let mut builder = http2::Builder::new(TokioExecutor::new());
        builder.timer(TokioTimer::new()).enable_connect_protocol();
        let connection = builder.serve_connection(io, service);
        drive(connection, shutdown, http2::Connection::graceful_shutdown)
            .await
            .map_err(Into::into)
    } else {
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(handshake_timeout);
        let connection = builder.serve_connection(io, service).with_upgrades();
        drive(connection, shutdown, http1::UpgradeableConnection::graceful_shutdown)
            .await
            .map_err(Into::into)
    }
}

/// Whether a connection ended because its client was too slow to send its
/// request (hyper's header read timeout, or ours while sniffing the preface).
fn is_handshake_timeout(error: &(dyn StdError + 'static)) -> bool {
    error
        .downcast_ref::<hyper::Error>()
        .is_some_and(hyper::Error::is_timeout)
        || error
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut)
}

/// Runs a connection, asking it to wind down gracefully once `shutdown` fires.
async fn drive<C, E>(connection: C, shutdown: Option<&Shutdown>, graceful: fn(Pin<&mut C>)) -> Result<(), E>
where
    C: Future<Output = Result<(), E>>,
{
    let mut connection = std::pin::pin!(connection);
    let Some(shutdown) = shutdown else {
        return connection.await;
    };
    tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.triggered() => {
            graceful(connection.as_mut());
            connection.await
        }
    }
}

/// Whether the client opened with HTTP/2's connection preface (prior
/// knowledge, RFC 9113 §3.4), judged from its first three bytes.
async fn starts_with_http2_preface(tcp: &TcpStream) -> io::Result<bool> {
    let mut first = [0; 3];
    loop {
        let n = tcp.peek(&mut first).await?;
        if n == 0 || first[..n] != b"PRI"[..n] {
            return Ok(false);
        }
        if n == first.len() {
            return Ok(true);
        }
        // A partial "PR": peeking again at once would spin on the same bytes.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

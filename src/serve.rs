//! [`serve`]: an HTTP server with everything a WebSocket server needs.

use std::error::Error as StdError;
use std::io;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;

use crate::{Config, Error};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves `service` on `listener` until `Config::shutdown` is triggered (or
/// forever): HTTP/1.1 with upgrades and HTTP/2 with extended CONNECT, so
/// every server door works; a client that has not sent its request headers
/// within `Config::handshake_timeout` is dropped (slowloris); on shutdown it
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
/// use hyperws::{axum::WebSocketUpgrade, Config, Shutdown};
///
/// # async fn run() -> std::io::Result<()> {
/// let shutdown = Shutdown::new();
/// let app = Router::new().route("/ws", any(|ws: WebSocketUpgrade| async move {
///     ws.on_upgrade(|mut socket| async move { while socket.recv().await.is_some() {} })
/// }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// hyperws::serve(listener, app, &Config::default().shutdown(&shutdown)).await
/// # }
/// ```
pub async fn serve<S, B>(listener: TcpListener, service: S, config: &Config) -> io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.get_handshake_timeout());
    builder.http2().enable_connect_protocol();
    let shutdown = config.get_shutdown().cloned();
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
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let builder = builder.clone();
        let service = TowerToHyperService::new(service.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
            tokio::pin!(connection);
            let result = match &shutdown {
                Some(shutdown) => tokio::select! {
                    result = connection.as_mut() => result,
                    () = shutdown.triggered() => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                },
                None => connection.await,
            };
            if let Err(e) = result {
                let timed_out = e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout);
                if timed_out {
                    tracing::debug!(%peer, error = %Error::HandshakeTimeout, "dropped a slow client");
                } else {
                    tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
                }
            }
        });
    }
    if let Some(shutdown) = shutdown {
        shutdown.closed().await;
    }
    Ok(())
}

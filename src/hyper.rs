//! The hyper door: upgrade one request on a hyper 1 server.

use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{Extensions, HeaderMap, HeaderValue, Method, Request, Response, Uri, Version};
use http_body_util::Full;
use hyper::ext::Protocol;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tracing::Instrument;

use crate::handshake::server::{self, Accept, RequestHead};
use crate::handshake::HandshakeError;
use crate::proto::Role;
use crate::{Config, Error, WebSocket};

/// Validates a WebSocket upgrade request and answers it.
///
/// Returns the response the service must return (`101 Switching Protocols`,
/// or `200 OK` for an HTTP/2 extended CONNECT, RFC 8441), and a future that
/// yields the [`WebSocket`] once hyper has sent that response and handed over
/// the connection. HTTP/1 connections must be served `.with_upgrades()`;
/// HTTP/2 ones with `enable_connect_protocol()`. The request's `Origin` is
/// checked against `Config`'s [`OriginPolicy`](crate::OriginPolicy), and the
/// first of `Config::protocols` the client offers is selected.
///
/// # Errors
/// The rule the request broke; [`HandshakeError::to_response`] is the answer to send.
///
/// ```no_run
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use hyper::{body::{Bytes, Incoming}, Request, Response};
/// use hyperws::{upgrade_request, Config};
///
/// async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
///     let (response, upgraded) = match upgrade_request(&mut request, &Config::default()) {
///         Ok(accepted) => accepted,
///         Err(refused) => return Ok(refused.to_response()),
///     };
///     tokio::spawn(async move {
///         let Ok(mut ws) = upgraded.await else { return };
///         while let Some(Ok(message)) = ws.recv().await {
///             if message.is_text() || message.is_binary() {
///                 let _ = ws.send(message).await;
///             }
///         }
///     });
///     Ok(response)
/// }
/// ```
pub fn upgrade_request<B>(
    request: &mut Request<B>,
    config: &Config,
) -> Result<(Response<Full<Bytes>>, UpgradeFut), HandshakeError> {
    let (accept, upgraded) = accept_request(request, config)?;
    Ok((accept.response(), upgraded))
}

/// Every server-side rule for `request`, in order: the handshake, the
/// origin policy, subprotocol selection, and hyper's upgrade handle.
pub(crate) fn accept_request<B>(
    request: &mut Request<B>,
    config: &Config,
) -> Result<(Accept, UpgradeFut), HandshakeError> {
    let mut accept = server::validate(&request_head(
        request.method(),
        request.version(),
        request.uri(),
        request.headers(),
        request.extensions(),
    ))?;
    accept.check_origin(config.get_origin_policy())?;
    accept.select_protocol(config.get_protocols());
    let on_upgrade = take_on_upgrade(request.extensions_mut())?;
    let upgraded = UpgradeFut::new(on_upgrade, config.clone(), accept.protocol().cloned(), request.uri());
    Ok((accept, upgraded))
}

/// The handshake's view of a request, with hyper's `:protocol` extension.
pub(crate) fn request_head<'a>(
    method: &'a Method,
    version: Version,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    extensions: &'a Extensions,
) -> RequestHead<'a> {
    RequestHead {
        protocol: extensions.get::<Protocol>().map(Protocol::as_str),
        ..RequestHead::new(method, version, uri, headers)
    }
}

/// hyper's handle for taking over the connection once the response is sent.
pub(crate) fn take_on_upgrade(extensions: &mut Extensions) -> Result<OnUpgrade, HandshakeError> {
    extensions
        .remove::<OnUpgrade>()
        .ok_or(HandshakeError::ConnectionNotUpgradable)
}

/// Resolves to the [`WebSocket`] once hyper hands over the connection.
#[derive(Debug)]
#[must_use = "the WebSocket exists only once this future is awaited"]
pub struct UpgradeFut {
    on_upgrade: OnUpgrade,
    config: Config,
    protocol: Option<HeaderValue>,
    path: Box<str>,
}

impl UpgradeFut {
    pub(crate) fn new(on_upgrade: OnUpgrade, config: Config, protocol: Option<HeaderValue>, uri: &Uri) -> Self {
        Self {
            on_upgrade,
            config,
            protocol,
            path: uri.path().into(),
        }
    }
}

impl Future for UpgradeFut {
    type Output = Result<WebSocket<UpgradedIo>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = std::task::ready!(Pin::new(&mut self.on_upgrade).poll(cx)).map_err(io::Error::other)?;
        let (io, read) = UpgradedIo::new(upgraded);
        let ws = WebSocket::from_partially_read(io, read, Role::Server, &self.config);
        Poll::Ready(Ok(ws.with_protocol(self.protocol.take())))
    }
}

/// Runs a server door's handler once the upgrade completes: a failed
/// upgrade goes to `on_failed`; a handler that panics is logged and its
/// socket is closed with 1011, and the panic goes no further.
pub(crate) async fn run_handler<H, Fut>(upgraded: UpgradeFut, handler: H, on_failed: impl FnOnce(Error))
where
    H: FnOnce(WebSocket) -> Fut,
    Fut: Future<Output = ()>,
{
    let path = upgraded.path.clone();
    let ws = match upgraded.await {
        Ok(ws) => ws,
        Err(e) => return on_failed(e),
    };
    let peer = match ws.get_ref() {
        UpgradedIo::Tcp(tcp) => tcp.peer_addr().ok(),
        UpgradedIo::Other(_) => None,
    };
    // Everything the socket logs is inside this span; built once per connection.
    let span = tracing::info_span!("websocket", peer = ?peer, path = %path, protocol = ?ws.protocol());
    span.in_scope(|| tracing::debug!("WebSocket opened"));
    // Unwinding drops the socket the handler owns while the thread is still
    // panicking, which is what makes the socket send 1011 (see `Driver`'s drop).
    let mut handler = std::pin::pin!(handler(ws).instrument(span.clone()));
    let outcome = std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await;
    if let Err(payload) = outcome {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        let _in_span = span.enter(); // no await follows
        tracing::error!(
            panic = message,
            "WebSocket handler panicked; its socket was closed with 1011"
        );
    }
}

/// The transport under a server-side [`WebSocket`]: the raw `TcpStream`
/// when hyper was serving one (the fast path, no boxed IO), or hyper's
/// `Upgraded` otherwise.
#[derive(Debug)]
pub enum UpgradedIo {
    /// The TCP stream hyper was serving.
    Tcp(TcpStream),
    /// Any other transport, through hyper's type-erased IO.
    Other(TokioIo<Upgraded>),
}

impl UpgradedIo {
    /// Unwraps `upgraded`, keeping any bytes hyper read past the handshake.
    fn new(upgraded: Upgraded) -> (Self, BytesMut) {
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => (Self::Tcp(parts.io.into_inner()), BytesMut::from(parts.read_buf)),
            Err(upgraded) => (Self::Other(TokioIo::new(upgraded)), BytesMut::new()),
        }
    }
}

crate::io::enum_io!(UpgradedIo { Tcp, Other });

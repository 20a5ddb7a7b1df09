//! The hyper door: upgrade one request on a hyper 1 server.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method, Request, Response, Uri, Version};
use http_body_util::Full;
use hyper::ext::Protocol;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::handler::run_handler;
use crate::handshake::server::{self, Accept, RequestHead};
use crate::handshake::{HandshakeError, Negotiated, Refusal};
use crate::{ServerConfig, WebSocket};

/// Validates a WebSocket upgrade request and answers it.
///
/// Returns the response the service must return (`101 Switching Protocols`,
/// or `200 OK` for an HTTP/2 extended CONNECT, RFC 8441), and a future that
/// yields the [`WebSocket`] once hyper has sent that response and handed over
/// the connection. HTTP/1 connections must be served `.with_upgrades()`;
/// HTTP/2 ones with `enable_connect_protocol()`. The request's `Origin` is
/// checked against the [`OriginPolicy`](crate::OriginPolicy), and the first
/// of [`ServerConfig::protocols`] the client offers is selected.
///
/// # Errors
/// The rule the request broke, as a [`Refusal`] whose
/// [`to_response`](Refusal::to_response) is the answer to send (it explains
/// itself: for a refused `Origin`, what was seen and the setting that would
/// allow it). Every refusal is logged with `tracing`.
///
/// Authentication, rate limits and other checks of your own run before
/// this call, in the same service function, and answer with any response
/// (the tower layer offers the same as [`WebSocketLayer::accept`](crate::tower::WebSocketLayer::accept)):
///
/// ```no_run
/// # use std::convert::Infallible;
/// # use http_body_util::Full;
/// # use hyper::{body::{Bytes, Incoming}, Request, Response, StatusCode};
/// # use hyperws::{upgrade_request, ServerConfig};
/// async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
///     if request.headers().get("authorization").is_none_or(|token| token != "Bearer s3cret") {
///         let mut refused = Response::new(Full::from("log in first"));
///         *refused.status_mut() = StatusCode::UNAUTHORIZED;
///         return Ok(refused);
///     }
///     match upgrade_request(&mut request, &ServerConfig::default()) {
///         Ok((response, upgraded)) => {
///             tokio::spawn(async move { if let Ok(ws) = upgraded.await { /* … */ } });
///             Ok(response)
///         }
///         Err(refused) => Ok(refused.to_response()),
///     }
/// }
/// ```
///
/// ```no_run
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use hyper::{body::{Bytes, Incoming}, Request, Response};
/// use hyperws::{upgrade_request, ServerConfig};
///
/// async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
///     let (response, upgraded) = match upgrade_request(&mut request, &ServerConfig::default()) {
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
    config: &ServerConfig,
) -> Result<(Response<Full<Bytes>>, UpgradeFut), Refusal> {
    Validated::from_request(request)?.answer(config)
}

/// A request that passed the handshake's rules, holding hyper's handle on
/// its connection: what every server door has between extracting a request
/// and answering it.
#[derive(Debug)]
pub(crate) struct Validated {
    pub(crate) accept: Accept,
    on_upgrade: OnUpgrade,
    path: Box<str>,
}

impl Validated {
    /// Step one, at extraction: the request's method, version and headers
    /// (RFC 6455 §4.2.1, RFC 8441 §4), and hyper's upgrade handle.
    pub(crate) fn from_request<B>(request: &mut Request<B>) -> Result<Self, HandshakeError> {
        let accept = server::validate(&head_of(request));
        let path = request.uri().path().into();
        Self::new(accept, request.extensions_mut(), path)
    }

    /// [`from_request`](Self::from_request) for a request split into parts.
    #[cfg(feature = "axum")]
    pub(crate) fn from_parts(parts: &mut http::request::Parts) -> Result<Self, HandshakeError> {
        let head = request_head(
            &parts.method,
            parts.version,
            &parts.uri,
            &parts.headers,
            &parts.extensions,
        );
        let accept = server::validate(&head);
        Self::new(accept, &mut parts.extensions, parts.uri.path().into())
    }

    /// The validated request with hyper's upgrade handle; every rule
    /// refusal of either step is logged here, once.
    fn new(
        accept: Result<Accept, HandshakeError>,
        extensions: &mut Extensions,
        path: Box<str>,
    ) -> Result<Self, HandshakeError> {
        accept
            .and_then(|accept| {
                let on_upgrade = extensions
                    .remove::<OnUpgrade>()
                    .ok_or(HandshakeError::ConnectionNotUpgradable)?;
                Ok(Self {
                    accept,
                    on_upgrade,
                    path,
                })
            })
            .inspect_err(log_refusal)
    }

    /// Step two, shared by every door: the origin policy, the subprotocol
    /// (unless the handler chose one), and the response.
    pub(crate) fn answer<B: Default>(mut self, config: &ServerConfig) -> Result<(Response<B>, UpgradeFut), Refusal> {
        if let Some(refusal) = self.accept.origin_refusal(config.origin_policy()) {
            // A setting, not a broken client: say so where developers look.
            tracing::warn!(path = %self.path, "{refusal}");
            return Err(refusal);
        }
        self.accept.select_protocol_unless_chosen(config.protocols());
        #[cfg(feature = "deflate")]
        self.accept.negotiate_deflate(config.socket().deflate());
        let upgraded = UpgradeFut {
            on_upgrade: self.on_upgrade,
            config: config.clone(),
            agreed: self.accept.negotiated(),
            path: self.path,
            on_failed: FailedUpgradeHook::default(),
        };
        Ok((self.accept.response(), upgraded))
    }
}

/// Logs a request that broke a handshake rule (quietly: any client can).
#[allow(clippy::trivially_copy_pass_by_ref)] // the shape `inspect_err` calls
fn log_refusal(error: &HandshakeError) {
    tracing::debug!(status = error.status().as_u16(), "WebSocket request refused: {error}");
}

/// The handshake's view of `request`.
pub(crate) fn head_of<B>(request: &Request<B>) -> RequestHead<'_> {
    request_head(
        request.method(),
        request.version(),
        request.uri(),
        request.headers(),
        request.extensions(),
    )
}

/// The handshake's view of a request, with hyper's `:protocol` extension.
fn request_head<'a>(
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

/// Resolves to the [`WebSocket`] once hyper hands over the connection; or
/// runs a handler on it with [`on_upgrade`](Self::on_upgrade), as the other
/// doors do.
///
/// # Errors
/// hyper's, if the connection could not be taken over after the response
/// (the client went away, or the connection was not served with upgrades).
#[derive(Debug)]
#[must_use = "the WebSocket exists only once this future is awaited"]
pub struct UpgradeFut {
    on_upgrade: OnUpgrade,
    config: ServerConfig,
    agreed: Negotiated,
    path: Box<str>,
    on_failed: FailedUpgradeHook,
}

impl UpgradeFut {
    /// Runs `handler` on the socket in a new task, exactly as the axum
    /// extractor and the tower layer do: inside a `tracing` span naming the
    /// peer, path and subprotocol; a handler that panics is logged and its
    /// socket closed with 1011; a connection that cannot be taken over is
    /// logged (at `DEBUG`) and given to the
    /// [`on_failed_upgrade`](Self::on_failed_upgrade) hook.
    ///
    /// ```no_run
    /// # use hyperws::{upgrade_request, ServerConfig, WebSocket};
    /// # fn run(mut request: hyper::Request<hyper::body::Incoming>) {
    /// let (response, upgraded) = upgrade_request(&mut request, &ServerConfig::default()).unwrap();
    /// upgraded.on_upgrade(|mut ws: WebSocket| async move {
    ///     while let Some(Ok(message)) = ws.recv().await {
    ///         let _ = ws.send(message).await;
    ///     }
    /// });
    /// // return `response` from the service
    /// # }
    /// ```
    pub fn on_upgrade<H, Fut>(mut self, handler: H)
    where
        H: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let on_failed = std::mem::take(&mut self.on_failed);
        tokio::spawn(self.run(handler, move |e| on_failed.call(e)));
    }

    /// Runs `handler` on the socket once upgraded, as every door does
    /// (see [`run_handler`]); a failed upgrade goes to `on_failed`.
    pub(crate) fn run<H, Fut>(self, handler: H, on_failed: impl FnOnce(hyper::Error)) -> impl Future<Output = ()>
    where
        H: FnOnce(WebSocket) -> Fut,
        Fut: Future<Output = ()>,
    {
        let path = self.path.clone();
        // Boxed: an async fn keeps its arguments for as long as it runs, so
        // unboxed, this future's 300-odd bytes would stay in every socket's
        // task beside the handler (the scale test's heap profile showed it).
        run_handler(Box::pin(self), path, handler, on_failed)
    }

    /// Calls `callback` if the connection cannot be taken over after the
    /// response, when the socket is run with [`on_upgrade`](Self::on_upgrade)
    /// (awaiting this future yields the error instead).
    pub fn on_failed_upgrade(mut self, callback: impl FnOnce(hyper::Error) + Send + 'static) -> Self {
        self.on_failed = FailedUpgradeHook(Some(Box::new(callback)));
        self
    }
}

impl Future for UpgradeFut {
    type Output = Result<WebSocket<UpgradedIo>, hyper::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = std::task::ready!(Pin::new(&mut self.on_upgrade).poll(cx))?;
        let (io, read) = UpgradedIo::new(upgraded);
        let agreed = std::mem::take(&mut self.agreed);
        Poll::Ready(Ok(WebSocket::server(io, &read, &self.config, agreed)))
    }
}

/// What [`UpgradeFut::on_failed_upgrade`] was given, if anything.
#[derive(Default)]
struct FailedUpgradeHook(Option<Box<dyn FnOnce(hyper::Error) + Send>>);

impl FailedUpgradeHook {
    fn call(self, error: hyper::Error) {
        if let Some(hook) = self.0 {
            hook(error);
        }
    }
}

impl std::fmt::Debug for FailedUpgradeHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

/// The transport under a server-side [`WebSocket`]: the raw `TcpStream`
/// when hyper was serving one (the fast path, no boxed IO), or hyper's
/// type-erased `Upgraded` otherwise.
#[derive(Debug)]
pub struct UpgradedIo(Transport);

#[derive(Debug)]
enum Transport {
    Tcp(TcpStream),
    Other(TokioIo<Upgraded>),
}

crate::io::enum_io!(Transport { Tcp, Other });
crate::io::newtype_io!(UpgradedIo);

impl UpgradedIo {
    /// Unwraps `upgraded`, keeping any bytes hyper read past the handshake.
    fn new(upgraded: Upgraded) -> (Self, Bytes) {
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => (Self(Transport::Tcp(parts.io.into_inner())), parts.read_buf),
            Err(upgraded) => (Self(Transport::Other(TokioIo::new(upgraded))), Bytes::new()),
        }
    }

    /// The TCP stream under the socket, when hyper was serving a plain one
    /// (behind hyper's `http1`/`http2` builders or [`serve`](crate::serve);
    /// not behind TLS, or `axum::serve`, which wraps the stream).
    #[must_use]
    pub fn tcp_stream(&self) -> Option<&TcpStream> {
        match &self.0 {
            Transport::Tcp(tcp) => Some(tcp),
            Transport::Other(_) => None,
        }
    }
}

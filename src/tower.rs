//! The tower door: [`WebSocketLayer`] adds WebSocket endpoints to any
//! `Service<Request<B>>`.
//!
//! Requests that ask for a WebSocket (an `Upgrade: websocket` over HTTP/1.1,
//! an extended CONNECT over HTTP/2) on a matching path are answered here and
//! their sockets handed to the handler; every other request goes to the
//! inner service untouched. An upgrade request that breaks a rule gets the
//! 4xx naming the rule.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use hyper::body::Bytes;
//! use hyperws::{tower::WebSocketLayer, WebSocket};
//! use tower::{service_fn, ServiceBuilder};
//!
//! let inner = service_fn(|_request: Request<()>| async {
//!     Ok::<_, Infallible>(Response::new(Full::<Bytes>::from("plain HTTP")))
//! });
//! let service = ServiceBuilder::new()
//!     .layer(WebSocketLayer::new(|mut ws: WebSocket| async move {
//!         while let Some(Ok(message)) = ws.recv().await {
//!             let _ = ws.send(message).await;
//!         }
//!     }).path("/ws"))
//!     .service(inner);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, Uri};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::handshake::Refusal;
use crate::hyper::{head_of, run_handler, Validated};
use crate::{ServerConfig, WebSocket};

/// The code that runs on each accepted socket: any
/// `FnOnce(WebSocket) -> impl Future<Output = ()>` that is `Clone`.
pub trait WebSocketHandler: Clone + Send + 'static {
    /// What the handler returns.
    type Future: Future<Output = ()> + Send + 'static;

    /// Runs on one socket.
    fn call(self, ws: WebSocket) -> Self::Future;
}

impl<F, Fut> WebSocketHandler for F
where
    F: FnOnce(WebSocket) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    type Future = Fut;

    fn call(self, ws: WebSocket) -> Fut {
        self(ws)
    }
}

/// Which request paths the layer serves.
#[derive(Clone)]
enum Route {
    Any,
    Path(Arc<str>),
    Predicate(Arc<dyn Fn(&Uri) -> bool + Send + Sync>),
}

impl Route {
    fn matches(&self, uri: &Uri) -> bool {
        match self {
            Self::Any => true,
            Self::Path(path) => uri.path() == &**path,
            Self::Predicate(predicate) => predicate(uri),
        }
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("Any"),
            Self::Path(path) => write!(f, "Path({path:?})"),
            Self::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

/// A [`Layer`] that serves WebSocket requests with a handler and passes
/// everything else to the service it wraps.
#[derive(Clone, Debug)]
pub struct WebSocketLayer<H> {
    handler: H,
    config: ServerConfig,
    route: Route,
}

impl<H: WebSocketHandler> WebSocketLayer<H> {
    /// Serves WebSocket requests on every path with `handler`.
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            config: ServerConfig::default(),
            route: Route::Any,
        }
    }

    /// Uses `config` for every socket (limits, origins, subprotocols).
    #[must_use]
    pub fn with_config(mut self, config: impl Into<ServerConfig>) -> Self {
        self.config = config.into();
        self
    }

    /// Serves only requests for exactly this path.
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.route = Route::Path(path.into());
        self
    }

    /// Serves only requests whose URI passes `predicate`.
    #[must_use]
    pub fn predicate(mut self, predicate: impl Fn(&Uri) -> bool + Send + Sync + 'static) -> Self {
        self.route = Route::Predicate(Arc::new(predicate));
        self
    }
}

impl<S, H: Clone> Layer<S> for WebSocketLayer<H> {
    type Service = WebSocketService<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        WebSocketService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`WebSocketLayer`] makes.
#[derive(Clone, Debug)]
pub struct WebSocketService<S, H> {
    inner: S,
    layer: WebSocketLayer<H>,
}

impl<S, H, ReqBody, ResBody> Service<Request<ReqBody>> for WebSocketService<S, H>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    H: WebSocketHandler,
    ResBody: Default + From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if !head_of(&request).is_upgrade_attempt() || !self.layer.route.matches(request.uri()) {
            return ResponseFuture::inner(self.inner.call(request));
        }
        let answered = Validated::from_request(&mut request)
            .map_err(Refusal::from)
            .and_then(|v| v.answer(&self.layer.config));
        let response = match answered {
            Ok((response, upgraded)) => {
                let handler = self.layer.handler.clone();
                let on_failed = |e| tracing::debug!(error = %e, "WebSocket upgrade failed after the response");
                tokio::spawn(run_handler(upgraded, move |ws| handler.call(ws), on_failed));
                response
            }
            Err(refused) => refused.to_response(),
        };
        ResponseFuture::ready(response)
    }
}

pin_project! {
    /// The response of a [`WebSocketService`]: the inner service's, or ours.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Ready { response: Option<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    fn ready(response: Response<B>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }
}

impl<F, B> fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Inner { .. } => "ResponseFuture::Inner",
            Kind::Ready { .. } => "ResponseFuture::Ready",
        })
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future.poll(cx),
            KindProj::Ready { response } => {
                Poll::Ready(Ok(response.take().expect("ResponseFuture polled after completion")))
            }
        }
    }
}

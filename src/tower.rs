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
use crate::hyper::{head_of, Validated};
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

/// The application's say on each upgrade request (see [`WebSocketLayer::accept`]).
type AcceptHook = Arc<dyn Fn(Request<()>) -> BoxFuture<Result<(), Response<String>>> + Send + Sync>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the application is told of a connection that could not be taken
/// over after the response (see [`WebSocketLayer::on_failed_upgrade`]).
type FailedUpgradeHook = Arc<dyn Fn(hyper::Error) + Send + Sync>;

/// A [`Layer`] that serves WebSocket requests with a handler and passes
/// everything else to the service it wraps.
#[derive(Clone)]
pub struct WebSocketLayer<H> {
    handler: H,
    config: ServerConfig,
    route: Route,
    accept: Option<AcceptHook>,
    on_failed: Option<FailedUpgradeHook>,
}

impl<H: fmt::Debug> fmt::Debug for WebSocketLayer<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketLayer")
            .field("handler", &self.handler)
            .field("config", &self.config)
            .field("route", &self.route)
            .field("accept", &self.accept.as_ref().map(|_| ".."))
            .field("on_failed", &self.on_failed.as_ref().map(|_| ".."))
            .finish()
    }
}

impl<H: WebSocketHandler> WebSocketLayer<H> {
    /// Serves WebSocket requests on every path with `handler`.
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            config: ServerConfig::default(),
            route: Route::Any,
            accept: None,
            on_failed: None,
        }
    }

    /// Asks `hook` about each valid upgrade request before answering it —
    /// authentication, rate limits — as axum apps do in their extractors:
    /// `Ok(())` accepts, `Err(response)` answers with that response instead
    /// (a 401, a 429). The hook sees the request's method, URI, version and
    /// headers.
    ///
    /// ```
    /// use http::{Request, Response, StatusCode};
    /// use hyperws::{tower::WebSocketLayer, WebSocket};
    ///
    /// let layer = WebSocketLayer::new(|_ws: WebSocket| async {}).accept(|request: Request<()>| async move {
    ///     match request.headers().get("authorization") {
    ///         Some(token) if token == "Bearer s3cret" => Ok(()),
    ///         _ => Err(Response::builder().status(StatusCode::UNAUTHORIZED).body("log in first".into()).unwrap()),
    ///     }
    /// });
    /// ```
    #[must_use]
    pub fn accept<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Request<()>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Response<String>>> + Send + 'static,
    {
        self.accept = Some(Arc::new(move |request| Box::pin(hook(request))));
        self
    }

    /// Uses `config` for every socket (limits, origins, subprotocols).
    #[must_use]
    pub fn config(mut self, config: impl Into<ServerConfig>) -> Self {
        self.config = config.into();
        self
    }

    /// Calls `callback` whenever a connection cannot be taken over after
    /// the response (it is always logged at `DEBUG`), as axum's
    /// `on_failed_upgrade` does for the extractor.
    ///
    /// ```
    /// use hyperws::{tower::WebSocketLayer, WebSocket};
    /// let layer = WebSocketLayer::new(|_ws: WebSocket| async {})
    ///     .on_failed_upgrade(|error| eprintln!("upgrade failed: {error}"));
    /// ```
    #[must_use]
    pub fn on_failed_upgrade(mut self, callback: impl Fn(hyper::Error) + Send + Sync + 'static) -> Self {
        self.on_failed = Some(Arc::new(callback));
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
    ResBody: Default + From<String> + Send + 'static,
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
        let validated = match Validated::from_request(&mut request) {
            Ok(validated) => validated,
            Err(refused) => return ResponseFuture::ready(Refusal::from(refused).to_response()),
        };
        let Some(hook) = &self.layer.accept else {
            return ResponseFuture::ready(answer(validated, &self.layer));
        };
        let (asked, layer) = (hook(head_only(&request)), self.layer.clone());
        ResponseFuture::boxed(Box::pin(async move {
            match asked.await {
                Ok(()) => answer(validated, &layer),
                Err(response) => response.map(ResBody::from),
            }
        }))
    }
}

/// Answers a valid request and runs the layer's handler on its socket once upgraded.
fn answer<H: WebSocketHandler, B: Default + From<String>>(
    validated: Validated,
    layer: &WebSocketLayer<H>,
) -> Response<B> {
    match validated.answer(&layer.config) {
        Ok((response, upgraded)) => {
            let (handler, on_failed) = (layer.handler.clone(), layer.on_failed.clone());
            let on_failed = move |e| {
                if let Some(hook) = on_failed {
                    hook(e);
                }
            };
            tokio::spawn(upgraded.run(move |ws| handler.call(ws), on_failed));
            response
        }
        Err(refused) => refused.to_response(),
    }
}

/// The request without its body or extensions, for the accept hook.
fn head_only<B>(request: &Request<B>) -> Request<()> {
    let mut head = Request::new(());
    *head.method_mut() = request.method().clone();
    *head.uri_mut() = request.uri().clone();
    *head.version_mut() = request.version();
    *head.headers_mut() = request.headers().clone();
    head
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
        Boxed { future: BoxFuture<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    fn boxed(future: BoxFuture<Response<B>>) -> Self {
        Self {
            kind: Kind::Boxed { future },
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
            Kind::Boxed { .. } => "ResponseFuture::Boxed",
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
            KindProj::Boxed { future } => future.as_mut().poll(cx).map(Ok),
        }
    }
}

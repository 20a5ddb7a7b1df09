//! The axum door: [`WebSocketUpgrade`], a drop-in for `axum::extract::ws`.
//!
//! Switching an axum app is an import change:
//!
//! ```diff
//! -use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
//! +use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
//! ```
//!
//! Everything `axum::extract::ws` exports has a namesake here with axum's
//! signatures: [`WebSocket`]'s `recv`, `send`, `Stream` and `Sink` (and so
//! `futures`' split halves) yield `axum::Error`, and
//! [`WebSocketUpgradeRejection`] is an enum with axum's variants, so an app
//! whose own types name them builds unchanged. What differs, on purpose:
//!
//! - requests from another site's `Origin` are refused with 403 unless
//!   allowed (see [`OriginPolicy`](crate::OriginPolicy));
//! - `CloseFrame::code` is the [`CloseCode`] newtype, so write
//!   `close_code::NORMAL` or `CloseCode::from(4000)` rather than a bare number;
//! - [`Message`] and [`Utf8Bytes`] are hyperws's own types, shaped like
//!   axum's (the same variants, constructors and accessors), not axum's
//!   values: an app that builds messages with `axum::extract::ws::Message`
//!   elsewhere converts them;
//! - a setter given a bad value (`max_message_size(0)`) cannot fail where
//!   axum's signature returns `Self`: [`on_upgrade`](WebSocketUpgrade::on_upgrade)
//!   answers 500 and logs the setting. To have the error up front, as the
//!   other doors do, build a [`ServerConfig`](crate::ServerConfig) and pass it
//!   with [`config`](WebSocketUpgrade::config);
//! - [`WebSocket`] also reaches hyperws's whole socket through `Deref`
//!   (`feed`, `flush`, `close`, topics), whose methods return the typed
//!   [`hyperws::Error`](crate::Error); [`socket_error`] finds that typed error
//!   inside an `axum::Error`.

//! # Example
//!
//! ```
//! use axum::{response::Response, routing::any, Router};
//! use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
//!
//! let app: Router = Router::new().route("/ws", any(handler));
//!
//! async fn handler(ws: WebSocketUpgrade) -> Response {
//!     ws.protocols(["chat"]).on_upgrade(handle_socket)
//! }
//!
//! async fn handle_socket(mut socket: WebSocket) {
//!     while let Some(Ok(msg)) = socket.recv().await {
//!         if let Message::Text(text) = msg {
//!             if socket.send(Message::Text(text)).await.is_err() {
//!                 return; // client disconnected
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! # Passing state to the socket
//!
//! ```
//! use axum::{extract::State, response::Response, routing::any, Router};
//! use hyperws::axum::{WebSocket, WebSocketUpgrade};
//!
//! #[derive(Clone)]
//! struct AppState { greeting: &'static str }
//!
//! async fn handler(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
//!     ws.on_upgrade(move |socket| greet(socket, state))
//! }
//!
//! async fn greet(mut socket: WebSocket, state: AppState) {
//!     let _ = socket.send(state.greeting.into()).await;
//! }
//!
//! let app: Router = Router::new().route("/ws", any(handler)).with_state(AppState { greeting: "hi" });
//! ```
//!
//! # Reading and writing from two tasks
//!
//! `futures`' `StreamExt::split` works as with axum; [`WebSocket::into_split`]
//! gives halves with their own `recv`/`send` methods.
//!
//! ```
//! use futures_util::{SinkExt, StreamExt};
//! use hyperws::axum::{Message, WebSocket};
//!
//! async fn handle_socket(socket: WebSocket) {
//!     let (mut sender, mut receiver) = socket.split();
//!     tokio::spawn(async move {
//!         let _ = sender.send(Message::text("tick")).await;
//!     });
//!     while let Some(Ok(_message)) = receiver.next().await {}
//! }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode};

pub mod close_code;
pub mod rejection;
mod socket;

pub use self::rejection::WebSocketUpgradeRejection;
pub use self::socket::{socket_error, WebSocket};
use crate::hyper::Validated;
pub use crate::{CloseCode, CloseFrame, Message, Utf8Bytes};
use crate::{ConfigBuilder, ConfigError, ServerConfig, ServerConfigBuilder};

/// Extractor for a WebSocket upgrade request; [`on_upgrade`](Self::on_upgrade)
/// answers it and runs your handler on the socket.
///
/// Accepts HTTP/1.1 `GET` upgrades and HTTP/2 extended `CONNECT`s (RFC 8441),
/// so route it with `any`. The request's headers are checked at extraction
/// (a broken rule is a [`WebSocketUpgradeRejection`]); the origin policy and
/// subprotocol selection run in `on_upgrade`, the same step the other doors use.
#[must_use]
pub struct WebSocketUpgrade<F = DefaultOnFailedUpgrade> {
    config: Result<ServerConfig, ConfigError>,
    validated: Validated,
    on_failed_upgrade: F,
}

impl<F> fmt::Debug for WebSocketUpgrade<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("config", &self.config)
            .field("validated", &self.validated)
            .finish_non_exhaustive()
    }
}

impl<F> WebSocketUpgrade<F> {
    /// Replaces the whole [`ServerConfig`] (socket limits, origins, subprotocols).
    pub fn config(mut self, config: impl Into<ServerConfig>) -> Self {
        self.config = Ok(config.into());
        self
    }

    /// See [`ConfigBuilder::read_buffer_size`](crate::ConfigBuilder::read_buffer_size).
    pub fn read_buffer_size(self, size: usize) -> Self {
        self.with_socket(|c| c.read_buffer_size(size))
    }

    /// See [`ConfigBuilder::write_buffer_size`](crate::ConfigBuilder::write_buffer_size).
    pub fn write_buffer_size(self, size: usize) -> Self {
        self.with_socket(|c| c.write_buffer_size(size))
    }

    /// See [`ConfigBuilder::max_write_buffer_size`](crate::ConfigBuilder::max_write_buffer_size).
    pub fn max_write_buffer_size(self, max: usize) -> Self {
        self.with_socket(|c| c.max_write_buffer_size(max))
    }

    /// Accepts the client's permessage-deflate offer with these settings;
    /// see [`ConfigBuilder::deflate`](crate::ConfigBuilder::deflate).
    ///
    /// ```
    /// use axum::response::Response;
    /// use hyperws::axum::{WebSocket, WebSocketUpgrade};
    /// use hyperws::DeflateConfig;
    ///
    /// async fn handler(ws: WebSocketUpgrade) -> Response {
    ///     ws.deflate(DeflateConfig::default()).on_upgrade(|_socket: WebSocket| async {})
    /// }
    /// ```
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(self, settings: crate::DeflateConfig) -> Self {
        self.with_socket(|c| c.deflate(settings))
    }

    /// See [`ConfigBuilder::max_message_size`](crate::ConfigBuilder::max_message_size).
    pub fn max_message_size(self, max: usize) -> Self {
        self.with_socket(|c| c.max_message_size(max))
    }

    /// See [`ConfigBuilder::max_frame_size`](crate::ConfigBuilder::max_frame_size).
    pub fn max_frame_size(self, max: usize) -> Self {
        self.with_socket(|c| c.max_frame_size(max))
    }

    /// See [`ServerConfigBuilder::accept_unmasked_frames`].
    pub fn accept_unmasked_frames(self, accept: bool) -> Self {
        self.with_server(|c| c.accept_unmasked_frames(accept))
    }

    /// See [`ServerConfigBuilder::allowed_origins`].
    pub fn allowed_origins<I>(self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.with_server(|c| c.allowed_origins(origins))
    }

    /// See [`ServerConfigBuilder::allow_any_origin`].
    pub fn allow_any_origin(self) -> Self {
        self.with_server(ServerConfigBuilder::allow_any_origin)
    }

    /// Selects the first of `protocols` that the client offered, instead of
    /// the [`ServerConfig`]'s list.
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Cow<'static, str>>,
    {
        let ours: Vec<HeaderValue> = protocols
            .into_iter()
            .filter_map(|p| HeaderValue::from_str(&p.into()).ok())
            .collect();
        self.validated.accept.select_protocol(&ours);
        self
    }

    /// The subprotocols the client offered, in its order.
    pub fn requested_protocols(&self) -> impl Iterator<Item = &HeaderValue> {
        self.validated.accept.requested_protocols()
    }

    /// Sets the subprotocol to answer with, whatever the client offered.
    pub fn set_selected_protocol(&mut self, protocol: HeaderValue) {
        self.validated.accept.set_protocol(Some(protocol));
    }

    /// The subprotocol the response will name, if one was selected here
    /// (otherwise `on_upgrade` selects from the [`ServerConfig`]).
    pub fn selected_protocol(&self) -> Option<&HeaderValue> {
        self.validated.accept.protocol()
    }

    /// Calls `callback` if the connection cannot be taken over after the
    /// response (by default such errors are ignored).
    pub fn on_failed_upgrade<C: OnFailedUpgrade>(self, callback: C) -> WebSocketUpgrade<C> {
        WebSocketUpgrade {
            config: self.config,
            validated: self.validated,
            on_failed_upgrade: callback,
        }
    }

    /// Answers the request and, once the connection is taken over, runs
    /// `callback` on the socket in a new task. A callback that panics is
    /// logged and its socket closed with 1011.
    ///
    /// Returns 403 instead if the request's `Origin` is not allowed, and 500
    /// (logged) if a setting made on this extractor was invalid.
    #[must_use = "the upgrade happens only if this response is returned"]
    pub fn on_upgrade<C, Fut>(self, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
        F: OnFailedUpgrade,
    {
        let config = match self.config {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "WebSocket upgrade refused: the extractor's settings are invalid");
                return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
            }
        };
        let (response, upgraded) = match self.validated.answer(&config) {
            Ok(answered) => answered,
            Err(refused) => return refused.to_response::<Body>(),
        };
        let on_failed = self.on_failed_upgrade;
        let callback = move |socket| callback(WebSocket::new(socket));
        tokio::spawn(upgraded.run(callback, move |e| {
            on_failed.call(axum_core::Error::new(e));
        }));
        response
    }

    fn with_socket(self, change: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.with_server(|server| match change(server.socket_config().to_builder()).build() {
            Ok(socket) => server.socket(socket),
            Err(e) => server.invalid(e),
        })
    }

    fn with_server(mut self, change: impl FnOnce(ServerConfigBuilder) -> ServerConfigBuilder) -> Self {
        self.config = self.config.and_then(|config| change(config.to_builder()).build());
        self
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade<DefaultOnFailedUpgrade> {
    type Rejection = WebSocketUpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            config: Ok(ServerConfig::default()),
            validated: Validated::from_parts(parts).map_err(WebSocketUpgradeRejection::from)?,
            on_failed_upgrade: DefaultOnFailedUpgrade,
        })
    }
}

/// What to do when taking over the connection fails after the response.
pub trait OnFailedUpgrade: Send + 'static {
    /// Handles the failure.
    fn call(self, error: axum_core::Error);
}

impl<F: FnOnce(axum_core::Error) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: axum_core::Error) {
        self(error);
    }
}

/// The default [`OnFailedUpgrade`]: ignores the error.
#[derive(Debug)]
#[non_exhaustive]
pub struct DefaultOnFailedUpgrade;

impl OnFailedUpgrade for DefaultOnFailedUpgrade {
    fn call(self, _error: axum_core::Error) {}
}

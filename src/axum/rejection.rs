//! Why [`WebSocketUpgrade`](super::WebSocketUpgrade) refused a request, under
//! axum's names: the enum [`WebSocketUpgradeRejection`] with axum's variants,
//! each holding a rejection struct, so code that matches axum's rejections
//! compiles unchanged. Each carries the precise [`HandshakeError`] (which
//! rule was broken) for its status and body.

use std::fmt;

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;

pub use crate::handshake::HandshakeError;

/// Defines one rejection struct: opaque, carrying the broken rule.
macro_rules! rejection {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(HandshakeError);

        impl $name {
            /// The response body: the rule that was broken.
            #[must_use]
            pub fn body_text(&self) -> String {
                self.0.message().to_owned()
            }

            /// The response status.
            #[must_use]
            pub fn status(&self) -> StatusCode {
                self.0.status()
            }

            /// The precise rule that was broken.
            #[must_use]
            pub fn handshake_error(&self) -> HandshakeError {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::error::Error for $name {}

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                self.0.to_response::<Body>()
            }
        }
    };
}

rejection!(
    /// The HTTP/1.1 request's method was not `GET` (405).
    MethodNotGet
);
rejection!(
    /// The HTTP/2 request's method was not `CONNECT` (405).
    MethodNotConnect
);
rejection!(
    /// `Connection` did not include `upgrade` (400).
    InvalidConnectionHeader
);
rejection!(
    /// `Upgrade` did not include `websocket` (400).
    InvalidUpgradeHeader
);
rejection!(
    /// The HTTP/2 `:protocol` pseudo-header was not `websocket` (400).
    InvalidProtocolPseudoheader
);
rejection!(
    /// `Sec-WebSocket-Version` was missing, repeated or not 13 (426).
    InvalidWebSocketVersionHeader
);
rejection!(
    /// `Sec-WebSocket-Key` was missing, repeated, or not 16 bytes in base64
    /// (400; axum checks only that it is present).
    WebSocketKeyHeaderMissing
);
rejection!(
    /// The connection cannot be taken over (426): HTTP/1.0, a hyper
    /// connection without `with_upgrades()`, HTTP/2 without extended CONNECT.
    ConnectionNotUpgradable
);
rejection!(
    /// An HTTP/1.1 request without `Host` (400; RFC 6455 §4.1 requires it).
    /// Not one of axum's: axum does not check it.
    HostHeaderMissing
);
rejection!(
    /// The request's `Origin` is not allowed (403; see
    /// [`OriginPolicy`](crate::OriginPolicy)). The extractor never returns
    /// it: the origin is checked in `on_upgrade`, which answers 403 itself.
    OriginNotAllowed
);
rejection!(
    /// Neither HTTP/1.1 nor HTTP/2 (400). Not one of axum's, which reports
    /// HTTP/1.0 as [`ConnectionNotUpgradable`].
    HttpVersionNotSupported
);

/// Why a request could not be upgraded: axum's variants (and three more
/// for rules axum does not check), each answered with its status and a body
/// naming the rule.
///
/// ```
/// use axum::response::{IntoResponse, Response};
/// use hyperws::axum::rejection::WebSocketUpgradeRejection;
/// use hyperws::axum::WebSocketUpgrade;
///
/// async fn handler(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> Response {
///     match ws {
///         Ok(ws) => ws.on_upgrade(|_socket| async {}),
///         Err(WebSocketUpgradeRejection::MethodNotGet(_)) => "use GET".into_response(),
///         Err(other) => other.into_response(),
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant's struct says what it is
pub enum WebSocketUpgradeRejection {
    MethodNotGet(MethodNotGet),
    MethodNotConnect(MethodNotConnect),
    InvalidConnectionHeader(InvalidConnectionHeader),
    InvalidUpgradeHeader(InvalidUpgradeHeader),
    InvalidProtocolPseudoheader(InvalidProtocolPseudoheader),
    InvalidWebSocketVersionHeader(InvalidWebSocketVersionHeader),
    WebSocketKeyHeaderMissing(WebSocketKeyHeaderMissing),
    ConnectionNotUpgradable(ConnectionNotUpgradable),
    HostHeaderMissing(HostHeaderMissing),
    HttpVersionNotSupported(HttpVersionNotSupported),
    OriginNotAllowed(OriginNotAllowed),
}

impl WebSocketUpgradeRejection {
    /// The precise rule that was broken.
    #[must_use]
    pub fn handshake_error(&self) -> HandshakeError {
        match self {
            Self::MethodNotGet(r) => r.0,
            Self::MethodNotConnect(r) => r.0,
            Self::InvalidConnectionHeader(r) => r.0,
            Self::InvalidUpgradeHeader(r) => r.0,
            Self::InvalidProtocolPseudoheader(r) => r.0,
            Self::InvalidWebSocketVersionHeader(r) => r.0,
            Self::WebSocketKeyHeaderMissing(r) => r.0,
            Self::ConnectionNotUpgradable(r) => r.0,
            Self::HostHeaderMissing(r) => r.0,
            Self::HttpVersionNotSupported(r) => r.0,
            Self::OriginNotAllowed(r) => r.0,
        }
    }

    /// The response status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.handshake_error().status()
    }

    /// The response body: the rule that was broken.
    #[must_use]
    pub fn body_text(&self) -> String {
        self.handshake_error().message().to_owned()
    }
}

impl From<HandshakeError> for WebSocketUpgradeRejection {
    /// Files a broken rule under axum's variant for it.
    fn from(e: HandshakeError) -> Self {
        match e {
            HandshakeError::MethodNotGet => Self::MethodNotGet(MethodNotGet(e)),
            HandshakeError::MethodNotConnect => Self::MethodNotConnect(MethodNotConnect(e)),
            HandshakeError::MissingConnectionUpgrade => Self::InvalidConnectionHeader(InvalidConnectionHeader(e)),
            HandshakeError::MissingProtocolPseudoHeader => {
                Self::InvalidProtocolPseudoheader(InvalidProtocolPseudoheader(e))
            }
            HandshakeError::UnsupportedVersion => Self::InvalidWebSocketVersionHeader(InvalidWebSocketVersionHeader(e)),
            HandshakeError::InvalidKey => Self::WebSocketKeyHeaderMissing(WebSocketKeyHeaderMissing(e)),
            HandshakeError::ConnectionNotUpgradable => Self::ConnectionNotUpgradable(ConnectionNotUpgradable(e)),
            HandshakeError::MissingHost => Self::HostHeaderMissing(HostHeaderMissing(e)),
            HandshakeError::HttpVersionNotSupported => Self::HttpVersionNotSupported(HttpVersionNotSupported(e)),
            HandshakeError::MissingUpgradeWebSocket => Self::InvalidUpgradeHeader(InvalidUpgradeHeader(e)),
            HandshakeError::OriginNotAllowed => Self::OriginNotAllowed(OriginNotAllowed(e)),
        }
    }
}

impl IntoResponse for WebSocketUpgradeRejection {
    fn into_response(self) -> Response {
        self.handshake_error().to_response::<Body>()
    }
}

impl fmt::Display for WebSocketUpgradeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.handshake_error(), f)
    }
}

impl std::error::Error for WebSocketUpgradeRejection {}

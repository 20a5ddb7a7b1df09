//! The opening handshake (RFC 6455 §4) over `http` types only.
//!
//! Each header rule is written once here; the server doors (hyper, tower,
//! axum) and the client call into it and never check headers themselves.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use sha1::{Digest, Sha1};

pub mod client;
#[cfg(feature = "deflate")]
mod deflate;
pub mod server;

/// The negotiation's pieces, for this crate's fuzz targets only: not part
/// of the API, and free to change in any release.
#[cfg(feature = "deflate")]
#[doc(hidden)]
pub mod internals {
    pub use super::deflate::{accept_offer, check_answer, offer};
}

/// RFC 6455 §1.3: the GUID appended to the client's key.
const WEBSOCKET_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this crate speaks (RFC 6455 §4.1).
pub const WEBSOCKET_VERSION: &str = "13";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
///
/// ```
/// // The example from RFC 6455 §1.3.
/// assert_eq!(hyperws::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(WEBSOCKET_GUID);
    STANDARD.encode(sha1.finalize())
}

/// Whether any `name` header holds `token` in its comma-separated list,
/// compared case-insensitively, as RFC 7230 §7 and §6.7 define these lists.
///
/// ```
/// use http::{HeaderMap, header::CONNECTION};
/// let mut headers = HeaderMap::new();
/// headers.append(CONNECTION, "keep-alive, Upgrade".parse().unwrap());
/// assert!(hyperws::handshake::header_has_token(&headers, &CONNECTION, "upgrade"));
/// assert!(!hyperws::handshake::header_has_token(&headers, &CONNECTION, "upgrad"));
/// ```
#[must_use]
pub fn header_has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    header_tokens(headers.get_all(name)).any(|item| item.eq_ignore_ascii_case(token))
}

/// The header's value when it appears exactly once; `None` when it is
/// absent or repeated (RFC 6455 §11.3 forbids repeating the key, the
/// version, the accept key and the chosen subprotocol).
pub(crate) fn only_value<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

/// The items of comma-separated header values, trimmed, empty ones skipped.
pub(crate) fn header_tokens<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> impl Iterator<Item = &'a str> {
    values
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// What the opening handshake agreed besides the upgrade itself: the
/// subprotocol and permessage-deflate's parameters. A custom door gets it
/// from [`server::Accept::negotiated`], a custom client from
/// [`client::verify_negotiated`]; [`WebSocket::from_negotiated`](crate::WebSocket::from_negotiated)
/// builds the socket with it, compression and `protocol()` included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The subprotocol (RFC 6455 §1.9).
    pub(crate) protocol: Option<HeaderValue>,
    /// permessage-deflate (RFC 7692).
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<crate::DeflateParams>,
}

impl Negotiated {
    /// The subprotocol agreed, if any.
    #[must_use]
    pub fn protocol(&self) -> Option<&HeaderValue> {
        self.protocol.as_ref()
    }

    /// The permessage-deflate parameters agreed, if any.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub fn deflate(&self) -> Option<crate::DeflateParams> {
        self.deflate
    }

    /// `conn` set up as agreed, with `config`'s compression settings.
    #[cfg_attr(not(feature = "deflate"), allow(unused_variables, clippy::unused_self))]
    pub(crate) fn apply(&self, conn: crate::proto::Connection, config: &crate::Config) -> crate::proto::Connection {
        #[cfg(feature = "deflate")]
        if let (Some(params), Some(settings)) = (self.deflate, config.deflate()) {
            return conn.with_deflate(params, settings);
        }
        conn
    }
}

/// Why an upgrade request was refused: each variant is one broken rule with
/// one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// An HTTP/1.1 request's method was not `GET` (405).
    MethodNotGet,
    /// An HTTP/2 request's method was not `CONNECT` (405, RFC 8441).
    MethodNotConnect,
    /// An HTTP/2 CONNECT lacked `:protocol: websocket` (400, RFC 8441).
    MissingProtocolPseudoHeader,
    /// The request was neither HTTP/1.1 nor HTTP/2 (400).
    HttpVersionNotSupported,
    /// No `Upgrade: websocket` (400).
    MissingUpgradeWebSocket,
    /// No `upgrade` token in `Connection` (400).
    MissingConnectionUpgrade,
    /// An HTTP/1.1 request without `Host` (400; RFC 6455 §4.1 requires it).
    MissingHost,
    /// `Sec-WebSocket-Key` was missing, repeated, or not 16 bytes in base64 (400).
    InvalidKey,
    /// `Sec-WebSocket-Version` was missing, repeated, or not 13 (426, with
    /// `Sec-WebSocket-Version: 13` so the client can retry).
    UnsupportedVersion,
    /// The server connection cannot be taken over (426), e.g. a hyper
    /// connection served without `with_upgrades()`, or HTTP/2 without
    /// extended CONNECT enabled.
    ConnectionNotUpgradable,
    /// A browser request came from an origin the server does not allow
    /// (403); see `OriginPolicy`.
    OriginNotAllowed,
}

impl HandshakeError {
    /// The HTTP status to answer with.
    ///
    /// ```
    /// use hyperws::handshake::HandshakeError;
    /// assert_eq!(HandshakeError::MethodNotGet.status().as_u16(), 405);
    /// ```
    #[must_use]
    pub const fn status(self) -> StatusCode {
        match self {
            Self::MethodNotGet | Self::MethodNotConnect => StatusCode::METHOD_NOT_ALLOWED,
            Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::UnsupportedVersion | Self::ConnectionNotUpgradable => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The rule that was broken, in words: the response body.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::MethodNotGet => "WebSocket upgrade requests must use the GET method",
            Self::MethodNotConnect => "WebSocket requests over HTTP/2 must use the CONNECT method",
            Self::MissingProtocolPseudoHeader => "WebSocket requests over HTTP/2 need `:protocol: websocket`",
            Self::HttpVersionNotSupported => "WebSocket upgrade requests must use HTTP/1.1 or HTTP/2",
            Self::OriginNotAllowed => "WebSocket requests from this Origin are not allowed",
            Self::MissingUpgradeWebSocket => "WebSocket upgrade requests need an `Upgrade: websocket` header",
            Self::MissingConnectionUpgrade => "WebSocket upgrade requests need a `Connection: upgrade` header",
            Self::MissingHost => "WebSocket upgrade requests need a `Host` header",
            Self::InvalidKey => "`Sec-WebSocket-Key` must be one value: 16 bytes encoded in base64",
            Self::UnsupportedVersion => "only WebSocket version 13 is supported (one `Sec-WebSocket-Version: 13`)",
            Self::ConnectionNotUpgradable => "this connection cannot be upgraded to a WebSocket",
        }
    }

    /// The complete refusal: status, the headers the RFC asks for, and
    /// [`message`](Self::message) as a plain-text body.
    ///
    /// ```
    /// use hyperws::handshake::HandshakeError;
    /// let response = HandshakeError::UnsupportedVersion.to_response::<String>();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// ```
    #[must_use]
    pub fn to_response<B: From<&'static str>>(self) -> Response<B> {
        let mut response = Response::new(B::from(self.message()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        match self {
            // RFC 6455 §4.4: tell the client which versions we speak.
            Self::UnsupportedVersion => {
                headers.insert(
                    http::header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static(WEBSOCKET_VERSION),
                );
            }
            Self::MethodNotGet => {
                headers.insert(http::header::ALLOW, HeaderValue::from_static("GET"));
            }
            Self::MethodNotConnect => {
                headers.insert(http::header::ALLOW, HeaderValue::from_static("CONNECT"));
            }
            _ => {}
        }
        response
    }
}

/// A refused upgrade request: the rule it broke ([`HandshakeError`]) and,
/// where the request's values matter (a refused `Origin`), what was seen
/// and which setting would allow it. What `upgrade_request` returns.
///
/// ```
/// use hyperws::handshake::{HandshakeError, Refusal};
/// let refusal = Refusal::from(HandshakeError::MethodNotGet);
/// assert_eq!(refusal.error(), HandshakeError::MethodNotGet);
/// assert_eq!(refusal.to_response::<String>().status(), 405);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    error: HandshakeError,
    detail: Option<String>,
}

impl Refusal {
    /// A refusal whose body explains `detail` beyond the rule's own message.
    pub(crate) fn with_detail(error: HandshakeError, detail: String) -> Self {
        Self {
            error,
            detail: Some(detail),
        }
    }

    /// The rule the request broke.
    #[must_use]
    pub const fn error(&self) -> HandshakeError {
        self.error
    }

    /// The response to send: the rule's status and headers, and a body
    /// that explains the refusal.
    #[must_use]
    pub fn to_response<B: From<String>>(&self) -> Response<B> {
        let (parts, body) = self.error.to_response::<&'static str>().into_parts();
        let body = match &self.detail {
            Some(detail) => detail.clone(),
            None => body.to_owned(),
        };
        Response::from_parts(parts, B::from(body))
    }
}

impl From<HandshakeError> for Refusal {
    fn from(error: HandshakeError) -> Self {
        Self { error, detail: None }
    }
}

impl From<Refusal> for HandshakeError {
    fn from(refusal: Refusal) -> Self {
        refusal.error
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail.as_deref().unwrap_or(self.error.message()))
    }
}

impl std::error::Error for Refusal {}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for HandshakeError {}

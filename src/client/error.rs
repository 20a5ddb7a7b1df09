//! [`ConnectError`]: why a client could not open a WebSocket, sorted by who
//! is at fault.

use std::{fmt, io};

use crate::handshake::client::UpgradeError;

/// Why [`connect`](crate::connect) or
/// [`ClientBuilder::connect`](crate::ClientBuilder::connect) failed.
///
/// ```no_run
/// # async fn run() {
/// use hyperws::ConnectError;
/// match hyperws::connect("ws://127.0.0.1:9001/").await {
///     Ok((ws, _response)) => drop(ws),
///     Err(ConnectError::UnexpectedStatus(response)) if response.status() == 401 => {
///         println!("log in first: {:?}", response.body());
///     }
///     Err(e) if e.is_caller_fault() => panic!("fix the request: {e}"),
///     Err(e) => println!("try again later: {e}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL cannot be connected to (the caller's to fix).
    InvalidUrl(UrlError),
    /// A header or subprotocol given to the builder is not a valid header
    /// (the caller's to fix).
    InvalidRequest,
    /// The server could not be reached: name lookup or TCP connect failed.
    Connect(io::Error),
    /// The TLS handshake failed (certificate, name, protocol version).
    Tls(io::Error),
    /// The server's HTTP answer was malformed, or the connection failed
    /// during the upgrade; hyper's error is the source.
    Http(hyper::Error),
    /// The server answered with another status than 101 (a refusal such as
    /// 401, 403 or 429); its response, with up to 64 KiB of body, is kept.
    UnexpectedStatus(Box<http::Response<bytes::Bytes>>),
    /// The server answered 101 but broke a handshake rule (RFC 6455 §4.1):
    /// it is not a WebSocket server we can trust.
    Upgrade(UpgradeError),
    /// Opening took longer than the connect timeout.
    Timeout,
}

/// What is wrong with a URL given to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// It does not parse as a URL.
    Malformed,
    /// Its scheme is not `ws` or `wss`.
    UnsupportedScheme,
    /// It has no host.
    MissingHost,
    /// Its host is not a name TLS can verify.
    InvalidServerName,
    /// It is `wss://` but the crate was built without a TLS feature.
    TlsNotEnabled,
}

impl ConnectError {
    /// Whether the request itself is wrong (URL, headers): retrying will not help.
    #[must_use]
    pub fn is_caller_fault(&self) -> bool {
        matches!(self, Self::InvalidUrl(_) | Self::InvalidRequest)
    }

    /// Whether the peer (the server) refused or broke the handshake.
    #[must_use]
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, Self::UnexpectedStatus(_) | Self::Upgrade(_) | Self::Http(_))
    }

    /// Whether the network failed (reach, TLS) or was too slow.
    #[must_use]
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Tls(_) | Self::Timeout)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(e) => write!(f, "invalid WebSocket URL: {e}"),
            Self::InvalidRequest => f.write_str("a header or subprotocol given to the client is not a valid header"),
            Self::Connect(e) => write!(f, "could not reach the server: {e}"),
            Self::Tls(e) => write!(f, "TLS handshake with the server failed: {e}"),
            Self::Http(e) => write!(f, "the server's HTTP answer was invalid: {e}"),
            Self::UnexpectedStatus(response) => {
                write!(
                    f,
                    "the server refused the WebSocket: {} instead of 101",
                    response.status()
                )
            }
            Self::Upgrade(e) => write!(f, "the server's 101 broke the WebSocket handshake: {e}"),
            Self::Timeout => f.write_str("the connection was not open within the connect timeout"),
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "not a valid URL",
            Self::UnsupportedScheme => "the scheme must be ws:// or wss://",
            Self::MissingHost => "the URL has no host",
            Self::InvalidServerName => "the host is not a valid TLS server name",
            Self::TlsNotEnabled => "wss:// needs the `rustls` feature",
        })
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidUrl(e) => Some(e),
            Self::Connect(e) | Self::Tls(e) => Some(e),
            Self::Http(e) => Some(e),
            Self::Upgrade(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for UrlError {}

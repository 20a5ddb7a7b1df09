//! The crate's one error type, sorted by who is at fault.

use std::{fmt, io};

use crate::handshake::HandshakeError;
use crate::proto::{ProtocolError, SendError};

/// Everything that can go wrong on a WebSocket.
///
/// A completed closing handshake is not an error: the peer's close arrives
/// as `Message::Close` and the stream then ends with `None`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke RFC 6455; it was sent the matching close code.
    Protocol(ProtocolError),
    /// The opening handshake was refused.
    Handshake(HandshakeError),
    /// A message this side tried to send was invalid (see [`SendError`]).
    InvalidMessage(SendError),
    /// The connection is closing or closed; nothing more can be sent.
    Closed,
    /// The peer dropped the connection without a close frame (code 1006).
    AbnormalClosure,
    /// The peer did not answer our close frame within `Config::close_timeout`.
    CloseTimeout,
    /// Nothing arrived from the peer within the heartbeat's timeout after a
    /// ping: it is presumed dead and the connection was dropped.
    HeartbeatTimeout,
    /// No message moved within `Config::idle_timeout`; the connection was
    /// closed with 1001.
    IdleTimeout,
    /// A client took longer than `Config::handshake_timeout` to send its
    /// upgrade request (see [`serve`](crate::serve)).
    HandshakeTimeout,
    /// The transport failed.
    Io(io::Error),
    /// The client was given a URL it cannot connect to.
    InvalidUrl(&'static str),
    /// The client was given a header or subprotocol that is not a valid header.
    InvalidRequest,
    /// The client could not reach the server (name lookup or TCP connect).
    Connect(io::Error),
    /// The client's TLS handshake failed (certificate, name, protocol).
    Tls(io::Error),
    /// The server answered the upgrade request with another status than
    /// 101; its response (and up to 64 KiB of body) is kept.
    UnexpectedStatus(Box<http::Response<bytes::Bytes>>),
    /// The server answered 101 but broke a handshake rule.
    Upgrade(crate::handshake::client::UpgradeError),
    /// The client's connection was not open within its connect timeout.
    ConnectTimeout,
}

impl Error {
    /// Whether this is [`Error::Closed`]: sending after the close.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed)
    }

    /// Whether the peer broke the protocol.
    #[must_use]
    pub fn is_protocol(&self) -> bool {
        matches!(self, Self::Protocol(_))
    }

    /// Whether a timer ended the connection.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::CloseTimeout
                | Self::HeartbeatTimeout
                | Self::IdleTimeout
                | Self::HandshakeTimeout
                | Self::ConnectTimeout
        )
    }

    /// Whether the transport failed or the peer vanished without closing.
    #[must_use]
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            Self::Io(_) | Self::AbnormalClosure | Self::Connect(_) | Self::Tls(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "WebSocket protocol error: {e}"),
            Self::Handshake(e) => write!(f, "WebSocket handshake refused: {e}"),
            Self::InvalidMessage(e) => write!(f, "invalid message: {e}"),
            Self::Closed => f.write_str("the WebSocket is closed"),
            Self::AbnormalClosure => f.write_str("the peer closed the connection without a close frame"),
            Self::CloseTimeout => f.write_str("the peer did not answer the close frame in time"),
            Self::HeartbeatTimeout => f.write_str("the peer stopped responding (heartbeat timeout)"),
            Self::IdleTimeout => f.write_str("the connection was idle too long"),
            Self::HandshakeTimeout => f.write_str("the client did not finish its upgrade request in time"),
            Self::Io(e) => write!(f, "WebSocket transport error: {e}"),
            Self::InvalidUrl(why) => write!(f, "invalid WebSocket URL: {why}"),
            Self::InvalidRequest => f.write_str("invalid header or subprotocol in the upgrade request"),
            Self::Connect(e) => write!(f, "could not connect: {e}"),
            Self::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            Self::UnexpectedStatus(response) => write!(f, "the server answered {} instead of 101", response.status()),
            Self::Upgrade(e) => write!(f, "invalid upgrade response: {e}"),
            Self::ConnectTimeout => f.write_str("the connection was not open in time"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::InvalidMessage(e) => Some(e),
            Self::Io(e) | Self::Connect(e) | Self::Tls(e) => Some(e),
            Self::Upgrade(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Closed => Self::Closed,
            other => Self::InvalidMessage(other),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

//! Why a WebSocket failed, sorted by who is at fault: the peer
//! ([`ProtocolError`], abnormal closure), the clock (timeouts), the transport
//! (IO), or the caller ([`SendError`], sending after the close).

use std::{fmt, io};

use super::close::{CloseCode, MAX_CLOSE_REASON};

/// The peer broke the protocol. The connection answers with
/// [`close_code`](Self::close_code) and is then closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame used an opcode RFC 6455 reserves (0x3–0x7, 0xB–0xF).
    ReservedOpcode(u8),
    /// A reserved bit (RSV1–3) was set that no negotiated extension defines.
    ReservedBits,
    /// A control frame had FIN clear.
    FragmentedControlFrame,
    /// A control frame carried more than 125 bytes.
    ControlFrameTooLarge,
    /// A 64-bit payload length had its most significant bit set.
    InvalidLength,
    /// A payload length was not written in the fewest bytes that hold it
    /// (RFC 6455 §5.2), e.g. 5 in the 16-bit form.
    NonMinimalLength(u64),
    /// A client sent an unmasked frame (RFC 6455 §5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (RFC 6455 §5.1).
    MaskedFrame,
    /// A continuation frame arrived with no fragmented message to continue.
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was unfinished.
    ExpectedContinuation,
    /// A text message or close reason was not valid UTF-8.
    InvalidUtf8,
    /// A compressed message (permessage-deflate) was not valid DEFLATE data.
    InvalidCompressedData,
    /// A close frame carried exactly one byte (a code needs two).
    InvalidClosePayload,
    /// A close frame carried a code that may not be sent on the wire.
    InvalidCloseCode(u16),
    /// A frame was larger than `Config::max_frame_size`.
    FrameTooLarge {
        /// The frame's declared payload length.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message was larger than `Config::max_message_size`.
    MessageTooLarge {
        /// The message's size so far, counting the frame that broke the limit.
        size: u64,
        /// The configured limit.
        max: usize,
    },
}

impl ProtocolError {
    /// The close code sent to the peer for this fault (RFC 6455 §7.4.1).
    ///
    /// ```
    /// use hyperws::{CloseCode, ProtocolError};
    /// assert_eq!(ProtocolError::InvalidUtf8.close_code(), CloseCode::INVALID);
    /// ```
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            // RFC 6455 §7.4.1, 1007: "data within a message that was not
            // consistent with the type of the message" (as Node's `ws` answers
            // a corrupt deflate stream).
            Self::InvalidUtf8 | Self::InvalidCompressedData => CloseCode::INVALID,
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } => CloseCode::SIZE,
            _ => CloseCode::PROTOCOL,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "frame used reserved opcode {op:#x}"),
            Self::ReservedBits => f.write_str("frame set a reserved bit no extension defines"),
            Self::FragmentedControlFrame => f.write_str("control frame was fragmented"),
            Self::ControlFrameTooLarge => f.write_str("control frame payload exceeded 125 bytes"),
            Self::InvalidLength => f.write_str("64-bit payload length had its high bit set"),
            Self::NonMinimalLength(len) => write!(f, "payload length {len} was not in its shortest encoding"),
            Self::UnmaskedFrame => f.write_str("client frame was not masked"),
            Self::MaskedFrame => f.write_str("server frame was masked"),
            Self::UnexpectedContinuation => f.write_str("continuation frame without a message to continue"),
            Self::ExpectedContinuation => f.write_str("new data frame while a fragmented message was unfinished"),
            Self::InvalidUtf8 => f.write_str("text was not valid UTF-8"),
            Self::InvalidCompressedData => f.write_str("compressed message was not valid DEFLATE data"),
            Self::InvalidClosePayload => f.write_str("close frame payload was one byte long"),
            Self::InvalidCloseCode(code) => write!(f, "close frame carried invalid code {code}"),
            Self::FrameTooLarge { size, max } => write!(f, "frame of {size} bytes exceeded the limit of {max}"),
            Self::MessageTooLarge { size, max } => write!(f, "message of {size} bytes exceeded the limit of {max}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Why a message could not be sent: the caller's mistake, not the peer's.
/// Nothing was queued; the connection is unaffected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A ping or pong payload was over 125 bytes (RFC 6455 §5.5).
    ControlFrameTooLarge(usize),
    /// A close reason was over 123 bytes (RFC 6455 §5.5: 125 minus the code).
    CloseReasonTooLong(usize),
    /// A close code that may not be sent, such as 1005 or 1006 (RFC 6455 §7.4.1).
    InvalidCloseCode(CloseCode),
    /// Only text and binary messages can be shared between connections
    /// ([`SharedMessage`](crate::proto::SharedMessage)); control frames belong to one.
    NotShareable,
    /// A text or binary message was sent while a streamed message
    /// ([`MessageWriter`](crate::MessageWriter)) was unfinished: RFC 6455
    /// §5.4 lets only control frames come between its fragments.
    StreamedMessageInProgress,
    /// Streamed bytes were written with no streamed message begun (or after it finished).
    NoStreamedMessage,
    /// A streamed text message was not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ControlFrameTooLarge(len) => write!(f, "ping/pong payload of {len} bytes exceeds 125"),
            Self::CloseReasonTooLong(len) => write!(f, "close reason of {len} bytes exceeds {MAX_CLOSE_REASON}"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::NotShareable => f.write_str("only text and binary messages can be shared"),
            Self::StreamedMessageInProgress => {
                f.write_str("a streamed message is unfinished: finish it before sending another message")
            }
            Self::NoStreamedMessage => f.write_str("no streamed message is in progress"),
            Self::InvalidUtf8 => f.write_str("a streamed text message was not valid UTF-8"),
        }
    }
}

impl std::error::Error for SendError {}

/// Everything that can go wrong on an open WebSocket: what `recv`, `send`,
/// `flush` and `close` return.
///
/// A completed closing handshake is not an error: the peer's close arrives
/// as `Message::Close` and the stream then ends with `None`. Opening a
/// connection fails with other types: a client's
/// [`ConnectError`](crate::ConnectError), a server's
/// [`HandshakeError`](crate::handshake::HandshakeError).
///
/// ```
/// use hyperws::{CloseCode, Error};
///
/// fn explain(error: &Error) -> &'static str {
///     match error {
///         Error::Protocol(e) if e.close_code() == CloseCode::SIZE => "the peer sent too much",
///         Error::Protocol(_) | Error::AbnormalClosure => "the peer misbehaved",
///         Error::HeartbeatTimeout | Error::IdleTimeout | Error::CloseTimeout => "the peer went quiet",
///         Error::Io(_) => "the network failed",
///         Error::Closed | Error::InvalidMessage(_) => "a bug on our side",
///         _ => "something else",
///     }
/// }
/// assert_eq!(explain(&Error::AbnormalClosure), "the peer misbehaved");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke RFC 6455. It was sent the matching close code
    /// ([`ProtocolError::close_code`]) and the connection is closed.
    Protocol(ProtocolError),
    /// The peer closed the transport without a closing handshake (what
    /// RFC 6455 §7.1.5 reports as close code 1006). Usually a crashed or
    /// killed client, or a network path that dropped.
    AbnormalClosure,
    /// The peer did not answer our close frame within
    /// `Config::close_timeout`; the connection was dropped.
    CloseTimeout,
    /// Nothing arrived within the heartbeat's timeout after a ping: the peer
    /// is presumed gone and the connection was dropped.
    HeartbeatTimeout,
    /// No message moved within `Config::idle_timeout`; the connection was
    /// closed with 1001.
    IdleTimeout,
    /// The transport failed (reset, broken pipe, TLS failure). Retrying on a
    /// new connection may help.
    Io(io::Error),
    /// The connection is closing or closed: a bug in the caller if it sends
    /// after `Message::Close`, or after `recv` returned `None` or an error.
    Closed,
    /// A message this side tried to send was invalid; nothing was sent and
    /// the connection is still usable.
    InvalidMessage(SendError),
    /// hyperws broke one of its own invariants (a bug: please report it,
    /// with what it names). The peer was sent 1011, not blamed with 1002.
    Internal(&'static str),
    /// The peer closed before the streamed message being read
    /// ([`MessageReader`](crate::MessageReader)) ended: the message is cut short.
    MessageUnfinished,
}

impl Error {
    /// Whether this is [`Error::Closed`]: sending after the close.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed)
    }

    /// Whether the peer is at fault: it broke the protocol or vanished
    /// without closing.
    #[must_use]
    pub fn is_peer_fault(&self) -> bool {
        matches!(
            self,
            Self::Protocol(_) | Self::AbnormalClosure | Self::MessageUnfinished
        )
    }

    /// Whether the peer broke the protocol.
    #[must_use]
    pub fn is_protocol(&self) -> bool {
        matches!(self, Self::Protocol(_))
    }

    /// Whether a timer ended the connection.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::CloseTimeout | Self::HeartbeatTimeout | Self::IdleTimeout)
    }

    /// Whether the network failed: the transport broke (never a peer's
    /// protocol fault). Timers are [`is_timeout`](Self::is_timeout).
    #[must_use]
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Io(_))
    }

    /// Whether the caller is at fault: it sent after the close, or an
    /// invalid message. Retrying the same call will not help.
    #[must_use]
    pub fn is_caller_fault(&self) -> bool {
        matches!(self, Self::Closed | Self::InvalidMessage(_))
    }

    /// The same error for a second caller (the writer half learns what the
    /// reader half was told); an IO error keeps its kind, not its source.
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Protocol(e) => Self::Protocol(e.clone()),
            Self::AbnormalClosure => Self::AbnormalClosure,
            Self::CloseTimeout => Self::CloseTimeout,
            Self::HeartbeatTimeout => Self::HeartbeatTimeout,
            Self::IdleTimeout => Self::IdleTimeout,
            Self::Io(e) => Self::Io(e.kind().into()),
            Self::Closed => Self::Closed,
            Self::InvalidMessage(e) => Self::InvalidMessage(e.clone()),
            Self::Internal(what) => Self::Internal(what),
            Self::MessageUnfinished => Self::MessageUnfinished,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(
                f,
                "the peer broke the WebSocket protocol ({e}); closed with {}",
                e.close_code()
            ),
            Self::AbnormalClosure => f.write_str("the peer dropped the connection without a close frame (1006)"),
            Self::CloseTimeout => f.write_str("the peer did not answer our close frame in time"),
            Self::HeartbeatTimeout => f.write_str("the peer stopped answering pings (heartbeat timeout)"),
            Self::IdleTimeout => f.write_str("no message moved within the idle timeout; closed with 1001"),
            Self::Io(e) => write!(f, "the WebSocket's transport failed: {e}"),
            Self::Closed => f.write_str("the WebSocket is closed; nothing more can be sent"),
            Self::InvalidMessage(e) => write!(f, "this message cannot be sent: {e}"),
            Self::Internal(what) => write!(f, "hyperws broke its own invariant ({what}); closed with 1011"),
            Self::MessageUnfinished => f.write_str("the peer closed before the streamed message ended"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(e),
            Self::Io(e) => Some(e),
            Self::InvalidMessage(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        Self::InvalidMessage(e)
    }
}

/// Why reading failed: the peer broke the protocol, or we broke our own
/// invariant (which must never be reported as the peer's fault).
#[derive(Debug)]
pub(crate) enum ReadError {
    Peer(ProtocolError),
    Internal(&'static str),
}

impl From<ProtocolError> for ReadError {
    fn from(e: ProtocolError) -> Self {
        Self::Peer(e)
    }
}

impl ReadError {
    /// One of this crate's invariants is broken: loud in debug builds (the
    /// tests and fuzzers), a 1011 close in release.
    pub(crate) fn broken(what: &'static str) -> Self {
        debug_assert!(false, "hyperws invariant broken: {what}");
        Self::Internal(what)
    }
}

//! Faults of the peer: every way incoming bytes can break RFC 6455, each
//! mapped to the close code that tells the peer why.

use std::fmt;

use super::close::CloseCode;

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
    /// use hyperws::{proto::ProtocolError, CloseCode};
    /// assert_eq!(ProtocolError::InvalidUtf8.close_code(), CloseCode::INVALID);
    /// ```
    #[must_use]
    pub const fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 => CloseCode::INVALID,
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
            Self::UnmaskedFrame => f.write_str("client frame was not masked"),
            Self::MaskedFrame => f.write_str("server frame was masked"),
            Self::UnexpectedContinuation => f.write_str("continuation frame without a message to continue"),
            Self::ExpectedContinuation => f.write_str("new data frame while a fragmented message was unfinished"),
            Self::InvalidUtf8 => f.write_str("text was not valid UTF-8"),
            Self::InvalidClosePayload => f.write_str("close frame payload was one byte long"),
            Self::InvalidCloseCode(code) => write!(f, "close frame carried invalid code {code}"),
            Self::FrameTooLarge { size, max } => write!(f, "frame of {size} bytes exceeded the limit of {max}"),
            Self::MessageTooLarge { size, max } => write!(f, "message of {size} bytes exceeded the limit of {max}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

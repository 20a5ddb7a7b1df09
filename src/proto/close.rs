//! Close codes and the close frame payload (RFC 6455 §5.5.1, §7.4).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{ProtocolError, SendError};
use super::message::Utf8Bytes;

/// A close status code (RFC 6455 §7.4).
///
/// The constants carry the names `axum::extract::ws::close_code` uses.
///
/// ```
/// use hyperws::CloseCode;
/// assert_eq!(u16::from(CloseCode::NORMAL), 1000);
/// assert!(CloseCode::from(4000).is_sendable());
/// assert!(!CloseCode::ABNORMAL.is_sendable()); // 1006 only ever describes a dropped connection
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED: Self = Self(1003);
    /// 1005: no code was present. Never sent; reported for an empty close frame.
    pub const STATUS: Self = Self(1005);
    /// 1006: the connection dropped without a close frame. Never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: message data was inconsistent with its type (e.g. non-UTF-8 text).
    pub const INVALID: Self = Self(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY: Self = Self(1008);
    /// 1009: a message was too big to process.
    pub const SIZE: Self = Self(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const EXTENSION: Self = Self(1010);
    /// 1011: the server hit an unexpected condition.
    pub const ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const RESTART: Self = Self(1012);
    /// 1013: try again later (temporary overload).
    pub const AGAIN: Self = Self(1013);
    /// 1014: a gateway got an invalid response upstream.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed. Never sent.
    pub const TLS: Self = Self(1015);

    /// Whether this code may appear in a close frame on the wire: the codes
    /// RFC 6455 and the IANA registry define for use (1000–1003, 1007–1014),
    /// and the ranges left to libraries and applications (3000–4999).
    #[must_use]
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The code and reason of a close frame.
///
/// ```
/// use hyperws::{CloseCode, CloseFrame};
/// let frame = CloseFrame { code: CloseCode::NORMAL, reason: "bye".into() };
/// assert_eq!(frame.reason.as_str(), "bye");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// Why the connection is closing.
    pub code: CloseCode,
    /// A human-readable explanation; at most 123 bytes of UTF-8.
    pub reason: Utf8Bytes,
}

/// The longest reason that fits a control frame next to the two-byte code.
pub(crate) const MAX_CLOSE_REASON: usize = super::frame::MAX_CONTROL_PAYLOAD - 2;

impl CloseFrame {
    /// Whether `frame` may be sent: a code RFC 6455 §7.4.1 allows on the
    /// wire, and a reason that fits a control frame (§5.5).
    pub(crate) fn check_sendable(frame: Option<&Self>) -> Result<(), SendError> {
        let Some(frame) = frame else { return Ok(()) };
        if !frame.code.is_sendable() {
            return Err(SendError::InvalidCloseCode(frame.code));
        }
        if frame.reason.len() > MAX_CLOSE_REASON {
            return Err(SendError::CloseReasonTooLong(frame.reason.len()));
        }
        Ok(())
    }

    /// A frame with the given code and an empty reason.
    #[must_use]
    pub const fn from_code(code: CloseCode) -> Self {
        Self {
            code,
            reason: Utf8Bytes::from_static(""),
        }
    }

    /// Parses a received close payload: empty (no code), or a code and a UTF-8 reason.
    ///
    /// # Errors
    /// A one-byte body or a code that may not be sent (1002), a reason that is
    /// not UTF-8 (1007).
    pub fn parse(payload: &Bytes) -> Result<Option<Self>, ProtocolError> {
        match payload.len() {
            0 => Ok(None),
            1 => Err(ProtocolError::InvalidClosePayload),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_sendable() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = Utf8Bytes::try_from(payload.slice(2..)).map_err(|_| ProtocolError::InvalidUtf8)?;
                Ok(Some(Self { code, reason }))
            }
        }
    }

    /// The close payload for `frame` (`None` sends an empty close).
    pub(crate) fn encode(frame: Option<&Self>) -> Bytes {
        let Some(frame) = frame else {
            return Bytes::new();
        };
        let mut out = BytesMut::with_capacity(2 + frame.reason.len());
        out.put_u16(frame.code.0);
        out.put_slice(frame.reason.as_bytes());
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_payload_is_a_close_without_code() {
        assert_eq!(CloseFrame::parse(&Bytes::new()), Ok(None));
    }

    #[test]
    fn one_byte_payload_is_a_protocol_error() {
        assert_eq!(
            CloseFrame::parse(&Bytes::from_static(&[3])),
            Err(ProtocolError::InvalidClosePayload)
        );
    }

    #[test]
    fn codes_follow_the_registry() {
        let sendable = [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
        ];
        let reserved = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
        for code in sendable {
            let payload = Bytes::copy_from_slice(&u16::to_be_bytes(code));
            assert_eq!(CloseFrame::parse(&payload).unwrap().unwrap().code, CloseCode(code));
        }
        for code in reserved {
            let payload = Bytes::copy_from_slice(&u16::to_be_bytes(code));
            assert_eq!(CloseFrame::parse(&payload), Err(ProtocolError::InvalidCloseCode(code)));
        }
    }

    #[test]
    fn reason_must_be_utf8() {
        let payload = Bytes::from_static(b"\x03\xe8\xce\xba\xe1\xbd\xb9\xed\xa0\x80");
        assert_eq!(CloseFrame::parse(&payload), Err(ProtocolError::InvalidUtf8));
    }

    #[test]
    fn encode_then_parse_round_trips() {
        let frame = CloseFrame {
            code: CloseCode::AWAY,
            reason: "restarting".into(),
        };
        assert_eq!(CloseFrame::parse(&CloseFrame::encode(Some(&frame))), Ok(Some(frame)));
        assert!(CloseFrame::encode(None).is_empty());
    }
}

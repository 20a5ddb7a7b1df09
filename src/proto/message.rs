//! What applications send and receive: whole messages, never frames.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

use super::close::CloseFrame;

/// A whole WebSocket message.
///
/// Shaped like `axum::extract::ws::Message`, so code written for axum
/// matches on it unchanged.
///
/// ```
/// use hyperws::Message;
/// let msg = Message::text("hello");
/// assert!(msg.is_text());
/// assert_eq!(msg.into_data(), "hello".as_bytes());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A UTF-8 text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes). A received ping is answered automatically;
    /// it is shown to the application for information only.
    Ping(Bytes),
    /// A pong (at most 125 bytes): the answer to a ping, or a one-way heartbeat.
    Pong(Bytes),
    /// A close frame. Received: the peer is closing; the reply has been sent
    /// and the stream ends after this. Sent: starts the closing handshake.
    Close(Option<CloseFrame>),
}

/// Whether a streamed message is text or binary (see
/// [`MessageReader`](crate::MessageReader), [`MessageWriter`](crate::MessageWriter)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Binary data.
    Binary,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::Binary(data.into())
    }

    /// Whether this is a text message.
    #[must_use]
    pub const fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// Whether this is a binary message.
    #[must_use]
    pub const fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// Whether this is a close message.
    #[must_use]
    pub const fn is_close(&self) -> bool {
        matches!(self, Self::Close(_))
    }

    /// The payload bytes (for a close: the reason).
    #[must_use]
    pub fn into_data(self) -> Bytes {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Binary(data) | Self::Ping(data) | Self::Pong(data) => data,
            Self::Close(frame) => frame.map(|f| f.reason.into_bytes()).unwrap_or_default(),
        }
    }

    /// The payload as text (for a close: the reason).
    ///
    /// # Errors
    /// A binary, ping or pong payload that is not UTF-8.
    pub fn into_text(self) -> Result<Utf8Bytes, std::str::Utf8Error> {
        match self {
            Self::Text(text) => Ok(text),
            Self::Binary(data) | Self::Ping(data) | Self::Pong(data) => Utf8Bytes::try_from(data),
            Self::Close(frame) => Ok(frame.map(|f| f.reason).unwrap_or_default()),
        }
    }

    /// The payload as a `str` (for a close: the reason).
    ///
    /// # Errors
    /// A binary, ping or pong payload that is not UTF-8.
    pub fn to_text(&self) -> Result<&str, std::str::Utf8Error> {
        match self {
            Self::Text(text) => Ok(text.as_str()),
            Self::Binary(data) | Self::Ping(data) | Self::Pong(data) => std::str::from_utf8(data),
            Self::Close(frame) => Ok(frame.as_ref().map_or("", |f| f.reason.as_str())),
        }
    }
}

impl From<&str> for Message {
    /// A text message (the text is copied).
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<&[u8]> for Message {
    /// A binary message (the bytes are copied).
    fn from(data: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(data))
    }
}

impl From<Message> for Vec<u8> {
    fn from(message: Message) -> Self {
        message.into_data().into()
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text.into())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Self::Binary(data.into())
    }
}

/// Bytes known to be valid UTF-8: a cheaply cloneable `str`.
///
/// Received text is a slice of the connection's read buffer, not a copy.
///
/// ```
/// use hyperws::Utf8Bytes;
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.len(), 6);
/// assert!(text.starts_with("hé")); // derefs to `str`
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(ByteString);

impl Utf8Bytes {
    /// Wraps a static string without copying.
    #[must_use]
    pub const fn from_static(text: &'static str) -> Self {
        Self(ByteString::from_static(text))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying bytes.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Self(text.into())
    }
}

impl From<&str> for Utf8Bytes {
    /// Copies the text.
    fn from(text: &str) -> Self {
        Self(text.into())
    }
}

impl From<&String> for Utf8Bytes {
    fn from(text: &String) -> Self {
        Self(text.as_str().into())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.into_bytes()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    /// Validates and wraps, without copying.
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        ByteString::try_from(bytes).map(Self)
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = std::string::FromUtf8Error;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        String::from_utf8(bytes).map(Self::from)
    }
}

impl<T> PartialEq<T> for Utf8Bytes
where
    for<'a> &'a str: PartialEq<T>,
{
    /// ```
    /// use hyperws::Utf8Bytes;
    /// let text = Utf8Bytes::from_static("foo");
    /// assert_eq!(text, "foo");
    /// assert_eq!(text, "foo".to_string());
    /// ```
    fn eq(&self, other: &T) -> bool {
        self.as_str() == *other
    }
}

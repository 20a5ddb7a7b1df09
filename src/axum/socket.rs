//! [`WebSocket`] as `axum::extract::ws` hands it out: the same methods and
//! traits with the same signatures, `axum::Error` included, over hyperws's
//! socket.

use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_core::Error;
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use http::HeaderValue;

use crate::Message;

/// A WebSocket handed to an axum handler: axum's `recv`, `send`,
/// `protocol`, `Stream`, `Sink` and `FusedStream`, with axum's error type,
/// so an app whose own types name `axum::Error` builds unchanged.
///
/// Everything else hyperws's [`WebSocket`](crate::WebSocket) offers —
/// [`feed`](crate::WebSocket::feed), [`flush`](crate::WebSocket::flush),
/// [`close`](crate::WebSocket::close) (which returns the peer's close frame),
/// [`buffered_amount`](crate::WebSocket::buffered_amount), topics — is
/// reached through `Deref` and returns the typed [`hyperws::Error`](crate::Error).
/// [`into_inner`](Self::into_inner) gives that socket whole (and its
/// [`into_split`](crate::WebSocket::into_split)); [`socket_error`] finds the
/// typed error inside an `axum::Error`.
///
/// ```
/// use axum::response::Response;
/// use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
///
/// async fn handler(ws: WebSocketUpgrade) -> Response {
///     ws.on_upgrade(|socket| async {
///         if let Err(e) = echo(socket).await {
///             eprintln!("socket failed: {e}");
///         }
///     })
/// }
///
/// async fn echo(mut socket: WebSocket) -> Result<(), axum::Error> {
///     while let Some(message) = socket.recv().await {
///         if let Message::Text(text) = message? {
///             socket.send(Message::Text(text)).await?;
///         }
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct WebSocket {
    inner: crate::WebSocket,
}

impl WebSocket {
    pub(super) fn new(inner: crate::WebSocket) -> Self {
        Self { inner }
    }

    /// Receives the next message; `None` once the connection is closed.
    /// See [`hyperws::WebSocket::recv`](crate::WebSocket::recv).
    ///
    /// # Cancel safety
    /// Cancel safe: no message is lost; the next call returns it.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.inner.recv().await.map(|received| received.map_err(Error::new))
    }

    /// Sends a message and writes out everything queued.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.inner.send(message).await.map_err(Error::new)
    }

    /// The subprotocol the handshake selected, if any.
    pub fn protocol(&self) -> Option<&HeaderValue> {
        self.inner.protocol()
    }

    /// hyperws's socket, whose every method returns the typed
    /// [`hyperws::Error`](crate::Error).
    ///
    /// ```
    /// # async fn run(socket: hyperws::axum::WebSocket) {
    /// let (mut reader, mut writer) = socket.into_inner().into_split();
    /// # }
    /// ```
    pub fn into_inner(self) -> crate::WebSocket {
        self.inner
    }
}

/// The typed error an `axum::Error` from a [`WebSocket`] carries.
///
/// ```
/// # async fn run(mut socket: hyperws::axum::WebSocket) {
/// use hyperws::axum::socket_error;
/// if let Some(Err(e)) = socket.recv().await {
///     if socket_error(&e).is_some_and(|e| e.is_peer_fault()) {
///         println!("the client broke the protocol: {e}");
///     }
/// }
/// # }
/// ```
#[must_use]
pub fn socket_error(error: &Error) -> Option<&crate::Error> {
    std::error::Error::source(error)?.downcast_ref()
}

impl Deref for WebSocket {
    type Target = crate::WebSocket;

    fn deref(&self) -> &crate::WebSocket {
        &self.inner
    }
}

impl DerefMut for WebSocket {
    fn deref_mut(&mut self) -> &mut crate::WebSocket {
        &mut self.inner
    }
}

impl From<WebSocket> for crate::WebSocket {
    fn from(socket: WebSocket) -> Self {
        socket.inner
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|item| item.map(|received| received.map_err(Error::new)))
    }
}

impl FusedStream for WebSocket {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.inner).poll_ready(cx).map_err(Error::new)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Pin::new(&mut self.inner).start_send(message).map_err(Error::new)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.inner).poll_flush(cx).map_err(Error::new)
    }

    /// Sends a close frame and writes it out; the `Stream` side then yields
    /// the peer's remaining messages, its close, and the end.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.inner).poll_close(cx).map_err(Error::new)
    }
}

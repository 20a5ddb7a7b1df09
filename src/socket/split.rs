//! The two halves of a split [`WebSocket`](super::WebSocket).
//!
//! Both hold the one [`Driver`] behind a mutex that is only taken inside a
//! `poll` call, never across an `.await`, so neither half can block the other
//! for longer than one non-blocking step.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use http::HeaderValue;
use tokio::io::{AsyncRead, AsyncWrite};

use super::driver::{Driver, Side};
use super::streaming::{Handle, MessageWriter, Received};
use super::WebSocket;
use crate::proto::{CloseFrame, Error, Message, MessageKind};
use crate::UpgradedIo;

/// What both halves hold: the one driver, and what the handshake agreed
/// (fixed for the socket's life, so read without the lock).
#[derive(Debug)]
pub(super) struct Shared<IO: AsyncRead + AsyncWrite + Unpin> {
    driver: Mutex<Driver<IO>>,
    protocol: Option<HeaderValue>,
}

pub(super) fn lock<IO: AsyncRead + AsyncWrite + Unpin>(shared: &Shared<IO>) -> MutexGuard<'_, Driver<IO>> {
    // The driver's invariants hold between polls, so a panic elsewhere
    // while the lock was held leaves nothing half-done.
    shared.driver.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn split<IO: AsyncRead + AsyncWrite + Unpin>(
    mut driver: Driver<IO>,
    protocol: Option<HeaderValue>,
) -> (WebSocketReader<IO>, WebSocketWriter<IO>) {
    driver.share();
    let shared = Arc::new(Shared {
        driver: Mutex::new(driver),
        protocol,
    });
    (
        WebSocketReader {
            shared: Arc::clone(&shared),
        },
        WebSocketWriter { shared },
    )
}

/// The halves given to [`WebSocketReader::reunite`] came from two different sockets.
#[derive(Debug)]
pub struct ReuniteError<IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo>(
    pub WebSocketReader<IO>,
    pub WebSocketWriter<IO>,
);

impl<IO: AsyncRead + AsyncWrite + Unpin> std::fmt::Display for ReuniteError<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tried to reunite halves of two different WebSockets")
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug> std::error::Error for ReuniteError<IO> {}

/// What both halves can tell, alike.
macro_rules! shared_facts {
    ($half:ident) => {
        impl<IO: AsyncRead + AsyncWrite + Unpin> $half<IO> {
            /// The subprotocol the handshake selected, if any; see
            /// [`WebSocket::protocol`](super::WebSocket::protocol).
            pub fn protocol(&self) -> Option<&HeaderValue> {
                self.shared.protocol.as_ref()
            }

            /// The permessage-deflate parameters agreed, if any; see
            /// [`WebSocket::deflate`](super::WebSocket::deflate).
            #[cfg(feature = "deflate")]
            #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
            pub fn deflate(&self) -> Option<crate::DeflateParams> {
                lock(&self.shared).conn().deflate_params().copied()
            }

            /// How many bytes of queued messages wait to be written; see
            /// [`WebSocket::buffered_amount`](super::WebSocket::buffered_amount).
            pub fn buffered_amount(&self) -> usize {
                lock(&self.shared).conn().buffered_amount()
            }
        }
    };
}

shared_facts!(WebSocketReader);
shared_facts!(WebSocketWriter);

/// The receiving half: also answers pings and completes the closing handshake.
#[derive(Debug)]
pub struct WebSocketReader<IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo> {
    shared: Arc<Shared<IO>>,
}

/// The sending half.
#[derive(Debug)]
pub struct WebSocketWriter<IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo> {
    shared: Arc<Shared<IO>>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocketReader<IO> {
    /// Receives the next message; see [`WebSocket::recv`](super::WebSocket::recv).
    ///
    /// # Cancel safety
    /// Cancel safe, as `WebSocket::recv`.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| lock(&self.shared).poll_recv(cx)).await
    }

    /// Receives the next message as it arrives; see
    /// [`WebSocket::recv_streaming`](super::WebSocket::recv_streaming).
    ///
    /// # Cancel safety
    /// Cancel safe, as `WebSocket::recv_streaming`.
    pub async fn recv_streaming(&mut self) -> Option<Result<Received<'_, IO>, Error>> {
        let streamed = poll_fn(|cx| lock(&self.shared).poll_streamed(cx)).await?;
        Some(streamed.map(|streamed| Received::new(streamed, Handle::Half(&self.shared))))
    }

    /// Puts the two halves of one socket back together, as tokio's
    /// `OwnedReadHalf::reunite` does.
    ///
    /// ```
    /// use hyperws::{Config, Role, WebSocket};
    /// let (io, _peer) = tokio::io::duplex(1024);
    /// let (reader, writer) = WebSocket::from_raw_socket(io, Role::Server, &Config::default()).into_split();
    /// let ws = reader.reunite(writer).expect("halves of one socket");
    /// ```
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves unchanged, if they came from
    /// two different sockets.
    ///
    /// # Panics
    /// Never: the two halves hold the only references to what they share.
    pub fn reunite(self, writer: WebSocketWriter<IO>) -> Result<WebSocket<IO>, ReuniteError<IO>> {
        if !Arc::ptr_eq(&self.shared, &writer.shared) {
            return Err(ReuniteError(self, writer));
        }
        drop(writer);
        let shared = Arc::into_inner(self.shared).expect("the two halves held the only references");
        let mut driver = shared.driver.into_inner().unwrap_or_else(PoisonError::into_inner);
        driver.unshare();
        Ok(WebSocket::reunited(driver, shared.protocol))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocketReader<IO> {
    fn is_terminated(&self) -> bool {
        lock(&self.shared).is_finished()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketReader<IO> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared).poll_recv(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<IO> {
    pub(super) fn driver(&self) -> MutexGuard<'_, Driver<IO>> {
        lock(&self.shared)
    }

    /// Begins a message sent as it is produced; see
    /// [`WebSocket::send_streaming`](super::WebSocket::send_streaming).
    ///
    /// # Errors
    /// Nothing more can be sent.
    pub fn send_streaming(&mut self, kind: MessageKind) -> Result<MessageWriter<'_, IO>, Error> {
        MessageWriter::start(Handle::Half(&self.shared), kind, true)
    }

    /// Sends a message and writes out everything queued; see
    /// [`WebSocket::send`](super::WebSocket::send).
    ///
    /// # Cancel safety
    /// As `WebSocket::send`.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues a message; see [`WebSocket::feed`](super::WebSocket::feed).
    ///
    /// # Cancel safety
    /// As `WebSocket::feed`.
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_ready(cx, Side::Writer)).await?;
        lock(&self.shared).start_send(message)
    }

    /// Sends a message never compressed; see
    /// [`WebSocket::send_uncompressed`](super::WebSocket::send_uncompressed).
    ///
    /// # Cancel safety
    /// As `WebSocket::send`.
    pub async fn send_uncompressed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_ready(cx, Side::Writer)).await?;
        lock(&self.shared).start_send_uncompressed(message)?;
        self.flush().await
    }

    /// Writes out every queued message.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_flush(cx, Side::Writer)).await
    }

    /// Sends a close frame and writes it out. The reader half sees the
    /// peer's answer as `Message::Close`, then the end of the stream.
    ///
    /// # Cancel safety
    /// As `WebSocket::send`.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.send(Message::Close(frame)).await
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketWriter<IO> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx, Side::Writer)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        lock(&self.shared).start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_flush(cx, Side::Writer)
    }

    /// Sends a close frame (if none was sent yet) and writes it out; it
    /// never reads (the reader half sees the peer's reply).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_close(cx, Side::Writer)
    }
}

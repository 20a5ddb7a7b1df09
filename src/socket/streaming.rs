//! Messages of any size in bounded memory: [`MessageReader`] hands a
//! message on as it arrives, [`MessageWriter`] sends one as it is
//! produced. Both are thin: every rule (fragments, limits, UTF-8,
//! compression, what giving up means) is the connection's, in
//! `proto::receive_streamed` and `proto::send_streamed`.
//!
//! Each holds the socket (or its half) borrowed for the message's life, so
//! no other message can be read, or sent, until it is done or dropped.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use std::future::poll_fn;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::driver::{Driver, Side};
use super::split::{lock, Shared};
use super::WebSocket;
use crate::proto::{Error, Message, MessageKind, Streamed};
use crate::UpgradedIo;

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocket<IO> {
    /// Receives the next message as it arrives, without gathering it:
    /// `Received::Message` holds a [`MessageReader`] (`AsyncRead`, or a
    /// `Stream` of `Bytes`) that yields its payload as frames arrive, for
    /// messages of any size (up to `Config::max_streamed_message_size`) in
    /// bounded memory; pings, pongs and the close come as `Received::Control`.
    /// `None` once the connection is closed, as [`recv`](Self::recv).
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket, mut file: tokio::fs::File) -> Result<(), Box<dyn std::error::Error>> {
    /// use hyperws::Received;
    /// while let Some(incoming) = ws.recv_streaming().await {
    ///     match incoming? {
    ///         Received::Message(mut reader) => {
    ///             tokio::io::copy(&mut reader, &mut file).await?;
    ///         }
    ///         Received::Control(message) => println!("{message:?}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    /// Cancel safe, as `recv`. A message that `recv` had begun to gather
    /// (cancelled part-way) is finished whole and handed on in one piece.
    pub async fn recv_streaming(&mut self) -> Option<Result<Received<'_, IO>, Error>> {
        let streamed = poll_fn(|cx| self.driver.poll_streamed(cx)).await?;
        Some(streamed.map(|streamed| Received::new(streamed, Handle::Whole(&mut self.driver))))
    }

    /// Begins a message of `kind` to be sent as it is produced: the
    /// [`MessageWriter`] sends fragments as it is written (an `AsyncWrite`),
    /// and ends the message on [`finish`](MessageWriter::finish).
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket, mut file: tokio::fs::File) -> Result<(), Box<dyn std::error::Error>> {
    /// use hyperws::MessageKind;
    /// let mut writer = ws.send_streaming(MessageKind::Binary)?;
    /// tokio::io::copy(&mut file, &mut writer).await?;
    /// writer.finish().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Nothing more can be sent (the connection is closing or closed).
    pub fn send_streaming(&mut self, kind: MessageKind) -> Result<MessageWriter<'_, IO>, Error> {
        MessageWriter::start(Handle::Whole(&mut self.driver), kind, true)
    }
}

/// The socket a reader or writer works on: a whole one, or one half's share.
#[derive(Debug)]
pub(super) enum Handle<'a, IO: AsyncRead + AsyncWrite + Unpin> {
    Whole(&'a mut Driver<IO>),
    Half(&'a Shared<IO>),
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Handle<'_, IO> {
    fn with<R>(&mut self, f: impl FnOnce(&mut Driver<IO>) -> R) -> R {
        match self {
            Self::Whole(driver) => f(driver),
            Self::Half(shared) => f(&mut lock(shared)),
        }
    }
}

/// What [`WebSocket::recv_streaming`](super::WebSocket::recv_streaming) received.
#[derive(Debug)]
pub enum Received<'a, IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo> {
    /// A text or binary message, to be read as it arrives.
    Message(MessageReader<'a, IO>),
    /// A ping, pong or close (a ping is answered already; after a close
    /// the next call returns `None`).
    Control(Message),
}

impl<'a, IO: AsyncRead + AsyncWrite + Unpin> Received<'a, IO> {
    pub(super) fn new(streamed: Streamed, handle: Handle<'a, IO>) -> Self {
        match streamed {
            Streamed::Control(message) => Self::Control(message),
            Streamed::Piece(piece) => Self::Message(MessageReader {
                handle,
                kind: piece.kind,
                unread: piece.data,
                ended: piece.last,
            }),
        }
    }
}

/// One received text or binary message, read as it arrives: as an
/// [`AsyncRead`] (`tokio::io::copy` it to a file) or as a [`Stream`] of
/// `Bytes` pieces, never gathered whole. Text was checked as UTF-8 up to
/// what was handed on (a piece may end inside a character); compressed
/// messages are inflated as they come. The whole message may be up to
/// `Config::max_streamed_message_size`.
///
/// Dropped before its end, the rest of the message is read and dropped,
/// and the socket goes on with the next message. A peer that closes
/// before the message ends makes the reader fail with
/// [`Error::MessageUnfinished`]. Pings are answered, and the heartbeat
/// runs, while it is read.
#[derive(Debug)]
pub struct MessageReader<'a, IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo> {
    handle: Handle<'a, IO>,
    kind: MessageKind,
    /// Received and not yet read.
    unread: Bytes,
    /// The last piece was received (or the message failed).
    ended: bool,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> MessageReader<'_, IO> {
    /// Whether the message is text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The next piece of the message, `None` after the last; as the
    /// `Stream` implementation, without importing `StreamExt`.
    ///
    /// # Cancel safety
    /// Cancel safe: no piece is lost.
    pub async fn next_piece(&mut self) -> Option<Result<Bytes, Error>> {
        std::future::poll_fn(|cx| self.poll_piece(cx)).await
    }

    fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        if !self.unread.is_empty() {
            return Poll::Ready(Some(Ok(std::mem::take(&mut self.unread))));
        }
        while !self.ended {
            let next = ready!(self.handle.with(|driver| driver.poll_streamed(cx)));
            let error = match next {
                Some(Ok(Streamed::Piece(piece))) => {
                    self.ended = piece.last;
                    if piece.data.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(piece.data)));
                }
                Some(Ok(Streamed::Control(Message::Ping(_) | Message::Pong(_)))) => continue,
                Some(Ok(Streamed::Control(_))) | None => Error::MessageUnfinished,
                Some(Err(e)) => e,
            };
            self.ended = true;
            return Poll::Ready(Some(Err(error)));
        }
        Poll::Ready(None)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Stream for MessageReader<'_, IO> {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_piece(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for MessageReader<'_, IO> {
    /// Errors are this crate's [`Error`] inside an `io::Error` (`get_ref`
    /// and `downcast_ref` find it).
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.unread.is_empty() {
            match ready!(this.poll_piece(cx)) {
                Some(Ok(piece)) => this.unread = piece,
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = buf.remaining().min(this.unread.len());
        buf.put_slice(&this.unread[..n]);
        this.unread.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Drop for MessageReader<'_, IO> {
    fn drop(&mut self) {
        if !self.ended {
            self.handle.with(|driver| driver.conn.discard_streamed());
        }
    }
}

/// One text or binary message, sent as it is produced: write with
/// [`write_all`](Self::write_all) or as an [`AsyncWrite`]
/// (`tokio::io::copy` a file into it), end with [`finish`](Self::finish)
/// (or `AsyncWriteExt::shutdown`). What is written is gathered into
/// fragments of `Config::streamed_frame_size` (`flush` sends a smaller one
/// now); while `Config::write_buffer_size` is queued it waits for the peer
/// to read (the message is produced on demand: queueing up to
/// `max_write_buffer_size`, as whole messages may, would only hold memory).
/// Compressed when permessage-deflate was agreed: one compressed message
/// across its fragments. A text message's bytes must be UTF-8 (checked as
/// written; a piece may end inside a character).
///
/// Pings are answered between its fragments; no other text or binary
/// message is sent until it finishes (`send` fails with
/// [`SendError::StreamedMessageInProgress`](crate::SendError::StreamedMessageInProgress),
/// topic messages wait).
///
/// **Dropped before `finish`**: if no fragment went out yet, the message
/// is forgotten and the socket goes on; otherwise the peer holds part of a
/// message that can never be completed, so the socket closes with 1011
/// (never a final fragment: the peer must not take a cut message for a whole one).
#[derive(Debug)]
pub struct MessageWriter<'a, IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo> {
    handle: Handle<'a, IO>,
    finished: bool,
}

impl<'a, IO: AsyncRead + AsyncWrite + Unpin> MessageWriter<'a, IO> {
    /// Begins a message of `kind` on `handle`'s socket.
    pub(super) fn start(mut handle: Handle<'a, IO>, kind: MessageKind, may_compress: bool) -> Result<Self, Error> {
        handle.with(|driver| driver.conn.start_streamed(kind, may_compress))?;
        Ok(Self {
            handle,
            finished: false,
        })
    }

    /// Writes all of `data`, waiting for room as needed.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped part-way, an unknown part of `data` was taken.
    pub async fn write_all(&mut self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            let taken = std::future::poll_fn(|cx| self.poll_write_some(cx, data)).await?;
            data = &data[taken..];
        }
        Ok(())
    }

    /// Writes `data`, which the caller already holds as `Bytes`: its whole
    /// fragments are queued by reference, not copied (a server's, when
    /// uncompressed; a client masks a copy). Waits for room first.
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket, chunks: Vec<bytes::Bytes>) -> Result<(), hyperws::Error> {
    /// let mut writer = ws.send_streaming(hyperws::MessageKind::Binary)?;
    /// for chunk in chunks {
    ///     writer.write_bytes(chunk).await?;
    /// }
    /// writer.finish().await
    /// # }
    /// ```
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while waiting for room, nothing of `data` was taken.
    pub async fn write_bytes(&mut self, data: Bytes) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.handle.with(|driver| driver.poll_drained(cx, Side::Writer))).await?;
        self.handle.with(|driver| driver.conn.write_streamed_bytes(data))
    }

    /// Sends what was written so far as a fragment and writes everything out.
    pub async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_flush_all(cx)).await
    }

    /// Ends the message (its last fragment, FIN set) and writes it out.
    ///
    /// # Errors
    /// A text message ended inside a character, or the socket failed.
    pub async fn finish(mut self) -> Result<(), Error> {
        self.finish_once()?;
        self.flush().await
    }

    fn finish_once(&mut self) -> Result<(), Error> {
        if !self.finished {
            self.handle.with(|driver| driver.conn.finish_streamed())?;
            self.finished = true;
        }
        Ok(())
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<Result<usize, Error>> {
        self.handle.with(|driver| {
            ready!(driver.poll_drained(cx, Side::Writer))?;
            Poll::Ready(driver.conn.write_streamed(data))
        })
    }

    fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.handle.with(|driver| {
            driver.conn.flush_streamed();
            driver.poll_flush(cx, Side::Writer)
        })
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MessageWriter<'_, IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.get_mut().poll_write_some(cx, data).map_err(io::Error::other)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx).map_err(io::Error::other)
    }

    /// Finishes the message, as [`finish`](MessageWriter::finish).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.finish_once().map_err(io::Error::other)?;
        this.poll_flush_all(cx).map_err(io::Error::other)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Drop for MessageWriter<'_, IO> {
    fn drop(&mut self) {
        if !self.finished {
            self.handle.with(|driver| {
                driver.conn.abandon_streamed();
                driver.write_without_waiting();
            });
        }
    }
}

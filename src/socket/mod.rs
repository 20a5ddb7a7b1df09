//! [`WebSocket`]: a connection over any `AsyncRead + AsyncWrite`, after the
//! opening handshake.

mod driver;
mod outbox;
mod outbox_methods;
mod split;
mod streaming;
mod timer;
mod wakers;
mod write_out;

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use http::HeaderValue;
use tokio::io::{AsyncRead, AsyncWrite};

use self::driver::{Driver, Side};
pub use self::outbox::{Outbox, Outgoing};
pub use self::split::{ReuniteError, WebSocketReader, WebSocketWriter};
pub use self::streaming::{MessageReader, MessageWriter, Received};

use crate::handshake::Negotiated;
use crate::proto::{CloseFrame, Error, Message, Role};
use crate::{Config, ServerConfig, UpgradedIo};

/// A WebSocket connection.
///
/// Receive with [`recv`](Self::recv) (or as a [`Stream`]), send with
/// [`send`](Self::send), or batch with [`feed`](Self::feed) and
/// [`flush`](Self::flush) (or as a [`Sink`]). Pings are answered for you.
/// [`into_split`](Self::into_split) gives a reader and a writer for two
/// tasks; `futures`' `StreamExt::split` works too, as with axum.
///
/// The transport defaults to [`UpgradedIo`], what the server doors produce,
/// so a handler can name the type as plain `WebSocket`.
///
/// ```no_run
/// # async fn run(mut ws: hyperws::WebSocket<tokio::net::TcpStream>) -> Result<(), hyperws::Error> {
/// use hyperws::Message;
/// while let Some(message) = ws.recv().await {
///     match message? {
///         Message::Text(text) => ws.send(Message::Text(text)).await?,
///         Message::Close(frame) => println!("peer closed: {frame:?}"), // the stream ends next
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebSocket<IO: AsyncRead + AsyncWrite + Unpin = UpgradedIo> {
    driver: Driver<IO>,
    protocol: Option<HeaderValue>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocket<IO> {
    /// Wraps a transport whose opening handshake is already done.
    ///
    /// ```
    /// use hyperws::{Config, Role, WebSocket};
    /// let (io, _peer) = tokio::io::duplex(1024);
    /// let ws = WebSocket::from_raw_socket(io, Role::Server, &Config::default());
    /// ```
    pub fn from_raw_socket(io: IO, role: Role, config: &Config) -> Self {
        Self::from_partially_read(io, &[], role, config)
    }

    /// Like [`from_raw_socket`](Self::from_raw_socket), for a transport from
    /// which `read` (bytes after the handshake) was already taken.
    pub fn from_partially_read(io: IO, read: &[u8], role: Role, config: &Config) -> Self {
        Self::from_negotiated(io, read, role, config, Negotiated::default())
    }

    /// A socket set up as a handshake you ran yourself agreed — a custom
    /// server door (see [`handshake::server`](crate::handshake::server)) or a
    /// custom client transport (see [`handshake::client`](crate::handshake::client)):
    /// `negotiated` gives it its subprotocol ([`protocol`](Self::protocol))
    /// and permessage-deflate (with `config`'s compression settings, which
    /// must be those the negotiation used). `read` holds bytes already read
    /// past the handshake.
    ///
    /// ```
    /// use http::Request;
    /// use hyperws::handshake::server::{validate, RequestHead};
    /// use hyperws::{Config, DeflateConfig, Role, WebSocket};
    ///
    /// let request = Request::get("/")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-extensions", "permessage-deflate")
    ///     .body(())
    ///     .unwrap();
    /// let config = Config::builder().deflate(DeflateConfig::default()).build().unwrap();
    /// let head = RequestHead::new(request.method(), request.version(), request.uri(), request.headers());
    /// let mut accept = validate(&head).unwrap();
    /// accept.negotiate_deflate(config.deflate());
    /// let _response = accept.response::<()>(); // send it, then hand over the transport:
    /// let (io, _peer) = tokio::io::duplex(1024);
    /// let ws = WebSocket::from_negotiated(io, &[], Role::Server, &config, accept.negotiated());
    /// assert!(ws.deflate().is_some());
    /// ```
    pub fn from_negotiated(io: IO, read: &[u8], role: Role, config: &Config, negotiated: Negotiated) -> Self {
        let conn = negotiated.apply(Driver::<IO>::connection(role, config), config);
        Self {
            driver: Driver::new(io, conn, read, None),
            protocol: negotiated.protocol,
        }
    }

    /// A server door's socket: [`from_negotiated`](Self::from_negotiated)'s,
    /// plus the server-only settings, which must be in force before the
    /// bytes hyper read ahead are decoded: unmasked frames, the shutdown signal.
    pub(crate) fn server(io: IO, read: &[u8], config: &ServerConfig, agreed: Negotiated) -> Self {
        let mut conn = agreed.apply(Driver::<IO>::connection(Role::Server, config.socket()), config.socket());
        if config.accepts_unmasked_frames() {
            conn.accept_unmasked_frames();
        }
        let shutdown = config.shutdown().map(crate::Shutdown::register);
        Self {
            driver: Driver::new(io, conn, read, shutdown),
            protocol: agreed.protocol,
        }
    }

    /// Ties this socket to `shutdown` (as a [`ServerConfig`] does for the
    /// server doors): when it is triggered the socket sends close 1001.
    ///
    /// ```
    /// use hyperws::{Config, Role, Shutdown, WebSocket};
    /// let shutdown = Shutdown::new();
    /// let (io, _peer) = tokio::io::duplex(1024);
    /// let ws = WebSocket::from_raw_socket(io, Role::Server, &Config::default()).with_shutdown(&shutdown);
    /// assert_eq!(shutdown.open_sockets(), 1);
    /// ```
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: &crate::Shutdown) -> Self {
        self.driver.set_shutdown(shutdown.register());
        self
    }

    /// The subprotocol the handshake selected, if any.
    pub fn protocol(&self) -> Option<&HeaderValue> {
        self.protocol.as_ref()
    }

    /// The permessage-deflate parameters the handshake agreed, if it was
    /// agreed (see [`ConfigBuilder::deflate`](crate::ConfigBuilder::deflate)).
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(&self) -> Option<crate::DeflateParams> {
        self.driver.conn().deflate_params().copied()
    }

    /// Receives the next message.
    ///
    /// Returns `None` once the connection is closed: after a received
    /// `Message::Close` (the reply is already sent) or after an error.
    /// Protocol errors have already been answered with the right close code
    /// when they are returned.
    ///
    /// # Errors
    /// The final item before `None` when the connection ended with a fault:
    /// see [`Error`], whose `is_*` methods tell who was at fault.
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket) {
    /// use hyperws::{Error, Message};
    /// while let Some(received) = ws.recv().await {
    ///     match received {
    ///         Ok(Message::Text(text)) => println!("{text}"),
    ///         Ok(_) => {}
    ///         Err(Error::HeartbeatTimeout) => println!("the peer vanished"),
    ///         Err(e) if e.is_peer_fault() => println!("the peer misbehaved: {e}"),
    ///         Err(e) => println!("the connection failed: {e}"),
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no message
    /// is lost; the next call returns it. Use it in `tokio::select!` freely.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.driver.poll_recv(cx)).await
    }

    /// Sends a message and writes out everything queued.
    ///
    /// Sending `Message::Close` starts the closing handshake; keep calling
    /// [`recv`](Self::recv) to see the peer's answer, or use
    /// [`close`](Self::close) to do both.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropped while waiting for room (backpressure), the
    /// message is not sent; dropped after it was queued, it is written by
    /// the next `send`, `flush` or `recv`.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues a message without writing it out, waiting only if the queue is
    /// over `Config::max_write_buffer_size`. Queued messages are written by
    /// [`flush`](Self::flush), by [`send`](Self::send), or by
    /// [`recv`](Self::recv) before it waits for input — so a `recv` + `feed`
    /// loop answers a whole batch of input with one write.
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket) -> Result<(), hyperws::Error> {
    /// use hyperws::Message;
    /// for n in 0..100 {
    ///     ws.feed(Message::text(n.to_string())).await?; // queued, not written
    /// }
    /// ws.flush().await?; // one vectored write for all hundred
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    /// Cancel safe in that nothing is half-queued: dropped while waiting for
    /// room, the message is not queued at all.
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_ready(cx, Side::Writer)).await?;
        self.driver.start_send(message)
    }

    /// Sends a message as [`send`](Self::send) does, never compressed even
    /// when permessage-deflate is on: for payloads that mix a secret with
    /// text an attacker can choose, whose compressed size would reveal the
    /// secret (RFC 7692 §8; the CRIME and BREACH attacks).
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket, token: String) -> Result<(), hyperws::Error> {
    /// use hyperws::Message;
    /// ws.send_uncompressed(Message::text(format!("{{\"session\":\"{token}\"}}"))).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    /// As [`send`](Self::send).
    pub async fn send_uncompressed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_ready(cx, Side::Writer)).await?;
        self.driver.start_send_uncompressed(message)?;
        self.flush().await
    }

    /// Writes out every queued message.
    ///
    /// # Errors
    /// The transport failed, or the connection ended with a fault (queued
    /// messages may not have been delivered).
    ///
    /// # Cancel safety
    /// Cancel safe: what was not written yet stays queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_flush(cx, Side::Writer)).await
    }

    /// Closes the connection and waits for the peer's answer: sends a close
    /// frame (unless one was already sent or received), then reads until the
    /// peer's close frame and the end of the connection, up to
    /// `Config::close_timeout`, and returns the peer's close frame.
    ///
    /// Data messages that arrive meanwhile are **discarded** (the peer sent
    /// them before it saw our close). To see every one of them, send the
    /// close with [`send`](Self::send)`(Message::Close(..))` or `SinkExt::close`
    /// instead, and keep calling [`recv`](Self::recv): it yields each message,
    /// then the peer's `Message::Close`, then `None`.
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket) -> Result<(), hyperws::Error> {
    /// use hyperws::{CloseCode, CloseFrame};
    /// let reply = ws.close(Some(CloseFrame { code: CloseCode::NORMAL, reason: "bye".into() })).await?;
    /// println!("the peer answered {reply:?}");
    /// assert!(ws.recv().await.is_none());
    /// # Ok(()) }
    /// ```
    ///
    /// Returns `Ok(None)` if the peer's close frame carried no code, or if
    /// [`recv`](Self::recv) had already delivered it.
    ///
    /// # Errors
    /// [`Error::CloseTimeout`] if the peer did not answer in time (the
    /// connection is dropped all the same), or the fault that ended it first.
    ///
    /// # Cancel safety
    /// The close frame is queued once; calling `close` again (or `recv`)
    /// goes on waiting. A peer's close frame read before the cancellation
    /// is not returned again.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<Option<CloseFrame>, Error> {
        if self.driver.conn().send_error().is_none() {
            self.feed(Message::Close(frame)).await?;
        }
        let mut reply = None;
        while let Some(message) = self.recv().await {
            if let Message::Close(frame) = message? {
                reply = frame;
            }
        }
        Ok(reply)
    }

    /// Splits into a reader and a writer that can be used from two tasks,
    /// in tokio's order: `(reader, writer)`. The reader answers pings and
    /// drives the closing handshake and the heartbeat; both share one transport.
    ///
    /// Named like tokio's `TcpStream::into_split`, so that `socket.split()`
    /// stays `futures`' `StreamExt::split` for code written for axum.
    ///
    /// ```no_run
    /// # async fn run(ws: hyperws::WebSocket) {
    /// use hyperws::Message;
    /// let (mut reader, mut writer) = ws.into_split();
    /// tokio::spawn(async move {
    ///     let _ = writer.send(Message::text("tick")).await;
    /// });
    /// while let Some(Ok(message)) = reader.recv().await {
    ///     println!("{message:?}");
    /// }
    /// # }
    /// ```
    pub fn into_split(self) -> (WebSocketReader<IO>, WebSocketWriter<IO>) {
        split::split(self.driver, self.protocol)
    }

    fn reunited(driver: Driver<IO>, protocol: Option<HeaderValue>) -> Self {
        Self { driver, protocol }
    }

    /// How many bytes of queued messages wait to be written; bounded by
    /// `Config::max_write_buffer_size` plus one message.
    pub fn buffered_amount(&self) -> usize {
        self.driver.conn().buffered_amount()
    }

    /// The transport.
    pub fn get_ref(&self) -> &IO {
        self.driver.io()
    }

    /// The transport, mutably: for its settings (a TCP socket's options),
    /// not for reading or writing, which would corrupt the frame stream.
    pub fn get_mut(&mut self) -> &mut IO {
        self.driver.io_mut()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<IO> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().driver.poll_recv(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocket<IO> {
    fn is_terminated(&self) -> bool {
        self.driver.is_finished()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<IO> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_ready(cx, Side::Writer)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().driver.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_flush(cx, Side::Writer)
    }

    /// Sends a close frame if none was sent and writes it out. It never
    /// reads: the peer's remaining messages and its close frame are still
    /// yielded by the `Stream` side (a `futures` split's `SplitStream`
    /// included), then the end.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_close(cx, Side::Writer)
    }
}

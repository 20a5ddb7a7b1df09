//! [`Driver`]: moves bytes between a transport and a [`Connection`], and
//! sleeps until the connection's next deadline. It makes no protocol
//! decision; every `if` about frames or close codes is in `proto`.
//!
//! Reading: decode what is buffered first; before waiting for the socket,
//! write out whatever is queued (pongs, close replies, data the application
//! fed), so one batch of input costs one write, not one per message. While
//! more than `max_write_buffer_size` waits to be written, read nothing: a
//! peer that floods pings but never reads is held back by TCP, not by our memory.
//!
//! Time and shutdown are watched from every entry point, reading or
//! writing, so a writer stuck behind a peer that never reads still sees the
//! heartbeat declare that peer dead.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll, Wake, Waker};
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;

use crate::proto::{CloseCode, CloseFrame, CloseState, Connection, Eof, Message, Role, Timeout};
use crate::shutdown::ShutdownGuard;
use crate::{Config, Error};

/// Up to this many slices go into one vectored write.
const MAX_IO_SLICES: usize = 64;

/// Which half of a split socket is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Reader = 0,
    Writer = 1,
}

/// The waker given to everything either half may wait on (write readiness,
/// the timer, the shutdown trigger): it wakes every task waiting. Each of
/// those keeps only the last waker it was given, and both halves of a split
/// socket wait on them, so without this one half could sleep forever behind
/// the other's cancelled call.
#[derive(Debug, Default)]
struct Wakers(Mutex<[Option<Waker>; 2]>);

impl Wakers {
    fn register(&self, side: Side, waker: &Waker) {
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = &mut slots[side as usize];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let taken = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in taken.into_iter().flatten() {
            waker.wake();
        }
    }
}

#[derive(Debug)]
pub(crate) struct Driver<IO: AsyncRead + AsyncWrite + Unpin> {
    io: IO,
    conn: Connection,
    read_buf: BytesMut,
    read_chunk: usize,
    write_buffer_size: usize,
    max_write_buffer_size: usize,
    /// Armed at `conn.poll_timeout()`; allocated once, on the first deadline.
    timer: Option<Pin<Box<Sleep>>>,
    /// The error to report once the connection has finished closing.
    pending_error: Option<Error>,
    /// Which clock ended the connection, for the error `send` reports.
    ended_by: Option<Timeout>,
    write_shut: bool,
    /// Bytes were written since the transport was last flushed.
    unflushed: bool,
    /// `recv` has returned its final item; it returns `None` from now on.
    finished: bool,
    wakers: Arc<Wakers>,
    /// `wakers` as a `Waker`, made once.
    fan_out: Waker,
    shutdown: Option<ShutdownGuard>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Driver<IO> {
    pub(crate) fn new(io: IO, read_buf: BytesMut, role: Role, config: &Config) -> Self {
        let wakers = Arc::new(Wakers::default());
        Self {
            io,
            conn: Connection::new(role, config, now()),
            read_buf,
            read_chunk: config.get_read_buffer_size(),
            write_buffer_size: config.get_write_buffer_size(),
            max_write_buffer_size: config.get_max_write_buffer_size(),
            timer: None,
            pending_error: None,
            ended_by: None,
            write_shut: false,
            unflushed: false,
            finished: false,
            fan_out: Waker::from(Arc::clone(&wakers)),
            wakers,
            shutdown: config.get_shutdown().map(crate::Shutdown::register),
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn io(&self) -> &IO {
        &self.io
    }

    /// The next message, the final error, or `None` once the connection is closed.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.finished {
                return Poll::Ready(None);
            }
            match self.conn.read(&mut self.read_buf, now()) {
                Ok(Some(message)) => {
                    if let Message::Close(frame) = &message {
                        tracing::debug!(code = ?frame.as_ref().map(|f| f.code), "peer sent close");
                        // Reply at once; the application may never call recv again.
                        let _ = self.poll_write_out(cx, Side::Reader);
                    }
                    return Poll::Ready(Some(Ok(message)));
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, code = %e.close_code(), "peer broke the protocol");
                    self.pending_error.get_or_insert(Error::Protocol(e));
                }
            }
            if let Poll::Ready(Err(e)) = self.poll_write_out(cx, Side::Reader) {
                if self.conn.state().delivers_input() {
                    return self.finish(Some(e.into()));
                }
                // The closing handshake is over or abandoned: a transport
                // the peer already tore down is the expected end, not news.
                let _ = self.conn.handle_eof();
                return self.finish_with_pending();
            }
            if self.conn.should_shutdown_write() && self.conn.outbox().is_empty() && !self.write_shut {
                // Best effort: a transport that fails to shut down is dropped anyway.
                let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                self.write_shut = true;
            }
            if self.conn.state() == CloseState::Closed {
                return self.finish_with_pending();
            }
            if self.poll_events(cx, Side::Reader) {
                continue; // a deadline or the shutdown changed the state
            }
            if self.conn.outbox().len() >= self.max_write_buffer_size {
                // Read backpressure: the write waker wakes us when the peer reads.
                return Poll::Pending;
            }
            match ready!(self.poll_fill(cx)) {
                Ok(0) => {
                    if self.conn.handle_eof() == Eof::Abnormal {
                        self.pending_error.get_or_insert(Error::AbnormalClosure);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = self.conn.handle_eof();
                    self.pending_error.get_or_insert(Error::Io(e));
                }
            }
        }
    }

    /// Ready when another message may be queued without passing
    /// `max_write_buffer_size` (backpressure).
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        self.poll_events(cx, side);
        if !self.conn.state().can_send() {
            return Poll::Ready(Err(self.send_error()));
        }
        if self.conn.outbox().len() >= self.write_buffer_size {
            let written = self.poll_write_out(cx, side);
            if let Poll::Ready(Err(e)) = written {
                return Poll::Ready(Err(e.into()));
            }
            if written.is_pending() && self.conn.outbox().len() >= self.max_write_buffer_size {
                return Poll::Pending;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Queues a message (call after [`poll_ready`](Self::poll_ready)).
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        if !self.conn.state().can_send() {
            return Err(self.send_error());
        }
        self.conn.send(message, now()).map_err(Error::from)
    }

    /// Writes everything queued and flushes the transport.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        self.poll_events(cx, side);
        if self.conn.state() == CloseState::Closed && self.ended_by.is_some() {
            // A timer dropped the connection (heartbeat or close timeout): the
            // peer is not reading, so flushing would wait forever.
            return Poll::Ready(Err(self.send_error()));
        }
        self.poll_write_out(cx, side).map_err(Error::from)
    }

    /// Whether `poll_recv` has returned its final item.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether a close frame may still be sent.
    pub(crate) fn can_send(&self) -> bool {
        self.conn.state().can_send()
    }

    /// Why sending is no longer possible.
    fn send_error(&self) -> Error {
        match self.ended_by {
            Some(Timeout::Heartbeat) => Error::HeartbeatTimeout,
            Some(Timeout::Idle) => Error::IdleTimeout,
            Some(Timeout::Close) => Error::CloseTimeout,
            None => Error::Closed,
        }
    }

    /// Ends the stream with the error recorded while closing, if any.
    fn finish_with_pending(&mut self) -> Poll<Option<Result<Message, Error>>> {
        let error = self.pending_error.take();
        self.finish(error)
    }

    fn finish(&mut self, error: Option<Error>) -> Poll<Option<Result<Message, Error>>> {
        if let Some(e) = &error {
            tracing::debug!(error = %e, "WebSocket ended");
        }
        self.finished = true;
        self.read_buf = BytesMut::new();
        Poll::Ready(error.map(Err))
    }

    /// Watches the clock and the shutdown signal for either half; returns
    /// `true` if one of them changed the connection's state. Loops until
    /// neither has news, so the timer is always left armed at the next deadline.
    fn poll_events(&mut self, cx: &mut Context<'_>, side: Side) -> bool {
        self.wakers.register(side, cx.waker());
        let fan_out = self.fan_out.clone();
        let mut events = Context::from_waker(&fan_out);
        let mut changed = false;
        while self.poll_shutdown_signal(&mut events) | self.poll_timer(&mut events) {
            changed = true;
        }
        changed
    }

    /// Sends close 1001 once the server's shutdown is triggered.
    fn poll_shutdown_signal(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(guard) = &mut self.shutdown else { return false };
        let Some(trigger) = guard.trigger_mut() else {
            return false;
        };
        if trigger.as_mut().poll(cx).is_pending() {
            return false;
        }
        guard.fired();
        let frame = CloseFrame {
            code: CloseCode::AWAY,
            reason: "server shutting down".into(),
        };
        self.conn.state().can_send() && self.conn.send(Message::Close(Some(frame)), now()).is_ok()
    }

    /// Arms the timer at the connection's deadline; returns `true` if it
    /// fired (the connection has then been told).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(std_deadline) = self.conn.poll_timeout() else {
            return false;
        };
        let deadline = tokio::time::Instant::from_std(std_deadline);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        // The timer has fired, so the deadline has passed even if the two
        // clocks disagree by a rounding step.
        let ran_out = self.conn.handle_timeout(now().max(std_deadline));
        if let Some(clock) = ran_out {
            let error = match clock {
                Timeout::Close => Error::CloseTimeout,
                Timeout::Heartbeat => {
                    tracing::info!("WebSocket peer stopped responding to pings; dropping it");
                    Error::HeartbeatTimeout
                }
                Timeout::Idle => Error::IdleTimeout,
            };
            self.ended_by = Some(clock);
            self.pending_error.get_or_insert(error);
        }
        true
    }

    /// Reads more bytes, growing the buffer once to fit the frame in progress.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.read_buf.is_empty() && self.read_buf.capacity() > 4 * self.read_chunk {
            // Give back the room a large message needed; idle sockets stay small.
            self.read_buf = BytesMut::new();
        }
        let wanted = self.conn.bytes_needed(self.read_buf.len()).max(self.read_chunk);
        self.read_buf.reserve(wanted);
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf)
    }

    /// Writes the outbox until it is empty, then flushes the transport.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<io::Result<()>> {
        // Registered before polling, so a wake that races the poll is not lost.
        self.wakers.register(side, cx.waker());
        let mut write_cx = Context::from_waker(&self.fan_out);
        while !self.conn.outbox().is_empty() {
            let outbox = self.conn.outbox();
            let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
            let count = outbox.io_slices(&mut slices);
            let io = Pin::new(&mut self.io);
            let written = if io.is_write_vectored() {
                ready!(io.poll_write_vectored(&mut write_cx, &slices[..count]))?
            } else {
                ready!(io.poll_write(&mut write_cx, &slices[0]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.outbox().advance(written);
            self.unflushed = true;
        }
        if self.unflushed {
            ready!(Pin::new(&mut self.io).poll_flush(&mut write_cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Drop for Driver<IO> {
    /// A socket dropped while its task unwinds from a panic (an `async fn`
    /// drops its locals as the panic passes through it) tells the peer with
    /// close 1011 (RFC 6455 §7.4.1, "unexpected condition"), written without
    /// waiting, instead of vanishing as an abnormal closure.
    fn drop(&mut self) {
        if std::thread::panicking() && self.conn.state().can_send() {
            let frame = CloseFrame::from_code(CloseCode::ERROR);
            if self.conn.send(Message::Close(Some(frame)), now()).is_ok() {
                let _ = self.poll_write_out(&mut Context::from_waker(Waker::noop()), Side::Writer);
            }
        }
    }
}

/// The protocol's clock: tokio's, so tests can pause and advance it.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

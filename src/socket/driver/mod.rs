//! [`Driver`]: moves bytes between a transport and a [`Connection`], and
//! sleeps until the connection's next deadline. It keeps no protocol state
//! and makes no protocol decision: every "is this an error", "may we send",
//! "should we read" is asked of the connection.
//!
//! Reading: take what is decoded first; before waiting for the socket, write
//! out whatever is queued (pongs, close replies, data the application fed),
//! so one batch of input costs one write, not one per message.
//!
//! Time and the shutdown signal are armed only when the socket is about to
//! wait, reading or writing, so a writer stuck behind a peer that never
//! reads still sees the heartbeat declare that peer dead; a deadline that
//! passes while bytes keep coming is handled by `handle_read` itself, and
//! the shutdown flag is glanced at on every `recv` and `feed`.

mod shutdown_signal;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::outbox::{Outbox, Outboxes};
use super::timer::Timer;
use super::wakers::{WakeMode, Wakers};
use super::write_out::poll_write_out;
use crate::proto::{CloseCode, CloseFrame, Connection, Error, Message, Role, Streamed};
use crate::shutdown::ShutdownGuard;
use crate::Config;

/// Which half of a split socket is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Reader = 0,
    Writer = 1,
}

#[derive(Debug)]
pub(crate) struct Driver<IO: AsyncRead + AsyncWrite + Unpin> {
    io: IO,
    pub(super) conn: Connection,
    /// Bytes were written since the transport was last flushed (a fact
    /// about the transport, which a TLS stream needs to know).
    unflushed: bool,
    /// Armed at `conn.poll_timeout()`; allocated once, on the first deadline.
    timer: Option<Timer>,
    wake: WakeMode,
    shutdown: Option<ShutdownGuard>,
    /// What feeds this socket shared messages (its topics); told when it ends.
    outboxes: Outboxes,
}

/// Read into the stack while the connection holds no read buffer, so an
/// idle socket allocates nothing until bytes arrive.
const PROBE_SIZE: usize = crate::proto::SMALL_READ;

impl<IO: AsyncRead + AsyncWrite + Unpin> Driver<IO> {
    /// A driver for `conn`, with `read_ahead` (bytes read past the
    /// handshake) already in.
    pub(crate) fn new(io: IO, mut conn: Connection, read_ahead: &[u8], shutdown: Option<ShutdownGuard>) -> Self {
        if !read_ahead.is_empty() {
            conn.handle_bytes(read_ahead, now());
        }
        Self {
            io,
            conn,
            unflushed: false,
            timer: None,
            wake: WakeMode::Direct,
            shutdown,
            outboxes: Outboxes::default(),
        }
    }

    /// A connection for a socket made with `config`.
    pub(crate) fn connection(role: Role, config: &Config) -> Connection {
        Connection::new(role, config, now())
    }

    /// From now on two tasks share this driver: wake both.
    pub(crate) fn share(&mut self) {
        let wakers = Arc::new(Wakers::default());
        let waker = Waker::from(Arc::clone(&wakers));
        self.wake = WakeMode::FanOut { wakers, waker };
    }

    /// One task again (the halves were reunited): wake it directly.
    pub(crate) fn unshare(&mut self) {
        self.wake = WakeMode::Direct;
    }

    pub(crate) fn set_shutdown(&mut self, guard: ShutdownGuard) {
        self.shutdown = Some(guard);
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.conn.is_finished()
    }

    pub(crate) fn io(&self) -> &IO {
        &self.io
    }

    pub(crate) fn io_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The next message, the final error, or `None` once the connection is closed.
    #[inline]
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        self.notice_shutdown();
        self.with_waker(Side::Reader, cx, |this, cx| {
            this.recv_loop(cx, Connection::poll_message)
        })
    }

    /// The next piece of a streamed message, or a control message.
    pub(crate) fn poll_streamed(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Streamed, Error>>> {
        self.notice_shutdown();
        self.with_waker(Side::Reader, cx, |this, cx| {
            this.recv_loop(cx, Connection::poll_streamed)
        })
    }

    /// Takes what `take` decodes, reading (and writing what is queued) until it has some.
    fn recv_loop<T>(
        &mut self,
        cx: &mut Context<'_>,
        take: impl Fn(&mut Connection) -> Option<T>,
    ) -> Poll<Option<Result<T, Error>>> {
        loop {
            if let Some(message) = take(&mut self.conn) {
                if self.conn.has_urgent_output() {
                    // A close reply goes out now: the application may never call again.
                    let _ = self.write_out_or_fail(cx);
                }
                return Poll::Ready(Some(Ok(message)));
            }
            // Nothing more is decoded: write the batch before waiting.
            self.take_outgoing();
            let _ = self.write_out_or_fail(cx);
            if self.conn.wants_shutdown_write() {
                // Best effort: a transport that fails to shut down is dropped anyway.
                let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                self.conn.handle_write_shutdown();
            }
            if let Some(end) = self.conn.poll_end() {
                return Poll::Ready(end.err().map(Err));
            }
            if self.conn.wants_read() && self.poll_fill(cx).is_ready() {
                continue;
            }
            // About to wait: a deadline or the shutdown may end the wait.
            if !self.poll_events(cx) {
                return Poll::Pending;
            }
        }
    }

    /// Ready when another message may be queued without passing
    /// `max_write_buffer_size` (backpressure).
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        // A socket that only sends still hears the shutdown.
        self.notice_shutdown();
        self.with_waker(side, cx, |this, cx| loop {
            this.take_outgoing();
            if let Some(e) = this.conn.send_error() {
                return Poll::Ready(Err(e));
            }
            if !this.conn.is_write_buffer_filled() {
                return Poll::Ready(Ok(()));
            }
            if this.write_out_or_fail(cx).is_ready() {
                continue;
            }
            if !this.conn.is_write_buffer_full() {
                return Poll::Ready(Ok(()));
            }
            // Waiting for the peer to read: the heartbeat may declare it dead.
            if !this.poll_events(cx) {
                return Poll::Pending;
            }
        })
    }

    /// Ready when less than `write_buffer_size` is queued: what a streamed
    /// message's writer waits for (it produces on demand: queueing up to
    /// `max_write_buffer_size`, as `poll_ready` allows, would only hold memory).
    pub(crate) fn poll_drained(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        self.notice_shutdown();
        self.with_waker(side, cx, |this, cx| loop {
            if let Some(e) = this.conn.send_error() {
                return Poll::Ready(Err(e));
            }
            if !this.conn.is_write_buffer_filled() || this.write_out_or_fail(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            // Waiting for the peer to read: the heartbeat may declare it dead.
            if !this.poll_events(cx) {
                return Poll::Pending;
            }
        })
    }

    /// Queues a message (call after [`poll_ready`](Self::poll_ready)).
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        match message {
            // Only a close needs the time: its deadline starts now.
            Message::Close(frame) => self.conn.close(frame, now()),
            message => self.conn.send(message),
        }
    }

    /// Queues a message never to be compressed.
    pub(crate) fn start_send_uncompressed(&mut self, message: Message) -> Result<(), Error> {
        match message {
            Message::Close(frame) => self.conn.close(frame, now()),
            message => self.conn.send_uncompressed(message),
        }
    }

    /// Writes everything queued and flushes the transport; fails if the
    /// connection has ended with a fault (what was queued may be lost).
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        self.with_waker(side, cx, |this, cx| loop {
            this.take_outgoing();
            if this.write_out_or_fail(cx).is_ready() {
                return Poll::Ready(this.conn.error().map_or(Ok(()), Err));
            }
            if !this.poll_events(cx) {
                return Poll::Pending;
            }
        })
    }

    /// Queues a close frame unless one was already sent (or received), then
    /// writes it out. It never reads: the peer's messages and its close
    /// reply stay for whoever reads, so a split socket's reader still sees
    /// every message, then `Message::Close`, then the end.
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        if self.conn.send_error().is_none() {
            ready!(self.poll_ready(cx, side))?;
            self.start_send(Message::Close(None))?;
        }
        self.poll_flush(cx, side)
    }

    /// Runs `poll` with the waker this side's waits must register.
    #[inline]
    fn with_waker<R>(
        &mut self,
        side: Side,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Self, &mut Context<'_>) -> R,
    ) -> R {
        match &self.wake {
            WakeMode::Direct => poll(self, cx),
            WakeMode::FanOut { wakers, waker } => {
                // Registered before polling, so a wake that races the poll is not lost.
                wakers.register(side, cx.waker());
                let waker = waker.clone();
                poll(self, &mut Context::from_waker(&waker))
            }
        }
    }

    /// Reads into the stack while the connection holds no read buffer (a
    /// quiet socket); out of line, so the busy path inlined above stays small.
    #[cold]
    #[inline(never)]
    fn poll_probe(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut probe = [0; PROBE_SIZE];
        let mut filled = ReadBuf::new(&mut probe);
        match ready!(Pin::new(&mut self.io).poll_read(cx, &mut filled)) {
            Ok(()) if filled.filled().is_empty() => self.conn.handle_eof(),
            Ok(()) => self.conn.handle_bytes(filled.filled(), now()),
            Err(e) => self.conn.handle_transport_error(e),
        }
        Poll::Ready(())
    }

    /// Reads once and reports what happened to the connection (inlined: out
    /// of line it cost ~40 instructions per `recv` once `recv_loop` had two instances).
    #[inline]
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.conn.has_read_buffer() {
            return self.poll_probe(cx);
        }
        let read = ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut self.io),
            cx,
            &mut self.conn.read_buffer()
        ));
        match read {
            Ok(0) => self.conn.handle_eof(),
            Ok(n) => self.conn.handle_read(n, now()),
            Err(e) => self.conn.handle_transport_error(e),
        }
        Poll::Ready(())
    }

    /// Moves what the outboxes hold into the connection (written with the rest).
    #[inline]
    fn take_outgoing(&mut self) {
        if !self.outboxes.is_empty() {
            self.outboxes.drain_into(&mut self.conn, now);
        }
    }

    /// Registers for news from the outboxes; `true` if some can be taken now.
    fn poll_outboxes(&mut self, cx: &mut Context<'_>) -> bool {
        !self.outboxes.is_empty() && self.outboxes.register(cx.waker()) && !self.conn.is_write_buffer_filled()
    }

    /// Feeds this socket from `outbox` too.
    pub(crate) fn attach_outbox(&mut self, outbox: Arc<dyn Outbox>) {
        self.outboxes.attach(outbox, self.conn.is_finished());
    }

    /// The first attached outbox of type `T`.
    pub(crate) fn outbox<T: Outbox>(&self) -> Option<Arc<T>> {
        self.outboxes.find()
    }

    /// Watches the clock and the shutdown signal; returns `true` if one of
    /// them had news. Loops until neither has, so the timer is always left
    /// armed at the next deadline.
    fn poll_events(&mut self, cx: &mut Context<'_>) -> bool {
        let mut changed = false;
        while self.poll_shutdown_signal(cx) | self.poll_timer(cx) {
            changed = true;
        }
        changed || self.poll_outboxes(cx)
    }

    /// Arms the timer at the connection's deadline; returns `true` if it
    /// fired (the connection has then been told).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(std_deadline) = self.conn.poll_timeout() else {
            return false;
        };
        let deadline = tokio::time::Instant::from_std(std_deadline);
        let timer = self.timer.get_or_insert_with(|| Timer::new(deadline));
        if timer.poll_until(deadline, cx).is_pending() {
            return false;
        }
        // The timer has fired, so the deadline has passed even if the two
        // clocks disagree by a rounding step.
        self.conn.handle_timeout(now().max(std_deadline));
        true
    }

    /// Writes the queue out; a transport failure is reported to the
    /// connection, which decides what it means. Ready once all is written.
    fn write_out_or_fail(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match poll_write_out(&mut self.io, &mut self.conn, &mut self.unflushed, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(()),
            Poll::Ready(Err(e)) => {
                self.conn.handle_transport_error(e);
                Poll::Ready(())
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Driver<IO> {
    /// Writes what is queued, as far as the transport takes it without waiting (in a `Drop`).
    pub(crate) fn write_without_waiting(&mut self) {
        let _ = poll_write_out(
            &mut self.io,
            &mut self.conn,
            &mut self.unflushed,
            &mut Context::from_waker(Waker::noop()),
        );
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Drop for Driver<IO> {
    /// A socket dropped while its task unwinds from a panic (an `async fn`
    /// drops its locals as the panic passes through it) tells the peer with
    /// close 1011 (RFC 6455 §7.4.1, "unexpected condition"), written without
    /// waiting, instead of vanishing as an abnormal closure.
    fn drop(&mut self) {
        if std::thread::panicking()
            && self
                .conn
                .close(Some(CloseFrame::from_code(CloseCode::ERROR)), now())
                .is_ok()
        {
            self.write_without_waiting();
        }
    }
}

/// The protocol's clock: tokio's, so tests can pause and advance it.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

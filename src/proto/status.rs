//! What [`Connection`] tells its driver about what to do next: write now,
//! hold back, read or not, shut the write side, why sending is refused.

use bytes::BytesMut;

use super::closing::{CloseState, Fault};
use super::connection::Connection;
use super::deflate::PerMessageDeflate;
use super::error::Error;
use super::Role;

impl Connection {
    /// Whether a close frame waits to be written: write it now rather than
    /// with the next batch, since the application may never send again.
    #[must_use]
    pub fn has_urgent_output(&self) -> bool {
        self.state != CloseState::Open && !self.write_queue.is_empty()
    }

    /// Whether `Config::write_buffer_size` is queued: write before queueing more.
    #[must_use]
    pub fn is_write_buffer_filled(&self) -> bool {
        !self.write_queue.is_empty() && self.write_queue.len() >= self.limits.write_buffer_size
    }

    /// Whether `Config::max_write_buffer_size` is queued: senders wait, and
    /// reading stops, until the peer takes some (backpressure).
    #[must_use]
    pub fn is_write_buffer_full(&self) -> bool {
        !self.write_queue.is_empty() && self.write_queue.len() >= self.limits.max_write_buffer_size
    }

    /// Whether the transport should be read: not once the connection is
    /// closed, nor while replies pile up for a peer that does not read.
    #[must_use]
    pub fn wants_read(&self) -> bool {
        self.state != CloseState::Closed && !self.is_write_buffer_full()
    }

    /// Whether to shut down the transport's write side now: once closed and
    /// everything is written; while closing, only as the server, which RFC
    /// 6455 §7.1.1 says "SHOULD" close the TCP connection first.
    #[must_use]
    pub fn wants_shutdown_write(&self) -> bool {
        if self.write_shut || !self.write_queue.is_empty() {
            return false;
        }
        match self.state {
            CloseState::Closed => true,
            CloseState::Failing { .. } | CloseState::Draining { .. } => self.role == Role::Server,
            CloseState::Open | CloseState::CloseSent { .. } => false,
        }
    }

    /// Why nothing more can be sent, or `None` while sending is allowed.
    #[must_use]
    pub fn send_error(&self) -> Option<Error> {
        self.check_can_send().err()
    }

    /// The fault that ended (or is ending) the connection, if one did.
    #[must_use]
    pub fn error(&self) -> Option<Error> {
        self.fault.error()
    }

    /// `None` while the connection is open or closing; once it is closed,
    /// why: `Ok` after a completed closing handshake, the first fault
    /// otherwise (returned once; `Ok` after that).
    pub fn poll_end(&mut self) -> Option<Result<(), Error>> {
        if self.state != CloseState::Closed {
            return None;
        }
        self.input = BytesMut::new();
        Some(self.fault.take().map_or(Ok(()), Err))
    }

    /// Whether the connection is closed and its end was reported: nothing
    /// is left to receive.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.state == CloseState::Closed && !matches!(self.fault, Fault::Unreported(_))
    }

    /// Whether permessage-deflate holds memory for this socket now: a
    /// compressor or inflater of its own, or a parked context. Our context
    /// goes when the socket is quiet (at the heartbeat's interval); the
    /// peer's, when it keeps one, stays.
    #[must_use]
    pub fn holds_deflate_memory(&self) -> bool {
        self.deflate.as_deref().is_some_and(PerMessageDeflate::holds_memory)
    }
}

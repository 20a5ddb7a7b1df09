//! Taking bytes in: the read buffer and how much room each read gets.
//!
//! The room offered per read adapts (as hyper's own read buffer does): it
//! starts small, doubles when a read fills it, and halves when reads use
//! little of it, between 4 KiB and `Config::read_buffer_size`. So a socket
//! that only ever receives small frames (pongs, chat lines) holds a few
//! KiB, while a bulk transfer still takes one read per frame. On top comes
//! room for the frame in progress, which is what a large message needs.

use std::time::Instant;

use bytes::{BufMut, BytesMut};

use super::Connection;

/// The least room offered for one read, and the first.
const MIN_READ: usize = 4 << 10;

/// The most bytes a driver reads into a buffer of its own while the
/// connection holds no read buffer. A read that comes back shorter (a pong,
/// a chat line) is kept in just the room it needs; one that fills it asks
/// for a whole read buffer.
pub(crate) const SMALL_READ: usize = 512;

/// An empty read buffer larger than this is given back at once.
const RELEASE_AT_ONCE: usize = 2 << 20;

/// An empty buffer this many times larger than the next read needs is
/// given back: the burst that grew it is over.
const OVERSIZE: usize = 4;

/// The room to offer the next read.
#[derive(Debug)]
pub(super) struct ReadRoom {
    next: usize,
    max: usize,
    /// The spare capacity the last `read_buffer` call offered.
    offered: usize,
    /// Whether a short read has been kept in just the room it needed since
    /// the buffer was last given back: a second one means the socket is busy.
    took_small: bool,
}

impl ReadRoom {
    pub(super) fn new(max: usize) -> Self {
        Self {
            next: MIN_READ.min(max),
            max,
            offered: 0,
            took_small: false,
        }
    }

    /// A read of `n` bytes came back: one that filled what was offered asks
    /// for more next time; one that used under an eighth, for less.
    fn record(&mut self, n: usize) {
        if n >= self.offered {
            self.next = (self.next * 2).min(self.max);
        } else if n * 8 < self.next {
            self.next = (self.next / 2).max(MIN_READ.min(self.max));
        }
    }
}

impl Connection {
    /// Where to append bytes read from the transport; then call
    /// [`handle_read`](Self::handle_read) with how many. Room is reserved
    /// for the frame in progress, plus room for a read that adapts to the
    /// sizes of recent reads (at most `Config::read_buffer_size`).
    /// It can only be appended to (it is a [`BufMut`]): bytes already in
    /// it are not yet decoded.
    pub fn read_buffer(&mut self) -> impl BufMut + '_ {
        // Room for the frame in progress, growing with what has arrived (at
        // most doubling it, past a read's room): a header that declares
        // 16 MiB reserves it only as the bytes come. Between frames, room
        // for one like the last, so a stream of large messages takes one
        // read each.
        // Plus a read's room more, so a read that completes the frame comes
        // back short, which tells tokio the socket is drained (no read that
        // only returns `WouldBlock`).
        let buffered = self.input.len();
        let expected = match self.decoder.bytes_needed(buffered) {
            0 => self.decoder.last_frame_len().min(RELEASE_AT_ONCE),
            needed => needed.min(buffered.max(self.read_room.next)),
        };
        let wanted = expected + self.read_room.next;
        let capacity = self.input.capacity();
        if buffered == 0 && (capacity > RELEASE_AT_ONCE || capacity > wanted * OVERSIZE) {
            // A large message or a burst is over: give its room back now.
            self.input = BytesMut::new();
        }
        self.input.reserve(wanted);
        self.read_room.offered = self.input.capacity() - buffered;
        &mut self.input
    }

    /// Whether read room is allocated. While it is not (a new or quiet
    /// connection), a driver may read up to 512 bytes into a buffer of its
    /// own and pass them to [`handle_bytes`](Self::handle_bytes), so that
    /// an idle socket holds no read buffer at all.
    #[must_use]
    pub fn has_read_buffer(&self) -> bool {
        self.input.capacity() > 0
    }

    /// A quiet socket gives its read buffer back (at the heartbeat's
    /// checks); the next bytes allocate one again.
    pub(super) fn release_read_buffer(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
            self.read_room.took_small = false;
        }
    }

    /// `n` bytes were appended to [`read_buffer`](Self::read_buffer) at
    /// `now`. Any byte proves the peer alive, even mid-way through a frame.
    /// A deadline that has passed is handled here too, so a peer that never
    /// lets the transport go quiet cannot outlive it.
    pub fn handle_read(&mut self, n: usize, now: Instant) {
        if n > 0 {
            self.heartbeat.heard(now);
            self.read_room.record(n);
        }
        if self.poll_timeout().is_some_and(|deadline| deadline <= now) {
            self.handle_timeout(now);
        }
        self.now = self.now.max(now);
    }

    /// Copies `bytes` in, as [`read_buffer`](Self::read_buffer) and
    /// [`handle_read`](Self::handle_read) would.
    /// The first short read into a quiet connection keeps only what it
    /// needs: a pong every heartbeat would otherwise allocate a whole read's
    /// room in every idle socket (4 KiB each; the scale test with a 5 s
    /// heartbeat measured 6.9 KiB per socket instead of 2.1). A second one
    /// before the socket is quiet again means it is busy: a whole buffer.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Instant) {
        if bytes.len() < SMALL_READ && !self.read_room.took_small && !self.has_read_buffer() {
            self.read_room.took_small = true;
            self.input.extend_from_slice(bytes);
        } else {
            self.read_buffer().put_slice(bytes);
        }
        self.handle_read(bytes.len(), now);
    }
}

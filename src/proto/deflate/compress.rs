//! The sending half of permessage-deflate (RFC 7692 §7.2.1): one raw
//! DEFLATE stream across messages, each ended with a sync flush whose
//! `00 00 ff ff` tail is cut off.

use flate2::{Compress, Compression, FlushCompress};

use super::TAIL;

/// Compressed output at least this large leaves as its own buffer (no copy);
/// smaller output is copied into the outbox and the buffer is reused.
const HAND_OVER_AT: usize = 8 << 10;

/// Our compressor: created by the first message that needs it and dropped
/// when the socket is quiet. Dropping it is always allowed: RFC 7692 §7.2.1
/// lets a sender start afresh at any message, whose output then refers to
/// nothing the peer's (larger) window lacks.
#[derive(Debug)]
pub(crate) struct Deflater {
    level: u32,
    window_bits: u8,
    reset_each_message: bool,
    stream: Option<Compress>,
    out: Vec<u8>,
}

/// One compressed message's payload, RSV1 to be set on its frame.
pub(crate) enum Compressed<'a> {
    /// Small: to be copied out before the next message.
    Borrowed(&'a [u8]),
    /// Large: handed over whole.
    Owned(Vec<u8>),
}

impl Deflater {
    pub(crate) fn new(level: u32, window_bits: u8, reset_each_message: bool) -> Self {
        Self {
            level,
            window_bits,
            reset_each_message,
            stream: None,
            out: Vec::new(),
        }
    }

    /// Compresses one whole message.
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Compressed<'_> {
        self.compress_fragment(payload, true, true)
    }

    /// Compresses one fragment of a message, each ended with a sync flush
    /// so the peer can inflate it as it comes. RFC 7692 §7.2.1's tail is
    /// cut from the last fragment only: the earlier ones keep theirs, which
    /// is DEFLATE data (an empty stored block) like any other.
    pub(crate) fn compress_fragment(&mut self, payload: &[u8], first: bool, last: bool) -> Compressed<'_> {
        let (level, bits) = (self.level, self.window_bits);
        let stream = self
            .stream
            .get_or_insert_with(|| Compress::new_with_window_bits(Compression::new(level), false, bits));
        self.out.clear();
        self.out.reserve(payload.len() / 2 + 64);
        let mut input = payload;
        loop {
            let before = stream.total_in();
            let status = stream.compress_vec(input, &mut self.out, FlushCompress::Sync);
            input = &input[(stream.total_in() - before) as usize..];
            // The flush is complete once everything was taken and room was
            // left over. (Only a misused stream fails; ours never is.)
            let flushed = input.is_empty() && self.out.len() < self.out.capacity();
            if flushed || status.is_err() {
                break;
            }
            self.out.reserve(self.out.capacity().max(1 << 10));
        }
        if self.reset_each_message && last {
            stream.reset();
        }
        if !last {
            // Keeps its tail (or nothing, when nothing was new).
        } else if self.out.is_empty() && !first {
            // The fragments before ended at a flush: nothing more is needed.
        } else if self.out.is_empty() {
            // Nothing new since the last flush (an empty message): zlib
            // writes nothing. RFC 7692 §7.2.3.6 sends an empty message as one
            // 0x00 byte, which the tail completes into an empty stored block.
            self.out.push(0x00);
        } else {
            // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff)
            // from the tail end." A sync flush always ends with them.
            debug_assert!(
                self.out.ends_with(&TAIL),
                "a sync flush ends with an empty stored block"
            );
            self.out.truncate(self.out.len().saturating_sub(TAIL.len()));
        }
        if self.out.len() >= HAND_OVER_AT {
            Compressed::Owned(std::mem::take(&mut self.out))
        } else {
            Compressed::Borrowed(&self.out)
        }
    }

    /// Level and window bits, if every message is compressed from a fresh
    /// stream (so its output depends on nothing else).
    pub(crate) fn stateless_setting(&self) -> Option<(u32, u8)> {
        self.reset_each_message.then_some((self.level, self.window_bits))
    }

    /// Whether a compressor is allocated now.
    pub(crate) fn is_allocated(&self) -> bool {
        self.stream.is_some() || self.out.capacity() > 0
    }

    /// Gives the compressor's memory back; the next message starts a fresh stream.
    pub(crate) fn release(&mut self) {
        self.stream = None;
        self.out = Vec::new();
    }
}

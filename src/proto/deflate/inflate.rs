//! The receiving half of permessage-deflate (RFC 7692 §7.2.2): inflates a
//! message's payload piece by piece as it arrives, never past the message
//! size limit.

use flate2::{Decompress, FlushDecompress, Status};

use super::history::History;
use super::params::MIN_COMPRESS_WINDOW;
use super::pool;
use super::TAIL;
use crate::proto::error::ProtocolError;

/// Output room grows in steps, when what is left is less than about four
/// times the input: by twice that or the output so far (so large messages
/// take few reallocations), within these bounds, and never past the limit
/// plus one byte, so a bomb is caught having spent nothing beyond the limit.
const MAX_STEP: usize = 256 << 10;
const MIN_STEP: usize = 256;

/// Our inflater: one of the thread's, lent while a message arrives and
/// given back when it ends. When the peer keeps its context, what its next
/// message may refer to (the last 2^window bytes inflated) is parked here
/// between messages and primes the next inflater.
#[derive(Debug)]
pub struct Inflater {
    window_bits: u8,
    /// The peer's context, when it keeps one between messages.
    context: Option<History>,
    /// Lent for the message arriving now.
    stream: Option<Decompress>,
}

impl Inflater {
    /// An inflater for a peer that compresses with at most `peer_window_bits`
    /// (8 is read with 9: a larger window reads any smaller one's output).
    #[must_use]
    pub fn new(peer_window_bits: u8, reset_each_message: bool) -> Self {
        let window_bits = peer_window_bits.max(MIN_COMPRESS_WINDOW);
        Self {
            window_bits,
            context: (!reset_each_message).then(|| History::new(1 << window_bits)),
            stream: None,
        }
    }

    /// The inflater for the message arriving, and the context to record its
    /// output in.
    fn stream(&mut self) -> (&mut Decompress, Option<&mut History>) {
        let Self {
            window_bits,
            context,
            stream,
        } = self;
        let stream = stream.get_or_insert_with(|| {
            let mut stream = pool::lend_inflater(*window_bits);
            if let Some(history) = context.as_mut().filter(|h| !h.bytes().is_empty()) {
                // Raw inflate takes a dictionary at any time; only a broken stream refuses.
                if stream.set_dictionary(history.bytes()).is_err() {
                    history.clear();
                }
            }
            stream
        });
        (stream, context.as_mut())
    }

    /// Inflates more of the current message's payload onto `out`.
    ///
    /// # Errors
    /// `MessageTooLarge` as soon as `out` would pass `max` bytes (having
    /// room for at most one byte more), or `InvalidCompressedData`.
    pub fn inflate(&mut self, mut input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), ProtocolError> {
        let (stream, mut context) = self.stream();
        loop {
            // One byte past the limit is room enough to see it broken.
            let allowed = (max - out.len()).saturating_add(1);
            let wanted = input.len().saturating_mul(4).clamp(MIN_STEP, MAX_STEP).min(allowed);
            // Grow only when the room left is short, and then by twice that
            // or the output so far: payload arriving a byte at a time must
            // not regrow (and copy) the message once per byte.
            if out.capacity() - out.len() < wanted {
                out.reserve_exact((2 * wanted).max(out.len()).min(MAX_STEP).min(allowed));
            }
            let (taken_before, made_before) = (stream.total_in(), out.len());
            let status = stream
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            input = &input[(stream.total_in() - taken_before) as usize..];
            if out.len() > max {
                return Err(ProtocolError::MessageTooLarge {
                    size: out.len() as u64,
                    max,
                });
            }
            record(context.as_deref_mut(), &out[made_before..], status);
            if status == Status::StreamEnd {
                // The peer ended its stream (BFINAL): what follows starts a new one.
                stream.reset(false);
            } else if input.is_empty() && out.len() < out.capacity() {
                return Ok(()); // all taken, and nothing held back for want of room
            } else if out.len() == made_before && stream.total_in() == taken_before {
                return Ok(()); // no progress possible until more input
            }
        }
    }

    /// Inflates from `input` onto `out` until `out` is full (its capacity:
    /// a streamed message's output leaves in bounded pieces) or the input is
    /// used up; returns how much input it took. The inflater may hold more
    /// output when `out` came back full, even with all the input taken.
    ///
    /// # Errors
    /// `InvalidCompressedData`.
    pub fn inflate_some(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<usize, ProtocolError> {
        let (stream, mut context) = self.stream();
        let offered = input.len();
        while out.len() < out.capacity() {
            let (taken_before, made_before) = (stream.total_in(), out.len());
            let status = stream
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            input = &input[(stream.total_in() - taken_before) as usize..];
            record(context.as_deref_mut(), &out[made_before..], status);
            if status == Status::StreamEnd {
                stream.reset(false); // BFINAL: what follows starts a new stream
            } else if out.len() == made_before && stream.total_in() == taken_before {
                break; // no progress possible until more input
            }
        }
        Ok(offered - input.len())
    }

    /// A message ended (a streamed one's tail inflated with
    /// [`inflate_some`](Self::inflate_some)): the inflater goes back to the
    /// thread; the context, if the peer keeps one, stays parked.
    pub(crate) fn end_message(&mut self) {
        if let Some(stream) = self.stream.take() {
            pool::give_back_inflater(self.window_bits, stream);
        }
    }

    /// Ends the current message: RFC 7692 §7.2.2, "Append 4 octets of 0x00
    /// 0x00 0xff 0xff to the tail end of the payload of the message."
    ///
    /// # Errors
    /// As [`inflate`](Self::inflate).
    pub fn finish_message(&mut self, out: &mut Vec<u8>, max: usize) -> Result<(), ProtocolError> {
        self.inflate(&TAIL, out, max)?;
        self.end_message();
        Ok(())
    }

    /// Whether this socket holds memory for inflating now: an inflater
    /// (while a message arrives) or the peer's parked context.
    pub(crate) fn holds_memory(&self) -> bool {
        self.stream.is_some() || self.parked_bytes() > 0
    }

    /// Whether an inflater is lent to this socket now.
    #[cfg(test)]
    pub(crate) fn is_lent(&self) -> bool {
        self.stream.is_some()
    }

    /// Bytes of the peer's context parked now.
    pub(crate) fn parked_bytes(&self) -> usize {
        self.context.as_ref().map_or(0, History::capacity)
    }

    /// Forgets a message that failed part-way, and the context with it.
    pub(crate) fn abandon_message(&mut self) {
        self.stream = None;
        if let Some(history) = &mut self.context {
            history.clear();
        }
    }
}

impl Drop for Inflater {
    /// A closing socket's inflater serves the thread's next message.
    fn drop(&mut self) {
        self.end_message();
    }
}

/// Parks what was just inflated as context (the peer may refer back to it),
/// or forgets the context when the peer ended its stream (BFINAL): what
/// follows refers to nothing before.
fn record(context: Option<&mut History>, inflated: &[u8], status: Status) {
    if let Some(history) = context {
        if status == Status::StreamEnd {
            history.clear();
        } else {
            history.record(inflated);
        }
    }
}

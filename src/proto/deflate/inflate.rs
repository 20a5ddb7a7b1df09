//! The receiving half of permessage-deflate (RFC 7692 §7.2.2): inflates a
//! message's payload piece by piece as it arrives, never past the message
//! size limit.

use flate2::{Decompress, FlushDecompress, Status};

use super::params::MIN_COMPRESS_WINDOW;
use super::TAIL;
use crate::proto::error::ProtocolError;

/// Output room grows in steps, when what is left is less than about four
/// times the input: by twice that or the output so far (so large messages
/// take few reallocations), within these bounds, and never past the limit
/// plus one byte, so a bomb is caught having spent nothing beyond the limit.
const MAX_STEP: usize = 256 << 10;
const MIN_STEP: usize = 256;

/// Our inflater: created by the first compressed message; when the peer
/// resets its context after each message, reset with ours and dropped when
/// the socket is quiet.
#[derive(Debug)]
pub struct Inflater {
    window_bits: u8,
    reset_each_message: bool,
    stream: Option<Decompress>,
}

impl Inflater {
    /// An inflater for a peer that compresses with at most `peer_window_bits`
    /// (8 is read with 9: a larger window reads any smaller one's output).
    #[must_use]
    pub fn new(peer_window_bits: u8, reset_each_message: bool) -> Self {
        Self {
            window_bits: peer_window_bits.max(MIN_COMPRESS_WINDOW),
            reset_each_message,
            stream: None,
        }
    }

    /// Inflates more of the current message's payload onto `out`.
    ///
    /// # Errors
    /// `MessageTooLarge` as soon as `out` would pass `max` bytes (having
    /// room for at most one byte more), or `InvalidCompressedData`.
    pub fn inflate(&mut self, mut input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), ProtocolError> {
        let bits = self.window_bits;
        let stream = self
            .stream
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
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
        let bits = self.window_bits;
        let stream = self
            .stream
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let offered = input.len();
        while out.len() < out.capacity() {
            let (taken_before, made_before) = (stream.total_in(), out.len());
            let status = stream
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            input = &input[(stream.total_in() - taken_before) as usize..];
            if status == Status::StreamEnd {
                stream.reset(false); // BFINAL: what follows starts a new stream
            } else if out.len() == made_before && stream.total_in() == taken_before {
                break; // no progress possible until more input
            }
        }
        Ok(offered - input.len())
    }

    /// A streamed message ended (its tail was inflated with
    /// [`inflate_some`](Self::inflate_some)): resets the context if the
    /// peer does not keep it.
    pub(crate) fn end_message(&mut self) {
        if self.reset_each_message {
            if let Some(stream) = &mut self.stream {
                stream.reset(false);
            }
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

    /// Whether an inflater is allocated now.
    pub(crate) fn is_allocated(&self) -> bool {
        self.stream.is_some()
    }

    /// Gives the inflater's memory back between messages, when the peer's
    /// next message cannot refer to earlier ones.
    pub(crate) fn release_if_stateless(&mut self) {
        if self.reset_each_message {
            self.stream = None;
        }
    }

    /// Forgets a message that failed part-way.
    pub(crate) fn abandon_message(&mut self) {
        self.stream = None;
    }
}

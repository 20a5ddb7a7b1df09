//! Cuts the read buffer into frames, unmasking in place as bytes arrive.
//!
//! The decoder only delimits frames and checks what a header says on its
//! own or against this connection's role and limits. It reports three
//! things to [`Connection`](super::Connection), which alone decides what
//! they mean: a header as soon as it is complete (so limits fail before the
//! payload is waited for), payload of an unfinished data frame as it arrives
//! (so bad UTF-8 fails fast), and each whole frame — in one step when the
//! frame arrived whole.

use bytes::{Buf, Bytes, BytesMut};

use super::error::ProtocolError;
use super::frame::{FrameHeader, OpCode, RSV1};
use super::mask::apply_mask;
use super::Role;

/// What one step of decoding found.
#[derive(Debug)]
pub(crate) enum Decoded<'a> {
    /// A header that passed the decoder's checks; its payload follows.
    Header(FrameHeader),
    /// More unmasked payload of the data frame whose header came last.
    Chunk(&'a [u8]),
    /// The frame whose header came last, now whole: its payload is a slice
    /// of the read buffer, not a copy. How much of it went out as chunks
    /// first is [`FrameDecoder::reported`]: the decoder alone counts that
    /// (kept beside the variant, not in it, which keeps every step small).
    Frame(FrameHeader, Bytes),
    /// A frame that arrived whole at once: its header (checked here, but
    /// not yet by the connection) and payload together, in one step.
    Whole(FrameHeader, Bytes),
    /// While data is streamed: the unmasked payload of the data frame whose
    /// header came last, taken out of the buffer as it arrived; `true` once
    /// it ends the frame.
    Piece(Bytes, bool),
}

/// Where the decoder stands in the byte stream.
#[derive(Debug)]
enum State {
    /// The next bytes are a frame header.
    Header,
    /// The header was consumed; its payload is arriving at the front of
    /// the buffer, the first `unmasked` bytes of it already unmasked.
    /// `len` is what remains of it, which starts `offset` bytes into the
    /// payload (more than 0 only once streamed pieces were taken).
    Payload {
        header: FrameHeader,
        len: usize,
        unmasked: usize,
        offset: usize,
    },
    /// The rest of a frame that broke a rule, dropped as it arrives so the
    /// frames after it (the peer's close reply) can still be read.
    Skipping { remaining: u64 },
}

#[derive(Debug)]
pub(crate) struct FrameDecoder {
    role: Role,
    max_frame_size: usize,
    /// The largest data frame accepted: `max_frame_size`, or while data is
    /// streamed the streamed message limit (a streamed frame is never held whole).
    max_data_frame: usize,
    /// Data payload is handed out as it arrives (`Piece`), not held until its frame is whole.
    streams_data: bool,
    accept_unmasked: bool,
    /// permessage-deflate was agreed: RSV1 may mark a compressed message.
    compression: bool,
    state: State,
    /// The payload length of the last whole frame: the likely size of the next.
    last_len: usize,
    /// How much of the last `Frame` was reported as chunks before it.
    reported: usize,
}

impl FrameDecoder {
    pub(crate) fn new(role: Role, max_frame_size: usize) -> Self {
        Self {
            role,
            max_frame_size,
            max_data_frame: max_frame_size,
            streams_data: false,
            accept_unmasked: false,
            compression: false,
            state: State::Header,
            last_len: 0,
            reported: 0,
        }
    }

    /// Accepts unmasked client frames (a server setting for trusted peers).
    pub(crate) fn accept_unmasked_frames(&mut self) {
        self.accept_unmasked = true;
    }

    /// Accepts RSV1 on the first frame of a message: permessage-deflate was agreed.
    #[cfg(feature = "deflate")]
    pub(crate) fn allow_compressed_messages(&mut self) {
        self.compression = true;
    }

    /// Streams data payload as `Piece`s, frames up to `max` bytes
    /// (`Some`), or holds each frame until it is whole (`None`). Switched
    /// only between messages, by the connection.
    pub(crate) fn stream_data(&mut self, max: Option<u64>) {
        self.streams_data = max.is_some();
        self.max_data_frame = max.map_or(self.max_frame_size, |max| usize::try_from(max).unwrap_or(usize::MAX));
    }

    /// Whether data payload is streamed (`Piece`s): exactly while the
    /// assembler streams messages.
    #[inline]
    pub(crate) fn streams_data(&self) -> bool {
        self.streams_data
    }

    /// Bytes still missing from the frame being read (0 between frames).
    pub(crate) fn bytes_needed(&self, buffered: usize) -> usize {
        match self.state {
            State::Payload { len, .. } => len.saturating_sub(buffered),
            State::Header | State::Skipping { .. } => 0,
        }
    }

    /// How much of the last `Decoded::Frame` was reported as chunks before it.
    pub(crate) fn reported(&self) -> usize {
        self.reported
    }

    /// The payload length of the last whole frame (0 before any).
    pub(crate) fn last_frame_len(&self) -> usize {
        self.last_len
    }

    /// The next thing the buffer holds, or `None` when more bytes are needed.
    ///
    /// # Errors
    /// A header that breaks a rule. Its payload is then skipped.
    pub(crate) fn decode<'b>(&mut self, buf: &'b mut BytesMut) -> Result<Option<Decoded<'b>>, ProtocolError> {
        if let State::Skipping { remaining } = self.state {
            let dropped = remaining.min(buf.len() as u64);
            buf.advance(dropped as usize);
            if dropped < remaining {
                self.state = State::Skipping {
                    remaining: remaining - dropped,
                };
                return Ok(None);
            }
            self.state = State::Header;
        }
        match self.state {
            State::Header => self.decode_header(buf),
            State::Payload { header, .. } if self.streams_data && !header.opcode.is_control() => {
                Ok(self.take_piece(buf))
            }
            State::Payload {
                header,
                len,
                unmasked,
                offset: _,
            } => Ok(self.decode_payload(buf, header, len, unmasked)),
            State::Skipping { .. } => Ok(None),
        }
    }

    /// Drops the rest of the frame being read: the connection refused it.
    pub(crate) fn skip_frame(&mut self, buf: &mut BytesMut) {
        if let State::Payload { len, .. } = self.state {
            let arrived = buf.len().min(len);
            buf.advance(arrived);
            self.state = State::Skipping {
                remaining: (len - arrived) as u64,
            };
        }
    }

    fn decode_header<'b>(&mut self, buf: &'b mut BytesMut) -> Result<Option<Decoded<'b>>, ProtocolError> {
        let Some((header, header_len)) = FrameHeader::parse(buf)? else {
            return Ok(None);
        };
        buf.advance(header_len);
        match self.check(&header) {
            Ok(len) if buf.len() >= len => {
                // The common case for small messages: no separate header step.
                if let Some(key) = header.mask {
                    apply_mask(&mut buf[..len], key, 0);
                }
                self.last_len = len;
                Ok(Some(Decoded::Whole(header, buf.split_to(len).freeze())))
            }
            Ok(len) => {
                self.state = State::Payload {
                    header,
                    len,
                    unmasked: 0,
                    offset: 0,
                };
                Ok(Some(Decoded::Header(header)))
            }
            Err(e) => {
                self.state = State::Skipping {
                    remaining: header.payload_len,
                };
                Err(e)
            }
        }
    }

    fn decode_payload<'b>(
        &mut self,
        buf: &'b mut BytesMut,
        header: FrameHeader,
        len: usize,
        unmasked: usize,
    ) -> Option<Decoded<'b>> {
        let arrived = buf.len().min(len);
        if let Some(key) = header.mask {
            apply_mask(&mut buf[unmasked..arrived], key, unmasked);
        }
        if arrived == len {
            self.state = State::Header;
            self.last_len = len;
            // Every unmasked byte of a data frame went out as a chunk.
            self.reported = if header.opcode.is_control() { 0 } else { unmasked };
            return Some(Decoded::Frame(header, buf.split_to(len).freeze()));
        }
        self.state = State::Payload {
            header,
            len,
            unmasked: arrived,
            offset: 0,
        };
        // Control frames are at most 125 bytes: nothing to stream.
        (arrived > unmasked && !header.opcode.is_control()).then(|| Decoded::Chunk(&buf[unmasked..arrived]))
    }

    /// Takes what arrived of a streamed data frame out of the buffer, unmasked.
    fn take_piece<'b>(&mut self, buf: &mut BytesMut) -> Option<Decoded<'b>> {
        let State::Payload {
            header, len, offset, ..
        } = self.state
        else {
            return None;
        };
        let arrived = buf.len().min(len);
        if arrived == 0 {
            return None;
        }
        if let Some(key) = header.mask {
            apply_mask(&mut buf[..arrived], key, offset);
        }
        let ends_frame = arrived == len;
        self.state = if ends_frame {
            State::Header
        } else {
            State::Payload {
                header,
                len: len - arrived,
                unmasked: 0,
                offset: offset + arrived,
            }
        };
        Some(Decoded::Piece(buf.split_to(arrived).freeze(), ends_frame))
    }

    /// The rules that depend on this connection: returns the payload length.
    fn check(&self, header: &FrameHeader) -> Result<usize, ProtocolError> {
        // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated
        // that defines meanings for non-zero values". RFC 7692 §6.1 gives RSV1
        // to the first frame of a data message only: "An endpoint MUST NOT set
        // the "Per-Message Compressed" bit of control frames and non-first
        // fragments of a data message."
        let first_data_frame = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        let allowed = if self.compression && first_data_frame { RSV1 } else { 0 };
        if header.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        // RFC 6455 §5.1: "a server MUST close the connection upon receiving a
        // frame that is not masked"; "a client MUST close a connection if it
        // detects a masked frame".
        match (self.role, header.mask) {
            (Role::Server, None) if !self.accept_unmasked => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, Some(_)) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        // A streamed message's frames may pass `max_frame_size`; control
        // frames never may, whichever way messages are read.
        let max = if header.opcode.is_control() {
            self.max_frame_size
        } else {
            self.max_data_frame
        };
        match usize::try_from(header.payload_len) {
            Ok(len) if len <= max => Ok(len),
            _ => Err(ProtocolError::FrameTooLarge {
                size: header.payload_len,
                max,
            }),
        }
    }
}

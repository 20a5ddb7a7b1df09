//! Cuts the read buffer into frames, unmasking in place as bytes arrive.
//!
//! The checks that need more than the header itself (reserved bits, masking
//! direction, frame size) are made here, the moment the header is complete,
//! before any of the payload is waited for.

use bytes::{Buf, Bytes, BytesMut};

use super::assembler::Assembler;
use super::error::ProtocolError;
use super::frame::FrameHeader;
use super::mask::apply_mask;

/// Which side of the connection we are; it decides the masking direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepted the connection: receives masked frames, sends unmasked ones.
    Server,
    /// Opened the connection: receives unmasked frames, sends masked ones.
    Client,
}

/// A whole frame cut from the read buffer.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) header: FrameHeader,
    /// Unmasked; a slice of the read buffer, not a copy.
    pub(crate) payload: Bytes,
    /// How many leading payload bytes were already shown to the assembler
    /// while the frame was still arriving.
    pub(crate) streamed: usize,
}

/// The frame whose header has been read but whose payload is still arriving.
#[derive(Debug)]
struct InProgress {
    header: FrameHeader,
    header_len: usize,
    payload_len: usize,
    /// Payload bytes already unmasked (and, for data frames, streamed).
    unmasked: usize,
}

#[derive(Debug)]
pub(crate) struct FrameDecoder {
    role: Role,
    max_frame_size: usize,
    accept_unmasked: bool,
    current: Option<InProgress>,
    /// Payload bytes still to be dropped of a frame that broke a rule, so
    /// that the frames after it (the peer's close reply) can be read.
    skip: u64,
}

impl FrameDecoder {
    pub(crate) fn new(role: Role, max_frame_size: usize, accept_unmasked: bool) -> Self {
        Self {
            role,
            max_frame_size,
            accept_unmasked,
            current: None,
            skip: 0,
        }
    }

    /// Bytes still missing from the frame being read (0 when between frames).
    pub(crate) fn bytes_needed(&self, buffered: usize) -> usize {
        self.current
            .as_ref()
            .map_or(0, |f| (f.header_len + f.payload_len).saturating_sub(buffered))
    }

    /// Takes the next whole frame off the front of `buf`, or returns `None`
    /// when more bytes are needed. Payload of an unfinished data frame is
    /// unmasked and shown to `assembler` as it arrives, so invalid text fails
    /// before the rest of the frame is read.
    ///
    /// After an error in a frame whose header could be parsed, the rest of
    /// that frame is skipped, so decoding can go on to the frames after it.
    pub(crate) fn next_frame(
        &mut self,
        buf: &mut BytesMut,
        assembler: &mut Assembler,
    ) -> Result<Option<Frame>, ProtocolError> {
        if !self.skip_broken_frame(buf) {
            return Ok(None);
        }
        if self.current.is_none() {
            let Some((header, header_len)) = FrameHeader::parse(buf)? else {
                return Ok(None);
            };
            let checked = self.check(&header).and_then(|payload_len| {
                if !header.opcode.is_control() {
                    assembler.begin_frame(&header)?;
                }
                Ok(payload_len)
            });
            let payload_len = match checked {
                Ok(payload_len) => payload_len,
                Err(e) => {
                    buf.advance(header_len);
                    self.skip = header.payload_len;
                    return Err(e);
                }
            };
            self.current = Some(InProgress {
                header,
                header_len,
                payload_len,
                unmasked: 0,
            });
        }
        let Some(frame) = self.current.as_mut() else {
            return Ok(None);
        };
        let arrived = (buf.len() - frame.header_len).min(frame.payload_len);
        let fresh = &mut buf[frame.header_len + frame.unmasked..frame.header_len + arrived];
        if let Some(key) = frame.header.mask {
            apply_mask(fresh, key, frame.unmasked);
        }
        if arrived < frame.payload_len {
            let streamed = if fresh.is_empty() || frame.header.opcode.is_control() {
                Ok(())
            } else {
                assembler.payload_chunk(fresh)
            };
            frame.unmasked = arrived;
            if let Err(e) = streamed {
                self.skip = (frame.payload_len - arrived) as u64;
                buf.advance(frame.header_len + arrived);
                self.current = None;
                return Err(e);
            }
            return Ok(None);
        }
        let streamed = frame.unmasked;
        let (header, header_len, payload_len) = (frame.header, frame.header_len, frame.payload_len);
        self.current = None;
        buf.advance(header_len);
        let payload = buf.split_to(payload_len).freeze();
        Ok(Some(Frame {
            header,
            payload,
            streamed,
        }))
    }

    /// Drops what is buffered of a broken frame; `true` once it is all gone.
    fn skip_broken_frame(&mut self, buf: &mut BytesMut) -> bool {
        let dropped = self.skip.min(buf.len() as u64);
        buf.advance(dropped as usize);
        self.skip -= dropped;
        self.skip == 0
    }

    /// The rules that depend on this connection: returns the payload length.
    fn check(&self, header: &FrameHeader) -> Result<usize, ProtocolError> {
        // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated".
        if header.rsv != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        // RFC 6455 §5.1: the server MUST close on an unmasked frame, the client on a masked one.
        match (self.role, header.mask) {
            (Role::Server, None) if !self.accept_unmasked => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, Some(_)) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        match usize::try_from(header.payload_len) {
            Ok(len) if len <= self.max_frame_size => Ok(len),
            _ => Err(ProtocolError::FrameTooLarge {
                size: header.payload_len,
                max: self.max_frame_size,
            }),
        }
    }
}

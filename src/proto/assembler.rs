//! Joins fragments into messages: the only place continuation rules live.
//!
//! RFC 6455 §5.4: a message is one frame with FIN set, or a text/binary frame
//! with FIN clear followed by continuation frames, the last with FIN set.
//! Control frames may come between fragments and never touch this state.

use bytes::{Bytes, BytesMut};

use super::error::ProtocolError;
use super::frame::{FrameHeader, OpCode};
use super::message::{Message, Utf8Bytes};
use super::utf8::Utf8Validator;

/// An unfinished fragmented message.
#[derive(Debug)]
struct Fragments {
    is_text: bool,
    data: BytesMut,
}

#[derive(Debug)]
pub(crate) struct Assembler {
    max_message_size: usize,
    fragments: Option<Fragments>,
    /// Whether the data frame being read belongs to a text message.
    frame_is_text: bool,
    /// Spans fragments and partial frames of the current text message.
    utf8: Utf8Validator,
    /// Whether `utf8` has seen any bytes of the current message.
    utf8_started: bool,
}

impl Assembler {
    pub(crate) fn new(max_message_size: usize) -> Self {
        Self {
            max_message_size,
            fragments: None,
            frame_is_text: false,
            utf8: Utf8Validator::default(),
            utf8_started: false,
        }
    }

    /// Checks a data frame's header against the message it starts or continues.
    pub(crate) fn begin_frame(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        let so_far = match (header.opcode, &self.fragments) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(fragments)) => {
                self.frame_is_text = fragments.is_text;
                fragments.data.len() as u64
            }
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (opcode, None) => {
                self.frame_is_text = opcode == OpCode::Text;
                self.utf8 = Utf8Validator::default();
                self.utf8_started = false;
                0
            }
        };
        let size = so_far + header.payload_len;
        if size > self.max_message_size as u64 {
            return Err(ProtocolError::MessageTooLarge {
                size,
                max: self.max_message_size,
            });
        }
        Ok(())
    }

    /// Sees payload of the current data frame before the frame is complete.
    pub(crate) fn payload_chunk(&mut self, chunk: &[u8]) -> Result<(), ProtocolError> {
        if self.frame_is_text {
            self.utf8_started = true;
            self.utf8.feed(chunk).map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        Ok(())
    }

    /// Takes a complete data frame; returns the message it completes, if any.
    /// `streamed` leading bytes were already shown to [`payload_chunk`](Self::payload_chunk).
    pub(crate) fn end_frame(
        &mut self,
        fin: bool,
        payload: Bytes,
        streamed: usize,
    ) -> Result<Option<Message>, ProtocolError> {
        if fin && self.fragments.is_none() {
            return self.whole_message(payload, streamed).map(Some);
        }
        self.payload_chunk(&payload[streamed..])?;
        let fragments = self.fragments.get_or_insert_with(|| Fragments {
            is_text: self.frame_is_text,
            data: BytesMut::new(),
        });
        fragments.data.extend_from_slice(&payload);
        if !fin {
            return Ok(None);
        }
        let Some(Fragments { is_text, data }) = self.fragments.take() else {
            return Ok(None);
        };
        if is_text {
            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
            return to_text(data.freeze()).map(Some);
        }
        Ok(Some(Message::Binary(data.freeze())))
    }

    /// A message that is one frame: zero copies, and text validated once.
    fn whole_message(&mut self, payload: Bytes, streamed: usize) -> Result<Message, ProtocolError> {
        if !self.frame_is_text {
            return Ok(Message::Binary(payload));
        }
        if self.utf8_started {
            // The first bytes were checked as they arrived; finish the check
            // so a bad byte is reported as early as it can be.
            self.payload_chunk(&payload[streamed..])?;
            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        to_text(payload)
    }
}

fn to_text(bytes: Bytes) -> Result<Message, ProtocolError> {
    Utf8Bytes::try_from(bytes)
        .map(Message::Text)
        .map_err(|_| ProtocolError::InvalidUtf8)
}

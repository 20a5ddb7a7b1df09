//! Joins data frames into messages: the only place continuation rules and
//! the message-size limit live, and the only owner of text validation.
//!
//! RFC 6455 §5.4: a message is one frame with FIN set, or a text/binary frame
//! with FIN clear followed by continuation frames, the last with FIN set.
//! Control frames may come between fragments and never touch this state.

use bytes::{Bytes, BytesMut};

use super::error::ProtocolError;
use super::frame::{FrameHeader, OpCode};
use super::message::{Message, Utf8Bytes};
use super::utf8::Utf8Validator;

/// What kind of message is arriving; text carries its validator, which
/// spans fragments and partial frames.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Binary,
    Text(Utf8Validator),
}

/// A data message whose first frame has begun.
#[derive(Debug)]
pub(crate) struct Partial {
    kind: Kind,
    /// Payload of the frames before the current one.
    fragments: BytesMut,
    /// Bytes of the current frame already seen through [`Assembler::chunk`].
    frame_seen: usize,
}

#[derive(Debug)]
pub(crate) enum Assembler {
    /// Between messages.
    Idle,
    /// A message is arriving.
    Receiving(Partial),
}

impl Assembler {
    /// Checks a data frame's header against the message it starts or
    /// continues, and the message-size limit.
    pub(crate) fn begin_frame(&mut self, header: &FrameHeader, max_message_size: usize) -> Result<(), ProtocolError> {
        let so_far = match (header.opcode, &mut *self) {
            // RFC 6455 §5.4: fragments are a first frame then continuations, in order.
            (OpCode::Continuation, Self::Idle) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Self::Receiving(partial)) => partial.fragments.len() as u64,
            (_, Self::Receiving(_)) => return Err(ProtocolError::ExpectedContinuation),
            (opcode, Self::Idle) => {
                let kind = if opcode == OpCode::Text {
                    Kind::Text(Utf8Validator::default())
                } else {
                    Kind::Binary
                };
                *self = Self::Receiving(Partial {
                    kind,
                    fragments: BytesMut::new(),
                    frame_seen: 0,
                });
                0
            }
        };
        let size = so_far + header.payload_len;
        if size > max_message_size as u64 {
            return Err(ProtocolError::MessageTooLarge {
                size,
                max: max_message_size,
            });
        }
        Ok(())
    }

    /// Sees payload of the current frame before the frame is complete.
    pub(crate) fn chunk(&mut self, chunk: &[u8]) -> Result<(), ProtocolError> {
        if let Self::Receiving(partial) = self {
            partial.see(chunk)?;
        }
        Ok(())
    }

    /// Takes a complete data frame; returns the message it completes, if any.
    pub(crate) fn end_frame(&mut self, fin: bool, payload: Bytes) -> Result<Option<Message>, ProtocolError> {
        let Self::Receiving(partial) = self else {
            return Err(ProtocolError::UnexpectedContinuation); // begin_frame always comes first
        };
        let single = fin && partial.fragments.is_empty();
        if single && partial.frame_seen == 0 {
            // The common case: a message in one frame, seen whole. No copy,
            // and text is validated once, by `Utf8Bytes`.
            let kind = partial.kind;
            *self = Self::Idle;
            return finish(kind, payload).map(Some);
        }
        let rest = payload.slice(partial.frame_seen..);
        partial.see(&rest)?;
        partial.frame_seen = 0;
        let whole = if single {
            payload
        } else {
            partial.fragments.extend_from_slice(&payload);
            if !fin {
                return Ok(None);
            }
            std::mem::take(&mut partial.fragments).freeze()
        };
        let kind = partial.kind;
        *self = Self::Idle;
        if let Kind::Text(validator) = kind {
            validator.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        finish(kind, whole).map(Some)
    }
}

impl Partial {
    fn see(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.frame_seen += bytes.len();
        match &mut self.kind {
            // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream
            // as UTF-8 but finds that the byte stream is not, in fact, a
            // valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
            // Connection_"; checked as the bytes arrive.
            Kind::Text(validator) => validator.feed(bytes).map_err(|_| ProtocolError::InvalidUtf8),
            Kind::Binary => Ok(()),
        }
    }
}

fn finish(kind: Kind, payload: Bytes) -> Result<Message, ProtocolError> {
    match kind {
        Kind::Binary => Ok(Message::Binary(payload)),
        Kind::Text(_) => Utf8Bytes::try_from(payload)
            .map(Message::Text)
            .map_err(|_| ProtocolError::InvalidUtf8),
    }
}

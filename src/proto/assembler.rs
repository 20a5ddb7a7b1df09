//! Joins data frames into messages: the only place continuation rules and
//! the message-size limit live, and the only owner of text validation.
//!
//! RFC 6455 §5.4: a message is one frame with FIN set, or a text/binary frame
//! with FIN clear followed by continuation frames, the last with FIN set.
//! Control frames may come between fragments and never touch this state.

use bytes::{Bytes, BytesMut};

use super::deflate::Inflater;
use super::error::ProtocolError;
use super::frame::{FrameHeader, OpCode, RSV1};
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
    body: Body,
    /// Bytes of the current frame already seen through [`Assembler::chunk`].
    frame_seen: usize,
}

/// The message so far.
#[derive(Debug)]
enum Body {
    /// Payload of the frames before the current one, as received.
    Plain(BytesMut),
    /// Everything inflated so far (permessage-deflate: RSV1 on the first frame).
    Inflated(Vec<u8>),
}

#[derive(Debug)]
pub(crate) enum Assembler {
    /// Between messages.
    Idle,
    /// A message is arriving.
    Receiving(Partial),
}

/// What joining frames needs besides the frames: the limit, and the
/// inflater when permessage-deflate was agreed.
pub(crate) struct Sink<'a> {
    pub(crate) max_message_size: usize,
    pub(crate) inflater: Option<&'a mut Inflater>,
}

impl Assembler {
    /// Whether `header` is the common case, taken in one step by
    /// [`single_frame`](Self::single_frame): an uncompressed text or binary
    /// message in one frame, arriving between messages.
    pub(crate) fn takes_single_frame(&self, header: &FrameHeader) -> bool {
        header.fin
            && header.rsv == 0
            && matches!(self, Self::Idle)
            && matches!(header.opcode, OpCode::Text | OpCode::Binary)
    }

    /// The message of a frame [`takes_single_frame`](Self::takes_single_frame)
    /// accepted: no copy, and text validated once, by `Utf8Bytes`.
    pub(crate) fn single_frame(
        opcode: OpCode,
        payload: Bytes,
        max_message_size: usize,
    ) -> Result<Message, ProtocolError> {
        if payload.len() > max_message_size {
            return Err(ProtocolError::MessageTooLarge {
                size: payload.len() as u64,
                max: max_message_size,
            });
        }
        let kind = if opcode == OpCode::Text {
            Kind::Text(Utf8Validator::default())
        } else {
            Kind::Binary
        };
        finish(kind, payload)
    }

    /// Checks a data frame's header against the message it starts or
    /// continues, and the message-size limit.
    pub(crate) fn begin_frame(&mut self, header: &FrameHeader, max_message_size: usize) -> Result<(), ProtocolError> {
        let so_far = match (header.opcode, &mut *self) {
            // RFC 6455 §5.4: fragments are a first frame then continuations, in order.
            (OpCode::Continuation, Self::Idle) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Self::Receiving(partial)) => match &partial.body {
                Body::Plain(fragments) => fragments.len() as u64,
                // Checked on the inflated size, as it is inflated.
                Body::Inflated(_) => return Ok(()),
            },
            (_, Self::Receiving(_)) => return Err(ProtocolError::ExpectedContinuation),
            (opcode, Self::Idle) => {
                let kind = if opcode == OpCode::Text {
                    Kind::Text(Utf8Validator::default())
                } else {
                    Kind::Binary
                };
                // RFC 7692 §6: RSV1 on the first frame marks a compressed message
                // (the decoder allowed it only where it was negotiated).
                let compressed = header.rsv & RSV1 != 0;
                let body = if compressed {
                    Body::Inflated(Vec::new())
                } else {
                    Body::Plain(BytesMut::new())
                };
                *self = Self::Receiving(Partial {
                    kind,
                    body,
                    frame_seen: 0,
                });
                if compressed {
                    return Ok(());
                }
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
    pub(crate) fn chunk(&mut self, chunk: &[u8], sink: Sink<'_>) -> Result<(), ProtocolError> {
        if let Self::Receiving(partial) = self {
            partial.see(chunk, sink)?;
        }
        Ok(())
    }

    /// Takes a complete data frame; returns the message it completes, if any.
    pub(crate) fn end_frame(
        &mut self,
        fin: bool,
        payload: Bytes,
        mut sink: Sink<'_>,
    ) -> Result<Option<Message>, ProtocolError> {
        let Self::Receiving(partial) = self else {
            return Err(ProtocolError::UnexpectedContinuation); // begin_frame always comes first
        };
        let whole = match &partial.body {
            Body::Plain(fragments) if fin && fragments.is_empty() && partial.frame_seen == 0 => {
                // The common case: a message in one frame, seen whole. No
                // copy, and text is validated once, by `Utf8Bytes`.
                let kind = partial.kind;
                *self = Self::Idle;
                return finish(kind, payload).map(Some);
            }
            Body::Plain(_) => partial.end_plain_frame(fin, &payload)?,
            Body::Inflated(_) => {
                partial.see(&payload[partial.frame_seen..], sink.reborrow())?;
                partial.frame_seen = 0;
                if !fin {
                    return Ok(None);
                }
                partial.finish_inflating(sink)?
            }
        };
        let Some(whole) = whole else { return Ok(None) };
        let kind = partial.kind;
        *self = Self::Idle;
        if let Kind::Text(validator) = kind {
            validator.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        finish(kind, whole).map(Some)
    }
}

impl Sink<'_> {
    fn reborrow(&mut self) -> Sink<'_> {
        Sink {
            max_message_size: self.max_message_size,
            inflater: self.inflater.as_deref_mut(),
        }
    }
}

impl Partial {
    /// Sees (and, when compressed, inflates) the next piece of payload.
    fn see(&mut self, bytes: &[u8], sink: Sink<'_>) -> Result<(), ProtocolError> {
        self.frame_seen += bytes.len();
        let fresh = match &mut self.body {
            Body::Plain(_) => bytes,
            Body::Inflated(so_far) => {
                let before = so_far.len();
                let inflater = sink.inflater.ok_or(ProtocolError::ReservedBits)?;
                inflater.inflate(bytes, so_far, sink.max_message_size)?;
                &so_far[before..]
            }
        };
        check_text(&mut self.kind, fresh)
    }

    /// Ends a frame of an uncompressed fragmented message: the message, if
    /// this frame was its last.
    fn end_plain_frame(&mut self, fin: bool, payload: &Bytes) -> Result<Option<Bytes>, ProtocolError> {
        check_text(&mut self.kind, &payload[self.frame_seen..])?;
        self.frame_seen = 0;
        let Body::Plain(fragments) = &mut self.body else {
            return Ok(None);
        };
        if fin && fragments.is_empty() {
            return Ok(Some(payload.clone()));
        }
        fragments.extend_from_slice(payload);
        Ok(fin.then(|| std::mem::take(fragments).freeze()))
    }

    /// Ends a compressed message: its inflated whole.
    fn finish_inflating(&mut self, sink: Sink<'_>) -> Result<Option<Bytes>, ProtocolError> {
        let Body::Inflated(so_far) = &mut self.body else {
            return Ok(None);
        };
        let before = so_far.len();
        let inflater = sink.inflater.ok_or(ProtocolError::ReservedBits)?;
        inflater.finish_message(so_far, sink.max_message_size)?;
        check_text(&mut self.kind, &so_far[before..])?;
        Ok(Some(Bytes::from(std::mem::take(so_far))))
    }
}

/// RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8
/// but finds that the byte stream is not, in fact, a valid UTF-8 stream,
/// that endpoint MUST _Fail the WebSocket Connection_"; checked as the
/// bytes arrive.
fn check_text(kind: &mut Kind, bytes: &[u8]) -> Result<(), ProtocolError> {
    match kind {
        Kind::Text(validator) => validator.feed(bytes).map_err(|_| ProtocolError::InvalidUtf8),
        Kind::Binary => Ok(()),
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

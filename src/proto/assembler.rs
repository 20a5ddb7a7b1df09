//! Joins data frames into messages: the only place continuation rules and
//! the message-size limit live, and the only owner of text validation.
//!
//! RFC 6455 §5.4: a message is one frame with FIN set, or a text/binary frame
//! with FIN clear followed by continuation frames, the last with FIN set.
//! Control frames may come between fragments and never touch this state.

use bytes::{Bytes, BytesMut};

use super::deflate::Inflater;
use super::error::{ProtocolError, ReadError};
use super::frame::{FrameHeader, OpCode, RSV1};
use super::message::{Message, MessageKind, Utf8Bytes};
use super::streamed::Arriving;
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
    /// A message is arriving, to be delivered whole.
    Receiving(Partial),
    /// Between messages; the next is to be handed on in pieces.
    IdleStreamed,
    /// A message is arriving in pieces, handed on as they come.
    Streaming(Arriving),
}

/// What joining frames needs besides the frames: the limit, and the
/// inflater when permessage-deflate was agreed.
pub(crate) struct Sink<'a> {
    pub(crate) max_message_size: usize,
    pub(crate) inflater: Option<&'a mut Inflater>,
}

impl Assembler {
    /// Whether a data frame that arrived whole is a message by itself (the
    /// common case): then [`one_frame_message`](Self::one_frame_message)
    /// takes it without touching this state; any other frame is begun and
    /// ended as one that came in pieces would be.
    #[inline]
    pub(crate) fn is_message_by_itself(&self, header: &FrameHeader) -> bool {
        header.fin
            && header.rsv == 0
            && matches!(self, Self::Idle)
            && matches!(header.opcode, OpCode::Text | OpCode::Binary)
    }

    /// A message in one uncompressed frame, whether it arrived whole or in
    /// pieces (whose text was checked as it came): the one path for it. No
    /// copy; the size is checked here too, for a frame that arrived whole.
    #[inline]
    pub(crate) fn one_frame_message(
        opcode: OpCode,
        payload: Bytes,
        max_message_size: usize,
    ) -> Result<Message, ReadError> {
        if payload.len() > max_message_size {
            return Err(ReadError::Peer(ProtocolError::MessageTooLarge {
                size: payload.len() as u64,
                max: max_message_size,
            }));
        }
        finish(Kind::of(opcode), payload).map_err(ReadError::Peer)
    }

    /// Whether messages are handed on in pieces now.
    #[inline]
    pub(crate) fn streams(&self) -> bool {
        matches!(self, Self::IdleStreamed | Self::Streaming(_))
    }

    /// Whether a message is part-way through arriving.
    pub(crate) fn is_mid_message(&self) -> bool {
        matches!(self, Self::Receiving(_) | Self::Streaming(_))
    }

    /// Checks a data frame's header against the message it starts or
    /// continues, and the size limits (a streamed message's is `max_streamed`).
    pub(crate) fn begin_frame(
        &mut self,
        header: &FrameHeader,
        max_message_size: usize,
        max_streamed: u64,
    ) -> Result<(), ProtocolError> {
        let so_far = match (header.opcode, &mut *self) {
            // RFC 6455 §5.4: fragments are a first frame then continuations, in order.
            (OpCode::Continuation, Self::Idle | Self::IdleStreamed) => {
                return Err(ProtocolError::UnexpectedContinuation)
            }
            (OpCode::Continuation, Self::Streaming(streamed)) => return streamed.next_frame(header),
            (_, Self::IdleStreamed) => {
                *self = Self::Streaming(Arriving::begin(header, max_streamed)?);
                return Ok(());
            }
            (OpCode::Continuation, Self::Receiving(partial)) => match &partial.body {
                Body::Plain(fragments) => fragments.len() as u64,
                // Checked on the inflated size, as it is inflated.
                Body::Inflated(_) => return Ok(()),
            },
            (_, Self::Receiving(_) | Self::Streaming(_)) => return Err(ProtocolError::ExpectedContinuation),
            (opcode, Self::Idle) => {
                // RFC 7692 §6: RSV1 on the first frame marks a compressed message
                // (the decoder allowed it only where it was negotiated).
                let compressed = header.rsv & RSV1 != 0;
                *self = Self::Receiving(Partial::new(opcode, compressed));
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
    pub(crate) fn chunk(&mut self, chunk: &[u8], sink: Sink<'_>) -> Result<(), ReadError> {
        match self {
            Self::Receiving(partial) => partial.see(chunk, sink),
            _ => Err(ReadError::broken("payload reported with no whole message begun")),
        }
    }

    /// Takes a complete data frame, of which the decoder already reported
    /// the first `reported` bytes through [`chunk`](Self::chunk); returns
    /// the message it completes, if any.
    pub(crate) fn end_frame(
        &mut self,
        fin: bool,
        payload: Bytes,
        reported: usize,
        sink: Sink<'_>,
    ) -> Result<Option<Message>, ReadError> {
        let Self::Receiving(partial) = self else {
            return Err(ReadError::broken("a data frame ended with no whole message begun"));
        };
        let whole = match &mut partial.body {
            Body::Plain(fragments) if fin && fragments.is_empty() => {
                let opcode = partial.kind.opcode();
                *self = Self::Idle;
                return Self::one_frame_message(opcode, payload, sink.max_message_size).map(Some);
            }
            Body::Plain(fragments) => {
                check_text(&mut partial.kind, &payload[reported..])?;
                fragments.extend_from_slice(&payload);
                if !fin {
                    return Ok(None);
                }
                std::mem::take(fragments).freeze()
            }
            Body::Inflated(so_far) => {
                let inflater = inflater(sink.inflater)?;
                inflate_into(&mut partial.kind, so_far, |out| {
                    inflater.inflate(&payload[reported..], out, sink.max_message_size)
                })?;
                if !fin {
                    return Ok(None);
                }
                inflate_into(&mut partial.kind, so_far, |out| {
                    inflater.finish_message(out, sink.max_message_size)
                })?;
                Bytes::from(std::mem::take(so_far))
            }
        };
        let kind = partial.kind;
        *self = Self::Idle;
        finish(kind, whole).map(Some).map_err(ReadError::from)
    }
}

impl Kind {
    #[inline]
    pub(crate) fn of(opcode: OpCode) -> Self {
        if opcode == OpCode::Text {
            Self::Text(Utf8Validator::default())
        } else {
            Self::Binary
        }
    }

    /// Back to the opcode, for [`Assembler::one_frame_message`], which takes
    /// an opcode so that the hot path (a frame that arrived whole) moves no
    /// `Kind` (passing one cost ~4 instructions per echoed message).
    fn opcode(self) -> OpCode {
        match self {
            Self::Text(_) => OpCode::Text,
            Self::Binary => OpCode::Binary,
        }
    }

    pub(crate) fn message_kind(self) -> MessageKind {
        match self {
            Self::Text(_) => MessageKind::Text,
            Self::Binary => MessageKind::Binary,
        }
    }
}

impl Partial {
    fn new(opcode: OpCode, compressed: bool) -> Self {
        let kind = Kind::of(opcode);
        let body = if compressed {
            Body::Inflated(Vec::new())
        } else {
            Body::Plain(BytesMut::new())
        };
        Self { kind, body }
    }

    /// Sees (and, when compressed, inflates) the next piece of payload.
    fn see(&mut self, bytes: &[u8], sink: Sink<'_>) -> Result<(), ReadError> {
        match &mut self.body {
            Body::Plain(_) => check_text(&mut self.kind, bytes),
            Body::Inflated(so_far) => {
                let inflater = inflater(sink.inflater)?;
                inflate_into(&mut self.kind, so_far, |out| {
                    inflater.inflate(bytes, out, sink.max_message_size)
                })
            }
        }
    }
}

/// The inflater of a compressed message: the decoder lets RSV1 through only
/// where permessage-deflate was agreed, so there is always one.
fn inflater(inflater: Option<&mut Inflater>) -> Result<&mut Inflater, ReadError> {
    inflater.ok_or_else(|| ReadError::broken("a compressed message without an inflater"))
}

/// Inflates into `so_far` with `inflate`, and checks what came out as text.
fn inflate_into(
    kind: &mut Kind,
    so_far: &mut Vec<u8>,
    inflate: impl FnOnce(&mut Vec<u8>) -> Result<(), ProtocolError>,
) -> Result<(), ReadError> {
    let before = so_far.len();
    inflate(so_far)?;
    check_text(kind, &so_far[before..])
}

/// RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8
/// but finds that the byte stream is not, in fact, a valid UTF-8 stream,
/// that endpoint MUST _Fail the WebSocket Connection_"; checked as the
/// bytes arrive.
pub(crate) fn check_text(kind: &mut Kind, bytes: &[u8]) -> Result<(), ReadError> {
    match kind {
        Kind::Text(validator) => validator.feed(bytes).map_err(|_| ProtocolError::InvalidUtf8.into()),
        Kind::Binary => Ok(()),
    }
}

/// The message: text validated whole (the pieces were checked as they came,
/// to fail fast; this is the check `Utf8Bytes` itself makes).
fn finish(kind: Kind, payload: Bytes) -> Result<Message, ProtocolError> {
    match kind {
        Kind::Binary => Ok(Message::Binary(payload)),
        Kind::Text(_) => Utf8Bytes::try_from(payload)
            .map(Message::Text)
            .map_err(|_| ProtocolError::InvalidUtf8),
    }
}

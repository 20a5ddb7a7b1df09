//! A data message handed to the application in pieces as it arrives
//! ([`Connection::poll_streamed`](super::Connection::poll_streamed)),
//! never held whole: the receiving state of one such message.
//!
//! The assembler owns the continuation rules for it as for any message;
//! this owns what is particular to a streamed one: its size so far against
//! `Config::max_streamed_message_size`, text validated piece by piece, and
//! compressed payload inflated into pieces of bounded size, so a small
//! frame that inflates to megabytes is handed on a piece at a time.

use bytes::{Buf, Bytes, BytesMut};

use super::assembler::{check_text, Kind};
use super::deflate::{Inflater, TAIL};
use super::error::{ProtocolError, ReadError};
use super::frame::{FrameHeader, RSV1};
use super::message::{Message, MessageKind};

/// The most inflated bytes one piece carries.
const INFLATED_PIECE: usize = 128 << 10;

/// A piece of a streamed text or binary message, from
/// [`Connection::poll_streamed`](super::Connection::poll_streamed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Whether the message is text or binary.
    pub kind: MessageKind,
    /// The message's first piece.
    pub first: bool,
    /// The message's last piece: the message is complete (a text message's
    /// UTF-8 was checked to its end).
    pub last: bool,
    /// Payload bytes (inflated, when compressed); may be empty in a first
    /// or last piece. A text piece may end inside a character.
    pub data: Bytes,
}

/// One message arriving in pieces.
#[derive(Debug)]
pub(crate) struct Arriving {
    kind: Kind,
    /// A compressed message's payload not yet inflated.
    compressed: Option<Backlog>,
    /// Payload handed on so far (inflated, when compressed).
    size: u64,
    max: u64,
    /// The frame arriving is the message's last.
    fin: bool,
    /// Nothing was handed on yet.
    first: bool,
    /// `false` once the application gave the message up: the rest is read
    /// (and inflated, which a shared context needs) and dropped.
    pub(crate) deliver: bool,
}

/// Compressed payload not yet inflated (output leaves in bounded pieces).
#[derive(Debug, Default)]
struct Backlog {
    /// With the tail appended once it ends the message.
    input: Bytes,
    ends_message: bool,
    /// The last inflation filled its piece: the inflater may hold more.
    inflater_full: bool,
}

impl Backlog {
    fn is_empty(&self) -> bool {
        self.input.is_empty() && !self.inflater_full
    }
}

impl Arriving {
    /// The message a data frame begins, to be at most `max` bytes.
    pub(crate) fn begin(header: &FrameHeader, max: u64) -> Result<Self, ProtocolError> {
        let mut arriving = Self {
            kind: Kind::of(header.opcode),
            // RFC 7692 §6: RSV1 on the first frame marks a compressed message.
            compressed: (header.rsv & RSV1 != 0).then(Backlog::default),
            size: 0,
            max,
            fin: false,
            first: true,
            deliver: true,
        };
        arriving.next_frame(header)?;
        Ok(arriving)
    }

    /// A frame of this message begins (the assembler checked it continues it).
    pub(crate) fn next_frame(&mut self, header: &FrameHeader) -> Result<(), ProtocolError> {
        self.fin = header.fin;
        let size = self.size.saturating_add(header.payload_len);
        if self.compressed.is_none() && size > self.max {
            return Err(self.too_large(size));
        }
        Ok(())
    }

    /// Whether inflated output waits to be handed on before more input is read.
    pub(crate) fn has_backlog(&self) -> bool {
        self.compressed.as_ref().is_some_and(|backlog| !backlog.is_empty())
    }

    /// Takes the next piece of payload, `ends_frame` when it completes its
    /// frame; returns what to hand on (empty pieces included: the caller
    /// decides what is worth handing on).
    pub(crate) fn take(
        &mut self,
        data: Bytes,
        ends_frame: bool,
        inflater: Option<&mut Inflater>,
    ) -> Result<Piece, ReadError> {
        let ends_message = ends_frame && self.fin;
        if let Some(backlog) = &mut self.compressed {
            backlog.input = if ends_message {
                // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff".
                let mut with_tail = BytesMut::with_capacity(data.len() + TAIL.len());
                with_tail.extend_from_slice(&data);
                with_tail.extend_from_slice(&TAIL);
                with_tail.freeze()
            } else {
                data
            };
            backlog.ends_message = ends_message;
            return self.inflate_backlog(inflater);
        }
        self.size += data.len() as u64;
        check_text(&mut self.kind, &data)?;
        self.hand_on(data, ends_message)
    }

    /// Inflates the next piece of the backlog.
    pub(crate) fn inflate_backlog(&mut self, inflater: Option<&mut Inflater>) -> Result<Piece, ReadError> {
        let inflater = inflater.ok_or_else(|| ReadError::broken("a compressed message without an inflater"))?;
        let backlog = self
            .compressed
            .as_mut()
            .ok_or_else(|| ReadError::broken("inflating an uncompressed message"))?;
        let mut out = Vec::with_capacity(INFLATED_PIECE);
        let taken = inflater.inflate_some(&backlog.input, &mut out)?;
        backlog.input.advance(taken);
        backlog.inflater_full = out.len() == out.capacity();
        let ends_message = backlog.ends_message && backlog.is_empty();
        self.size += out.len() as u64;
        if self.size > self.max {
            return Err(self.too_large(self.size).into());
        }
        check_text(&mut self.kind, &out)?;
        if ends_message {
            inflater.end_message();
        }
        self.hand_on(Bytes::from(out), ends_message)
    }

    fn hand_on(&mut self, data: Bytes, last: bool) -> Result<Piece, ReadError> {
        if last {
            if let Kind::Text(validator) = self.kind {
                validator.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        }
        let piece = Piece {
            kind: self.kind.message_kind(),
            first: self.first,
            last,
            data,
        };
        self.first = false;
        Ok(piece)
    }

    fn too_large(&self, size: u64) -> ProtocolError {
        ProtocolError::MessageTooLarge {
            size,
            max: usize::try_from(self.max).unwrap_or(usize::MAX),
        }
    }
}

/// What [`Connection::poll_streamed`](super::Connection::poll_streamed) hands on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Streamed {
    /// A piece of a text or binary message.
    Piece(Piece),
    /// A ping, pong or close, as received (pings are answered already;
    /// they may come between a message's pieces).
    Control(Message),
}

impl Streamed {
    /// A message delivered whole, as what streaming hands on.
    pub(crate) fn from_message(message: Message) -> Self {
        match message {
            Message::Text(text) => Self::Piece(Piece::whole(MessageKind::Text, text.into_bytes())),
            Message::Binary(data) => Self::Piece(Piece::whole(MessageKind::Binary, data)),
            control => Self::Control(control),
        }
    }
}

impl Piece {
    /// A whole message as its one piece (a message that began before
    /// streaming was asked for is finished whole).
    fn whole(kind: MessageKind, data: Bytes) -> Self {
        Self {
            kind,
            first: true,
            last: true,
            data,
        }
    }
}

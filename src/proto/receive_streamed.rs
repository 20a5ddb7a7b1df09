//! Receiving a message in pieces: [`Connection::poll_streamed`] and what
//! moves the connection between handing messages on whole and in pieces.
//!
//! The mode lives in the assembler (`Idle` / `Receiving` whole,
//! `IdleStreamed` / `Streaming` in pieces) and the decoder follows it: it
//! hands data payload out as it arrives only while messages stream. Modes
//! change only between messages: a message begun whole is finished whole,
//! one begun in pieces is read to its end (and dropped, if given up).

use std::time::Instant;

use bytes::Bytes;

use super::assembler::Assembler;
use super::connection::Connection;
use super::deflate::PerMessageDeflate;
use super::error::ReadError;
use super::message::Message;
use super::receive::Step;
use super::streamed::{Piece, Streamed};

impl Connection {
    /// Decodes what was read until the next piece of a text or binary
    /// message, or a control message, and returns it; `None` means more
    /// bytes are needed. Payload is handed on as it arrives — never
    /// gathered, so a message may be as large as
    /// `Config::max_streamed_message_size` — text checked as UTF-8 and
    /// compressed payload inflated piece by piece. Pings are answered as by
    /// [`poll_message`](Self::poll_message), which hands messages on whole
    /// again. A message that began whole (in `poll_message`) is finished
    /// whole and handed on as one piece.
    ///
    /// ```
    /// use std::time::Instant;
    /// use hyperws::proto::{Connection, Role, Streamed};
    /// use hyperws::{Config, MessageKind};
    ///
    /// let now = Instant::now();
    /// let mut client = Connection::new(Role::Client, &Config::default(), now);
    /// // A binary message of 5 bytes whose frame arrives in two reads.
    /// client.handle_bytes(&[0x82, 0x05, 1, 2], now);
    /// let Some(Streamed::Piece(piece)) = client.poll_streamed() else { panic!() };
    /// assert_eq!((piece.kind, piece.first, piece.last, &piece.data[..]), (MessageKind::Binary, true, false, &[1, 2][..]));
    /// client.handle_bytes(&[3, 4, 5], now);
    /// let Some(Streamed::Piece(piece)) = client.poll_streamed() else { panic!() };
    /// assert_eq!((piece.first, piece.last, &piece.data[..]), (false, true, &[3, 4, 5][..]));
    /// ```
    pub fn poll_streamed(&mut self) -> Option<Streamed> {
        if matches!(self.assembler, Assembler::Receiving(_)) {
            return self.poll_message().map(Streamed::from_message);
        }
        let now = self.now;
        while self.state.parses_input() {
            let step = match &mut self.assembler {
                Assembler::Streaming(arriving) if arriving.has_backlog() => {
                    let inflater = self.deflate.as_deref_mut().map(PerMessageDeflate::inflater);
                    match arriving.inflate_backlog(inflater) {
                        Ok(piece) => self.piece = self.hand_on(piece, now).map(Box::new),
                        Err(e) => _ = self.failed(e, now),
                    }
                    Step::Continue
                }
                Assembler::Idle => {
                    self.stream_pieces(true);
                    continue;
                }
                _ => self.decode_step(now),
            };
            if let Some(piece) = self.piece.take() {
                return Some(Streamed::Piece(*piece));
            }
            match step {
                Step::NeedMore => return None,
                Step::Continue => {}
                Step::Message(message) => return Some(Streamed::from_message(message)),
            }
        }
        self.input.clear();
        None
    }

    /// The application gave up the message being streamed: the rest of it
    /// is read and dropped, and the next piece handed on is the next
    /// message's first. Nothing happens between messages.
    pub fn discard_streamed(&mut self) {
        if let Assembler::Streaming(arriving) = &mut self.assembler {
            arriving.deliver = false;
        }
    }

    /// Whole messages wanted again: at once between messages, after the
    /// one being streamed (dropped) otherwise.
    #[cold]
    pub(super) fn stop_streaming(&mut self) {
        match &mut self.assembler {
            Assembler::Streaming(arriving) => arriving.deliver = false,
            _ => self.stream_pieces(false),
        }
    }

    /// Between messages: hands the next on in pieces, or whole; the decoder follows.
    pub(super) fn stream_pieces(&mut self, on: bool) {
        let limit = on.then_some(self.limits.max_streamed_message_size);
        self.assembler = if on { Assembler::IdleStreamed } else { Assembler::Idle };
        self.decoder.stream_data(limit);
    }

    /// A piece of payload of the message being streamed: kept for
    /// `poll_streamed` to hand on. Never inlined: the whole-message path
    /// shares `decode_step` and must stay small (returning the piece through
    /// it cost that path ~18 instructions per message; a piece is a read's
    /// worth of payload, to which one call is nothing).
    #[inline(never)]
    pub(super) fn take_piece(
        &mut self,
        data: Bytes,
        ends_frame: bool,
        now: Instant,
    ) -> Result<Option<Message>, ReadError> {
        let Assembler::Streaming(arriving) = &mut self.assembler else {
            return Err(ReadError::broken("a streamed piece with no streamed message begun"));
        };
        let inflater = self.deflate.as_deref_mut().map(PerMessageDeflate::inflater);
        let piece = arriving.take(data, ends_frame, inflater)?;
        self.piece = self.hand_on(piece, now).map(Box::new);
        Ok(None)
    }

    /// What of `piece` the application sees: nothing of a message it gave
    /// up, nor empty pieces in the middle. The last piece ends the message.
    fn hand_on(&mut self, piece: Piece, now: Instant) -> Option<Piece> {
        let deliver = matches!(&self.assembler, Assembler::Streaming(arriving) if arriving.deliver);
        if piece.last {
            self.idle.message_received(now);
            self.stream_pieces(deliver);
        }
        let worth = piece.first || piece.last || !piece.data.is_empty();
        (deliver && worth && self.state.delivers_input()).then_some(piece)
    }
}

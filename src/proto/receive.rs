//! What [`Connection`] does with what it receives and with the passing of
//! time: the decoder reports headers, payload and frames; this file alone
//! decides what each means.

use std::time::Instant;

use bytes::Bytes;

use super::assembler::{Assembler, Sink};
use super::close::{CloseCode, CloseFrame};
use super::connection::Connection;
use super::decoder::Decoded;
use super::deflate::PerMessageDeflate;
use super::error::{Error, ProtocolError, ReadError};
use super::frame::{FrameHeader, OpCode};
use super::heartbeat::Beat;
use super::message::Message;

/// What one decoding step produced.
pub(super) enum Step {
    /// The buffer holds nothing more to decode.
    NeedMore,
    /// Something was consumed; decode on.
    Continue,
    Message(Message),
}

impl Connection {
    /// Decodes what was read until a message completes, and returns it;
    /// `None` means more bytes are needed. Pongs to pings and the reply to a
    /// close are queued as a side effect. A peer that breaks the protocol is
    /// sent the matching close code; the error is reported by
    /// [`poll_end`](Self::poll_end) once its close reply (or the transport's
    /// end) arrives.
    ///
    /// A message being streamed ([`poll_streamed`](Self::poll_streamed))
    /// is read to its end and dropped first.
    pub fn poll_message(&mut self) -> Option<Message> {
        // The decoder's flag, not the assembler's state: one load on the hot path.
        if self.decoder.streams_data() {
            self.stop_streaming();
        }
        let now = self.now;
        while self.state.parses_input() {
            match self.decode_step(now) {
                Step::NeedMore => return None,
                Step::Continue => {}
                Step::Message(message) => return Some(message),
            }
        }
        // Draining or closed: the peer's bytes no longer mean anything to us.
        self.input.clear();
        None
    }

    // Inlined into both callers: out of line, `poll_message` (the hot path)
    // cost ~50 more instructions per message.
    #[allow(clippy::inline_always)] // measured: see above
    #[inline(always)]
    pub(super) fn decode_step(&mut self, now: Instant) -> Step {
        let max_message_size = self.limits.max_message_size;
        let max_streamed = self.limits.max_streamed_message_size;
        let outcome = match self.decoder.decode(&mut self.input) {
            Ok(None) => return Step::NeedMore,
            Err(e) => Err(e.into()),
            Ok(Some(Decoded::Header(header))) if header.opcode.is_control() => Ok(None),
            Ok(Some(Decoded::Header(header))) => self
                .assembler
                .begin_frame(&header, max_message_size, max_streamed)
                .map(|()| None)
                .map_err(ReadError::from),
            Ok(Some(Decoded::Chunk(chunk))) => {
                let sink = Sink {
                    max_message_size,
                    inflater: self.deflate.as_deref_mut().map(PerMessageDeflate::inflater),
                };
                self.assembler.chunk(chunk, sink).map(|()| None)
            }
            Ok(Some(Decoded::Frame(header, payload))) => {
                let reported = self.decoder.reported();
                self.on_frame(header, payload, reported, now)
            }
            Ok(Some(Decoded::Whole(header, payload))) if header.opcode.is_control() => {
                self.on_frame(header, payload, 0, now)
            }
            Ok(Some(Decoded::Whole(header, payload))) if self.assembler.is_message_by_itself(&header) => {
                Assembler::one_frame_message(header.opcode, payload, max_message_size)
                    .map(|message| self.on_data_message(message, now))
            }
            Ok(Some(Decoded::Piece(data, ends_frame))) => self.take_piece(data, ends_frame, now),
            Ok(Some(Decoded::Whole(header, payload))) => {
                match self.assembler.begin_frame(&header, max_message_size, max_streamed) {
                    Ok(()) if self.assembler.streams() => self.take_piece(payload, true, now),
                    Ok(()) => self.on_frame(header, payload, 0, now),
                    Err(e) => Err(e.into()),
                }
            }
        };
        match outcome {
            Ok(Some(message)) => Step::Message(message),
            Ok(None) => Step::Continue,
            Err(e) => self.failed(e, now),
        }
    }

    /// The input broke a rule: the rest of its frame is skipped, the connection failed.
    #[cold]
    pub(super) fn failed(&mut self, error: ReadError, now: Instant) -> Step {
        self.decoder.skip_frame(&mut self.input);
        self.fail(error, now);
        Step::Continue
    }

    /// Returns the message a whole frame completes, if it is to be
    /// delivered; `reported` of its bytes were already seen as chunks.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
        reported: usize,
        now: Instant,
    ) -> Result<Option<Message>, ReadError> {
        let message = match header.opcode {
            OpCode::Close => return Ok(self.on_close(&payload, now)?),
            OpCode::Ping => {
                // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint
                // MUST send a Pong frame in response, unless it already
                // received a Close frame."
                if self.state.can_send() {
                    self.push(OpCode::Pong, payload.clone());
                }
                Message::Ping(payload)
            }
            OpCode::Pong if self.heartbeat.is_our_pong(&payload) => return Ok(None),
            OpCode::Pong => Message::Pong(payload),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let sink = Sink {
                    max_message_size: self.limits.max_message_size,
                    inflater: self.deflate.as_deref_mut().map(PerMessageDeflate::inflater),
                };
                return Ok(self
                    .assembler
                    .end_frame(header.fin, payload, reported, sink)?
                    .and_then(|message| self.on_data_message(message, now)));
            }
        };
        Ok(self.state.delivers_input().then_some(message))
    }

    /// A text or binary message is complete: the one to deliver, if any.
    fn on_data_message(&mut self, message: Message, now: Instant) -> Option<Message> {
        self.idle.message_received(now);
        self.state.delivers_input().then_some(message)
    }

    /// Returns the close to deliver, or `None` when the connection had
    /// already failed (the application is given the error instead).
    fn on_close(&mut self, payload: &Bytes, now: Instant) -> Result<Option<Message>, ProtocolError> {
        let frame = CloseFrame::parse(payload)?;
        tracing::debug!(code = ?frame.as_ref().map(|f| f.code), "peer sent close");
        if self.state.can_send() {
            // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did
            // not previously send a Close frame, the endpoint MUST send a
            // Close frame in response. ... typically echoing the status code
            // it received."
            let reply = frame.as_ref().map(|f| CloseFrame::from_code(f.code));
            self.push(OpCode::Close, CloseFrame::encode(reply.as_ref()));
        }
        let delivered = self.state.delivers_input();
        self.state = self.state.on_close_received(self.role, now, self.limits.close_timeout);
        Ok(delivered.then_some(Message::Close(frame)))
    }

    /// RFC 6455 §7.1.7, "_Fail the WebSocket Connection_": send a close with
    /// the fault's code (unless a close was already sent), then wait for the
    /// peer's reply. Failing again, on input we cannot parse, only drains.
    /// Our own broken invariant is closed with 1011 and reported as ours.
    pub(super) fn fail(&mut self, error: ReadError, now: Instant) {
        // The broken message is abandoned; later frames start afresh.
        if self.assembler.is_mid_message() {
            if let Some(deflate) = &mut self.deflate {
                deflate.inflater().abandon_message();
            }
        }
        self.stream_pieces(false);
        let (code, fault) = match error {
            ReadError::Peer(e) => (e.close_code(), Error::Protocol(e)),
            ReadError::Internal(what) => (CloseCode::ERROR, Error::Internal(what)),
        };
        self.send_close_for(code, now);
        self.fault.record(fault);
    }

    fn send_close_for(&mut self, code: CloseCode, now: Instant) {
        if self.state.can_send() {
            self.push(OpCode::Close, CloseFrame::encode(Some(&CloseFrame::from_code(code))));
        }
        self.state = self.state.on_failure(now, self.limits.close_timeout);
    }

    /// The heartbeat and idle clocks, while the connection is open.
    pub(super) fn check_clocks(&mut self, now: Instant) {
        // A quiet socket gives its buffers back; the next bytes allocate new ones.
        self.release_read_buffer();
        self.release_idle_write_queue();
        if let Some(deflate) = &mut self.deflate {
            deflate.release_when_quiet(self.outgoing.is_some());
        }
        match self.heartbeat.on_timeout(now) {
            Beat::Wait => {}
            Beat::Ping(payload) => self.push(OpCode::Ping, Bytes::copy_from_slice(&payload)),
            Beat::Dead => {
                tracing::info!("WebSocket peer stopped answering pings; dropping it");
                self.fault.record(Error::HeartbeatTimeout);
                // No closing handshake: it could only wait on the same dead peer.
                return self.abandon();
            }
        }
        if self.idle.expired(now) {
            self.fault.record(Error::IdleTimeout);
            self.send_close_for(CloseCode::AWAY, now);
        }
    }
}

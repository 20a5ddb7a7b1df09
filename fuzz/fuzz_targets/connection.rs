//! `Connection` in either role, with arbitrary settings, fed arbitrary bytes
//! (raw, or as frames a peer of the other role would write) in arbitrary
//! chunks, interleaved with sends (whole or streamed in fragments), closes,
//! partial writes, EOF, transport errors and time passing; read whole or in
//! streamed pieces (given up at times). After every step:
//!
//! - messages and buffers stay within the configured limits;
//! - what it writes is well-formed for its role (read back by a reader
//!   written from RFC 6455 §5.2, not the crate's decoder);
//! - after a protocol error exactly one close frame, with that error's
//!   code, is queued, and nothing is ever written after a close frame;
//! - the closing handshake only moves forward, a deadline handled is never
//!   due again at once, and how it ended is reported once.
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use hyperws::proto::{internals, Connection, Role, SharedMessage, Streamed};
use hyperws::{CloseCode, CloseFrame, Error, Message, MessageKind};
use hyperws_fuzz::{pending_output, read_frames, take_output, write_frame, Settings};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Bytes(Vec<u8>),
    Frame {
        fin: bool,
        rsv: u8,
        opcode: u8,
        payload: Vec<u8>,
        key: [u8; 4],
    },
    Send {
        kind: u8,
        payload: Vec<u8>,
        /// 0 (and 3..): `send`; 1: `send_uncompressed`; 2: as a `SharedMessage`.
        how: u8,
    },
    Close {
        code: Option<u16>,
        reason: String,
    },
    Advance(u16),
    Write(u16),
    Eof,
    TransportError,
    /// From now on read with `poll_streamed` (true) or `poll_message`.
    Stream(bool),
    /// Give up the message being streamed in.
    Discard,
    /// One message sent in fragments (`parts`, each written whole then
    /// flushed when `flush`), then finished, or given up when `abandon`.
    SendStreamed {
        text: bool,
        parts: Vec<Vec<u8>>,
        flush: bool,
        abandon: bool,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    settings: Settings,
    ops: Vec<Op>,
}

/// What the run has seen so far, to check that it only moves forward.
struct Run {
    conn: Connection,
    now: Instant,
    written: Vec<u8>,
    progress: u8,
    ended: bool,
    ended_with_error: bool,
    close_frames_before: usize,
    protocol_error_seen: bool,
    largest_feed: usize,
    max_frame: usize,
    max_message: usize,
    read_chunk: usize,
    deflate: bool,
    streaming: bool,
    /// A streamed message's first piece was seen, its last not yet.
    open_piece: bool,
}

fuzz_target!(|input: Input| {
    let Some(config) = input.settings.config() else { return };
    let now = Instant::now();
    let mut conn = Connection::new(input.settings.role(), &config, now);
    let deflate = input.settings.deflate();
    if let Some((params, deflate_config)) = &deflate {
        conn = conn.with_deflate(*params, deflate_config);
    }
    let mut run = Run {
        conn,
        now,
        written: Vec::new(),
        progress: 0,
        ended: false,
        ended_with_error: false,
        close_frames_before: 0,
        protocol_error_seen: false,
        largest_feed: 0,
        max_frame: config.max_frame_size(),
        max_message: config.max_message_size(),
        read_chunk: config.read_buffer_size(),
        deflate: deflate.is_some(),
        streaming: false,
        open_piece: false,
    };
    let peer = input.settings.peer_role();
    for op in input.ops.into_iter().take(200) {
        run.apply(op, peer);
        run.drain_messages();
        run.check();
    }
});

impl Run {
    fn apply(&mut self, op: Op, peer: Role) {
        match op {
            Op::Bytes(bytes) => self.feed(&bytes),
            Op::Frame {
                fin,
                rsv,
                opcode,
                payload,
                key,
            } => {
                self.feed(&write_frame(peer, fin, rsv, opcode, &payload, key));
            }
            Op::Send {
                kind,
                payload,
                how,
            } => self.send(kind, payload, how),
            Op::Close { code, reason } => {
                let frame = code.map(|code| CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                });
                let could_send = self.conn.send_error().is_none();
                let result = self.conn.close(frame, self.now);
                assert!(could_send || result.is_err(), "close accepted after the close");
            }
            Op::Advance(ms) => {
                self.now += Duration::from_millis(u64::from(ms));
                if self.conn.poll_timeout().is_some_and(|deadline| deadline <= self.now) {
                    self.conn.handle_timeout(self.now);
                    let next = self.conn.poll_timeout();
                    assert!(
                        next.is_none_or(|deadline| deadline > self.now),
                        "deadline still due: {next:?}"
                    );
                }
            }
            Op::Write(limit) => {
                let taken = take_output(&mut self.conn, usize::from(limit));
                self.written.extend_from_slice(&taken);
            }
            Op::Stream(on) => self.streaming = on,
            Op::Discard => {
                self.conn.discard_streamed();
                self.open_piece = false;
            }
            Op::SendStreamed {
                text,
                parts,
                flush,
                abandon,
            } => self.send_streamed(text, parts, flush, abandon),
            Op::Eof => self.conn.handle_eof(),
            Op::TransportError => self
                .conn
                .handle_transport_error(std::io::ErrorKind::ConnectionReset.into()),
        }
    }

    /// Bytes arrive, as a driver would pass them: only while it reads.
    fn feed(&mut self, bytes: &[u8]) {
        if self.conn.wants_read() {
            self.largest_feed = self.largest_feed.max(bytes.len());
            self.conn.handle_bytes(bytes, self.now);
        }
    }

    fn send(&mut self, kind: u8, payload: Vec<u8>, how: u8) {
        let message = match kind % 4 {
            0 => Message::text(String::from_utf8_lossy(&payload).into_owned()),
            1 => Message::binary(payload),
            2 => Message::Ping(payload.into()),
            _ => Message::Pong(payload.into()),
        };
        let could_send = self.conn.send_error().is_none();
        let result = match how {
            1 => self.conn.send_uncompressed(message),
            2 => match SharedMessage::new(message) {
                Ok(shared) => self.conn.send_shared(&shared),
                Err(e) => {
                    assert!(kind % 4 >= 2, "a data message refused as shared: {e}");
                    return;
                }
            },
            _ => self.conn.send(message),
        };
        assert!(could_send || result.is_err(), "message accepted after the close");
    }

    fn send_streamed(&mut self, text: bool, parts: Vec<Vec<u8>>, flush: bool, abandon: bool) {
        let kind = if text { MessageKind::Text } else { MessageKind::Binary };
        if self.conn.start_streamed(kind, true).is_err() {
            return;
        }
        for part in parts.iter().take(8) {
            let part = if text { String::from_utf8_lossy(part).into_owned().into_bytes() } else { part.clone() };
            let mut rest = &part[..];
            while !rest.is_empty() {
                match self.conn.write_streamed(rest) {
                    Ok(taken) => rest = &rest[taken..],
                    Err(_) => return self.conn.abandon_streamed(),
                }
            }
            if flush {
                self.conn.flush_streamed();
            }
            let refused = self.conn.send(Message::binary(vec![1]));
            assert!(refused.is_err(), "a data message between fragments");
        }
        if abandon || self.conn.finish_streamed().is_err() {
            self.conn.abandon_streamed();
        }
        assert!(!self.conn.is_sending_streamed());
    }

    fn drain_messages(&mut self) {
        if self.streaming {
            return self.drain_streamed();
        }
        self.open_piece = false; // `poll_message` drops the rest of a streamed message
        while let Some(message) = self.conn.poll_message() {
            match message {
                Message::Text(text) => assert!(text.len() <= self.max_message),
                Message::Binary(data) => assert!(data.len() <= self.max_message),
                Message::Ping(data) | Message::Pong(data) => assert!(data.len() <= 125),
                Message::Close(frame) => {
                    assert!(frame.is_none_or(|f| f.reason.len() <= 123 && f.code.is_sendable()));
                }
            }
        }
    }

    fn drain_streamed(&mut self) {
        while let Some(streamed) = self.conn.poll_streamed() {
            match streamed {
                Streamed::Piece(piece) => {
                    assert_eq!(piece.first, !self.open_piece, "first exactly on a message's first piece");
                    self.open_piece = !piece.last;
                    if piece.kind == MessageKind::Text && piece.first && piece.last {
                        assert!(std::str::from_utf8(&piece.data).is_ok(), "a whole text piece is UTF-8");
                    }
                }
                Streamed::Control(Message::Ping(data) | Message::Pong(data)) => assert!(data.len() <= 125),
                Streamed::Control(_) => {}
            }
        }
    }

    fn check(&mut self) {
        self.check_read_buffer();
        self.check_progress();
        let Some(pending) = pending_output(&self.conn) else {
            return;
        };
        let mut wire = self.written.clone();
        wire.extend_from_slice(&pending);
        let (frames, rest) = read_frames(&wire);
        // Only a transport given up on (outbox dropped) leaves half a frame.
        assert!(rest.is_empty() || self.progress == 4, "unfinished frame queued");
        self.check_frames(&frames);
        let closes = frames.iter().filter(|f| f.is_close()).count();
        if let (Some(Error::Protocol(fault)), false) = (self.conn.error(), self.protocol_error_seen) {
            self.protocol_error_seen = true;
            // A transport already dropped took nothing more.
            if self.progress < 4 || closes > self.close_frames_before {
                assert_eq!(closes, 1, "{fault}: one close frame");
                if self.close_frames_before == 0 {
                    let code = frames.iter().find(|f| f.is_close()).and_then(|f| f.close_code());
                    assert_eq!(code, Some(u16::from(fault.close_code())), "{fault}: its close code");
                }
            }
        }
        self.close_frames_before = closes;
    }

    fn check_read_buffer(&self) {
        let (buffered, capacity) = internals::read_buffer_use(&self.conn);
        if self.conn.wants_read() {
            // After every message is taken, at most one unfinished frame waits.
            assert!(buffered <= self.max_frame + 14, "{buffered} bytes buffered");
        }
        let bound = 2 * (self.max_frame + 14 + self.read_chunk + self.largest_feed) + 4096;
        assert!(capacity <= bound, "read buffer of {capacity} bytes (bound {bound})");
    }

    fn check_progress(&mut self) {
        let progress = internals::close_progress(&self.conn);
        assert!(
            progress >= self.progress,
            "closing went back: {} -> {progress}",
            self.progress
        );
        self.progress = progress;
        match self.conn.poll_end() {
            Some(end) => {
                assert!(!(self.ended_with_error && end.is_err()), "the end reported twice");
                self.ended_with_error |= end.is_err();
                self.ended = true;
            }
            None => assert!(!self.ended, "ended, then not"),
        }
    }

    fn check_frames(&self, frames: &[hyperws_fuzz::WireFrame]) {
        let client = self.conn.role() == Role::Client;
        let mut closed = false;
        for frame in frames {
            assert!(!closed, "a frame after the close frame");
            closed = frame.is_close();
            // RFC 6455 §5.1/§5.3: clients mask every frame, servers none.
            assert_eq!(frame.masked, client, "masking");
            assert!(frame.minimal_length, "length not in its minimal encoding");
            if frame.opcode >= 0x8 {
                assert!(
                    frame.fin && frame.payload.len() <= 125 && frame.rsv == 0,
                    "control frame"
                );
            } else {
                assert!(frame.rsv == 0 || (self.deflate && frame.rsv == 0x40), "reserved bits");
            }
            if let Some(code) = frame.close_code() {
                assert!(CloseCode::from(code).is_sendable(), "unsendable close code {code}");
            }
        }
    }
}

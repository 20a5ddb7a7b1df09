//! [`Connection`]: the whole protocol for one WebSocket, with no IO.
//!
//! Bytes read from the transport go in through [`Connection::read`], which
//! returns messages; messages go in through [`Connection::send`], which
//! queues frames in the [`Outbox`] for the driver to write. Time enters only
//! as an `Instant` argument: the driver sleeps until [`Connection::poll_timeout`]
//! and then calls [`Connection::handle_timeout`]. So every behaviour here can
//! be tested in memory, on a made-up clock.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::assembler::Assembler;
use super::close::{CloseCode, CloseFrame, MAX_CLOSE_REASON};
use super::closing::CloseState;
use super::decoder::{Frame, FrameDecoder, Role};
use super::error::ProtocolError;
use super::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};
use super::heartbeat::{HeartbeatAction, Keepalive};
use super::message::Message;
use super::outbox::Outbox;
use crate::Config;

/// Why a message could not be sent: the caller's mistake, not the peer's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent or received; no more frames may follow.
    Closed,
    /// A ping or pong payload was over 125 bytes (RFC 6455 §5.5).
    ControlFrameTooLarge(usize),
    /// A close reason was over 123 bytes.
    CloseReasonTooLong(usize),
    /// A close code that may not be sent, such as 1005 or 1006.
    InvalidCloseCode(CloseCode),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("the connection is closing or closed"),
            Self::ControlFrameTooLarge(len) => write!(f, "ping/pong payload of {len} bytes exceeds 125"),
            Self::CloseReasonTooLong(len) => write!(f, "close reason of {len} bytes exceeds {MAX_CLOSE_REASON}"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
        }
    }
}

impl std::error::Error for SendError {}

/// Which of the connection's clocks ran out in [`Connection::handle_timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// The peer did not answer our close frame in time; the connection is closed.
    Close,
    /// Nothing arrived within the heartbeat's timeout; the connection is closed.
    Heartbeat,
    /// No message moved for `idle_timeout`; a close 1001 is queued.
    Idle,
}

/// The idle timeout and the last time a message moved.
#[derive(Clone, Copy, Debug)]
struct IdleClock {
    timeout: Duration,
    last_message: Instant,
}

/// How the peer's closing of the transport is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eof {
    /// After the closing handshake, or while draining: expected.
    Clean,
    /// Mid-conversation, without a close frame (close code 1006).
    Abnormal,
}

/// The sans-IO WebSocket protocol state for one connection.
///
/// ```
/// use std::time::Instant;
/// use bytes::BytesMut;
/// use hyperws::{proto::{Connection, Role}, Config, Message};
///
/// let mut server = Connection::new(Role::Server, &Config::default(), Instant::now());
/// // A masked "Hello" from RFC 6455 §5.7.
/// let mut input = BytesMut::from(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58][..]);
/// let msg = server.read(&mut input, Instant::now()).unwrap();
/// assert_eq!(msg, Some(Message::text("Hello")));
/// server.send(Message::text("Hi"), Instant::now()).unwrap();
/// assert_eq!(server.outbox().len(), 4); // header + "Hi", unmasked
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    close_timeout: Duration,
    decoder: FrameDecoder,
    assembler: Assembler,
    state: CloseState,
    outbox: Outbox,
    mask_keys: MaskKeys,
    keepalive: Keepalive,
    idle: Option<IdleClock>,
    /// How much of the read buffer `read` had already seen, to tell new bytes.
    seen_input: usize,
}

impl Connection {
    /// A connection that has completed its opening handshake at `now`.
    #[must_use]
    pub fn new(role: Role, config: &Config, now: Instant) -> Self {
        Self {
            role,
            close_timeout: config.get_close_timeout(),
            decoder: FrameDecoder::new(role, config.get_max_frame_size(), config.get_accept_unmasked_frames()),
            assembler: Assembler::new(config.get_max_message_size()),
            state: CloseState::Open,
            outbox: Outbox::default(),
            mask_keys: MaskKeys::new(),
            keepalive: Keepalive::new(config.get_heartbeat(), now),
            idle: config.get_idle_timeout().map(|timeout| IdleClock {
                timeout,
                last_message: now,
            }),
            seen_input: 0,
        }
    }

    /// Where the heartbeat stands.
    #[must_use]
    pub fn heartbeat(&self) -> super::Heartbeat {
        self.keepalive.state()
    }

    /// Which side this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the closing handshake stands.
    #[must_use]
    pub fn state(&self) -> CloseState {
        self.state
    }

    /// Consumes whole frames from the front of `buf` until one completes a
    /// message, and returns it; `None` means more bytes are needed. Pongs to
    /// pings and the reply to a close are queued in the outbox.
    ///
    /// # Errors
    /// The peer broke the protocol. A close frame with the matching code is
    /// queued; from then on only the peer's close reply is looked for.
    pub fn read(&mut self, buf: &mut BytesMut, now: Instant) -> Result<Option<Message>, ProtocolError> {
        let new_bytes = buf.len() > self.seen_input;
        let result = self.read_message(buf, now);
        if new_bytes {
            // Any new byte proves the peer alive, even mid-way through a large
            // frame. (Recorded after the frames, so our pong is still known as ours.)
            self.keepalive.on_frame(now);
        }
        self.seen_input = buf.len();
        if matches!(result, Ok(Some(Message::Text(_) | Message::Binary(_)))) {
            self.touch_idle(now);
        }
        result
    }

    fn read_message(&mut self, buf: &mut BytesMut, now: Instant) -> Result<Option<Message>, ProtocolError> {
        loop {
            if !self.state.parses_input() {
                // Draining or closed: the peer's bytes no longer mean anything to us.
                buf.clear();
                return Ok(None);
            }
            let result = match self.decoder.next_frame(buf, &mut self.assembler) {
                Ok(Some(frame)) => self.on_frame(frame, now),
                Ok(None) => return Ok(None),
                Err(e) => Err(e),
            };
            match result {
                Ok(Some(message)) if self.state.delivers_input() || message.is_close() => return Ok(Some(message)),
                Ok(_) => {}
                Err(e) => {
                    let already_failed = !self.state.delivers_input();
                    self.fail(now, e.close_code());
                    if !already_failed {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Queues a message. A `Message::Close` starts the closing handshake.
    ///
    /// # Errors
    /// See [`SendError`]; nothing is queued then.
    pub fn send(&mut self, message: Message, now: Instant) -> Result<(), SendError> {
        if !self.state.can_send() {
            return Err(SendError::Closed);
        }
        let (opcode, payload) = match message {
            Message::Text(text) => {
                self.touch_idle(now);
                (OpCode::Text, text.into_bytes())
            }
            Message::Binary(data) => {
                self.touch_idle(now);
                (OpCode::Binary, data)
            }
            Message::Ping(data) | Message::Pong(data) if data.len() > MAX_CONTROL_PAYLOAD => {
                return Err(SendError::ControlFrameTooLarge(data.len()));
            }
            Message::Ping(data) => (OpCode::Ping, data),
            Message::Pong(data) => (OpCode::Pong, data),
            Message::Close(frame) => {
                check_close_frame(frame.as_ref())?;
                self.push(OpCode::Close, CloseFrame::encode(frame.as_ref()));
                self.state = self.state.on_close_sent(now, self.close_timeout);
                return Ok(());
            }
        };
        self.push(opcode, payload);
        Ok(())
    }

    /// How many encoded bytes wait to be written (the browser API's `bufferedAmount`).
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.outbox.len()
    }

    /// Frames waiting to be written to the transport.
    pub fn outbox(&mut self) -> &mut Outbox {
        &mut self.outbox
    }

    /// How many more bytes the frame being read needs, so the driver can
    /// grow its buffer once instead of many times.
    #[must_use]
    pub fn bytes_needed(&self, buffered: usize) -> usize {
        self.decoder.bytes_needed(buffered)
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state != CloseState::Open {
            return self.state.deadline();
        }
        let idle = self.idle.map(|i| i.last_message + i.timeout);
        [self.keepalive.deadline(), idle].into_iter().flatten().min()
    }

    /// Lets time pass: ends a closing handshake that ran out of time, sends
    /// a heartbeat ping or declares the peer dead, or starts an idle close.
    /// Returns which clock ran out, if one ended (or began ending) the connection.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Timeout> {
        if self.state != CloseState::Open {
            let before = self.state;
            self.state = before.on_timeout(now);
            let close_timed_out = matches!(before, CloseState::CloseSent { .. }) && self.state == CloseState::Closed;
            return close_timed_out.then_some(Timeout::Close);
        }
        match self.keepalive.on_timeout(now) {
            HeartbeatAction::Ping(payload) => self.push(OpCode::Ping, Bytes::copy_from_slice(&payload)),
            HeartbeatAction::Dead => {
                // No closing handshake: it could only wait on the same dead peer.
                self.state = CloseState::Closed;
                return Some(Timeout::Heartbeat);
            }
            HeartbeatAction::Wait => {}
        }
        match self.idle {
            Some(idle) if idle.last_message + idle.timeout <= now => {
                self.keepalive.stop();
                self.fail(now, CloseCode::AWAY);
                Some(Timeout::Idle)
            }
            _ => None,
        }
    }

    fn touch_idle(&mut self, now: Instant) {
        if let Some(idle) = &mut self.idle {
            idle.last_message = now;
        }
    }

    /// The transport reached end of input.
    pub fn handle_eof(&mut self) -> Eof {
        let eof = if self.state == CloseState::Open {
            Eof::Abnormal
        } else {
            Eof::Clean
        };
        self.state = self.state.on_eof();
        eof
    }

    /// Whether the driver should close its write side now: always once the
    /// connection is closed; while draining only as the server, which RFC
    /// 6455 §7.1.1 asks to close TCP first.
    #[must_use]
    pub fn should_shutdown_write(&self) -> bool {
        match self.state {
            CloseState::Closed => true,
            CloseState::Failing { .. } | CloseState::Draining { .. } => self.role == Role::Server,
            CloseState::Open | CloseState::CloseSent { .. } => false,
        }
    }

    fn on_frame(&mut self, frame: Frame, now: Instant) -> Result<Option<Message>, ProtocolError> {
        let Frame {
            header,
            payload,
            streamed,
        } = frame;
        match header.opcode {
            OpCode::Ping => {
                if self.state.can_send() {
                    self.push(OpCode::Pong, payload.clone());
                }
                Ok(Some(Message::Ping(payload)))
            }
            // The answer to our own heartbeat ping is ours, not the application's.
            OpCode::Pong if self.keepalive.take_our_pong(&payload) => Ok(None),
            OpCode::Pong => Ok(Some(Message::Pong(payload))),
            OpCode::Close => self.on_close(&payload, now),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                self.assembler.end_frame(header.fin, payload, streamed)
            }
        }
    }

    /// Returns the close to deliver, or `None` when the connection had
    /// already failed (the application was given the error instead).
    fn on_close(&mut self, payload: &Bytes, now: Instant) -> Result<Option<Message>, ProtocolError> {
        let frame = CloseFrame::parse(payload)?;
        if self.state.can_send() {
            // RFC 6455 §5.5.1: reply with a close frame, typically echoing the code.
            let reply = frame.as_ref().map(|f| CloseFrame::from_code(f.code));
            self.push(OpCode::Close, CloseFrame::encode(reply.as_ref()));
        }
        let delivered = self.state.delivers_input();
        self.state = self.state.on_close_received(self.role, now, self.close_timeout);
        Ok(delivered.then_some(Message::Close(frame)))
    }

    /// RFC 6455 §7.1.7, "Fail the WebSocket Connection".
    fn fail(&mut self, now: Instant, code: CloseCode) {
        if self.state.can_send() {
            self.push(OpCode::Close, CloseFrame::encode(Some(&CloseFrame::from_code(code))));
        }
        self.state = self.state.on_failure(now, self.close_timeout);
    }

    fn push(&mut self, opcode: OpCode, payload: Bytes) {
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        if self.role == Role::Client {
            // RFC 6455 §5.3: a fresh, unpredictable key for every frame.
            header.mask = Some(self.mask_keys.next_key());
        }
        self.outbox.push_frame(&header, payload);
    }
}

fn check_close_frame(frame: Option<&CloseFrame>) -> Result<(), SendError> {
    let Some(frame) = frame else { return Ok(()) };
    if !frame.code.is_sendable() {
        return Err(SendError::InvalidCloseCode(frame.code));
    }
    if frame.reason.len() > MAX_CLOSE_REASON {
        return Err(SendError::CloseReasonTooLong(frame.reason.len()));
    }
    Ok(())
}

/// Masking keys for client frames: xorshift64* seeded from the OS-random
/// keys std gives every `RandomState`. Fast, and unpredictable to the peer,
/// which is what RFC 6455 §10.3 asks of them.
#[derive(Debug)]
struct MaskKeys(u64);

impl MaskKeys {
    fn new() -> Self {
        Self(super::random::os_seed() | 1) // xorshift must not start at zero
    }

    fn next_key(&mut self) -> [u8; 4] {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((word >> 32) as u32).to_ne_bytes()
    }
}

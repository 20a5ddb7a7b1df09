//! [`Connection`]: the whole protocol for one WebSocket, with no IO.
//!
//! Inputs are `handle_*` calls (bytes read, the transport's end or error, a
//! timeout) plus [`send`](Connection::send) and [`close`](Connection::close);
//! outputs are `poll_*` calls (the next message, bytes to write, the next
//! deadline, why the connection ended). Time enters only as an `Instant`
//! argument, so every behaviour can be tested in memory on a made-up clock,
//! and only where it matters: with each read, each timeout and each close —
//! never per message sent or received, which keeps clock reads off the hot path.

use std::io::{self, IoSlice};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::assembler::Assembler;
use super::close::CloseFrame;
use super::closing::{CloseState, Fault};
use super::decoder::FrameDecoder;
use super::deflate::{Compressed, PerMessageDeflate};
use super::error::{Error, SendError};
use super::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, RSV1};
use super::heartbeat::Heartbeat;
use super::idle::IdleClock;
use super::mask::MaskKeys;
use super::message::Message;
use super::reading::ReadRoom;
use super::send_streamed::Outgoing;
use super::streamed::Piece;
use super::write_queue::WriteQueue;
use super::Role;
use crate::Config;

/// The sans-IO WebSocket protocol state for one connection.
///
/// A driver (this crate's `WebSocket` is one) loops: it appends what the
/// transport gives to [`read_buffer`](Self::read_buffer) and reports it with
/// [`handle_read`](Self::handle_read) (or [`handle_eof`](Self::handle_eof),
/// [`handle_transport_error`](Self::handle_transport_error)); takes messages
/// from [`poll_message`](Self::poll_message); writes what
/// [`poll_transmit`](Self::poll_transmit) lists and reports it with
/// [`handle_written`](Self::handle_written); sleeps until
/// [`poll_timeout`](Self::poll_timeout) and calls
/// [`handle_timeout`](Self::handle_timeout); and stops when
/// [`poll_end`](Self::poll_end) says why the connection ended.
///
/// ```
/// use std::time::Instant;
/// use hyperws::{proto::{Connection, Role}, Config, Message};
///
/// let now = Instant::now();
/// let mut server = Connection::new(Role::Server, &Config::default(), now);
/// // A masked "Hello" from RFC 6455 §5.7.
/// server.handle_bytes(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], now);
/// assert_eq!(server.poll_message(), Some(Message::text("Hello")));
/// server.send(Message::text("Hi")).unwrap();
/// assert_eq!(server.buffered_amount(), 4); // header + "Hi", unmasked
/// ```
#[derive(Debug)]
pub struct Connection {
    pub(super) role: Role,
    pub(super) limits: Limits,
    pub(super) input: BytesMut,
    pub(super) read_room: ReadRoom,
    pub(super) decoder: FrameDecoder,
    pub(super) assembler: Assembler,
    pub(super) state: CloseState,
    pub(super) fault: Fault,
    pub(super) write_queue: WriteQueue,
    pub(super) write_shut: bool,
    pub(super) mask_keys: MaskKeys,
    pub(super) heartbeat: Heartbeat,
    pub(super) idle: IdleClock,
    /// permessage-deflate, when the handshake agreed it; boxed, so that a
    /// connection without it stays small (idle sockets are mostly this struct).
    pub(super) deflate: Option<Box<PerMessageDeflate>>,
    /// A message being sent in fragments (`start_streamed`); boxed, as most
    /// connections never stream one.
    pub(super) outgoing: Option<Box<Outgoing>>,
    /// A streamed message's piece decoded and not yet handed on (kept here,
    /// not returned through the decoding step the whole-message path shares).
    pub(super) piece: Option<Box<Piece>>,
    /// The time of the latest input that carried one: what the frames
    /// being decoded were received at.
    pub(super) now: Instant,
}

/// The sizes and times one connection works within, from [`Config`].
#[derive(Debug)]
pub(super) struct Limits {
    pub(super) max_message_size: usize,
    pub(super) max_streamed_message_size: u64,
    pub(super) streamed_frame_size: usize,
    pub(super) write_buffer_size: usize,
    pub(super) max_write_buffer_size: usize,
    pub(super) close_timeout: Duration,
}

impl Connection {
    /// A connection whose opening handshake completed at `now`.
    #[must_use]
    pub fn new(role: Role, config: &Config, now: Instant) -> Self {
        Self {
            role,
            limits: Limits {
                max_message_size: config.max_message_size(),
                max_streamed_message_size: config.max_streamed_message_size(),
                streamed_frame_size: config.streamed_frame_size(),
                write_buffer_size: config.write_buffer_size(),
                max_write_buffer_size: config.max_write_buffer_size(),
                close_timeout: config.close_timeout(),
            },
            input: BytesMut::new(),
            read_room: ReadRoom::new(config.read_buffer_size()),
            decoder: FrameDecoder::new(role, config.max_frame_size()),
            assembler: Assembler::Idle,
            state: CloseState::Open,
            fault: Fault::None,
            write_queue: WriteQueue::default(),
            write_shut: false,
            mask_keys: MaskKeys::new(),
            heartbeat: Heartbeat::new(config.heartbeat(), now),
            idle: IdleClock::new(config.idle_timeout(), now),
            deflate: None,
            outgoing: None,
            piece: None,
            now,
        }
    }

    /// Uses permessage-deflate as the handshake agreed: `params` as the
    /// server's response stated them, compressing as `config` says.
    ///
    /// ```
    /// use std::time::Instant;
    /// use hyperws::{proto::{Connection, Role}, Config, DeflateConfig, DeflateParams, Message};
    ///
    /// let (config, now) = (DeflateConfig::default().threshold(0), Instant::now());
    /// let params = DeflateParams::default();
    /// let mut server = Connection::new(Role::Server, &Config::default(), now).with_deflate(params, &config);
    /// // RFC 7692 §7.2.3.1: "Hello" compressed, RSV1 set, sent by a client.
    /// let mut client = Connection::new(Role::Client, &Config::default(), now).with_deflate(params, &config);
    /// client.send(Message::text("Hello")).unwrap();
    /// let mut wire = [std::io::IoSlice::new(&[]); 4];
    /// let n = client.poll_transmit(&mut wire);
    /// let bytes: Vec<u8> = wire[..n].iter().flat_map(|s| s.iter().copied()).collect();
    /// assert_eq!(bytes[0], 0xc1); // FIN, RSV1, text
    /// server.handle_bytes(&bytes, now);
    /// assert_eq!(server.poll_message(), Some(Message::text("Hello")));
    /// ```
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub fn with_deflate(
        mut self,
        params: super::deflate::DeflateParams,
        config: &super::deflate::DeflateConfig,
    ) -> Self {
        self.decoder.allow_compressed_messages();
        self.deflate = Some(Box::new(PerMessageDeflate::new(self.role, params, config)));
        self
    }

    /// The permessage-deflate parameters in use, if it was agreed.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub fn deflate_params(&self) -> Option<&super::deflate::DeflateParams> {
        self.deflate.as_deref().map(PerMessageDeflate::params)
    }

    /// Accepts unmasked frames from a client (`ServerConfig::accept_unmasked_frames`).
    pub(crate) fn accept_unmasked_frames(&mut self) {
        self.decoder.accept_unmasked_frames();
    }

    /// Which side this is.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    // ----- Inputs -----

    /// The transport reached end of input: the expected end after the
    /// closing handshake, an abnormal closure (1006) before it.
    pub fn handle_eof(&mut self) {
        if !self.state.expects_transport_end() {
            self.fault.record(Error::AbnormalClosure);
        }
        // What we queued (our close reply) may still reach a half-closed peer.
        self.state = CloseState::Closed;
    }

    /// Reading or writing the transport failed: the expected end after the
    /// closing handshake (the peer tore down its side), an error before it.
    pub fn handle_transport_error(&mut self, error: io::Error) {
        if !self.state.expects_transport_end() {
            self.fault.record(Error::Io(error));
        }
        self.abandon();
    }

    /// Lets time pass: ends a closing handshake that ran out of time, sends
    /// a heartbeat ping or declares the peer dead, or starts an idle close.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if self.state == CloseState::Open {
            return self.check_clocks(now);
        }
        let before = self.state;
        self.state = before.on_timeout(now);
        if self.state == CloseState::Closed && before != CloseState::Closed {
            if matches!(before, CloseState::CloseSent { .. }) {
                self.fault.record(Error::CloseTimeout);
            }
            self.abandon();
        }
    }

    /// Queues a message. A `Message::Close` starts the closing handshake as
    /// [`close`](Self::close) does, its deadline counted from the latest
    /// input's time; call `close` to give the exact time. With
    /// permessage-deflate, text and binary messages from its threshold up
    /// are compressed.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] (nothing is queued), or, once a close was
    /// sent or the connection ended, why nothing more can be sent.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        self.send_with(message, true)
    }

    /// Queues a message as [`send`](Self::send) does, never compressed: for
    /// payloads that mix secrets with data an attacker chooses, whose
    /// compressed size would leak the secret (RFC 7692 §8; CRIME, BREACH).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_uncompressed(&mut self, message: Message) -> Result<(), Error> {
        self.send_with(message, false)
    }

    fn send_with(&mut self, message: Message, may_compress: bool) -> Result<(), Error> {
        let (opcode, payload) = match message {
            Message::Close(frame) => return self.close(frame, self.now),
            Message::Text(text) => (OpCode::Text, text.into_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
            Message::Ping(data) => (OpCode::Ping, data),
            Message::Pong(data) => (OpCode::Pong, data),
        };
        self.check_can_send()?;
        if opcode.is_control() {
            // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
            if payload.len() > MAX_CONTROL_PAYLOAD {
                return Err(SendError::ControlFrameTooLarge(payload.len()).into());
            }
        } else {
            if self.outgoing.is_some() {
                return Err(SendError::StreamedMessageInProgress.into());
            }
            self.idle.message_sent();
            if may_compress && self.deflate.is_some() && self.push_compressed(opcode, &payload) {
                return Ok(());
            }
        }
        self.push(opcode, payload);
        Ok(())
    }

    /// Queues a data message compressed, if permessage-deflate was agreed
    /// and the message is worth it; says whether it did.
    pub(super) fn push_compressed(&mut self, opcode: OpCode, payload: &[u8]) -> bool {
        let Some(deflater) = self.deflate.as_mut().and_then(|d| d.deflater_for(payload.len())) else {
            return false;
        };
        // RFC 7692 §6: RSV1 set on the first frame of a compressed message.
        let mut header = FrameHeader::new(opcode, 0);
        header.rsv = RSV1;
        self.mask_keys.mask_if_client(self.role, &mut header);
        let write_queue = &mut self.write_queue;
        deflater.compress(payload, |compressed| queue_deflated(write_queue, header, compressed));
        true
    }

    /// Starts the closing handshake with `frame` (code and reason): no
    /// message may be sent after it, and the peer's close is awaited for
    /// `Config::close_timeout`.
    ///
    /// # Errors
    /// An unsendable code or an over-long reason ([`Error::InvalidMessage`]),
    /// or a close was already sent or received.
    #[allow(clippy::needless_pass_by_value)] // taken like `send`'s message: the frame is handed over
    pub fn close(&mut self, frame: Option<CloseFrame>, now: Instant) -> Result<(), Error> {
        self.check_can_send()?;
        CloseFrame::check_sendable(frame.as_ref())?;
        self.now = self.now.max(now);
        self.push(OpCode::Close, CloseFrame::encode(frame.as_ref()));
        self.state = self.state.on_close_sent(now, self.limits.close_timeout);
        Ok(())
    }

    /// The transport took the first `n` bytes [`poll_transmit`](Self::poll_transmit) listed.
    pub fn handle_written(&mut self, n: usize) {
        self.write_queue.advance(n);
    }

    /// The transport's write side was shut down, as
    /// [`wants_shutdown_write`](Self::wants_shutdown_write) asked.
    pub fn handle_write_shutdown(&mut self) {
        self.write_shut = true;
    }

    // ----- Outputs -----

    /// Fills `dst` with the bytes waiting to be written, in order, for one
    /// vectored write; returns how many slices it used (0: nothing to write).
    pub fn poll_transmit<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        self.write_queue.io_slices(dst)
    }

    /// How many encoded bytes wait to be written (the browser API's `bufferedAmount`).
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.write_queue.len()
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            CloseState::Open => [self.heartbeat.deadline(), self.idle.deadline()]
                .into_iter()
                .flatten()
                .min(),
            closing => closing.deadline(),
        }
    }

    // ----- Shared with `receive.rs` -----

    pub(super) fn check_can_send(&self) -> Result<(), Error> {
        // RFC 6455 §5.5.1: "After sending a Close frame, the endpoint MUST
        // NOT send any further data frames."
        if self.state.can_send() {
            Ok(())
        } else {
            Err(self.fault.error().unwrap_or(Error::Closed))
        }
    }

    /// Gives the write queue's room back if nothing waits in it.
    pub(super) fn release_idle_write_queue(&mut self) {
        if self.write_queue.is_empty() {
            self.write_queue.clear();
        }
    }

    /// The transport is gone or dead: nothing queued will ever be taken.
    pub(super) fn abandon(&mut self) {
        self.state = CloseState::Closed;
        self.write_queue.clear();
    }

    pub(super) fn push(&mut self, opcode: OpCode, payload: Bytes) {
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        self.mask_keys.mask_if_client(self.role, &mut header);
        self.write_queue.push_frame(&header, payload);
    }
}

/// Queues one frame of compressed payload under `header` (its length set here).
pub(super) fn queue_deflated(write_queue: &mut WriteQueue, mut header: FrameHeader, compressed: Compressed<'_>) {
    match compressed {
        Compressed::Borrowed(bytes) => {
            header.payload_len = bytes.len() as u64;
            write_queue.push_frame_copy(&header, bytes);
        }
        Compressed::Owned(bytes) => {
            header.payload_len = bytes.len() as u64;
            write_queue.push_frame(&header, Bytes::from(bytes));
        }
    }
}

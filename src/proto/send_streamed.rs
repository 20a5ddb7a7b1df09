//! Sending a message in fragments as it is produced: the state of one such
//! message and the [`Connection`] calls that build it.
//!
//! RFC 6455 §5.4: a fragmented message is a text or binary frame with FIN
//! clear, continuation frames, and a last frame with FIN set; "control
//! frames MAY be injected in the middle of a fragmented message", other
//! data frames may not. So while a streamed message is unfinished, `send`
//! refuses data messages (control frames and pongs pass) and topic mail
//! waits. With permessage-deflate the message is one compressed stream:
//! RSV1 on the first frame only (RFC 7692 §6.1), a sync flush per fragment.

use bytes::{Bytes, BytesMut};

use super::close::{CloseCode, CloseFrame};
use super::connection::{queue_deflated, Connection};
use super::error::{Error, SendError};
use super::frame::{FrameHeader, OpCode, RSV1};
use super::message::MessageKind;
use super::utf8::Utf8Validator;

/// A message being sent in fragments.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// The first fragment's opcode until it is sent; `Continuation` after.
    opcode: OpCode,
    compressed: bool,
    /// Payload gathered for the next fragment.
    gathered: BytesMut,
    /// A text message's UTF-8, checked as it is written.
    text: Option<Utf8Validator>,
}

impl Outgoing {
    /// RFC 6455 §5.6: a text message is UTF-8 — checked as it is written;
    /// bytes that break it are not taken.
    fn check_text(&mut self, data: &[u8]) -> Result<(), SendError> {
        if let Some(text) = &mut self.text {
            let mut checked = *text;
            checked.feed(data).map_err(|_| SendError::InvalidUtf8)?;
            *text = checked;
        }
        Ok(())
    }
}

impl Connection {
    /// Begins a message of `kind` to be sent in fragments: write its payload
    /// with [`write_streamed`](Self::write_streamed), end it with
    /// [`finish_streamed`](Self::finish_streamed). Compressed when
    /// permessage-deflate was agreed and `may_compress`.
    ///
    /// ```
    /// use std::time::Instant;
    /// use hyperws::proto::{Connection, Role};
    /// use hyperws::{Config, MessageKind};
    ///
    /// let mut server = Connection::new(Role::Server, &Config::default(), Instant::now());
    /// server.start_streamed(MessageKind::Text, true)?;
    /// assert_eq!(server.write_streamed(b"Hel")?, 3);
    /// server.flush_streamed(); // a fragment now: "Hel", FIN clear
    /// server.write_streamed(b"lo")?;
    /// server.finish_streamed()?; // the last fragment: "lo", FIN set
    /// assert_eq!(server.buffered_amount(), 2 + 3 + 2 + 2);
    /// # Ok::<(), hyperws::Error>(())
    /// ```
    ///
    /// # Errors
    /// A streamed message is already unfinished, or nothing more can be sent.
    pub fn start_streamed(&mut self, kind: MessageKind, may_compress: bool) -> Result<(), Error> {
        self.check_can_send()?;
        if self.outgoing.is_some() {
            return Err(SendError::StreamedMessageInProgress.into());
        }
        let compressed = may_compress && self.deflate.as_mut().is_some_and(|d| d.deflater().is_some());
        let (opcode, text) = match kind {
            MessageKind::Text => (OpCode::Text, Some(Utf8Validator::default())),
            MessageKind::Binary => (OpCode::Binary, None),
        };
        self.outgoing = Some(Box::new(Outgoing {
            opcode,
            compressed,
            gathered: BytesMut::new(),
            text,
        }));
        self.idle.message_sent();
        Ok(())
    }

    /// Adds payload to the streamed message; returns how much it took (up
    /// to `Config::streamed_frame_size` gathered), sending a fragment
    /// whenever that much is gathered. Call it again with the rest, after
    /// waiting for room if [`is_write_buffer_full`](Self::is_write_buffer_full).
    ///
    /// # Errors
    /// No streamed message was begun, a text message's bytes are not UTF-8
    /// (nothing of them is taken), or nothing more can be sent.
    pub fn write_streamed(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.check_can_send()?;
        let frame_size = self.limits.streamed_frame_size;
        let outgoing = self.outgoing.as_mut().ok_or(SendError::NoStreamedMessage)?;
        let taken = data.len().min(frame_size - outgoing.gathered.len());
        outgoing.check_text(&data[..taken])?;
        if outgoing.gathered.capacity() == 0 {
            outgoing.gathered.reserve(frame_size);
        }
        outgoing.gathered.extend_from_slice(&data[..taken]);
        if outgoing.gathered.len() == frame_size {
            self.send_fragment(false);
        }
        Ok(taken)
    }

    /// Adds payload the caller already holds as `Bytes`: whole fragments of
    /// it are queued by reference (no copy, unless masked or compressed);
    /// only a remainder shorter than `Config::streamed_frame_size` is
    /// gathered (copied) to be sent with what comes next. Takes all of it.
    ///
    /// # Errors
    /// As [`write_streamed`](Self::write_streamed) (nothing is taken).
    pub fn write_streamed_bytes(&mut self, mut data: Bytes) -> Result<(), Error> {
        self.check_can_send()?;
        let frame_size = self.limits.streamed_frame_size;
        let outgoing = self.outgoing.as_mut().ok_or(SendError::NoStreamedMessage)?;
        outgoing.check_text(&data)?;
        if !outgoing.gathered.is_empty() {
            // Tops up what is gathered first, keeping the bytes in order.
            let taken = data.len().min(frame_size - outgoing.gathered.len());
            outgoing.gathered.extend_from_slice(&data.split_to(taken));
            if outgoing.gathered.len() < frame_size {
                return Ok(());
            }
            self.send_fragment(false);
        }
        while data.len() >= frame_size {
            self.send_payload(data.split_to(frame_size), false);
        }
        if let Some(outgoing) = self.outgoing.as_mut().filter(|_| !data.is_empty()) {
            outgoing.gathered.extend_from_slice(&data);
        }
        Ok(())
    }

    /// Sends what was gathered of the streamed message as a fragment now.
    pub fn flush_streamed(&mut self) {
        if self.outgoing.as_ref().is_some_and(|o| !o.gathered.is_empty()) && self.state.can_send() {
            self.send_fragment(false);
        }
    }

    /// Ends the streamed message: what is gathered goes out as its last
    /// fragment, with FIN set.
    ///
    /// # Errors
    /// No streamed message was begun, a text message ended inside a
    /// character, or nothing more can be sent.
    pub fn finish_streamed(&mut self) -> Result<(), Error> {
        self.check_can_send()?;
        let outgoing = self.outgoing.as_mut().ok_or(SendError::NoStreamedMessage)?;
        if outgoing.text.is_some_and(|text| text.finish().is_err()) {
            return Err(SendError::InvalidUtf8.into());
        }
        self.send_fragment(true);
        self.outgoing = None;
        Ok(())
    }

    /// Gives up the streamed message. If no fragment of it was sent, it is
    /// forgotten and the connection goes on; otherwise the peer holds part
    /// of a message that will never end, so the connection is closed with
    /// 1011, which tells the peer the message is not whole.
    pub fn abandon_streamed(&mut self) {
        let Some(outgoing) = self.outgoing.take() else { return };
        if outgoing.opcode == OpCode::Continuation && self.state.can_send() {
            let frame = CloseFrame {
                code: CloseCode::ERROR,
                reason: "message abandoned unfinished".into(),
            };
            let _ = self.close(Some(frame), self.now);
        }
    }

    /// Whether a streamed message is unfinished (data messages wait).
    #[must_use]
    pub fn is_sending_streamed(&self) -> bool {
        self.outgoing.is_some()
    }

    /// Queues what was gathered as the next fragment.
    fn send_fragment(&mut self, last: bool) {
        let Some(outgoing) = self.outgoing.as_mut() else { return };
        let payload = outgoing.gathered.split().freeze();
        self.send_payload(payload, last);
    }

    /// Queues `payload` as the next fragment.
    fn send_payload(&mut self, payload: Bytes, last: bool) {
        let Some(outgoing) = self.outgoing.as_mut() else { return };
        let first = outgoing.opcode != OpCode::Continuation;
        let mut header = FrameHeader::new(outgoing.opcode, payload.len() as u64);
        header.fin = last;
        outgoing.opcode = OpCode::Continuation;
        self.mask_keys.mask_if_client(self.role, &mut header);
        let deflater = self.deflate.as_mut().and_then(|d| d.deflater());
        match deflater.filter(|_| outgoing.compressed) {
            Some(deflater) => {
                if first {
                    header.rsv = RSV1;
                }
                let write_queue = &mut self.write_queue;
                deflater.compress_fragment(&payload, first, last, |compressed| {
                    queue_deflated(write_queue, header, compressed);
                });
            }
            None => self.write_queue.push_frame(&header, payload),
        }
    }
}

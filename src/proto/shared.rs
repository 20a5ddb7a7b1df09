//! [`SharedMessage`]: a data message encoded once and sent by many
//! connections, each queueing the same bytes (what `Topics` fans out).

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{Error, SendError};
use super::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use super::message::Message;

/// A text or binary message encoded once as a server's frame (unmasked, one
/// `Bytes` holding header and payload) for any number of connections to
/// send with [`Connection::send_shared`](super::Connection::send_shared).
/// Cloning it is cheap: the clones share the bytes.
///
/// With permessage-deflate, connections that compress with the same level
/// and window share one compressed copy too, made by the first of them.
///
/// ```
/// use std::time::Instant;
/// use hyperws::{proto::{Connection, Role, SharedMessage}, Config, Message};
///
/// let shared = SharedMessage::new(Message::text("tick")).unwrap();
/// let now = Instant::now();
/// let mut a = Connection::new(Role::Server, &Config::default(), now);
/// let mut b = Connection::new(Role::Server, &Config::default(), now);
/// a.send_shared(&shared).unwrap();
/// b.send_shared(&shared).unwrap();
/// assert_eq!(a.buffered_amount(), 6); // 2-byte header + "tick"
/// assert_eq!(b.buffered_amount(), shared.frame_len());
/// ```
#[derive(Clone, Debug)]
pub struct SharedMessage(Arc<Encoded>);

#[derive(Debug)]
struct Encoded {
    opcode: OpCode,
    header_len: usize,
    /// Header and payload, as a server sends them.
    frame: Bytes,
    #[cfg(feature = "deflate")]
    compressed: super::deflate::SharedCompressed,
}

impl SharedMessage {
    /// Encodes `message` once.
    ///
    /// # Errors
    /// [`SendError::NotShareable`] for control messages (ping, pong, close),
    /// which belong to one connection.
    pub fn new(message: Message) -> Result<Self, Error> {
        let (opcode, payload) = match message {
            Message::Text(text) => (OpCode::Text, text.into_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
            _ => return Err(SendError::NotShareable.into()),
        };
        let mut header = [0; MAX_HEADER_LEN];
        let header_len = FrameHeader::new(opcode, payload.len() as u64).encode(&mut header);
        let mut frame = BytesMut::with_capacity(header_len + payload.len());
        frame.put_slice(&header[..header_len]);
        frame.put_slice(&payload);
        Ok(Self(Arc::new(Encoded {
            opcode,
            header_len,
            frame: frame.freeze(),
            #[cfg(feature = "deflate")]
            compressed: super::deflate::SharedCompressed::default(),
        })))
    }

    /// The whole encoded frame's length: what it adds to a connection's
    /// `buffered_amount` when sent uncompressed by a server.
    #[must_use]
    pub fn frame_len(&self) -> usize {
        self.0.frame.len()
    }

    /// The payload's length.
    #[must_use]
    pub fn payload_len(&self) -> usize {
        self.0.frame.len() - self.0.header_len
    }

    /// The message again (its payload shares the encoded bytes).
    ///
    /// ```
    /// use hyperws::{proto::SharedMessage, Message};
    /// let shared = SharedMessage::new(Message::binary(vec![1, 2, 3])).unwrap();
    /// assert_eq!(shared.message(), Message::binary(vec![1, 2, 3]));
    /// ```
    #[must_use]
    pub fn message(&self) -> Message {
        let payload = self.payload();
        match self.0.opcode {
            // Built from a `Message::Text`, so the check passes; it costs a
            // scan, paid only by this rarely needed call.
            OpCode::Text => {
                super::message::Utf8Bytes::try_from(payload.clone()).map_or(Message::Binary(payload), Message::Text)
            }
            _ => Message::Binary(payload),
        }
    }

    pub(super) fn opcode(&self) -> OpCode {
        self.0.opcode
    }

    /// Whether it is a text message (else binary).
    ///
    /// ```
    /// use hyperws::{Message, SharedMessage};
    /// assert!(SharedMessage::new(Message::text("hi"))?.is_text());
    /// assert!(!SharedMessage::new(Message::binary(vec![1]))?.is_text());
    /// # Ok::<(), hyperws::Error>(())
    /// ```
    #[must_use]
    pub fn is_text(&self) -> bool {
        self.0.opcode == OpCode::Text
    }

    pub(crate) fn payload(&self) -> Bytes {
        self.0.frame.slice(self.0.header_len..)
    }

    /// Header and payload, unmasked.
    pub(super) fn frame(&self) -> Bytes {
        self.0.frame.clone()
    }

    /// How many compressed copies were made.
    #[cfg(all(test, feature = "deflate"))]
    pub(crate) fn compressed_copies(&self) -> usize {
        self.0.compressed.len()
    }

    #[cfg(feature = "deflate")]
    pub(super) fn compressed(&self) -> &super::deflate::SharedCompressed {
        &self.0.compressed
    }
}

impl super::Connection {
    /// Queues a shared message, as [`send`](Self::send) queues a text or
    /// binary one: a server copies the encoded frame when it is small (so a
    /// batch still leaves in one write) and refers to it otherwise; a client
    /// masks a copy, as RFC 6455 §5.3 requires of every frame it sends.
    ///
    /// # Errors
    /// As [`send`](Self::send): once a close was sent or the connection
    /// ended, why nothing more can be sent.
    pub fn send_shared(&mut self, message: &SharedMessage) -> Result<(), Error> {
        self.check_can_send()?;
        if self.outgoing.is_some() {
            return Err(SendError::StreamedMessageInProgress.into());
        }
        self.idle.message_sent();
        if self.deflate.is_some() && self.push_shared_compressed(message) {
            return Ok(());
        }
        match self.role {
            super::Role::Server => self.write_queue.push_encoded(message.frame()),
            super::Role::Client => self.push(message.opcode(), message.payload()),
        }
        Ok(())
    }

    /// Queues `message` compressed if permessage-deflate says so; says whether it did.
    fn push_shared_compressed(&mut self, message: &SharedMessage) -> bool {
        use super::deflate::SharedCompression;
        let Some(deflate) = self.deflate.as_mut() else {
            return false;
        };
        match deflate.compress_shared(message) {
            SharedCompression::Plain => false,
            SharedCompression::PerConnection => self.push_compressed(message.opcode(), &message.payload()),
            SharedCompression::Shared(payload) => {
                // RFC 7692 §6: RSV1 set on the first frame of a compressed message.
                let mut header = FrameHeader::new(message.opcode(), payload.len() as u64);
                header.rsv = super::frame::RSV1;
                self.mask_keys.mask_if_client(self.role, &mut header);
                self.write_queue.push_frame(&header, payload);
                true
            }
        }
    }
}

//! The sans-IO protocol core: RFC 6455 with no sockets, no async and no clock.
//!
//! [`Connection`] is the whole protocol for one connection, and anyone can
//! drive it: feed it bytes, take messages and bytes to write, tell it the
//! time. `WebSocket` is this crate's driver over tokio. Inside, in the order
//! bytes meet them: the frame header format, masking, the decoder (frame
//! delimiting), the assembler (fragments into messages, with incremental
//! UTF-8 validation), close codes and payloads, the closing handshake, the
//! heartbeat and idle clocks, and the write queue of encoded frames.

mod assembler;
pub(crate) mod close;
mod closing;
mod connection;
mod decoder;
#[cfg(feature = "deflate")]
pub(crate) mod deflate;
#[cfg(not(feature = "deflate"))]
#[path = "deflate_disabled.rs"]
mod deflate;
pub(crate) mod error;
mod frame;
mod heartbeat;
mod idle;
mod mask;
pub(crate) mod message;
pub(crate) mod random;
mod reading;
mod receive;
mod receive_streamed;
mod send_streamed;
mod shared;
mod status;
mod streamed;
mod utf8;
mod write_queue;

#[cfg(test)]
mod tests;

pub use connection::Connection;
pub use message::MessageKind;
pub use shared::SharedMessage;
pub use streamed::{Piece, Streamed};

pub(crate) use close::{CloseCode, CloseFrame};
pub(crate) use error::Error;
pub(crate) use heartbeat::HeartbeatConfig;
pub(crate) use message::Message;
pub(crate) use reading::SMALL_READ;

/// Which side of the connection this is; it decides the masking direction
/// (RFC 6455 §5.1) and who closes the transport first (§7.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepted the connection: receives masked frames, sends unmasked ones.
    Server,
    /// Opened the connection: receives unmasked frames, sends masked ones.
    Client,
}

/// The codec's pieces, for this crate's benchmarks and fuzz targets only:
/// not part of the API, and free to change in any release.
#[doc(hidden)]
pub mod internals {
    #[cfg(feature = "deflate")]
    pub use super::deflate::inflate::Inflater;
    pub use super::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
    pub use super::mask::apply_mask;
    pub use super::utf8::Utf8Validator;
    use super::{closing::CloseState, Connection};

    /// How far the closing handshake has come, 0 (open) to 4 (closed): it
    /// may only grow.
    #[must_use]
    pub fn close_progress(conn: &Connection) -> u8 {
        match conn.state {
            CloseState::Open => 0,
            CloseState::CloseSent { .. } => 1,
            CloseState::Failing { .. } => 2,
            CloseState::Draining { .. } => 3,
            CloseState::Closed => 4,
        }
    }

    /// Received bytes not yet decoded, and the read buffer's capacity.
    #[must_use]
    pub fn read_buffer_use(conn: &Connection) -> (usize, usize) {
        (conn.input.len(), conn.input.capacity())
    }
}

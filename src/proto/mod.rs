//! The sans-IO protocol core: RFC 6455 with no sockets, no async and no clock.
//!
//! Read this module to learn the protocol. [`Connection`] is the whole of
//! it for one connection; the pieces it owns are, in the order bytes meet them:
//! [`frame`] (header wire format), [`mask`], the decoder (frame delimiting),
//! the assembler (fragments into messages), [`utf8`] (incremental validation),
//! [`close`] (codes and close payloads), [`closing`] (the closing handshake),
//! and the [`Outbox`] of encoded frames waiting to be written.

mod assembler;
pub mod close;
pub mod closing;
mod connection;
mod decoder;
mod error;
pub mod frame;
pub mod heartbeat;
pub mod mask;
pub mod message;
mod outbox;
pub(crate) mod random;
pub mod utf8;

#[cfg(test)]
mod tests;

pub use close::{CloseCode, CloseFrame};
pub use closing::CloseState;
pub use connection::{Connection, Eof, SendError, Timeout};
pub use decoder::Role;
pub use error::ProtocolError;
pub use frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
pub use heartbeat::{Heartbeat, HeartbeatAction, HeartbeatConfig};
pub use mask::apply_mask;
pub use message::{Message, Utf8Bytes};
pub use outbox::Outbox;
pub use utf8::Utf8Validator;

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]

#[cfg(feature = "axum")]
pub mod axum;
mod client;
pub mod close_code;
mod config;
mod error;
pub mod handshake;
mod hyper;
mod io;
pub mod proto;
mod serve;
mod shutdown;
mod socket;
pub mod tower;

#[cfg(feature = "axum")]
pub use crate::axum::WebSocketUpgrade;
pub use crate::client::{connect, ClientBuilder, ClientStream};
pub use crate::config::{Config, OriginPolicy};
pub use crate::error::Error;
pub use crate::hyper::{upgrade_request, UpgradeFut, UpgradedIo};
pub use crate::proto::{CloseCode, CloseFrame, Message, Utf8Bytes};
pub use crate::serve::serve;
pub use crate::shutdown::Shutdown;
pub use crate::socket::{WebSocket, WebSocketReader, WebSocketWriter};

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod client;
mod config;
mod handler;
pub mod handshake;
mod hyper;
mod io;
mod listen;
pub mod proto;
mod serve;
mod server_config;
mod shutdown;
mod socket;
pub mod testing;
#[cfg(feature = "topics")]
#[cfg_attr(docsrs, doc(cfg(feature = "topics")))]
pub mod topics;
pub mod tower;

pub use crate::client::{connect, ClientBuilder, ClientStream, ConnectError, UrlError};
pub use crate::config::{Config, ConfigBuilder, ConfigError};
pub use crate::handshake::client::UpgradeError;
pub use crate::handshake::{Negotiated, Refusal};
pub use crate::hyper::{upgrade_request, UpgradeFut, UpgradedIo};
pub use crate::listen::bind_reuse_port;
pub use crate::proto::close::{CloseCode, CloseFrame};
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub use crate::proto::deflate::{DeflateConfig, DeflateParams};
pub use crate::proto::error::{Error, ProtocolError, SendError};
pub use crate::proto::message::{Message, MessageKind, Utf8Bytes};
pub use crate::proto::Role;
pub use crate::proto::SharedMessage;
pub use crate::serve::serve;
pub use crate::server_config::{OriginPolicy, ServerConfig, ServerConfigBuilder};
pub use crate::shutdown::Shutdown;
pub use crate::socket::{
    MessageReader, MessageWriter, Outbox, Outgoing, Received, ReuniteError, WebSocket, WebSocketReader, WebSocketWriter,
};

//! Close codes under the names `axum::extract::ws::close_code` uses, so code
//! written for axum compiles unchanged: `CloseFrame { code: close_code::NORMAL, .. }`.

use crate::CloseCode;

/// 1000: the purpose of the connection was fulfilled.
pub const NORMAL: CloseCode = CloseCode::NORMAL;
/// 1001: the endpoint is going away.
pub const AWAY: CloseCode = CloseCode::AWAY;
/// 1002: a protocol error.
pub const PROTOCOL: CloseCode = CloseCode::PROTOCOL;
/// 1003: a data type the endpoint cannot accept.
pub const UNSUPPORTED: CloseCode = CloseCode::UNSUPPORTED;
/// 1005: no code was present (never sent).
pub const STATUS: CloseCode = CloseCode::STATUS;
/// 1006: dropped without a close frame (never sent).
pub const ABNORMAL: CloseCode = CloseCode::ABNORMAL;
/// 1007: data inconsistent with its type.
pub const INVALID: CloseCode = CloseCode::INVALID;
/// 1008: a policy violation.
pub const POLICY: CloseCode = CloseCode::POLICY;
/// 1009: a message too big to process.
pub const SIZE: CloseCode = CloseCode::SIZE;
/// 1010: a required extension was not negotiated.
pub const EXTENSION: CloseCode = CloseCode::EXTENSION;
/// 1011: an unexpected condition on the server.
pub const ERROR: CloseCode = CloseCode::ERROR;
/// 1012: the service is restarting.
pub const RESTART: CloseCode = CloseCode::RESTART;
/// 1013: try again later.
pub const AGAIN: CloseCode = CloseCode::AGAIN;

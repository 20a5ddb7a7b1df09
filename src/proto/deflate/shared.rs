//! Compressing a [`SharedMessage`] once for every connection that would
//! compress it the same way.
//!
//! Output compressed from a fresh stream depends only on the payload, level
//! and window, and any peer can inflate it, whether or not it keeps our
//! context (it refers to nothing before it). So every connection that holds
//! no compressor of its own sends the same bytes: the first compresses and
//! the rest reuse its output. A connection that holds its compressor
//! compresses with it, for the better ratio its full context gives.

use std::sync::{Mutex, PoisonError};

use bytes::Bytes;

use super::compress::{Compressed, Deflater, KeptContext};
use super::pool::Setting;
use super::PerMessageDeflate;
use crate::proto::shared::SharedMessage;

/// A shared message's compressed copies, one per setting (almost always one).
#[derive(Debug, Default)]
pub(crate) struct SharedCompressed(Mutex<Vec<(Setting, Bytes)>>);

impl SharedCompressed {
    /// How many settings it was compressed for.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    fn get_or_compress(&self, setting: Setting, payload: &[u8]) -> Bytes {
        let mut copies = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, bytes)) = copies.iter().find(|(s, _)| *s == setting) {
            return bytes.clone();
        }
        let mut deflater = Deflater::new(setting.0, setting.1, KeptContext::None);
        let bytes = deflater.compress(payload, |compressed| match compressed {
            Compressed::Borrowed(small) => Bytes::copy_from_slice(small),
            Compressed::Owned(large) => Bytes::from(large),
        });
        copies.push((setting, bytes.clone()));
        bytes
    }
}

/// How one connection sends a shared message under permessage-deflate.
pub(crate) enum SharedCompression {
    /// Uncompressed: below the threshold, or this side does not compress.
    Plain,
    /// With the connection's own stream, which keeps its context.
    PerConnection,
    /// This payload, compressed once (from a fresh stream) for every
    /// connection with the same setting.
    Shared(Bytes),
}

impl PerMessageDeflate {
    /// How `message` goes out on this connection.
    pub(crate) fn compress_shared(&mut self, message: &SharedMessage) -> SharedCompression {
        let Some(deflater) = self.deflater_for(message.payload_len()) else {
            return SharedCompression::Plain;
        };
        let payload = message.payload();
        match deflater.share(&payload) {
            None => SharedCompression::PerConnection,
            Some(setting) => SharedCompression::Shared(message.compressed().get_or_compress(setting, &payload)),
        }
    }
}

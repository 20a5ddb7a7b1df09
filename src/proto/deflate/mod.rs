//! permessage-deflate (RFC 7692) for one connection: what the handshake
//! agreed, our compressor and our inflater. The connection asks it whether
//! to compress a message, and hands it the payload of compressed ones.
//!
//! RFC 7692 §6: a compressed message has RSV1 set on its first frame; its
//! frames' payloads, joined, are DEFLATE data (RFC 1951) without the
//! `00 00 ff ff` a sync flush ends with. The rules on RSV1 are checked by
//! the decoder; the assembler joins and inflates.

#![cfg(feature = "deflate")]

mod compress;
mod config;
mod history;
mod pool;
// Visible to the crate so `proto::internals` can re-export `Inflater` for the fuzz targets.
pub(crate) mod inflate;
pub(crate) mod params;
mod shared;
#[cfg(test)]
mod tests;

pub(crate) use self::compress::{Compressed, Deflater, KeptContext};
pub use self::config::DeflateConfig;
pub(crate) use self::inflate::Inflater;
pub use self::params::DeflateParams;
pub(crate) use self::shared::{SharedCompressed, SharedCompression};

use super::Role;

/// The end of every sync flush, cut off by the sender and put back by the
/// receiver (RFC 7692 §7.2.1, §7.2.2).
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// permessage-deflate as agreed for one connection.
#[derive(Debug)]
pub(crate) struct PerMessageDeflate {
    params: DeflateParams,
    threshold: usize,
    /// `None` when we were asked for an 8-bit window: we then send every
    /// message uncompressed, which the extension always allows.
    deflater: Option<Deflater>,
    inflater: Inflater,
}

impl PerMessageDeflate {
    /// `role`'s side of `params`, compressing as `config` says.
    pub(crate) fn new(role: Role, params: DeflateParams, config: &DeflateConfig) -> Self {
        let peer = match role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        let own_bits = params.max_window_bits(role).min(config.own_window_bits());
        let kept = if params.no_context_takeover(role) {
            KeptContext::None
        } else {
            config.kept_context()
        };
        let deflater = (own_bits >= params::MIN_COMPRESS_WINDOW)
            .then(|| Deflater::new(config.compression_level(), own_bits, kept));
        Self {
            params,
            threshold: config.compression_threshold(),
            deflater,
            inflater: Inflater::new(params.max_window_bits(peer), params.no_context_takeover(peer)),
        }
    }

    /// Our inflater, for the assembler.
    pub(crate) fn inflater(&mut self) -> &mut Inflater {
        &mut self.inflater
    }

    /// What was agreed.
    pub(crate) fn params(&self) -> &DeflateParams {
        &self.params
    }

    /// Our compressor, if a message of `len` bytes is to be compressed.
    pub(crate) fn deflater_for(&mut self, len: usize) -> Option<&mut Deflater> {
        self.deflater.as_mut().filter(|_| len >= self.threshold)
    }

    /// Our compressor, whatever the size: a streamed message's size is not
    /// known when it begins, so the threshold cannot apply.
    pub(crate) fn deflater(&mut self) -> Option<&mut Deflater> {
        self.deflater.as_mut()
    }

    /// The clocks looked: drops our compressor and its context if nothing
    /// was sent for a whole interval, unless a streamed message is being
    /// sent (its fragments are one stream). The inflater is already given back after
    /// each message; the peer's context must stay, as the peer may refer to it.
    pub(crate) fn release_when_quiet(&mut self, sending_streamed: bool) {
        if let Some(deflater) = self.deflater.as_mut().filter(|_| !sending_streamed) {
            deflater.release_if_quiet();
        }
    }

    /// Whether a compressor, an inflater or a parked context is held now.
    pub(crate) fn holds_memory(&self) -> bool {
        self.inflater.holds_memory() || self.deflater.as_ref().is_some_and(Deflater::holds_memory)
    }
}

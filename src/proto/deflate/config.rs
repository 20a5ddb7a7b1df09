//! What a socket asks for ([`DeflateConfig`]): data only; the handshake
//! negotiates between it and the peer's offer or answer.

use super::compress::KeptContext;
use super::params::{MIN_COMPRESS_WINDOW, WINDOW_BITS};
use crate::proto::Role;

/// permessage-deflate (RFC 7692) settings: set with
/// [`ConfigBuilder::deflate`](crate::ConfigBuilder::deflate) to offer it
/// (client) or accept offers of it (server). Off unless set.
///
/// Three presets cover what servers ask for; the README's "Compression"
/// table gives each one's memory, bytes on the wire and CPU, measured:
///
/// | preset | between messages a socket holds | for |
/// |---|---|---|
/// | [`least_memory`](Self::least_memory) | nothing | a million sockets: every message from a fresh stream |
/// | [`balanced`](Self::balanced) (the default) | the last 4 KiB it sent | most servers: most of the context's gain for a few KB |
/// | [`smallest_on_wire`](Self::smallest_on_wire) | its own compressor (~370 KB) | few sockets, costly bytes |
///
/// How: a compressor (zlib-rs: 250–370 KB whatever the window) or inflater
/// (~46 KB) is **shared by the sockets of a thread**, lent for one message.
/// With context takeover, what the peer's next inflate may refer to is
/// just the bytes sent before it: a socket parks the last
/// [`context_size`](Self::context_size) of them and the next message primes
/// the thread's compressor with them (a preset dictionary), at a few µs per
/// message; [`keep_compressor`](Self::keep_compressor) keeps a whole
/// compressor instead. Likewise a peer that keeps its context costs its
/// window's worth of parked bytes (at most 2^`peer_window_bits`), not an
/// inflater. Our compressor's context is dropped when the socket is quiet
/// (at the heartbeat's interval); the peer's must stay.
///
/// | setting | default | why |
/// |---|---|---|
/// | [`level`](Self::level) | 1 | zlib's fastest level: most of the ratio of 6 for a fraction of the CPU |
/// | [`window_bits`](Self::window_bits) | 15 (32 KiB) | the best ratio within a message; costs no memory per socket |
/// | [`context_takeover`](Self::context_takeover) | on | later messages refer back to earlier ones |
/// | [`context_size`](Self::context_size) | 4 KiB | most of the gain; priming with more costs CPU per message |
/// | [`keep_compressor`](Self::keep_compressor) | off | ~370 KB per socket for a few µs per message |
/// | [`peer_context_takeover`](Self::peer_context_takeover) | server: off, client: on | a server then holds nothing of the peer's between messages |
/// | [`threshold`](Self::threshold) | 128 bytes | smaller messages rarely shrink enough to pay for it |
///
/// ```
/// use hyperws::{Config, DeflateConfig};
/// let config = Config::builder()
///     .deflate(DeflateConfig::least_memory().threshold(0))
///     .build()?;
/// assert!(!config.deflate().unwrap().keeps_context());
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    level: u32,
    window_bits: u8,
    peer_window_bits: u8,
    context_takeover: bool,
    peer_context_takeover: Option<bool>,
    context_size: usize,
    keep_compressor: bool,
    threshold: usize,
}

impl Default for DeflateConfig {
    /// [`balanced`](Self::balanced).
    fn default() -> Self {
        Self::balanced()
    }
}

/// The largest context a socket may park: the largest window, 32 KiB.
const MAX_CONTEXT_SIZE: usize = 1 << 15;

impl DeflateConfig {
    /// Least memory: no context kept either way (`*_no_context_takeover`
    /// asked for both sides), so every message is compressed from a fresh
    /// stream by the thread's shared compressor, and a broadcast is
    /// compressed once for all its sockets. A socket holds nothing for
    /// compression between messages; small messages shrink less.
    ///
    /// ```
    /// let deflate = hyperws::DeflateConfig::least_memory();
    /// assert!(!deflate.keeps_context());
    /// ```
    #[must_use]
    pub const fn least_memory() -> Self {
        Self::balanced().context_takeover(false).peer_context_takeover(false)
    }

    /// The default: context kept, the last 4 KiB sent parked between
    /// messages, level 1. See the table above.
    ///
    /// ```
    /// assert_eq!(hyperws::DeflateConfig::balanced(), hyperws::DeflateConfig::default());
    /// ```
    #[must_use]
    pub const fn balanced() -> Self {
        Self {
            level: 1,
            window_bits: 15,
            peer_window_bits: 15,
            context_takeover: true,
            peer_context_takeover: None,
            context_size: 4 << 10,
            keep_compressor: false,
            threshold: 128,
        }
    }

    /// Smallest on the wire: level 6 and the whole 32 KiB window as
    /// context, in a compressor each socket keeps (~370 KB per socket until
    /// it is quiet). For few sockets whose bytes are costly.
    ///
    /// ```
    /// let deflate = hyperws::DeflateConfig::smallest_on_wire();
    /// assert_eq!(deflate.compression_level(), 6);
    /// ```
    #[must_use]
    pub const fn smallest_on_wire() -> Self {
        Self::balanced()
            .level(6)
            .context_size(MAX_CONTEXT_SIZE)
            .keep_compressor(true)
    }

    /// A preset by its name, as a configuration file or environment
    /// variable would give it: `least_memory`, `balanced` or
    /// `smallest_on_wire`.
    ///
    /// ```
    /// use hyperws::DeflateConfig;
    /// assert_eq!(DeflateConfig::preset("least_memory"), Some(DeflateConfig::least_memory()));
    /// assert_eq!(DeflateConfig::preset("fastest"), None);
    /// ```
    #[must_use]
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "least_memory" => Some(Self::least_memory()),
            "balanced" => Some(Self::balanced()),
            "smallest_on_wire" => Some(Self::smallest_on_wire()),
            _ => None,
        }
    }

    /// zlib's compression level, 0 (store) to 9 (smallest). Default: 1.
    #[must_use]
    pub const fn level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }

    /// The largest window we compress with, 9 to 15 (2^bits bytes; the
    /// peer may ask for less). Default: 15.
    #[must_use]
    pub const fn window_bits(mut self, bits: u8) -> Self {
        self.window_bits = bits;
        self
    }

    /// The largest window we ask the peer to compress with, 8 to 15 (a
    /// smaller one shrinks our inflater). Default: 15, which is not sent.
    #[must_use]
    pub const fn peer_window_bits(mut self, bits: u8) -> Self {
        self.peer_window_bits = bits;
        self
    }

    /// Whether our compressor keeps its window from one message to the
    /// next (better ratio); when off we announce `*_no_context_takeover`.
    /// Default: on.
    #[must_use]
    pub const fn context_takeover(mut self, keep: bool) -> Self {
        self.context_takeover = keep;
        self
    }

    /// Whether we let the peer keep its window between messages; when off
    /// we ask for `*_no_context_takeover` and our inflater need not outlive
    /// a message. Default: off for a server, on for a client.
    #[must_use]
    pub const fn peer_context_takeover(mut self, keep: bool) -> Self {
        self.peer_context_takeover = Some(keep);
        self
    }

    /// With context takeover, how many of the last bytes sent a socket
    /// parks between messages for the next one to refer back to, at most
    /// 32 KiB (and the window). Priming with them costs CPU per message in
    /// proportion. Default: 4 KiB.
    #[must_use]
    pub const fn context_size(mut self, bytes: usize) -> Self {
        self.context_size = bytes;
        self
    }

    /// With context takeover, whether a socket keeps a compressor of its
    /// own between messages (the whole window as context, no priming: a
    /// few µs less per message for ~370 KB per socket, until it is quiet)
    /// instead of parking [`context_size`](Self::context_size) bytes.
    /// Default: off.
    #[must_use]
    pub const fn keep_compressor(mut self, keep: bool) -> Self {
        self.keep_compressor = keep;
        self
    }

    /// Messages shorter than this many bytes are sent uncompressed (decided
    /// before compressing: a compressed message is never sent as-is).
    /// Default: 128; 0 compresses everything.
    #[must_use]
    pub const fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// See [`level`](Self::level).
    #[must_use]
    pub const fn compression_level(&self) -> u32 {
        self.level
    }

    /// See [`window_bits`](Self::window_bits).
    #[must_use]
    pub const fn own_window_bits(&self) -> u8 {
        self.window_bits
    }

    /// See [`peer_window_bits`](Self::peer_window_bits).
    #[must_use]
    pub const fn requested_peer_window_bits(&self) -> u8 {
        self.peer_window_bits
    }

    /// See [`context_takeover`](Self::context_takeover).
    #[must_use]
    pub const fn keeps_context(&self) -> bool {
        self.context_takeover
    }

    /// See [`peer_context_takeover`](Self::peer_context_takeover), for `role`.
    #[must_use]
    pub const fn lets_peer_keep_context(&self, role: Role) -> bool {
        match self.peer_context_takeover {
            Some(keep) => keep,
            None => matches!(role, Role::Client),
        }
    }

    /// See [`context_size`](Self::context_size).
    #[must_use]
    pub const fn parked_context_size(&self) -> usize {
        self.context_size
    }

    /// See [`keep_compressor`](Self::keep_compressor).
    #[must_use]
    pub const fn keeps_compressor(&self) -> bool {
        self.keep_compressor
    }

    /// How our compressor keeps its context, when it keeps one.
    pub(crate) const fn kept_context(&self) -> KeptContext {
        if self.keep_compressor {
            KeptContext::Held
        } else {
            KeptContext::Parked(self.context_size)
        }
    }

    /// See [`threshold`](Self::threshold).
    #[must_use]
    pub const fn compression_threshold(&self) -> usize {
        self.threshold
    }

    /// The first setting out of range, named (checked by `Config`'s `build`).
    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.level > 9 {
            return Err("deflate level must be 0 to 9");
        }
        if !(MIN_COMPRESS_WINDOW..=15).contains(&self.window_bits) {
            return Err("deflate window_bits must be 9 to 15 (no zlib-family compressor can use 8)");
        }
        if !WINDOW_BITS.contains(&self.peer_window_bits) {
            return Err("deflate peer_window_bits must be 8 to 15");
        }
        if self.context_size > MAX_CONTEXT_SIZE {
            return Err("deflate context_size must be at most 32 KiB (the largest window)");
        }
        Ok(())
    }
}

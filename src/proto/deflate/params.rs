//! What a socket asks for ([`DeflateConfig`]) and what the handshake agreed
//! ([`DeflateParams`]): data only; the handshake negotiates between them.

use std::fmt;

use crate::proto::Role;

/// The smallest window zlib-family compressors produce: they turn 8 into 9,
/// whose output an 8-bit inflater cannot read, so 8 is never compressed with.
pub(crate) const MIN_COMPRESS_WINDOW: u8 = 9;

/// The window sizes RFC 7692 §7.1.2 allows: "a decimal integer value
/// without leading zeroes between 8 to 15, inclusive".
pub(crate) const WINDOW_BITS: std::ops::RangeInclusive<u8> = 8..=15;

/// permessage-deflate (RFC 7692) settings: set with
/// [`ConfigBuilder::deflate`](crate::ConfigBuilder::deflate) to offer it
/// (client) or accept offers of it (server). Off unless set.
///
/// The defaults are for a server with many connections:
///
/// | setting | default | why |
/// |---|---|---|
/// | [`level`](Self::level) | 1 | zlib's fastest level: most of the ratio of 6 for a fraction of the CPU |
/// | [`window_bits`](Self::window_bits) | 15 (32 KiB) | best ratio; our compressor exists only while we send |
/// | [`context_takeover`](Self::context_takeover) | on | later messages refer back to earlier ones |
/// | [`peer_context_takeover`](Self::peer_context_takeover) | server: off, client: on | a server's inflater then lives only while a message arrives |
/// | [`threshold`](Self::threshold) | 128 bytes | smaller messages rarely shrink enough to pay for it |
///
/// Memory: with the defaults (zlib-rs, window 15) a connection that has
/// just received and sent a message holds about 430 KB more live heap than
/// an uncompressed one (`tests/deflate_memory.rs` counts it), nearly all
/// of it the compressor's; smaller windows shrink it. Compressor and
/// inflater are created by the first message that needs them and dropped
/// when the socket is quiet (at the heartbeat's interval), so an idle
/// socket holds neither — except an inflater whose peer keeps its context,
/// which must outlive every message.
///
/// ```
/// use hyperws::{Config, DeflateConfig};
/// let config = Config::builder()
///     .deflate(DeflateConfig::default().level(6).threshold(0))
///     .build()?;
/// assert_eq!(config.deflate().unwrap().compression_level(), 6);
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    level: u32,
    window_bits: u8,
    peer_window_bits: u8,
    context_takeover: bool,
    peer_context_takeover: Option<bool>,
    threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 1,
            window_bits: 15,
            peer_window_bits: 15,
            context_takeover: true,
            peer_context_takeover: None,
            threshold: 128,
        }
    }
}

impl DeflateConfig {
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
        Ok(())
    }
}

/// The permessage-deflate parameters both sides agreed on in the handshake
/// (RFC 7692 §7.1), as the server's response stated them.
///
/// ```
/// # async fn run(ws: hyperws::WebSocket) {
/// if let Some(params) = ws.deflate() {
///     println!("compressed with {params}"); // e.g. "permessage-deflate; client_no_context_takeover"
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with (8–15); `None`: 15, not stated.
    pub server_max_window_bits: Option<u8>,
    /// The largest window the client compresses with (8–15); `None`: 15, not stated.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// Whether `role`'s side resets its compressor after each message.
    #[must_use]
    pub const fn no_context_takeover(&self, role: Role) -> bool {
        match role {
            Role::Server => self.server_no_context_takeover,
            Role::Client => self.client_no_context_takeover,
        }
    }

    /// The largest window `role`'s side compresses with.
    #[must_use]
    pub fn max_window_bits(&self, role: Role) -> u8 {
        let stated = match role {
            Role::Server => self.server_max_window_bits,
            Role::Client => self.client_max_window_bits,
        };
        stated.unwrap_or(15)
    }
}

impl fmt::Display for DeflateParams {
    /// The `Sec-WebSocket-Extensions` value that states these parameters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("permessage-deflate")?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

//! What the handshake agreed ([`DeflateParams`]) and the window rules it
//! agreed by: data only.

use std::fmt;

use crate::proto::Role;

/// The smallest window zlib-family compressors produce: they turn 8 into 9,
/// whose output an 8-bit inflater cannot read, so 8 is never compressed with.
pub(crate) const MIN_COMPRESS_WINDOW: u8 = 9;

/// The window sizes RFC 7692 §7.1.2 allows: "a decimal integer value
/// without leading zeroes between 8 to 15, inclusive".
pub(crate) const WINDOW_BITS: std::ops::RangeInclusive<u8> = 8..=15;

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

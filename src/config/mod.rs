//! Every size, count and duration a socket uses, with its default, in one
//! place: [`Config`] for each socket (both roles), checked when built.
//! Server-only policy is in [`ServerConfig`](crate::ServerConfig).

use std::fmt;
use std::time::Duration;

#[cfg(feature = "deflate")]
use crate::proto::deflate::DeflateConfig;
use crate::proto::HeartbeatConfig;

/// Limits and timeouts for one socket, server or client.
///
/// `Config::default()` is ready to use; change it through
/// [`Config::builder`], whose [`build`](ConfigBuilder::build) rejects zero
/// and contradictory values:
///
/// ```
/// use std::time::Duration;
/// use hyperws::Config;
/// let config = Config::builder()
///     .max_message_size(1 << 20)
///     .close_timeout(Duration::from_secs(2))
///     .build()?;
/// assert_eq!(config.max_message_size(), 1 << 20);
///
/// let bad = Config::builder().heartbeat(Duration::ZERO, Duration::from_secs(5)).build();
/// assert!(bad.is_err());
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    max_frame_size: usize,
    max_message_size: usize,
    max_streamed_message_size: u64,
    streamed_frame_size: usize,
    read_buffer_size: usize,
    write_buffer_size: usize,
    max_write_buffer_size: usize,
    close_timeout: Duration,
    heartbeat: Option<HeartbeatConfig>,
    idle_timeout: Option<Duration>,
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_streamed_message_size: 1 << 30,
            streamed_frame_size: 64 << 10,
            read_buffer_size: 64 << 10,
            write_buffer_size: 128 << 10,
            max_write_buffer_size: 4 << 20,
            close_timeout: Duration::from_secs(5),
            heartbeat: Some(HeartbeatConfig {
                interval: Duration::from_secs(30),
                timeout: Duration::from_secs(30),
            }),
            idle_timeout: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder(Self::default())
    }

    /// A builder starting from this config.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder(self.clone())
    }

    /// See [`ConfigBuilder::max_frame_size`].
    #[must_use]
    pub const fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// See [`ConfigBuilder::max_message_size`].
    #[must_use]
    pub const fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// See [`ConfigBuilder::max_streamed_message_size`].
    #[must_use]
    pub const fn max_streamed_message_size(&self) -> u64 {
        self.max_streamed_message_size
    }

    /// See [`ConfigBuilder::streamed_frame_size`].
    #[must_use]
    pub const fn streamed_frame_size(&self) -> usize {
        self.streamed_frame_size
    }

    /// See [`ConfigBuilder::read_buffer_size`].
    #[must_use]
    pub const fn read_buffer_size(&self) -> usize {
        self.read_buffer_size
    }

    /// See [`ConfigBuilder::write_buffer_size`].
    #[must_use]
    pub const fn write_buffer_size(&self) -> usize {
        self.write_buffer_size
    }

    /// See [`ConfigBuilder::max_write_buffer_size`].
    #[must_use]
    pub const fn max_write_buffer_size(&self) -> usize {
        self.max_write_buffer_size
    }

    /// See [`ConfigBuilder::close_timeout`].
    #[must_use]
    pub const fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The heartbeat's `(interval, timeout)`, or `None` when it is off.
    #[must_use]
    pub fn heartbeat_intervals(&self) -> Option<(Duration, Duration)> {
        self.heartbeat.map(|h| (h.interval, h.timeout))
    }

    pub(crate) const fn heartbeat(&self) -> Option<HeartbeatConfig> {
        self.heartbeat
    }

    /// See [`ConfigBuilder::idle_timeout`].
    #[must_use]
    pub const fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// See [`ConfigBuilder::deflate`].
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub const fn deflate(&self) -> Option<&DeflateConfig> {
        self.deflate.as_ref()
    }
}

/// Builds a [`Config`]; see there.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConfigBuilder(Config);

impl ConfigBuilder {
    /// The largest frame payload accepted; a larger one closes the
    /// connection with 1009. Default: 16 MiB.
    pub const fn max_frame_size(mut self, bytes: usize) -> Self {
        self.0.max_frame_size = bytes;
        self
    }

    /// The largest message accepted, counting all its fragments; a larger one
    /// closes the connection with 1009. Default: 64 MiB.
    pub const fn max_message_size(mut self, bytes: usize) -> Self {
        self.0.max_message_size = bytes;
        self
    }

    /// The largest message accepted by a [`MessageReader`](crate::MessageReader)
    /// (`recv_streaming`), counting all its frames (inflated, when
    /// compressed); a larger one closes the connection with 1009. A streamed
    /// message is never held whole, so this bounds how long a stream may
    /// run, not memory; its frames may be as large as this too (a browser
    /// sends a message as one frame). Whole messages keep
    /// `max_message_size`. Default: 1 GiB.
    pub const fn max_streamed_message_size(mut self, bytes: u64) -> Self {
        self.0.max_streamed_message_size = bytes;
        self
    }

    /// The payload size a [`MessageWriter`](crate::MessageWriter) gathers
    /// before it sends a fragment (`flush` sends a smaller one). Like any
    /// message, a fragment waits for room under `max_write_buffer_size`.
    /// Default: 64 KiB.
    pub const fn streamed_frame_size(mut self, bytes: usize) -> Self {
        self.0.streamed_frame_size = bytes;
        self
    }

    /// The most room one read from the transport gets (beyond what the
    /// frame in progress needs). The room adapts: it starts at 4 KiB (or
    /// this, if smaller), doubles while reads fill it and halves while they
    /// use little of it, so a socket that receives small frames holds a few
    /// KiB and a bulk transfer reads this much at a time; idle sockets hold
    /// none. Default: 64 KiB.
    pub const fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.0.read_buffer_size = bytes;
        self
    }

    /// How many queued bytes make `feed` write them out without waiting for
    /// a flush; 0 writes every message at once. At most
    /// `max_write_buffer_size`. Default: 128 KiB.
    pub const fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.0.write_buffer_size = bytes;
        self
    }

    /// How many queued bytes make `send` and `feed` wait until the peer has
    /// read some, and stop reading meanwhile (backpressure). A message larger
    /// than this is still sent once the queue has drained below it; 0 waits
    /// until everything queued is written. Default: 4 MiB.
    pub const fn max_write_buffer_size(mut self, bytes: usize) -> Self {
        self.0.max_write_buffer_size = bytes;
        self
    }

    /// How long a closing endpoint waits for the peer's close frame (or, for
    /// a client, for the server to close TCP) before dropping the
    /// connection. Default: 5 s.
    pub const fn close_timeout(mut self, timeout: Duration) -> Self {
        self.0.close_timeout = timeout;
        self
    }

    /// Pings the peer after `interval` without receiving anything, and
    /// declares it dead if nothing arrives within `timeout` of the ping:
    /// the connection is dropped and `recv` returns
    /// `Err(Error::HeartbeatTimeout)`. Default: on, 30 s and 30 s, so a
    /// vanished peer is noticed within a minute.
    pub const fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.0.heartbeat = Some(HeartbeatConfig { interval, timeout });
        self
    }

    /// Turns the heartbeat off: a silent peer is never declared dead.
    pub const fn no_heartbeat(mut self) -> Self {
        self.0.heartbeat = None;
        self
    }

    /// Closes the connection with 1001 (Going Away) after this long without
    /// a text or binary message in either direction (pings do not count);
    /// `recv` then returns `Err(Error::IdleTimeout)`. Default: off.
    pub const fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.0.idle_timeout = timeout;
        self
    }

    /// Turns on permessage-deflate (RFC 7692): a client offers it, a server
    /// accepts a client's offer of it. Default: off — a compressor costs
    /// memory and CPU per socket; see [`DeflateConfig`] for what each
    /// setting costs.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, deflate: DeflateConfig) -> Self {
        self.0.deflate = Some(deflate);
        self
    }

    /// Turns permessage-deflate off again.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn no_deflate(mut self) -> Self {
        self.0.deflate = None;
        self
    }

    /// The config, if every value makes sense.
    ///
    /// # Errors
    /// The first zero or contradictory setting, named.
    pub fn build(self) -> Result<Config, ConfigError> {
        let c = &self.0;
        let nonzero_sizes = [
            ("max_frame_size", c.max_frame_size),
            ("max_message_size", c.max_message_size),
            ("read_buffer_size", c.read_buffer_size),
            ("streamed_frame_size", c.streamed_frame_size),
            (
                "max_streamed_message_size",
                usize::from(c.max_streamed_message_size != 0),
            ),
        ];
        if let Some((setting, _)) = nonzero_sizes.iter().find(|(_, size)| *size == 0) {
            return Err(ConfigError::Zero(setting));
        }
        let heartbeat = c
            .heartbeat
            .map_or([None, None], |h| [Some(h.interval), Some(h.timeout)]);
        let durations = [
            ("close_timeout", Some(c.close_timeout)),
            ("heartbeat interval", heartbeat[0]),
            ("heartbeat timeout", heartbeat[1]),
            ("idle_timeout", c.idle_timeout),
        ];
        if let Some((setting, _)) = durations.iter().find(|(_, d)| *d == Some(Duration::ZERO)) {
            return Err(ConfigError::Zero(setting));
        }
        #[cfg(feature = "deflate")]
        if let Some(why) = c.deflate.as_ref().and_then(|d| d.check().err()) {
            return Err(ConfigError::OutOfRange(why));
        }
        if c.write_buffer_size > c.max_write_buffer_size {
            return Err(ConfigError::Contradiction(
                "write_buffer_size is larger than max_write_buffer_size: senders would wait before anything is written",
            ));
        }
        Ok(self.0)
    }
}

/// A setting that cannot work, found when a config is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// This size or duration was zero.
    Zero(&'static str),
    /// Two settings contradict each other, as explained.
    Contradiction(&'static str),
    /// A setting was outside its range, as explained.
    OutOfRange(&'static str),
    /// A subprotocol is not a valid HTTP token.
    InvalidProtocol(usize),
    /// An allowed origin is empty.
    EmptyOrigin,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zero(setting) => write!(f, "invalid WebSocket config: {setting} must be more than zero"),
            Self::Contradiction(why) | Self::OutOfRange(why) => write!(f, "invalid WebSocket config: {why}"),
            Self::InvalidProtocol(index) => write!(
                f,
                "invalid WebSocket config: subprotocol #{index} is not a valid HTTP token"
            ),
            Self::EmptyOrigin => f.write_str("invalid WebSocket config: an allowed origin is empty"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests;

//! Every size, count and duration the crate uses, with its default, in one place.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use crate::proto::HeartbeatConfig;
use crate::shutdown::Shutdown;

/// Limits and timeouts for one connection.
///
/// Every setter takes and returns the config by value, so a config reads as
/// one expression:
///
/// ```
/// use std::time::Duration;
/// use hyperws::Config;
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .close_timeout(Duration::from_secs(2));
/// assert_eq!(config.get_max_message_size(), 1 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    max_frame_size: usize,
    max_message_size: usize,
    read_buffer_size: usize,
    write_buffer_size: usize,
    max_write_buffer_size: usize,
    accept_unmasked_frames: bool,
    close_timeout: Duration,
    heartbeat: Option<HeartbeatConfig>,
    idle_timeout: Option<Duration>,
    handshake_timeout: Duration,
    origins: OriginPolicy,
    protocols: Arc<[HeaderValue]>,
    shutdown: Option<Shutdown>,
}

/// Which `Origin`s a server accepts WebSocket requests from.
///
/// Browsers attach cookies to WebSocket handshakes from any site and do not
/// apply the same-origin policy to them, so a page on `evil.example` can
/// open a socket to your server with your user's session (cross-site
/// WebSocket hijacking). The default therefore refuses, with 403, a request
/// whose `Origin` names another host than its `Host`. Requests with no
/// `Origin` (non-browser clients) are always accepted.
///
/// axum's extractor accepts every origin; this is the one place hyperws is
/// deliberately stricter. Use [`Config::allow_any_origin`] to get axum's behaviour.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// `Origin`, if present, must name the same host and port as `Host`.
    #[default]
    SameHost,
    /// `Origin`, if present, must be one of these (compared ignoring ASCII case).
    Allowed(Arc<[String]>),
    /// Any origin is accepted.
    Any,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            read_buffer_size: 16 << 10,
            write_buffer_size: 128 << 10,
            max_write_buffer_size: 4 << 20,
            accept_unmasked_frames: false,
            close_timeout: Duration::from_secs(5),
            heartbeat: Some(HeartbeatConfig {
                interval: Duration::from_secs(30),
                timeout: Duration::from_secs(30),
            }),
            idle_timeout: None,
            handshake_timeout: Duration::from_secs(10),
            origins: OriginPolicy::SameHost,
            protocols: Arc::new([]),
            shutdown: None,
        }
    }
}

impl Config {
    /// The largest frame payload accepted; a larger one closes the
    /// connection with 1009. Default: 16 MiB.
    #[must_use]
    pub const fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// The largest message accepted, counting all its fragments; a larger one
    /// closes the connection with 1009. Default: 64 MiB.
    #[must_use]
    pub const fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// How much the read buffer grows by for each read from the socket.
    /// Default: 16 KiB.
    ///
    /// # Panics
    /// If `bytes` is zero: the socket could never be read.
    #[must_use]
    pub const fn read_buffer_size(mut self, bytes: usize) -> Self {
        assert!(bytes > 0, "read_buffer_size must be at least 1");
        self.read_buffer_size = bytes;
        self
    }

    /// How many queued bytes make `feed` write them out without waiting for a
    /// flush. Default: 128 KiB.
    #[must_use]
    pub const fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// How many queued bytes make `send` and `feed` wait until the peer has
    /// read some (backpressure). A message larger than this is still sent
    /// once the queue has drained below it. Default: 4 MiB.
    #[must_use]
    pub const fn max_write_buffer_size(mut self, bytes: usize) -> Self {
        self.max_write_buffer_size = bytes;
        self
    }

    /// Accept unmasked frames from a client, against RFC 6455 §5.1 (for
    /// tests and trusted peers only). Default: `false`.
    #[must_use]
    pub const fn accept_unmasked_frames(mut self, accept: bool) -> Self {
        self.accept_unmasked_frames = accept;
        self
    }

    /// How long a closing endpoint waits for the peer's close frame (or, for
    /// a client, for the server to close TCP) before dropping the
    /// connection. Default: 5 s.
    #[must_use]
    pub const fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Pings the peer after `interval` without receiving anything, and
    /// declares it dead if nothing arrives within `timeout` of the ping:
    /// the connection is dropped and `recv` returns
    /// `Err(Error::HeartbeatTimeout)`. Default: on, 30 s and 30 s, so a
    /// vanished peer is noticed within a minute.
    #[must_use]
    pub const fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat = Some(HeartbeatConfig { interval, timeout });
        self
    }

    /// Turns the heartbeat off: a silent peer is never declared dead.
    #[must_use]
    pub const fn no_heartbeat(mut self) -> Self {
        self.heartbeat = None;
        self
    }

    /// Closes the connection with 1001 (Going Away) after this long without
    /// a text or binary message in either direction (pings do not count);
    /// `recv` then returns `Err(Error::IdleTimeout)`. Default: off.
    #[must_use]
    pub const fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a client may take to send its upgrade request's headers
    /// before [`serve`](crate::serve) drops the connection (against
    /// slowloris attacks). Default: 10 s.
    #[must_use]
    pub const fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Ties every socket made with this config to `shutdown`: when it is
    /// triggered, each sends close 1001 (Going Away) and finishes its
    /// closing handshake. See [`Shutdown`].
    #[must_use]
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.shutdown = Some(shutdown.clone());
        self
    }

    /// Accept requests only from these origins (plus requests without an
    /// `Origin`), e.g. `["https://app.example.com"]`. See [`OriginPolicy`].
    #[must_use]
    pub fn allowed_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.origins = OriginPolicy::Allowed(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Accept requests from any origin. See [`OriginPolicy`] for the risk.
    #[must_use]
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = OriginPolicy::Any;
        self
    }

    /// The subprotocols the server speaks, in order of preference: the first
    /// one the client also offers is selected. Default: none.
    ///
    /// # Panics
    /// If a protocol is not a valid header value.
    #[must_use]
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.protocols = protocols
            .into_iter()
            .map(|p| HeaderValue::from_str(p.as_ref()).expect("a subprotocol must be a valid header value"))
            .collect();
        self
    }

    /// See [`heartbeat`](Self::heartbeat); `None` when off.
    #[must_use]
    pub const fn get_heartbeat(&self) -> Option<HeartbeatConfig> {
        self.heartbeat
    }

    /// See [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub const fn get_idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// See [`handshake_timeout`](Self::handshake_timeout).
    #[must_use]
    pub const fn get_handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// See [`shutdown`](Self::shutdown).
    #[must_use]
    pub fn get_shutdown(&self) -> Option<&Shutdown> {
        self.shutdown.as_ref()
    }

    /// See [`allowed_origins`](Self::allowed_origins).
    #[must_use]
    pub fn get_origin_policy(&self) -> &OriginPolicy {
        &self.origins
    }

    /// See [`protocols`](Self::protocols).
    #[must_use]
    pub fn get_protocols(&self) -> &[HeaderValue] {
        &self.protocols
    }

    /// See [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub const fn get_max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// See [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub const fn get_max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// See [`read_buffer_size`](Self::read_buffer_size).
    #[must_use]
    pub const fn get_read_buffer_size(&self) -> usize {
        self.read_buffer_size
    }

    /// See [`write_buffer_size`](Self::write_buffer_size).
    #[must_use]
    pub const fn get_write_buffer_size(&self) -> usize {
        self.write_buffer_size
    }

    /// See [`max_write_buffer_size`](Self::max_write_buffer_size).
    #[must_use]
    pub const fn get_max_write_buffer_size(&self) -> usize {
        self.max_write_buffer_size
    }

    /// See [`accept_unmasked_frames`](Self::accept_unmasked_frames).
    #[must_use]
    pub const fn get_accept_unmasked_frames(&self) -> bool {
        self.accept_unmasked_frames
    }

    /// See [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub const fn get_close_timeout(&self) -> Duration {
        self.close_timeout
    }
}

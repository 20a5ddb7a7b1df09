//! [`ServerConfig`]: what only a server decides — which origins and
//! subprotocols it accepts, how long a client may take to send its request,
//! its shutdown signal — around the [`Config`] each of its sockets gets.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use crate::{Config, ConfigError, Shutdown};

/// Settings for the server doors (`upgrade_request`, the tower layer, the
/// axum extractor) and [`serve`](crate::serve).
///
/// ```
/// use std::time::Duration;
/// use hyperws::{Config, ServerConfig};
/// let config = ServerConfig::builder()
///     .socket(Config::builder().max_message_size(1 << 20).build()?)
///     .protocols(["chat.v2", "chat"])
///     .allowed_origins(["https://app.example"])
///     .handshake_timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(config.socket().max_message_size(), 1 << 20);
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    socket: Config,
    accept_unmasked_frames: bool,
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
/// deliberately stricter. [`ServerConfigBuilder::allow_any_origin`] gives
/// axum's behaviour.
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

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            socket: Config::default(),
            accept_unmasked_frames: false,
            handshake_timeout: Duration::from_secs(10),
            origins: OriginPolicy::SameHost,
            protocols: Arc::new([]),
            shutdown: None,
        }
    }
}

impl From<Config> for ServerConfig {
    fn from(socket: Config) -> Self {
        Self {
            socket,
            ..Self::default()
        }
    }
}

impl ServerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: Self::default(),
            protocols: Vec::new(),
            invalid: None,
        }
    }

    /// A builder starting from this config.
    pub fn to_builder(&self) -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: self.clone(),
            protocols: self
                .protocols
                .iter()
                .filter_map(|p| p.to_str().ok().map(str::to_owned))
                .collect(),
            invalid: None,
        }
    }

    /// The config each socket gets.
    #[must_use]
    pub fn socket(&self) -> &Config {
        &self.socket
    }

    /// See [`ServerConfigBuilder::accept_unmasked_frames`].
    #[must_use]
    pub fn accepts_unmasked_frames(&self) -> bool {
        self.accept_unmasked_frames
    }

    /// See [`ServerConfigBuilder::handshake_timeout`].
    #[must_use]
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// See [`ServerConfigBuilder::allowed_origins`].
    #[must_use]
    pub fn origin_policy(&self) -> &OriginPolicy {
        &self.origins
    }

    /// See [`ServerConfigBuilder::protocols`].
    #[must_use]
    pub fn protocols(&self) -> &[HeaderValue] {
        &self.protocols
    }

    /// See [`ServerConfigBuilder::shutdown`].
    #[must_use]
    pub fn shutdown(&self) -> Option<&Shutdown> {
        self.shutdown.as_ref()
    }
}

/// Builds a [`ServerConfig`]; see there.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ServerConfigBuilder {
    config: ServerConfig,
    protocols: Vec<String>,
    /// A socket setting already found invalid, reported by `build`.
    invalid: Option<ConfigError>,
}

impl ServerConfigBuilder {
    /// The limits and timeouts each socket gets. Default: `Config::default()`.
    pub fn socket(mut self, config: Config) -> Self {
        self.config.socket = config;
        self
    }

    /// Accept unmasked frames from clients, against RFC 6455 §5.1 (for
    /// tests and trusted peers only). Default: `false`.
    pub fn accept_unmasked_frames(mut self, accept: bool) -> Self {
        self.config.accept_unmasked_frames = accept;
        self
    }

    /// How long a client may take to send its request headers before
    /// [`serve`](crate::serve) drops it (against slowloris). Default: 10 s.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// Accept browser requests only from these origins (plus requests
    /// without an `Origin`), e.g. `["https://app.example.com"]`. See [`OriginPolicy`].
    pub fn allowed_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.config.origins = OriginPolicy::Allowed(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Accept requests from any origin. See [`OriginPolicy`] for the risk.
    pub fn allow_any_origin(mut self) -> Self {
        self.config.origins = OriginPolicy::Any;
        self
    }

    /// The subprotocols the server speaks, in order of preference: the first
    /// one the client also offers is selected. Default: none.
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Ties every socket to `shutdown`: when it is triggered, each sends
    /// close 1001 (Going Away) and finishes its closing handshake, and
    /// `serve` stops accepting. See [`Shutdown`].
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.config.shutdown = Some(shutdown.clone());
        self
    }

    /// The socket config set so far.
    #[cfg(feature = "axum")]
    pub(crate) fn socket_config(&self) -> &Config {
        &self.config.socket
    }

    /// Makes `build` fail with `error` (a socket setting found invalid).
    #[cfg(feature = "axum")]
    pub(crate) fn invalid(mut self, error: ConfigError) -> Self {
        self.invalid.get_or_insert(error);
        self
    }

    /// The config, if every value makes sense.
    ///
    /// # Errors
    /// A zero `handshake_timeout`, a subprotocol that is not an HTTP token
    /// (RFC 6455 §4.1), or an empty allowed origin.
    pub fn build(mut self) -> Result<ServerConfig, ConfigError> {
        if let Some(error) = self.invalid {
            return Err(error);
        }
        if self.config.handshake_timeout.is_zero() {
            return Err(ConfigError::Zero("handshake_timeout"));
        }
        if let OriginPolicy::Allowed(origins) = &self.config.origins {
            if origins.iter().any(String::is_empty) {
                return Err(ConfigError::EmptyOrigin);
            }
        }
        let mut protocols = Vec::with_capacity(self.protocols.len());
        for (index, protocol) in self.protocols.iter().enumerate() {
            match HeaderValue::from_str(protocol) {
                Ok(value) if is_token(protocol) => protocols.push(value),
                _ => return Err(ConfigError::InvalidProtocol(index)),
            }
        }
        self.config.protocols = protocols.into();
        Ok(self.config)
    }
}

/// RFC 6455 §4.1: subprotocol names are tokens (RFC 2616 §2.2): visible
/// ASCII except separators.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_server_settings_are_refused() {
        assert_eq!(
            ServerConfig::builder()
                .handshake_timeout(Duration::ZERO)
                .build()
                .unwrap_err(),
            ConfigError::Zero("handshake_timeout")
        );
        assert_eq!(
            ServerConfig::builder()
                .protocols(["chat", "two words"])
                .build()
                .unwrap_err(),
            ConfigError::InvalidProtocol(1)
        );
        assert_eq!(
            ServerConfig::builder().allowed_origins([""]).build().unwrap_err(),
            ConfigError::EmptyOrigin
        );
        let config = ServerConfig::builder().protocols(["chat"]).build().unwrap();
        assert_eq!(config.to_builder().build().unwrap().protocols(), ["chat"]);
    }
}

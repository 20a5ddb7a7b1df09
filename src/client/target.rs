//! Where a client connects, read from its `ws://` or `wss://` URL.

use http::Uri;

use super::{ConnectError, UrlError};

/// Where to connect, read from the URL.
pub(super) struct Target {
    pub(super) uri: Uri,
    pub(super) secure: bool,
    /// Without the brackets of an IPv6 literal.
    pub(super) host: String,
    pub(super) port: u16,
}

impl Target {
    pub(super) fn parse(url: &str) -> Result<Self, ConnectError> {
        let invalid = ConnectError::InvalidUrl;
        let uri: Uri = url.parse().map_err(|_| invalid(UrlError::Malformed))?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(invalid(UrlError::UnsupportedScheme)),
        };
        let host = uri.host().ok_or(invalid(UrlError::MissingHost))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        Ok(Self {
            uri,
            secure,
            host,
            port,
        })
    }
}

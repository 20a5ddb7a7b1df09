//! The server's side of the opening handshake (RFC 6455 §4.2).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};

use super::{accept_key, header_has_token, HandshakeError, WEBSOCKET_VERSION};

/// A request that passed every rule: what is needed to answer it.
#[derive(Clone, Debug)]
pub struct Accept {
    accept: HeaderValue,
}

/// Checks an upgrade request's method, version and headers (RFC 6455 §4.2.1).
///
/// # Errors
/// The first rule the request breaks.
///
/// ```
/// use http::{Method, Version, HeaderMap};
/// use hyperws::handshake::{server::validate, HandshakeError};
/// let headers = HeaderMap::new();
/// assert_eq!(validate(&Method::POST, Version::HTTP_11, &headers).unwrap_err(), HandshakeError::MethodNotGet);
/// ```
pub fn validate(method: &Method, version: Version, headers: &HeaderMap) -> Result<Accept, HandshakeError> {
    if method != Method::GET {
        return Err(HandshakeError::MethodNotGet);
    }
    if version != Version::HTTP_11 {
        return Err(HandshakeError::HttpVersionNotSupported);
    }
    if !header_has_token(headers, &header::UPGRADE, "websocket") {
        return Err(HandshakeError::MissingUpgradeWebSocket);
    }
    if !header_has_token(headers, &header::CONNECTION, "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(WEBSOCKET_VERSION.as_bytes()) {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(HandshakeError::InvalidKey)?;
    // RFC 6455 §4.1: "a randomly selected 16-byte value that has been base64-encoded".
    if !matches!(STANDARD.decode(key.as_bytes()), Ok(nonce) if nonce.len() == 16) {
        return Err(HandshakeError::InvalidKey);
    }
    let accept = HeaderValue::try_from(accept_key(key.as_bytes())).map_err(|_| HandshakeError::InvalidKey)?;
    Ok(Accept { accept })
}

/// [`validate`] for a whole request.
///
/// # Errors
/// The first rule the request breaks.
pub fn validate_request<B>(request: &Request<B>) -> Result<Accept, HandshakeError> {
    validate(request.method(), request.version(), request.headers())
}

impl Accept {
    /// The `101 Switching Protocols` response that completes the handshake.
    ///
    /// ```
    /// use http::Request;
    /// use hyperws::handshake::server::validate_request;
    /// let request = Request::get("/")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .body(())
    ///     .unwrap();
    /// let response = validate_request(&request).unwrap().response::<()>();
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// ```
    #[must_use]
    pub fn response<B: Default>(&self) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept.clone());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> http::request::Builder {
        Request::get("/chat")
            .header("host", "example.com")
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    fn check(builder: http::request::Builder) -> Result<Accept, HandshakeError> {
        validate_request(&builder.body(()).unwrap())
    }

    #[test]
    fn the_rfc_example_is_accepted() {
        assert!(check(request()).is_ok());
    }

    #[test]
    fn tokens_match_case_insensitively_inside_lists() {
        let mut builder = request();
        let headers = builder.headers_mut().unwrap();
        headers.insert("upgrade", HeaderValue::from_static("WebSocket"));
        headers.insert("connection", HeaderValue::from_static("keep-alive, UPGRADE"));
        assert!(check(builder).is_ok());
    }

    #[test]
    fn a_substring_is_not_a_token() {
        let mut builder = request();
        builder
            .headers_mut()
            .unwrap()
            .insert("connection", HeaderValue::from_static("upgraded"));
        assert_eq!(check(builder).unwrap_err(), HandshakeError::MissingConnectionUpgrade);
    }

    #[test]
    fn each_broken_rule_is_named() {
        let cases: [(&str, Option<&str>, HandshakeError); 6] = [
            ("upgrade", None, HandshakeError::MissingUpgradeWebSocket),
            ("upgrade", Some("h2c"), HandshakeError::MissingUpgradeWebSocket),
            ("connection", None, HandshakeError::MissingConnectionUpgrade),
            ("sec-websocket-version", Some("8"), HandshakeError::UnsupportedVersion),
            ("sec-websocket-key", Some("c2hvcnQ="), HandshakeError::InvalidKey),
            ("sec-websocket-key", None, HandshakeError::InvalidKey),
        ];
        for (name, value, expected) in cases {
            let mut builder = request();
            let headers = builder.headers_mut().unwrap();
            headers.remove(name);
            if let Some(value) = value {
                headers.insert(name, HeaderValue::from_static(value));
            }
            assert_eq!(check(builder).unwrap_err(), expected, "{name}: {value:?}");
        }
    }

    #[test]
    fn method_and_version_are_checked() {
        assert_eq!(
            check(request().method("POST")).unwrap_err(),
            HandshakeError::MethodNotGet
        );
        assert_eq!(
            check(request().version(Version::HTTP_10)).unwrap_err(),
            HandshakeError::HttpVersionNotSupported
        );
    }
}

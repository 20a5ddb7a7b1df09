//! The client's side of the opening handshake (RFC 6455 §4.1).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode, Uri};

use super::{accept_key, header_has_token, header_tokens, only_value, WEBSOCKET_VERSION};

/// The `Sec-WebSocket-Extensions` value offering permessage-deflate with
/// `config`'s settings: add it to [`request`]'s extra headers, then check
/// the answer with [`verify_negotiated`].
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
#[must_use]
pub fn offer_deflate(config: &crate::DeflateConfig) -> HeaderValue {
    super::deflate::offer(config)
}

/// Why a server's answer to our upgrade request is not a valid handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpgradeError {
    /// The status was not `101 Switching Protocols` (the response is kept
    /// in `Error::UnexpectedStatus`).
    NotSwitchingProtocols,
    /// No `Upgrade: websocket`.
    MissingUpgradeWebSocket,
    /// No `upgrade` token in `Connection`.
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Accept` did not answer our key (or was repeated).
    BadAcceptKey,
    /// The server selected a subprotocol we did not offer (or more than one).
    UnofferedProtocol,
    /// The server turned on an extension we did not offer.
    UnofferedExtension,
    /// The server's permessage-deflate parameters break RFC 7692 §7.1: a
    /// parameter repeated, unknown, out of range, or larger than offered.
    InvalidExtensionAnswer,
}

impl std::fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotSwitchingProtocols => "the server did not answer 101 Switching Protocols",
            Self::MissingUpgradeWebSocket => "the server's answer lacks `Upgrade: websocket`",
            Self::MissingConnectionUpgrade => "the server's answer lacks `Connection: upgrade`",
            Self::BadAcceptKey => "the server's `Sec-WebSocket-Accept` does not match our key",
            Self::UnofferedProtocol => "the server selected a subprotocol we did not offer",
            Self::UnofferedExtension => "the server enabled an extension we did not offer",
            Self::InvalidExtensionAnswer => "the server's permessage-deflate parameters are invalid (RFC 7692 §7.1)",
        })
    }
}

impl std::error::Error for UpgradeError {}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 §4.1).
///
/// # Panics
/// Never: base64 text is always a valid header value.
#[must_use]
pub fn new_key(random: [u8; 16]) -> HeaderValue {
    HeaderValue::try_from(STANDARD.encode(random)).expect("base64 is a valid header value")
}

/// The upgrade request for `uri` (whose scheme and authority are already
/// checked): `GET` with the handshake headers, the offered subprotocols and
/// the caller's extra headers.
///
/// ```
/// use http::Uri;
/// use hyperws::handshake::client::{new_key, request};
/// let key = new_key([7; 16]);
/// let req = request(&Uri::from_static("ws://example.com:8080/chat"), &key, &[], &Default::default());
/// assert_eq!(req.headers()["host"], "example.com:8080");
/// assert_eq!(req.uri(), "/chat");
/// ```
#[must_use]
pub fn request(uri: &Uri, key: &HeaderValue, protocols: &[HeaderValue], extra: &HeaderMap) -> Request<()> {
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
    let mut request = Request::new(()); // GET, HTTP/1.1
    *request.uri_mut() = Uri::from(path);
    let headers = request.headers_mut();
    if let Some(authority) = uri.authority() {
        // RFC 6455 §4.1: Host carries the port only when it is not the default.
        let default_port = if uri.scheme_str() == Some("wss") { 443 } else { 80 };
        let host = match authority.port_u16() {
            Some(port) if port == default_port => authority.host(),
            _ => authority.as_str(),
        };
        if let Ok(host) = HeaderValue::from_str(host) {
            headers.insert(header::HOST, host);
        }
    }
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static(WEBSOCKET_VERSION),
    );
    headers.insert(header::SEC_WEBSOCKET_KEY, key.clone());
    if !protocols.is_empty() {
        let joined = protocols
            .iter()
            .filter_map(|p| p.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(value) = HeaderValue::from_str(&joined) {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
    }
    for (name, value) in extra {
        headers.append(name, value.clone());
    }
    request
}

/// Checks the server's answer (RFC 6455 §4.1, "the client MUST validate the
/// server's response") to a request that offered no extension; returns the
/// selected subprotocol.
///
/// # Errors
/// The first rule the response breaks.
pub fn verify<B>(
    response: &Response<B>,
    key: &HeaderValue,
    offered: &[HeaderValue],
) -> Result<Option<HeaderValue>, UpgradeError> {
    check_upgrade(response, key)?;
    if header_tokens(response.headers().get_all(header::SEC_WEBSOCKET_EXTENSIONS))
        .next()
        .is_some()
    {
        return Err(UpgradeError::UnofferedExtension);
    }
    selected_protocol(response, offered)
}

/// [`verify`] for a request that offered permessage-deflate when `config`
/// asks for it ([`offer_deflate`]): the subprotocol and the extension's
/// agreed parameters, for [`WebSocket::from_negotiated`](crate::WebSocket::from_negotiated).
///
/// # Errors
/// The first rule the response breaks.
pub fn verify_negotiated<B>(
    response: &Response<B>,
    key: &HeaderValue,
    offered: &[HeaderValue],
    config: &crate::Config,
) -> Result<super::Negotiated, UpgradeError> {
    #[cfg(not(feature = "deflate"))]
    let _ = config;
    #[cfg(not(feature = "deflate"))]
    let protocol = verify(response, key, offered)?;
    #[cfg(feature = "deflate")]
    let protocol = {
        check_upgrade(response, key)?;
        selected_protocol(response, offered)?
    };
    Ok(super::Negotiated {
        protocol,
        #[cfg(feature = "deflate")]
        deflate: super::deflate::check_answer(response.headers(), config.deflate())?,
    })
}

/// The status, the upgrade headers and the accept key.
fn check_upgrade<B>(response: &Response<B>, key: &HeaderValue) -> Result<(), UpgradeError> {
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(UpgradeError::NotSwitchingProtocols);
    }
    let headers = response.headers();
    if !header_has_token(headers, &header::UPGRADE, "websocket") {
        return Err(UpgradeError::MissingUpgradeWebSocket);
    }
    if !header_has_token(headers, &header::CONNECTION, "upgrade") {
        return Err(UpgradeError::MissingConnectionUpgrade);
    }
    let expected = accept_key(key.as_bytes());
    // RFC 6455 §11.3.3: it "MUST NOT appear more than once in an HTTP response".
    if only_value(headers, &header::SEC_WEBSOCKET_ACCEPT).map(HeaderValue::as_bytes) != Some(expected.as_bytes()) {
        return Err(UpgradeError::BadAcceptKey);
    }
    Ok(())
}

/// RFC 6455 §4.1: a selected subprotocol must be one we offered.
fn selected_protocol<B>(response: &Response<B>, offered: &[HeaderValue]) -> Result<Option<HeaderValue>, UpgradeError> {
    let headers = response.headers();
    if !headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        return Ok(None);
    }
    // RFC 6455 §11.3.4: it "MUST NOT appear more than once in an HTTP
    // response"; two would be two selected, which we never offer.
    match only_value(headers, &header::SEC_WEBSOCKET_PROTOCOL) {
        Some(selected) if offered.contains(selected) => Ok(Some(selected.clone())),
        _ => Err(UpgradeError::UnofferedProtocol),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(key: &HeaderValue) -> http::response::Builder {
        Response::builder()
            .status(101)
            .header("upgrade", "websocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-accept", accept_key(key.as_bytes()))
    }

    #[test]
    fn a_correct_answer_is_accepted_with_its_protocol() {
        let key = new_key([1; 16]);
        let chat = HeaderValue::from_static("chat");
        let response = answer(&key).header("sec-websocket-protocol", "chat").body(()).unwrap();
        assert_eq!(verify(&response, &key, std::slice::from_ref(&chat)), Ok(Some(chat)));
    }

    #[test]
    fn each_broken_rule_is_named() {
        let key = new_key([1; 16]);
        let offered = [HeaderValue::from_static("chat")];
        let cases = [
            (answer(&key).status(200), UpgradeError::NotSwitchingProtocols),
            (
                answer(&key).header("upgrade", "h2c"),
                UpgradeError::MissingUpgradeWebSocket,
            ),
            (answer(&new_key([2; 16])), UpgradeError::BadAcceptKey),
            (
                answer(&key).header("sec-websocket-protocol", "mqtt"),
                UpgradeError::UnofferedProtocol,
            ),
            (
                answer(&key).header("sec-websocket-extensions", "permessage-deflate"),
                UpgradeError::UnofferedExtension,
            ),
            // RFC 6455 §11.3.3 and §11.3.4: neither may appear twice in a response.
            (
                answer(&key).header("sec-websocket-accept", accept_key(key.as_bytes())),
                UpgradeError::BadAcceptKey,
            ),
            (
                answer(&key)
                    .header("sec-websocket-protocol", "chat")
                    .header("sec-websocket-protocol", "chat"),
                UpgradeError::UnofferedProtocol,
            ),
        ];
        for (builder, expected) in cases {
            let mut response = builder.body(()).unwrap();
            if expected == UpgradeError::MissingUpgradeWebSocket {
                response
                    .headers_mut()
                    .insert("upgrade", HeaderValue::from_static("h2c"));
            }
            assert_eq!(verify(&response, &key, &offered), Err(expected));
        }
    }

    #[test]
    fn the_request_carries_every_handshake_header() {
        let key = new_key([9; 16]);
        let protocols = [HeaderValue::from_static("a"), HeaderValue::from_static("b")];
        let mut extra = HeaderMap::new();
        extra.insert("authorization", HeaderValue::from_static("Bearer x"));
        let req = request(
            &Uri::from_static("wss://example.com:443/x?y=1"),
            &key,
            &protocols,
            &extra,
        );
        let h = req.headers();
        assert_eq!(req.uri(), "/x?y=1");
        assert_eq!(h["host"], "example.com", "default port left out");
        assert_eq!(h["sec-websocket-version"], "13");
        assert_eq!(h["sec-websocket-protocol"], "a, b");
        assert_eq!(h["authorization"], "Bearer x");
        assert_eq!(STANDARD.decode(h["sec-websocket-key"].as_bytes()).unwrap().len(), 16);
    }
}

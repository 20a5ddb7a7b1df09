//! The server's side of the opening handshake: RFC 6455 §4.2 over HTTP/1.1,
//! RFC 8441 over HTTP/2, and the origin check browsers need.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri, Version};

use super::{accept_key, header_has_token, header_tokens, only_value, HandshakeError, Refusal, WEBSOCKET_VERSION};
#[cfg(feature = "deflate")]
use crate::proto::deflate::{DeflateConfig, DeflateParams};
use crate::server_config::OriginPolicy;

/// The parts of a request the handshake reads.
///
/// ```
/// use http::{HeaderMap, Method, Uri, Version};
/// use hyperws::handshake::server::RequestHead;
/// let (method, uri, headers) = (Method::GET, Uri::from_static("/"), HeaderMap::new());
/// let head = RequestHead::new(&method, Version::HTTP_11, &uri, &headers);
/// assert!(!head.is_upgrade_attempt());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RequestHead<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The HTTP version.
    pub version: Version,
    /// The request target (HTTP/2 carries `:authority` here).
    pub uri: &'a Uri,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// HTTP/2's `:protocol` pseudo-header (RFC 8441 §4), if present.
    pub protocol: Option<&'a str>,
}

impl<'a> RequestHead<'a> {
    /// A request head without a `:protocol` pseudo-header.
    #[must_use]
    pub fn new(method: &'a Method, version: Version, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        Self {
            method,
            version,
            uri,
            headers,
            protocol: None,
        }
    }

    /// Whether the request asks for a WebSocket at all (valid or not): an
    /// `Upgrade: websocket` over HTTP/1, or an extended CONNECT over HTTP/2.
    #[must_use]
    pub fn is_upgrade_attempt(&self) -> bool {
        if self.version == Version::HTTP_2 {
            self.method == Method::CONNECT && self.protocol.is_some()
        } else {
            header_has_token(self.headers, &header::UPGRADE, "websocket")
        }
    }

    /// The host the client addressed: `Host`, or HTTP/2's `:authority`.
    fn authority(&self) -> Option<&'a str> {
        match self.headers.get(header::HOST) {
            Some(host) => host.to_str().ok(),
            None => self.uri.authority().map(http::uri::Authority::as_str),
        }
    }
}

/// A request that passed every rule: what is needed to answer it.
#[derive(Clone, Debug)]
pub struct Accept {
    /// `Sec-WebSocket-Accept` for HTTP/1.1; `None` over HTTP/2.
    key_answer: Option<HeaderValue>,
    origin: Option<HeaderValue>,
    authority: Option<String>,
    requested_protocols: Vec<HeaderValue>,
    protocol: ProtocolChoice,
    /// The client's `Sec-WebSocket-Extensions` values, in order.
    #[cfg(feature = "deflate")]
    extension_offers: Vec<HeaderValue>,
    /// permessage-deflate, once negotiated.
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateParams>,
}

/// Whether the subprotocol was chosen yet (by the handler, or from the config).
#[derive(Clone, Debug)]
enum ProtocolChoice {
    /// Nobody chose: the server's configured list decides when answering.
    Open,
    /// Chosen (possibly none), and kept.
    Chosen(Option<HeaderValue>),
}

/// Checks an upgrade request's method, version and headers.
///
/// # Errors
/// The first rule the request breaks.
///
/// ```
/// use http::{HeaderMap, Method, Uri, Version};
/// use hyperws::handshake::{server::{validate, RequestHead}, HandshakeError};
/// let (method, uri, headers) = (Method::POST, Uri::from_static("/"), HeaderMap::new());
/// let head = RequestHead::new(&method, Version::HTTP_11, &uri, &headers);
/// assert_eq!(validate(&head).unwrap_err(), HandshakeError::MethodNotGet);
/// ```
pub fn validate(head: &RequestHead<'_>) -> Result<Accept, HandshakeError> {
    let headers = head.headers;
    let wants_key = match head.version {
        Version::HTTP_2 => check_h2(head)?,
        Version::HTTP_11 => check_h1(head)?,
        _ => return Err(HandshakeError::HttpVersionNotSupported),
    };
    // RFC 6455 §11.3.5: it "MUST NOT appear more than once in an HTTP request".
    if only_value(headers, &header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes)
        != Some(WEBSOCKET_VERSION.as_bytes())
    {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key_answer = if wants_key { Some(accept_header(headers)?) } else { None };
    Ok(Accept {
        key_answer,
        origin: headers.get(header::ORIGIN).cloned(),
        authority: head.authority().map(str::to_owned),
        requested_protocols: header_tokens(headers.get_all(header::SEC_WEBSOCKET_PROTOCOL))
            .filter_map(|token| HeaderValue::from_str(token).ok())
            .collect(),
        protocol: ProtocolChoice::Open,
        #[cfg(feature = "deflate")]
        extension_offers: headers
            .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .cloned()
            .collect(),
        #[cfg(feature = "deflate")]
        deflate: None,
    })
}

/// RFC 8441 §4: an extended CONNECT with `:protocol = websocket`; no key
/// to answer (returns `false`).
fn check_h2(head: &RequestHead<'_>) -> Result<bool, HandshakeError> {
    if head.method != Method::CONNECT {
        return Err(HandshakeError::MethodNotConnect);
    }
    if !head.protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket")) {
        return Err(HandshakeError::MissingProtocolPseudoHeader);
    }
    Ok(false)
}

/// RFC 6455 §4.2.1: a `GET` with `Upgrade: websocket`, `Connection:
/// upgrade` and a `Host`; its key is to be answered (returns `true`).
fn check_h1(head: &RequestHead<'_>) -> Result<bool, HandshakeError> {
    let headers = head.headers;
    if head.method != Method::GET {
        return Err(HandshakeError::MethodNotGet);
    }
    if !header_has_token(headers, &header::UPGRADE, "websocket") {
        return Err(HandshakeError::MissingUpgradeWebSocket);
    }
    if !header_has_token(headers, &header::CONNECTION, "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    // RFC 6455 §4.1: "The request MUST contain a |Host| header field".
    if !headers.contains_key(header::HOST) {
        return Err(HandshakeError::MissingHost);
    }
    Ok(true)
}

/// Standard base64 that ignores the padding bits of the last character.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// RFC 6455 §4.1: the key is "a randomly selected 16-byte value that has
/// been base64-encoded"; the answer is its SHA-1 with the GUID, in base64.
///
/// RFC 6455 §11.3.1: the key "MUST NOT appear more than once in an HTTP
/// request". Its padding bits are not checked: the RFC's own example key
/// sets them (erratum 3150), and only the 16 bytes matter.
fn accept_header(headers: &HeaderMap) -> Result<HeaderValue, HandshakeError> {
    let key = only_value(headers, &header::SEC_WEBSOCKET_KEY).ok_or(HandshakeError::InvalidKey)?;
    if !matches!(KEY_BASE64.decode(key.as_bytes()), Ok(nonce) if nonce.len() == 16) {
        return Err(HandshakeError::InvalidKey);
    }
    HeaderValue::try_from(accept_key(key.as_bytes())).map_err(|_| HandshakeError::InvalidKey)
}

impl Accept {
    /// Refuses a browser request from an origin the policy does not allow.
    ///
    /// # Errors
    /// [`HandshakeError::OriginNotAllowed`].
    pub fn check_origin(&self, policy: &OriginPolicy) -> Result<(), HandshakeError> {
        self.origin_refusal(policy)
            .map_or(Ok(()), |refusal| Err(refusal.error()))
    }

    /// The refusal of a browser request from an origin the policy does not
    /// allow, explaining what was seen and the setting that would allow it.
    pub(crate) fn origin_refusal(&self, policy: &OriginPolicy) -> Option<Refusal> {
        let origin = self.origin.as_ref()?; // not a browser: nothing to protect against
        let origin = origin.to_str().unwrap_or("");
        let host = self.authority.as_deref().unwrap_or("");
        let why = match policy {
            OriginPolicy::Any => return None,
            OriginPolicy::Allowed(list) if list.iter().any(|p| origin_matches(p, origin)) => return None,
            OriginPolicy::SameHost if same_host(origin, host) => return None,
            OriginPolicy::Allowed(list) => format!("it matches none of allowed_origins {list:?}"),
            OriginPolicy::SameHost => format!("it is not the host the request was sent to ({host})"),
        };
        Some(Refusal::with_detail(
            HandshakeError::OriginNotAllowed,
            format!(
                "WebSocket request refused: a page from Origin {origin} may not connect, because {why}. \
                 To allow it, add it to ServerConfig's allowed_origins (patterns such as \
                 \"http://localhost:*\" or \"https://*.example.com\" work), or use allow_any_origin. \
                 Note that http://127.0.0.1 and http://localhost are different origins."
            ),
        ))
    }

    /// The subprotocols the client offered, in its order.
    pub fn requested_protocols(&self) -> impl Iterator<Item = &HeaderValue> {
        self.requested_protocols.iter()
    }

    /// Selects the first of `ours` that the client offered (RFC 6455
    /// §4.2.2: "the server MUST select one of the values from the client's
    /// handshake ... or null").
    pub fn select_protocol<'p>(&mut self, ours: impl IntoIterator<Item = &'p HeaderValue>) -> Option<&HeaderValue> {
        let found = ours.into_iter().find(|p| self.requested_protocols.contains(p)).cloned();
        self.protocol = ProtocolChoice::Chosen(found);
        self.protocol()
    }

    /// Selects from `ours` unless a protocol was already chosen.
    pub(crate) fn select_protocol_unless_chosen(&mut self, ours: &[HeaderValue]) {
        if matches!(self.protocol, ProtocolChoice::Open) {
            self.select_protocol(ours);
        }
    }

    /// Sets the subprotocol to answer with, whatever the client offered.
    pub fn set_protocol(&mut self, protocol: Option<HeaderValue>) {
        self.protocol = ProtocolChoice::Chosen(protocol);
    }

    /// The subprotocol the response will name, once one was selected.
    #[must_use]
    pub fn protocol(&self) -> Option<&HeaderValue> {
        match &self.protocol {
            ProtocolChoice::Chosen(protocol) => protocol.as_ref(),
            ProtocolChoice::Open => None,
        }
    }

    /// Accepts the first of the client's permessage-deflate offers that
    /// `config` can (none when `config` is `None`); the response then
    /// states the agreed parameters.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn negotiate_deflate(&mut self, config: Option<&DeflateConfig>) -> Option<&DeflateParams> {
        self.deflate = config.and_then(|config| super::deflate::accept_offer(&self.extension_offers, config));
        self.deflate.as_ref()
    }

    /// The permessage-deflate parameters the response will state.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref()
    }

    /// What the response agrees to (subprotocol and permessage-deflate), for
    /// [`WebSocket::from_negotiated`](crate::WebSocket::from_negotiated).
    #[must_use]
    pub fn negotiated(&self) -> super::Negotiated {
        super::Negotiated {
            protocol: self.protocol().cloned(),
            #[cfg(feature = "deflate")]
            deflate: self.deflate,
        }
    }

    /// The response that completes the handshake: `101 Switching Protocols`
    /// over HTTP/1.1, `200 OK` over HTTP/2 (RFC 8441 §5).
    ///
    /// ```
    /// use http::{Request, Version};
    /// use hyperws::handshake::server::{validate, RequestHead};
    /// let request = Request::get("/")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .body(())
    ///     .unwrap();
    /// let head = RequestHead::new(request.method(), request.version(), request.uri(), request.headers());
    /// let response = validate(&head).unwrap().response::<()>();
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// ```
    #[must_use]
    pub fn response<B: Default>(&self) -> Response<B> {
        let mut response = Response::new(B::default());
        let headers = response.headers_mut();
        if let Some(protocol) = self.protocol() {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol.clone());
        }
        #[cfg(feature = "deflate")]
        if let Some(Ok(value)) = self.deflate.map(|params| HeaderValue::try_from(params.to_string())) {
            headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, value);
        }
        if let Some(accept) = &self.key_answer {
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept.clone());
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        }
        response
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as
/// `host` (`host[:port]`), treating a scheme's default port as absent.
/// (See `origin_matches` for configured patterns.)
fn same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, origin_host)) = origin.split_once("://") else {
        return false; // "null" and other opaque origins
    };
    let secure = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss");
    let default_port = if secure { ":443" } else { ":80" };
    let without_default = |h| strip_suffix_or_self(h, default_port);
    without_default(origin_host).eq_ignore_ascii_case(without_default(host))
}

/// Whether `origin` matches an allowed-origin `pattern`, ignoring ASCII
/// case: `*` stands for any run of characters other than `/`, so
/// `http://localhost:*` allows any port and `https://*.example.com` any
/// subdomain (but not `https://example.com` itself).
pub(crate) fn origin_matches(pattern: &str, origin: &str) -> bool {
    let (pattern, origin) = (pattern.as_bytes(), origin.as_bytes());
    // The set of pattern positions the origin read so far can have reached,
    // not a backtracking search: time is at most pattern × origin, so a
    // pattern with many `*` cannot make a long `Origin` take exponential
    // time (the `handshake` fuzz target found a 10 s one).
    let mut reached = vec![false; pattern.len() + 1];
    reached[0] = true;
    let mut next = reached.clone();
    skip_empty_stars(pattern, &mut reached);
    for &byte in origin {
        next.fill(false);
        for at in (0..pattern.len()).filter(|&at| reached[at]) {
            match pattern[at] {
                b'*' if byte != b'/' => next[at] = true,
                b'*' => {}
                expected if expected.eq_ignore_ascii_case(&byte) => next[at + 1] = true,
                _ => {}
            }
        }
        skip_empty_stars(pattern, &mut next);
        std::mem::swap(&mut reached, &mut next);
    }
    reached[pattern.len()]
}

/// A `*` may match nothing: reaching it reaches what follows it too.
fn skip_empty_stars(pattern: &[u8], reached: &mut [bool]) {
    for at in 0..pattern.len() {
        if reached[at] && pattern[at] == b'*' {
            reached[at + 1] = true;
        }
    }
}

fn strip_suffix_or_self<'a>(text: &'a str, suffix: &str) -> &'a str {
    text.strip_suffix(suffix).unwrap_or(text)
}

#[cfg(test)]
mod tests;

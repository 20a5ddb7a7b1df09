//! The server handshake's rules, one test per rule.

use http::Request;

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
    let request = builder.body(()).unwrap();
    validate(&RequestHead::new(
        request.method(),
        request.version(),
        request.uri(),
        request.headers(),
    ))
}

fn origin(value: &'static str) -> Accept {
    check(request().header("origin", value)).unwrap()
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
    let cases: [(&str, Option<&str>, HandshakeError); 7] = [
        ("host", None, HandshakeError::MissingHost),
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

#[test]
fn http2_needs_an_extended_connect() {
    let headers: HeaderMap = [(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"))]
        .into_iter()
        .collect();
    let uri = Uri::from_static("https://example.com/chat");
    let head = |method: &'static Method, protocol| RequestHead {
        protocol,
        ..RequestHead::new(method, Version::HTTP_2, &uri, &headers)
    };
    assert_eq!(
        validate(&head(&Method::GET, Some("websocket"))).unwrap_err(),
        HandshakeError::MethodNotConnect
    );
    assert_eq!(
        validate(&head(&Method::CONNECT, None)).unwrap_err(),
        HandshakeError::MissingProtocolPseudoHeader
    );
    let accept = validate(&head(&Method::CONNECT, Some("websocket"))).unwrap();
    assert_eq!(
        accept.response::<()>().status(),
        StatusCode::OK,
        "RFC 8441 §5: 2xx, not 101"
    );
    assert!(accept.check_origin(&OriginPolicy::SameHost).is_ok());
}

#[test]
fn same_host_origins_pass_and_others_are_forbidden() {
    let policy = OriginPolicy::SameHost;
    assert!(
        check(request()).unwrap().check_origin(&policy).is_ok(),
        "no Origin: not a browser"
    );
    assert!(origin("https://example.com").check_origin(&policy).is_ok());
    assert!(origin("http://EXAMPLE.com:80").check_origin(&policy).is_ok());
    for other in [
        "https://evil.example",
        "https://example.com:8443",
        "null",
        "https://example.com.evil.example",
    ] {
        assert_eq!(
            origin(other).check_origin(&policy),
            Err(HandshakeError::OriginNotAllowed),
            "{other}"
        );
    }
}

#[test]
fn origin_lists_and_any_origin_are_honoured() {
    let list = OriginPolicy::Allowed(vec!["https://app.example".to_owned()].into());
    assert!(origin("https://APP.example").check_origin(&list).is_ok());
    assert!(
        origin("https://example.com").check_origin(&list).is_err(),
        "same host is not in the list"
    );
    assert!(origin("https://evil.example").check_origin(&OriginPolicy::Any).is_ok());
}

#[test]
fn the_first_of_our_protocols_the_client_offers_is_selected() {
    let mut accept = check(
        request()
            .header("sec-websocket-protocol", "soap, wamp")
            .header("sec-websocket-protocol", "chat"),
    )
    .unwrap();
    assert_eq!(
        accept.requested_protocols().collect::<Vec<_>>(),
        ["soap", "wamp", "chat"]
    );
    assert_eq!(accept.protocol(), None);
    let ours = [
        HeaderValue::from_static("graphql-ws"),
        HeaderValue::from_static("chat"),
        HeaderValue::from_static("wamp"),
    ];
    assert_eq!(accept.select_protocol(&ours).unwrap(), "chat");
    assert_eq!(accept.response::<()>().headers()["sec-websocket-protocol"], "chat");
    assert!(accept.select_protocol(&[HeaderValue::from_static("mqtt")]).is_none());
}

#[test]
fn origin_patterns_match_ports_and_subdomains() {
    use super::origin_matches;
    assert!(origin_matches("https://app.example", "HTTPS://APP.EXAMPLE"));
    assert!(origin_matches("http://localhost:*", "http://localhost:8080"));
    assert!(!origin_matches("http://localhost:*", "http://localhost"));
    assert!(origin_matches("https://*.example.com", "https://a.example.com"));
    assert!(!origin_matches("https://*.example.com", "https://example.com"));
    assert!(!origin_matches(
        "https://*.example.com",
        "https://evil.com/x.example.com"
    ));
    assert!(origin_matches("*", "null"));
    assert!(origin_matches("http://*:*", "http://a.b:8080"));
    assert!(!origin_matches("http://*", "http://a/b"), "`*` stops at `/`");
    assert!(origin_matches("**x", "abx"));
}

#[test]
fn the_key_and_the_version_appear_once() {
    // RFC 6455 §11.3.1 and §11.3.5: each "MUST NOT appear more than once in an HTTP request".
    let key = check(request().header("sec-websocket-key", "AQIDBAUGBwgJCgsMDQ4PEA=="));
    assert_eq!(key.unwrap_err(), HandshakeError::InvalidKey);
    let version = check(request().header("sec-websocket-version", "13"));
    assert_eq!(version.unwrap_err(), HandshakeError::UnsupportedVersion);
}

#[test]
fn a_key_with_padding_bits_set_is_still_sixteen_bytes() {
    // RFC 6455 §4.1's own example key sets them (erratum 3150).
    let mut builder = request();
    let headers = builder.headers_mut().unwrap();
    headers.insert(
        "sec-websocket-key",
        HeaderValue::from_static("AQIDBAUGBwgJCgsMDQ4PEC=="),
    );
    assert!(check(builder).is_ok());
}

#[test]
fn a_pattern_with_many_stars_answers_a_long_origin_at_once() {
    // Backtracking took exponential time here (found by the `handshake`
    // fuzz target: 10 s for one request); the set of positions does not.
    use super::origin_matches;
    let pattern = "*a".repeat(30) + "b";
    let origin = "a".repeat(200);
    assert!(!origin_matches(&pattern, &origin));
    assert!(origin_matches(&pattern, &(origin + "b")));
}

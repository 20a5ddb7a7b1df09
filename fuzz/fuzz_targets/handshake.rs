//! The opening handshake (RFC 6455 §4) from arbitrary header sets.
//!
//! - Server: `validate` on any request head (method, version, target,
//!   headers); whatever it accepts really is a WebSocket request, its
//!   answer (origin policy, subprotocol, permessage-deflate applied) is a
//!   101 with the right accept key, and that answer passes our client's
//!   check. Never a panic.
//! - Client: `verify` on any response; whatever it accepts is a 101 with
//!   the accept key for our key and a subprotocol we offered.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode, Uri, Version};
use hyperws::handshake::client::{new_key, verify};
use hyperws::handshake::server::{validate, RequestHead};
use hyperws::handshake::{accept_key, header_has_token};
use hyperws::OriginPolicy;
use hyperws_fuzz::deflate_config;
use libfuzzer_sys::fuzz_target;

const NAMES: [HeaderName; 10] = [
    header::HOST,
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
    header::SEC_WEBSOCKET_PROTOCOL,
    header::SEC_WEBSOCKET_EXTENSIONS,
    header::ORIGIN,
    header::SEC_WEBSOCKET_ACCEPT,
    header::USER_AGENT,
];

#[derive(Arbitrary, Debug)]
struct Input {
    request: Request,
    policy: (u8, Vec<String>),
    ours: Vec<String>,
    deflate: (u8, u8, u8, bool, Option<bool>),
    response: (u16, Vec<(u8, Vec<u8>)>, [u8; 16], Vec<String>, bool),
}

#[derive(Arbitrary, Debug)]
struct Request {
    method: u8,
    version: u8,
    target: String,
    protocol: Option<String>,
    /// Starts from a valid HTTP/1.1 handshake, so the fuzzer gets past it.
    valid_base: bool,
    headers: Vec<(u8, Vec<u8>)>,
}

fn header_map(base: HeaderMap, pairs: &[(u8, Vec<u8>)]) -> HeaderMap {
    let mut headers = base;
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(NAMES[usize::from(*name) % NAMES.len()].clone(), value);
        }
    }
    headers
}

fn valid_base() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::HOST, HeaderValue::from_static("example.com"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    headers.insert(
        header::SEC_WEBSOCKET_KEY,
        HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
    );
    headers
}

fuzz_target!(|input: Input| {
    server(&input);
    client(&input.response);
});

fn server(input: &Input) {
    let r = &input.request;
    let method = [Method::GET, Method::POST, Method::CONNECT, Method::HEAD][usize::from(r.method % 4)].clone();
    let version = [Version::HTTP_11, Version::HTTP_2, Version::HTTP_10][usize::from(r.version % 3)];
    let uri = Uri::try_from(r.target.as_str()).unwrap_or_else(|_| Uri::from_static("/"));
    let base = if r.valid_base { valid_base() } else { HeaderMap::new() };
    let headers = header_map(base, &r.headers);
    let mut head = RequestHead::new(&method, version, &uri, &headers);
    head.protocol = r.protocol.as_deref();
    let Ok(mut accept) = validate(&head) else { return };
    assert_eq!(
        headers
            .get_all(header::SEC_WEBSOCKET_VERSION)
            .iter()
            .next()
            .map(HeaderValue::as_bytes),
        Some(&b"13"[..])
    );
    let policy = match input.policy.0 % 3 {
        0 => OriginPolicy::SameHost,
        1 => OriginPolicy::Allowed(Arc::from(input.policy.1.clone())),
        _ => OriginPolicy::Any,
    };
    let _ = accept.check_origin(&policy);
    let ours: Vec<HeaderValue> = input
        .ours
        .iter()
        .filter_map(|p| HeaderValue::from_str(p).ok())
        .collect();
    let requested: Vec<HeaderValue> = accept.requested_protocols().cloned().collect();
    if let Some(chosen) = accept.select_protocol(&ours) {
        assert!(ours.contains(chosen) && requested.contains(chosen), "chose {chosen:?}");
    }
    let (level, window, peer, takeover, peer_takeover) = input.deflate;
    let deflate = deflate_config(level, window, peer, takeover, peer_takeover);
    accept.negotiate_deflate(deflate.as_ref());
    let mut response: Response<()> = accept.response();
    if version == Version::HTTP_2 {
        assert_eq!(method, Method::CONNECT);
        return assert_eq!(response.status(), StatusCode::OK);
    }
    // RFC 6455 §4.2.1: a GET with Upgrade: websocket, Connection: Upgrade
    // and a 16-byte key in base64 (24 characters ending "==").
    assert_eq!((method, version), (Method::GET, Version::HTTP_11));
    assert!(header_has_token(&headers, &header::UPGRADE, "websocket"));
    assert!(header_has_token(&headers, &header::CONNECTION, "upgrade"));
    let key = headers.get(header::SEC_WEBSOCKET_KEY).unwrap();
    assert!(key.len() == 24 && key.as_bytes().ends_with(b"=="), "key {key:?}");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    // Our client, which offered what was requested, takes the answer.
    response.headers_mut().remove(header::SEC_WEBSOCKET_EXTENSIONS);
    let chosen = verify(&response, key, &requested).expect("our client refused our server's answer");
    assert_eq!(chosen.as_ref(), accept.protocol());
}

fn client((status, pairs, random, offered, valid_base): &(u16, Vec<(u8, Vec<u8>)>, [u8; 16], Vec<String>, bool)) {
    let key = new_key(*random);
    let mut base = HeaderMap::new();
    if *valid_base {
        base.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        base.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        base.insert(
            header::SEC_WEBSOCKET_ACCEPT,
            HeaderValue::from_str(&accept_key(key.as_bytes())).unwrap(),
        );
    }
    let mut response = Response::new(());
    *response.headers_mut() = header_map(base, pairs);
    *response.status_mut() = StatusCode::from_u16(100 + status % 500).unwrap_or(StatusCode::SWITCHING_PROTOCOLS);
    let offered: Vec<HeaderValue> = offered.iter().filter_map(|p| HeaderValue::from_str(p).ok()).collect();
    let Ok(protocol) = verify(&response, &key, &offered) else {
        return;
    };
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let accept = response.headers().get(header::SEC_WEBSOCKET_ACCEPT).unwrap();
    assert_eq!(accept.as_bytes(), accept_key(key.as_bytes()).as_bytes());
    assert!(protocol.is_none_or(|p| offered.contains(&p)));
}

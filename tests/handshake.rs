//! Requests that are not valid upgrades get a clear 4xx naming the rule.

mod common;

use hyperws::Config;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(method: &str, headers: &[&str]) -> String {
    let mut text = format!("{method} /chat HTTP/1.1\r\nHost: localhost\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text + "\r\n"
}

fn valid_headers() -> Vec<&'static str> {
    vec![
        "Upgrade: websocket",
        "Connection: keep-alive, Upgrade",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ]
}

#[tokio::test]
async fn a_valid_request_gets_101_with_the_accept_key() {
    let addr = common::serve(Config::default(), common::echo).await;
    let response = common::raw_http(addr, &request("GET", &valid_headers())).await;
    assert!(
        response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{response}"
    );
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{response}"
    );
    assert!(lower.contains("upgrade: websocket"), "{response}");
    assert!(KEY.len() == 24);
}

#[tokio::test]
async fn each_invalid_request_is_refused_with_its_rule() {
    let addr = common::serve(Config::default(), common::echo).await;
    let without = |name: &str| {
        valid_headers()
            .into_iter()
            .filter(|h| !h.starts_with(name))
            .collect::<Vec<_>>()
    };
    let with = |name: &str, replacement: &'static str| {
        let mut headers = without(name);
        headers.push(replacement);
        headers
    };
    let cases = [
        (request("POST", &valid_headers()), "405", "GET method"),
        (request("GET", &without("Upgrade")), "400", "`Upgrade: websocket`"),
        (
            request("GET", &with("Connection", "Connection: keep-alive")),
            "400",
            "`Connection: upgrade`",
        ),
        (
            request("GET", &with("Sec-WebSocket-Key", "Sec-WebSocket-Key: c2hvcnQ=")),
            "400",
            "16 bytes",
        ),
        (
            request("GET", &with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")),
            "426",
            "version 13",
        ),
    ];
    for (request, status, rule) in cases {
        let response = common::raw_http(addr, &request).await;
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{request}\n=> {response}"
        );
        assert!(response.contains(rule), "{request}\n=> {response}");
        if status == "426" {
            assert!(
                response.to_ascii_lowercase().contains("sec-websocket-version: 13"),
                "{response}"
            );
        }
    }
}

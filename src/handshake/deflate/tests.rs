//! RFC 7692 §7.1's rules for offers and answers, one test per rule.

use http::header::{HeaderMap, HeaderValue, SEC_WEBSOCKET_EXTENSIONS};

use super::*;

fn server(offers: &[&'static str]) -> Option<String> {
    server_with(offers, &DeflateConfig::default())
}

fn server_with(offers: &[&'static str], config: &DeflateConfig) -> Option<String> {
    let values: Vec<HeaderValue> = offers.iter().map(|o| HeaderValue::from_static(o)).collect();
    accept_offer(&values, config).map(|params| params.to_string())
}

fn client(answer: &[&'static str], config: &DeflateConfig) -> Result<Option<DeflateParams>, UpgradeError> {
    let mut headers = HeaderMap::new();
    for value in answer {
        headers.append(SEC_WEBSOCKET_EXTENSIONS, HeaderValue::from_static(value));
    }
    check_answer(&headers, Some(config))
}

#[test]
fn a_plain_offer_is_accepted_and_the_server_asks_the_client_to_reset() {
    // The server default keeps no inflater between messages (§7.1.1.2).
    assert_eq!(
        server(&["permessage-deflate"]).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    let keep = DeflateConfig::default().peer_context_takeover(true);
    assert_eq!(
        server_with(&["permessage-deflate"], &keep).as_deref(),
        Some("permessage-deflate")
    );
}

#[test]
fn the_first_acceptable_offer_wins_in_one_header_or_many() {
    // Autobahn 13.7.x: several offers, the first ones unacceptable.
    let expected = Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=10".to_owned());
    let one_header = "permessage-deflate; server_max_window_bits=8, x-webkit-deflate-frame, \
                      permessage-deflate; server_max_window_bits=10, permessage-deflate";
    assert_eq!(server(&[one_header]), expected);
    let many = [
        "permessage-deflate; server_max_window_bits=8",
        "x-webkit-deflate-frame",
        "permessage-deflate; server_max_window_bits=10",
    ];
    assert_eq!(server(&many), expected);
}

#[test]
fn unknown_repeated_or_malformed_parameters_decline_that_offer_only() {
    for bad in [
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits=\"10",
    ] {
        assert_eq!(server(&[bad]), None, "{bad}");
        assert!(
            server(&[bad, "permessage-deflate"]).is_some(),
            "{bad} then a good offer"
        );
    }
}

#[test]
fn an_eight_bit_server_window_is_declined_never_compressed_with() {
    assert_eq!(server(&["permessage-deflate; server_max_window_bits=8"]), None);
}

#[test]
fn window_bits_are_answered_no_larger_than_offered() {
    let small = DeflateConfig::default().window_bits(11).peer_window_bits(9);
    assert_eq!(
        server_with(
            &["permessage-deflate; server_max_window_bits=12; client_max_window_bits"],
            &small
        )
        .as_deref(),
        Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=9")
    );
    // The client's hint is honoured: the answer never exceeds it.
    assert_eq!(
        server(&["permessage-deflate; client_max_window_bits=\"10\""]).as_deref(),
        Some("permessage-deflate; client_no_context_takeover; client_max_window_bits=10")
    );
    // §7.1.2.2: not offered, so not answered, whatever we would like.
    assert_eq!(
        server_with(&["permessage-deflate"], &small).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
}

#[test]
fn context_takeover_requests_are_honoured() {
    assert_eq!(
        server(&["permessage-deflate; server_no_context_takeover; client_no_context_takeover"]).as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    );
    let reset = DeflateConfig::default().context_takeover(false);
    assert_eq!(
        server_with(&["permessage-deflate"], &reset).as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    );
}

#[test]
fn other_extensions_are_ignored_by_the_server() {
    assert_eq!(server(&["x-webkit-deflate-frame; no_context_takeover"]), None);
    assert_eq!(server(&[]), None);
}

#[test]
fn the_client_offers_what_its_config_says() {
    assert_eq!(
        offer(&DeflateConfig::default()),
        "permessage-deflate; client_max_window_bits, \
         permessage-deflate; client_no_context_takeover; client_max_window_bits"
    );
    let custom = DeflateConfig::default()
        .peer_context_takeover(false)
        .context_takeover(false)
        .peer_window_bits(10)
        .window_bits(12);
    assert_eq!(
        offer(&custom),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=12"
    );
}

#[test]
fn the_client_takes_a_valid_answer() {
    let config = DeflateConfig::default();
    assert_eq!(client(&[], &config), Ok(None));
    let params = client(
        &["permessage-deflate; server_no_context_takeover; client_max_window_bits=8"],
        &config,
    )
    .unwrap()
    .unwrap();
    assert!(params.server_no_context_takeover);
    assert_eq!(params.client_max_window_bits, Some(8));
    // A smaller server window than we asked for is the server's choice.
    assert!(client(&["permessage-deflate; server_max_window_bits=9"], &config).is_ok());
}

#[test]
fn the_client_fails_an_invalid_answer() {
    let config = DeflateConfig::default().window_bits(12).peer_window_bits(10);
    for bad in [
        "x-webkit-deflate-frame",
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; server_max_window_bits=10; foo",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        // §7.1.2.2: a response's client_max_window_bits needs a value, at most ours.
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=13",
        // §7.1.2.1: we asked for at most 10; the answer must say so.
        "permessage-deflate; server_max_window_bits=11",
        "permessage-deflate",
    ] {
        assert!(client(&[bad], &config).is_err(), "{bad}");
    }
    // We offered nothing: any extension is unoffered.
    let mut headers = HeaderMap::new();
    headers.insert(SEC_WEBSOCKET_EXTENSIONS, HeaderValue::from_static("permessage-deflate"));
    assert_eq!(check_answer(&headers, None), Err(UpgradeError::UnofferedExtension));
}

//! `Sec-WebSocket-Extensions` negotiation (RFC 7692 §7.1).
//!
//! - Any header values, as a client's offers to the server or as a server's
//!   answer to our client: no panic, and whatever is accepted is within
//!   the ranges §7.1.2 allows.
//! - Differential: for any client and server configs, the server's answer
//!   to our client's own offer passes the client's check and states the
//!   same parameters.
#![no_main]

use arbitrary::Arbitrary;
use http::header::{HeaderMap, HeaderValue, SEC_WEBSOCKET_EXTENSIONS};
use hyperws::handshake::internals::{accept_offer, check_answer, offer};
use hyperws::proto::Role;
use hyperws::{DeflateConfig, DeflateParams};
use hyperws_fuzz::deflate_config;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Side {
    level: u8,
    window: u8,
    peer_window: u8,
    takeover: bool,
    peer_takeover: Option<bool>,
}

impl Side {
    fn config(&self) -> Option<DeflateConfig> {
        deflate_config(
            self.level,
            self.window,
            self.peer_window,
            self.takeover,
            self.peer_takeover,
        )
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    client: Side,
    server: Side,
    values: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let (Some(client), Some(server)) = (input.client.config(), input.server.config()) else {
        return;
    };
    arbitrary_values(&input.values, &client, &server);
    our_offer(&client, &server);
});

fn arbitrary_values(values: &[Vec<u8>], client: &DeflateConfig, server: &DeflateConfig) {
    let values: Vec<HeaderValue> = values.iter().filter_map(|v| HeaderValue::from_bytes(v).ok()).collect();
    if let Some(params) = accept_offer(&values, server) {
        assert_in_range(&params);
        // We never agree to compress with a window below 9 bits.
        assert!(params.max_window_bits(Role::Server) >= 9, "{params}");
        assert!(
            params.max_window_bits(Role::Server) <= server.own_window_bits(),
            "{params}"
        );
    }
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(SEC_WEBSOCKET_EXTENSIONS, value);
    }
    if let Ok(Some(params)) = check_answer(&headers, Some(client)) {
        assert_in_range(&params);
        assert!(
            params.max_window_bits(Role::Server) <= client.requested_peer_window_bits(),
            "{params}"
        );
    }
}

fn our_offer(client: &DeflateConfig, server: &DeflateConfig) {
    let offer = offer(client);
    let Some(agreed) = accept_offer([&offer], server) else {
        // Declined only for the one reason §7.1.2.1 leaves: an 8-bit window.
        assert_eq!(client.requested_peer_window_bits(), 8, "{offer:?} declined");
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        SEC_WEBSOCKET_EXTENSIONS,
        HeaderValue::from_str(&agreed.to_string()).unwrap(),
    );
    let checked = check_answer(&headers, Some(client));
    assert_eq!(checked, Ok(Some(agreed)), "{offer:?} answered {agreed}");
    // The client's wishes hold.
    assert!(agreed.max_window_bits(Role::Server) <= client.requested_peer_window_bits());
    if !client.lets_peer_keep_context(Role::Client) {
        assert!(agreed.server_no_context_takeover);
    }
}

fn assert_in_range(params: &DeflateParams) {
    for bits in [params.server_max_window_bits, params.client_max_window_bits]
        .into_iter()
        .flatten()
    {
        assert!((8..=15).contains(&bits), "{params}");
    }
}

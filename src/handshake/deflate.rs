//! Negotiating permessage-deflate (RFC 7692 §7.1) in
//! `Sec-WebSocket-Extensions`: the server's choice among a client's offers,
//! the client's offer, and the client's check of the server's answer. Every
//! door and the client go through these three functions.

use std::fmt::Write;

use http::header::{self, HeaderMap, HeaderValue};

use super::client::UpgradeError;
use crate::proto::deflate::params::{MIN_COMPRESS_WINDOW, WINDOW_BITS};
use crate::proto::deflate::{DeflateConfig, DeflateParams};
use crate::proto::Role;

const NAME: &str = "permessage-deflate";

/// The parameters of one `permessage-deflate` element, each at most once.
#[derive(Debug, Default, PartialEq, Eq)]
struct Element {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: ClientWindow,
}

/// `client_max_window_bits`, which an offer may state without a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ClientWindow {
    #[default]
    Absent,
    /// Present; `None` without a value (allowed in an offer only).
    Present(Option<u8>),
}

/// The server's side: the first of the client's offers it can accept, or
/// `None` to answer without the extension. An offer with an unknown,
/// repeated or malformed parameter is skipped, not the request (RFC 7692
/// §5: "the server ... MUST decline an offer it does not understand").
pub fn accept_offer<'a>(
    offers: impl IntoIterator<Item = &'a HeaderValue>,
    config: &DeflateConfig,
) -> Option<DeflateParams> {
    extension_elements(offers)
        .filter(|(name, _)| *name == NAME)
        .filter_map(|(_, params)| parse_element(params))
        .find_map(|offer| answer(&offer, config))
}

/// The parameters the server answers `offer` with, or `None` to decline it.
fn answer(offer: &Element, config: &DeflateConfig) -> Option<DeflateParams> {
    // §7.1.2.1: we must compress with at most the window the client asked
    // for; below 9 no zlib-family compressor can, so decline the offer.
    let server_bits = offer
        .server_max_window_bits
        .map_or(config.own_window_bits(), |asked| asked.min(config.own_window_bits()));
    if server_bits < MIN_COMPRESS_WINDOW {
        return None;
    }
    // §7.1.2.2: "If a received extension negotiation offer doesn't have the
    // "client_max_window_bits" extension parameter, the corresponding
    // extension negotiation response to the offer MUST NOT include" it.
    let client_max_window_bits = match offer.client_max_window_bits {
        ClientWindow::Absent => None,
        ClientWindow::Present(hint) => {
            let bits = config.requested_peer_window_bits().min(hint.unwrap_or(15));
            (bits < 15 || hint.is_some()).then_some(bits)
        }
    };
    Some(DeflateParams {
        // §7.1.1.1: accepted by echoing it; we may also add it ourselves.
        server_no_context_takeover: offer.server_no_context_takeover || !config.keeps_context(),
        // §7.1.1.2: a server may ask the client to reset, offered or not.
        client_no_context_takeover: offer.client_no_context_takeover || !config.lets_peer_keep_context(Role::Server),
        // §7.1.2.1: accepted by answering with "the same or smaller value".
        server_max_window_bits: offer.server_max_window_bits.map(|_| server_bits),
        client_max_window_bits,
    })
}

/// The client's side: the offer to send. When we keep our context, a
/// second offer follows that also says we accept being asked not to:
/// servers in the Autobahn family ask for `client_no_context_takeover` only
/// of a client whose offer carries it, and would otherwise not compress at
/// all. A server that follows RFC 7692 takes the first.
///
/// # Panics
/// Never: the offer is tokens and digits, a valid header value.
#[must_use]
pub fn offer(config: &DeflateConfig) -> HeaderValue {
    let mut offer = one_offer(config, !config.keeps_context());
    if config.keeps_context() {
        offer.push_str(", ");
        offer.push_str(&one_offer(config, true));
    }
    HeaderValue::try_from(offer).expect("tokens and digits are a valid header value")
}

fn one_offer(config: &DeflateConfig, client_no_context_takeover: bool) -> String {
    let mut offer = String::from(NAME);
    if !config.lets_peer_keep_context(Role::Client) {
        offer.push_str("; server_no_context_takeover");
    }
    if client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if config.requested_peer_window_bits() < 15 {
        let _ = write!(
            offer,
            "; server_max_window_bits={}",
            config.requested_peer_window_bits()
        );
    }
    // Tells the server we accept a smaller window for our own compressor.
    offer.push_str("; client_max_window_bits");
    if config.own_window_bits() < 15 {
        let _ = write!(offer, "={}", config.own_window_bits());
    }
    offer
}

/// The client's check of the server's answer to [`offer`]: the agreed
/// parameters, `None` if the server declined, or why the answer is invalid
/// (RFC 7692 §7.1: the client "MUST _Fail the WebSocket Connection_").
pub fn check_answer(
    headers: &HeaderMap,
    config: Option<&DeflateConfig>,
) -> Result<Option<DeflateParams>, UpgradeError> {
    let mut elements = extension_elements(headers.get_all(header::SEC_WEBSOCKET_EXTENSIONS));
    let Some((name, params)) = elements.next() else {
        return Ok(None);
    };
    // We offered one extension, once: anything else was not offered.
    let (Some(config), NAME, None) = (config, name, elements.next()) else {
        return Err(UpgradeError::UnofferedExtension);
    };
    let answer = parse_element(params).ok_or(UpgradeError::InvalidExtensionAnswer)?;
    let asked_server_bits = config.requested_peer_window_bits();
    let server_bits_ok = match answer.server_max_window_bits {
        Some(bits) => bits <= asked_server_bits,
        None => asked_server_bits == 15,
    };
    // §7.1.2.2: a response's client_max_window_bits must carry a value, no
    // larger than the one we offered.
    let client_bits = match answer.client_max_window_bits {
        ClientWindow::Absent => None,
        ClientWindow::Present(Some(bits)) if bits <= config.own_window_bits() => Some(bits),
        ClientWindow::Present(_) => return Err(UpgradeError::InvalidExtensionAnswer),
    };
    if !server_bits_ok {
        return Err(UpgradeError::InvalidExtensionAnswer);
    }
    Ok(Some(DeflateParams {
        server_no_context_takeover: answer.server_no_context_takeover,
        client_no_context_takeover: answer.client_no_context_takeover,
        server_max_window_bits: answer.server_max_window_bits,
        client_max_window_bits: client_bits,
    }))
}

/// Reads one element's parameters; `None` if any is unknown, repeated or
/// has a bad value.
fn parse_element<'a>(params: impl Iterator<Item = Param<'a>>) -> Option<Element> {
    let mut element = Element::default();
    for (name, value) in params {
        let repeated = match (name, value.as_deref()) {
            ("server_no_context_takeover", None) => std::mem::replace(&mut element.server_no_context_takeover, true),
            ("client_no_context_takeover", None) => std::mem::replace(&mut element.client_no_context_takeover, true),
            ("server_max_window_bits", Some(bits)) => {
                element.server_max_window_bits.replace(window_bits(bits)?).is_some()
            }
            ("client_max_window_bits", bits) => {
                let bits = bits.map(window_bits).map_or(Some(None), |b| b.map(Some))?;
                let before = std::mem::replace(&mut element.client_max_window_bits, ClientWindow::Present(bits));
                before != ClientWindow::Absent
            }
            _ => return None,
        };
        if repeated {
            return None;
        }
    }
    Some(element)
}

/// RFC 7692 §7.1.2.1: "a decimal integer value without leading zeroes
/// between 8 to 15, inclusive".
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || value.len() > 2 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| WINDOW_BITS.contains(bits))
}

/// A parameter: its name and, if given, its value (unquoted).
type Param<'a> = (&'a str, Option<String>);

/// The elements of `Sec-WebSocket-Extensions` headers' values, in order, each
/// as its name and parameters (RFC 6455 §9.1). An element that does not
/// parse is reported with an unknown parameter, so that it is declined.
fn extension_elements<'a>(
    values: impl IntoIterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = (&'a str, std::vec::IntoIter<Param<'a>>)> {
    values
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| split_unquoted(list, ','))
        .filter(|element| !element.trim().is_empty())
        .map(|element| {
            let mut parts = split_unquoted(element, ';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let params: Vec<Param<'_>> = parts.map(parse_param).collect();
            (name, params.into_iter())
        })
}

/// `name` or `name=value` or `name="value"`; a malformed one gets a name no
/// extension knows.
fn parse_param(param: &str) -> Param<'_> {
    let Some((name, value)) = param.split_once('=') else {
        return (param, None);
    };
    let value = value.trim();
    let unquoted = match value.strip_prefix('"') {
        Some(rest) => match rest.strip_suffix('"') {
            Some(inner) => inner.replace('\\', ""),
            None => return ("(malformed)", None),
        },
        None => value.to_owned(),
    };
    (name.trim(), Some(unquoted))
}

/// Splits at `separator` where it is outside a quoted string.
fn split_unquoted(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut escaped = false;
    text.split(move |c: char| {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ => return c == separator && !quoted,
        }
        false
    })
}

#[cfg(test)]
mod tests;

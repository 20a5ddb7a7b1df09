//! What a compressed connection keeps between messages and once it goes
//! quiet, counted in live heap bytes (dhat's allocator, so the allocator's
//! own caching does not blur it), with each preset. Alone in its file: the
//! allocator is process-wide.
#![cfg(feature = "deflate")]

use std::time::{Duration, Instant};

use hyperws::proto::{Connection, Role};
use hyperws::{Config, DeflateConfig, DeflateParams, Message};

mod common;
use common::take_output;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn json() -> String {
    let record = r#"{"id":12345,"user":"ada","status":"online","rooms":["general","rust"]},"#;
    format!("[{}]", record.repeat(14))
}

/// Live heap bytes a server connection holds once it has received and
/// echoed one 1 KiB message: between messages, then after a quiet
/// heartbeat interval. The thread's shared compressor and inflater are
/// warmed first: they are the thread's, not the connection's. (A warm-up
/// connection stays open meanwhile, so a connection that keeps a
/// compressor of its own allocates it.)
fn server_bytes(params: Option<DeflateParams>, settings: &DeflateConfig) -> (usize, usize) {
    let (config, start) = (Config::default(), Instant::now());
    let with = |conn: Connection| match params {
        Some(params) => conn.with_deflate(params, settings),
        None => conn,
    };
    let wire = {
        let mut client = with(Connection::new(Role::Client, &config, start));
        client.send(Message::text(json())).unwrap();
        take_output(&mut client)
    };
    let echo = |server: &mut Connection| {
        server.handle_bytes(&wire, start);
        let message = server.poll_message().expect("the message");
        server.send(message).unwrap();
        drop(take_output(server));
    };
    let mut warm = with(Connection::new(Role::Server, &config, start));
    echo(&mut warm);
    let baseline = dhat::HeapStats::get().curr_bytes;
    let mut server = with(Connection::new(Role::Server, &config, start));
    echo(&mut server);
    let between = dhat::HeapStats::get().curr_bytes - baseline;
    // Quiet: the clocks look twice with nothing sent between.
    server.handle_timeout(start + Duration::from_secs(31));
    server.handle_timeout(start + Duration::from_secs(32));
    let quiet = dhat::HeapStats::get().curr_bytes - baseline;
    // A released compressor may go to the thread (one idle per setting):
    // what the connection still holds is checked directly.
    let peer_keeps = params.is_some_and(|p| !p.client_no_context_takeover);
    assert_eq!(
        server.holds_deflate_memory(),
        peer_keeps,
        "quiet: only the peer's context stays"
    );
    drop(warm);
    (between, quiet)
}

/// The least of three runs: the allocator counts the whole process, and a
/// lazily built global (the test harness's, a library's) allocated during
/// one run is not this connection's.
fn least_of_three(params: DeflateParams, settings: &DeflateConfig) -> (usize, usize) {
    let runs: Vec<(usize, usize)> = (0..3).map(|_| server_bytes(Some(params), settings)).collect();
    (
        runs.iter().map(|r| r.0).min().unwrap(),
        runs.iter().map(|r| r.1).min().unwrap(),
    )
}

#[test]
fn a_compressed_connection_holds_its_context_not_a_compressor() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let (plain_between, plain_quiet) = server_bytes(None, &DeflateConfig::default());
    // The server's defaults: it asks the client not to keep context.
    let server_defaults = DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    let both_fresh = DeflateParams {
        server_no_context_takeover: true,
        ..server_defaults
    };
    let peer_keeps = DeflateParams::default();
    let balanced = least_of_three(server_defaults, &DeflateConfig::balanced());
    let least = least_of_three(both_fresh, &DeflateConfig::least_memory());
    let held = least_of_three(server_defaults, &DeflateConfig::smallest_on_wire());
    let both_kept = least_of_three(peer_keeps, &DeflateConfig::balanced().peer_context_takeover(true));
    println!(
        "live heap bytes (between messages, quiet): plain {plain_between}, {plain_quiet}; balanced {balanced:?}; \
         least memory {least:?}; smallest on wire {held:?}; balanced, peer keeps context {both_kept:?}"
    );
    let json = json().len();
    // Our context: the 1 KiB message sent, parked.
    assert!(balanced.0 <= plain_between + json + 320, "balanced: {balanced:?}");
    assert!(least.0 <= plain_between + 320, "least memory: {least:?}");
    assert!(
        held.0 > plain_between + (100 << 10),
        "a kept compressor is counted: {held:?}"
    );
    // Ours and the peer's: the message received, parked too (its buffer
    // grows by doubling, so up to twice what it holds).
    assert!(
        both_kept.0 <= plain_between + 3 * json + 512,
        "peer keeps context: {both_kept:?}"
    );
    // Quiet: ours is dropped; the peer's must stay, as it may refer to it.
    // What remains is the extension's own state (~270 bytes).
    for quiet in [balanced.1, least.1] {
        assert!(quiet <= plain_quiet + 320, "quiet: {quiet} bytes, plain {plain_quiet}");
    }
    assert!(
        both_kept.1 <= plain_quiet + 2 * json + 320,
        "quiet, peer keeps context: {both_kept:?}"
    );
}

//! What a compressed connection keeps once it goes quiet, counted in live
//! heap bytes (dhat's allocator, so the allocator's own caching does not
//! blur it): within 1 KB of an uncompressed connection, though while
//! active it holds a compressor and an inflater. Alone in its file: the
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

/// Live heap bytes a server connection holds (active, then after a quiet
/// heartbeat interval) once it has received and echoed one 1 KiB message.
fn server_bytes(params: Option<DeflateParams>) -> (usize, usize) {
    let (config, start) = (Config::default(), Instant::now());
    let settings = DeflateConfig::default();
    let with = |conn: Connection| match params {
        Some(params) => conn.with_deflate(params, &settings),
        None => conn,
    };
    let wire = {
        let mut client = with(Connection::new(Role::Client, &config, start));
        client.send(Message::text(json())).unwrap();
        take_output(&mut client)
    };
    let baseline = dhat::HeapStats::get().curr_bytes;
    let mut server = with(Connection::new(Role::Server, &config, start));
    server.handle_bytes(&wire, start);
    let message = server.poll_message().expect("the message");
    server.send(message).unwrap();
    drop(take_output(&mut server));
    let active = dhat::HeapStats::get().curr_bytes - baseline;
    server.handle_timeout(start + Duration::from_secs(31));
    let quiet = dhat::HeapStats::get().curr_bytes - baseline;
    assert!(!server.holds_deflate_memory());
    (active, quiet)
}

#[test]
fn a_quiet_compressed_connection_holds_within_1_kb_of_a_plain_one() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let (plain_active, plain_quiet) = server_bytes(None);
    // The server's defaults: it asks the client not to keep context.
    let params = DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    // The least of three runs: the allocator counts the whole process, and
    // a lazily built global (the test harness's, a library's) allocated
    // during one run is not this connection's.
    let runs: Vec<(usize, usize)> = (0..3).map(|_| server_bytes(Some(params))).collect();
    let active = runs.iter().map(|r| r.0).min().unwrap();
    let quiet = runs.iter().map(|r| r.1).min().unwrap();
    println!(
        "live heap bytes: plain {plain_active} active, {plain_quiet} quiet; compressed {active} active, {quiet} quiet"
    );
    assert!(
        active > plain_active + (100 << 10),
        "the compressor is counted while active"
    );
    assert!(
        quiet <= plain_quiet + 1000,
        "quiet: compressed {quiet} bytes, plain {plain_quiet}"
    );
}

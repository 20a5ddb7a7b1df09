//! A refused `Origin` is logged at WARN with what would allow it.
//!
//! This file holds one test on purpose: it captures `tracing` output, and
//! tracing caches per call site whether anyone listens, which a test on
//! another thread with no subscriber can race (it did, under load, in CI).

mod common;

use hyperws::Config;

#[tokio::test]
async fn a_refused_origin_is_logged_with_what_would_allow_it() {
    let (log, _guard) = common::capture_logs();
    let addr = common::serve(Config::default(), common::echo).await;
    assert_eq!(
        common::upgrade_status(addr, "/chat", Some("http://127.0.0.1:3000")).await,
        "403"
    );
    let logged = log.text();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(
        logged.contains("Origin http://127.0.0.1:3000 may not connect"),
        "{logged}"
    );
    assert!(
        logged.contains("(localhost)") && logged.contains("allowed_origins"),
        "{logged}"
    );
    assert!(logged.contains("path=/chat"), "{logged}");
}

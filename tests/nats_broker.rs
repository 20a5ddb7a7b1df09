//! Topics through a real `nats-server` (feature `nats`), started, killed
//! and restarted by the tests: the same checks as Redis'. With history
//! (`JetStream`): every node agrees on positions, a guest recovers on another
//! node, a server restarted with its data recovers what was kept and one
//! that lost it is reported. Without (core NATS): every node hears every
//! publication once, and an outage is one gap per topic. Health and close.
//!
//! `cargo test --features nats --test nats_broker`

#![cfg(feature = "nats")]

mod common;

use std::time::Duration;

use common::nats::{start_nats, store};
use common::process::free_addr;
use common::stamped::{next, stamped};
use hyperws::topics::{NatsBroker, Position, Recovery, Retention, Subscribe, Topics};
use hyperws::{Config, Message, WebSocket};
use tokio::io::DuplexStream;

fn node(port: u16, history: bool) -> Topics {
    let builder = stamped(Topics::builder().broker(NatsBroker::new(&format!("nats://127.0.0.1:{port}"))));
    let builder = if history {
        builder.history(Retention::new(1000, Duration::from_secs(60)).unwrap())
    } else {
        builder
    };
    builder.build().unwrap()
}

/// A subscribed guest whose server socket is polled by its own task.
async fn guest(topics: &Topics, since: Option<Position>) -> (WebSocket<DuplexStream>, Recovery) {
    let (mut server, client) = hyperws::testing::pair(&Config::default());
    let recovery = if let Some(since) = since {
        server.subscribe_from(topics, "room", since).await.unwrap()
    } else {
        server.subscribe(topics, "room").unwrap();
        Recovery::Complete { replayed: 0 }
    };
    tokio::spawn(async move { while let Some(Ok(_)) = server.recv().await {} });
    (client, recovery)
}

/// Publishes `line` through `topics` until `client` hears it (a node's
/// live listener may still be starting), then lets the extra copies
/// arrive: the position of the first it heard.
async fn heard(topics: &Topics, client: &mut WebSocket<DuplexStream>, line: &str) -> Position {
    for _ in 0..50 {
        topics.publish("room", Message::text(line)).unwrap();
        if let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(Duration::from_millis(200), client.recv()).await
        {
            let (position, said) = text.split_once(' ').unwrap();
            assert_eq!(said, line);
            return drain(client, line).await.unwrap_or_else(|| position.parse().unwrap());
        }
    }
    panic!("{line:?} was never heard");
}

/// Reads the copies of `line` that `heard` may have left, until quiet:
/// the last one's position.
async fn drain(client: &mut WebSocket<DuplexStream>, line: &str) -> Option<Position> {
    let mut last = None;
    while let Ok(message) = tokio::time::timeout(Duration::from_millis(500), client.recv()).await {
        let Some(Ok(Message::Text(text))) = message else {
            panic!("{message:?}")
        };
        let (position, said) = text.split_once(' ').unwrap();
        assert_eq!(said, line, "only copies of {line:?}");
        last = Some(position.parse().unwrap());
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_agrees_on_positions_and_a_guest_recovers_on_another_node() {
    let port = free_addr().port();
    let _nats = start_nats(port, &store("agree")).await;
    let (a, b, c) = (node(port, true), node(port, true), node(port, true));
    let (mut on_a, _) = guest(&a, None).await;
    let (mut on_c, _) = guest(&c, None).await;
    // Each node's listener starts on its own: wait for both to hear.
    heard(&b, &mut on_c, "C is listening").await;
    drain(&mut on_a, "C is listening").await;
    heard(&b, &mut on_a, "A is listening").await;
    drain(&mut on_c, "A is listening").await;
    let first = heard(&b, &mut on_a, "first").await;
    assert_eq!(
        drain(&mut on_c, "first").await,
        Some(first),
        "node C heard the same copies"
    );
    for i in 0..50 {
        b.publish("room", Message::text(format!("line {i}"))).unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen.push(next(&mut on_c).await);
    }
    for (i, (position, line)) in seen.iter().enumerate() {
        assert_eq!(line, &format!("line {i}"));
        assert_eq!(
            next(&mut on_a).await,
            (*position, line.clone()),
            "node A, same position"
        );
    }
    // A guest of node A saw `first`; it comes back through node C.
    let (mut back, recovery) = guest(&c, Some(first)).await;
    assert_eq!(recovery, Recovery::Complete { replayed: 50 });
    for i in 0..50 {
        assert_eq!(next(&mut back).await.1, format!("line {i}"));
    }
    a.publish("room", Message::text("live")).unwrap();
    assert_eq!(next(&mut back).await.1, "live", "then live, nothing doubled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_that_keeps_the_data_loses_nothing_and_one_that_loses_it_is_reported() {
    let port = free_addr().port();
    let dir = store("restart");
    let nats = start_nats(port, &dir).await;
    let (a, b) = (node(port, true), node(port, true));
    let (mut on_a, _) = guest(&a, None).await;
    let before = heard(&b, &mut on_a, "before").await;

    drop(nats); // killed; its JetStream data stays in `dir`
    let nats = start_nats(port, &dir).await;
    let after = heard(&b, &mut on_a, "after").await;
    assert_eq!(after.epoch(), before.epoch(), "the same history");
    assert_eq!(a.broker_health().gaps, 0);
    let (mut back, recovery) = guest(&a, Some(before)).await;
    assert!(recovery.is_complete(), "{recovery:?}");
    let mut replayed = Vec::new();
    while let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(Duration::from_millis(300), back.recv()).await {
        replayed.push(text.to_string());
    }
    assert!(
        replayed.last().is_some_and(|line| line.ends_with(" after")),
        "{replayed:?}"
    );

    drop(nats);
    std::fs::remove_dir_all(&dir).unwrap(); // its data is lost
    let _nats = start_nats(port, &store("restart")).await;
    let renewed = heard(&b, &mut on_a, "renewed").await;
    assert_ne!(renewed.epoch(), before.epoch(), "a new history, a new epoch");
    let (_back, recovery) = guest(&a, Some(after)).await;
    assert_eq!(recovery, Recovery::EpochChanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_nats_fans_out_once_and_reports_one_gap_per_outage() {
    let port = free_addr().port();
    let dir = store("core");
    let nats = start_nats(port, &dir).await;
    let (a, b) = (node(port, false), node(port, false));
    let (mut on_a, _) = guest(&a, None).await;
    let (mut on_b, _) = guest(&b, None).await;
    heard(&b, &mut on_a, "hello").await;
    assert!(drain(&mut on_b, "hello").await.is_some());
    for i in 0..20 {
        a.publish("room", Message::text(i.to_string())).unwrap();
    }
    for i in 0..20 {
        assert_eq!(next(&mut on_b).await.1, i.to_string(), "once each, in order");
        assert_eq!(next(&mut on_a).await.1, i.to_string(), "its own node too, once");
    }
    drop(nats);
    let _nats = start_nats(port, &dir).await;
    heard(&b, &mut on_a, "back").await;
    let health = a.broker_health();
    assert_eq!(health.gaps, 1, "{health:?}");
    assert!(health.connected && health.reconnects >= 1, "{health:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_what_was_published_and_close_waits_for_it() {
    let port = free_addr().port();
    let _nats = start_nats(port, &store("health")).await;
    let (a, b) = (node(port, true), node(port, true));
    let (mut on_a, _) = guest(&a, None).await;
    let tries = {
        heard(&b, &mut on_a, "ready").await;
        b.broker_health().published
    };
    for i in 0..10 {
        b.publish("room", Message::text(i.to_string())).unwrap();
    }
    assert!(b.close(Duration::from_secs(10)).await);
    let health = b.broker_health();
    assert_eq!((health.published - tries, health.dropped), (10, 0), "{health:?}");
    b.publish("room", Message::text("after close")).unwrap();
    assert_eq!(b.broker_health().dropped, 1);
    for i in 0..10 {
        assert_eq!(next(&mut on_a).await.1, i.to_string());
    }
}

/// A server that accepts connections and refuses them (as one whose
/// credentials the client lacks): the client waits longer each time,
/// never a tight loop, and says it is not connected.
#[tokio::test]
async fn a_server_that_refuses_every_connection_sees_few_attempts() {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (port, accepted) = common::fake_server::counting(|mut tcp| async move {
        let info = "INFO {\"server_id\":\"fake\",\"version\":\"2.9.10\",\"max_payload\":1048576,\"proto\":1}\r\n";
        let _ = tcp.write_all(info.as_bytes()).await;
        let mut buf = vec![0; 4096];
        let _ = tcp.read(&mut buf).await;
        let _ = tcp.write_all(b"-ERR 'Authorization Violation'\r\n").await;
    })
    .await;
    let topics = node(port, false);
    let (_guest, _) = guest(&topics, None).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let attempts = accepted.load(Ordering::Relaxed);
    // Waits of 0.1, 0.2, 0.4 … 5 s: about 7 attempts in 6 s.
    assert!((2..=12).contains(&attempts), "{attempts} connections in 6 s");
    assert!(!topics.broker_health().connected);
}

//! Topics whose history Redis Streams keep: positions every node agrees
//! on, a guest that moves to another node recovers exactly what it missed,
//! a Redis that lost its data is reported, and a node whose subscribing
//! connection blinked heals from the history instead of reporting a gap.
//! A real `redis-server`, started and restarted by the tests.
//!
//! `cargo test --features redis --test redis_history`

#![cfg(feature = "redis")]

mod common;

use std::time::Duration;

use common::process::free_addr;
use common::redis::{kill_subscribers, start_redis, wait_for};
use common::stamped::{next, stamped};
use hyperws::topics::{Position, Recovery, RedisBroker, Retention, Subscribe, Topics};
use hyperws::{Config, Message, WebSocket};
use tokio::io::DuplexStream;

/// A node: topics through Redis, with history, each line stamped "position line".
fn node(port: u16) -> Topics {
    let broker = RedisBroker::new(&format!("redis://127.0.0.1:{port}")).unwrap();
    stamped(Topics::builder().broker(broker))
        .history(Retention::new(1000, Duration::from_secs(60)).unwrap())
        .build()
        .unwrap()
}

/// A guest's server socket, polled by its own task; its client end.
fn guest() -> (WebSocket<DuplexStream>, WebSocket<DuplexStream>) {
    hyperws::testing::pair(&Config::default())
}

fn poll(mut server: WebSocket<DuplexStream>) {
    tokio::spawn(async move { while let Some(Ok(_)) = server.recv().await {} });
}

async fn lines(client: &mut WebSocket<DuplexStream>, count: usize) -> Vec<(Position, String)> {
    let mut got = Vec::new();
    for _ in 0..count {
        got.push(next(client).await);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_sees_the_same_positions_and_a_guest_recovers_on_another_node() {
    let port = free_addr().port();
    let _redis = start_redis(port);
    let (a, b, c) = (node(port), node(port), node(port));
    let (mut on_a, mut client_a) = guest();
    let (mut on_c, mut client_c) = guest();
    on_a.subscribe(&a, "room").unwrap();
    on_c.subscribe(&c, "room").unwrap();
    poll(on_a);
    wait_for(port, "hyperws:room", 2).await;
    for i in 0..10 {
        let through = if i % 2 == 0 { &a } else { &b };
        through.publish("room", Message::text(format!("line {i}"))).unwrap();
        // In order across publishers: each waits to be heard.
        let _ = next(&mut client_a).await;
    }
    poll(on_c);
    let seen_on_c = lines(&mut client_c, 10).await;
    let offsets: Vec<u64> = seen_on_c.iter().map(|(p, _)| p.offset()).collect();
    assert_eq!(offsets, (1..=10).collect::<Vec<_>>(), "one sequence for every node");
    assert_eq!(a.position("room"), c.position("room"));

    // The guest of node A leaves, having seen line 9.
    let (last_seen, _) = seen_on_c[9].clone();
    drop(client_a);
    for i in 10..60 {
        b.publish("room", Message::text(format!("line {i}"))).unwrap();
    }
    assert!(b.close(Duration::from_secs(10)).await);
    // It comes back through node C.
    let (mut again, mut client) = guest();
    let recovery = again.subscribe_from(&c, "room", last_seen).await.unwrap();
    assert_eq!(recovery, Recovery::Complete { replayed: 50 });
    poll(again);
    a.publish("room", Message::text("live")).unwrap();
    let missed = lines(&mut client, 50).await;
    for (i, (position, line)) in missed.iter().enumerate() {
        assert_eq!(position.offset(), last_seen.offset() + 1 + i as u64);
        assert_eq!(line, &format!("line {}", 10 + i));
    }
    assert_eq!(next(&mut client).await.1, "live", "then live, nothing doubled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_lost_its_data_is_reported_not_misleading() {
    let port = free_addr().port();
    let redis = start_redis(port);
    let a = node(port);
    let (mut on_a, mut client) = guest();
    on_a.subscribe(&a, "room").unwrap();
    poll(on_a);
    wait_for(port, "hyperws:room", 1).await;
    a.publish("room", Message::text("before")).unwrap();
    let (seen, _) = next(&mut client).await;

    drop(redis); // nothing saved: its data is gone
    let _redis = start_redis(port);
    wait_for(port, "hyperws:room", 1).await;
    let mut after = None;
    for i in 0..100 {
        a.publish("room", Message::text(format!("after {i}"))).unwrap();
        if let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(Duration::from_millis(200), client.recv()).await
        {
            after = Some(text.split_once(' ').unwrap().0.parse::<Position>().unwrap());
            break;
        }
    }
    let after = after.expect("publications resume after the restart");
    assert_ne!(after.epoch(), seen.epoch(), "a new history, a new epoch");
    let (mut returning, _client) = guest();
    let recovery = returning.subscribe_from(&a, "room", seen).await.unwrap();
    assert_eq!(recovery, Recovery::EpochChanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_connection_blinked_heals_from_the_history() {
    let port = free_addr().port();
    let _redis = start_redis(port);
    let (listening, publishing) = (node(port), node(port));
    let (mut server, mut client) = guest();
    server.subscribe(&listening, "room").unwrap();
    poll(server);
    wait_for(port, "hyperws:room", 1).await;
    publishing.publish("room", Message::text("0")).unwrap();
    assert_eq!(next(&mut client).await.1, "0");

    kill_subscribers(port).await;
    wait_for(port, "hyperws:room", 0).await;
    for i in 1..=20 {
        publishing.publish("room", Message::text(i.to_string())).unwrap();
    }
    let got = lines(&mut client, 20).await;
    let texts: Vec<String> = got.into_iter().map(|(_, line)| line).collect();
    assert_eq!(texts, (1..=20).map(|i| i.to_string()).collect::<Vec<_>>());
    let health = listening.broker_health();
    assert_eq!(health.gaps, 0, "healed, so no gap: {health:?}");
    assert!(health.reconnects >= 1, "{health:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_while_publications_race_a_recovery_through_redis() {
    let port = free_addr().port();
    let _redis = start_redis(port);
    let (a, b) = (node(port), node(port));
    let (mut first, mut first_client) = guest();
    first.subscribe(&a, "room").unwrap();
    poll(first);
    wait_for(port, "hyperws:room", 1).await;
    b.publish("room", Message::text("start")).unwrap();
    let (since, _) = next(&mut first_client).await;
    let publisher = tokio::spawn(async move {
        for i in 0..2000 {
            b.publish("room", Message::text(i.to_string())).unwrap();
            if i % 50 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        assert!(b.close(Duration::from_secs(10)).await);
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (mut late, mut client) = guest();
    let recovery = late.subscribe_from(&a, "room", since).await.unwrap();
    let Recovery::Complete { replayed } = recovery else {
        panic!("{recovery:?}")
    };
    eprintln!("replayed {replayed}");
    assert!(replayed < 2000, "the rest came live");
    poll(late);
    publisher.await.unwrap();
    for offset in since.offset() + 1..=since.offset() + 2000 {
        assert_eq!(
            next(&mut client).await.0.offset(),
            offset,
            "in order, none lost or doubled"
        );
    }
}

#![cfg(feature = "topics")]
//! Positions and history in one process: a socket that subscribes from a
//! position gets exactly what it missed, in order, then live publications,
//! nothing lost or doubled at the seam; and is told when it cannot.

use std::sync::Arc;
use std::time::Duration;

mod common;

use common::stamped::{next, stamped};
use hyperws::topics::{Policy, Position, Recovery, Retention, SlowConsumer, Subscribe, SubscribeError, Topics};
use hyperws::{Config, Message, WebSocket};
use tokio::io::DuplexStream;

/// Topics keeping `count` publications for a minute, each stamped "position text".
fn topics(count: usize) -> Topics {
    stamped(Topics::builder().history(Retention::new(count, Duration::from_secs(60)).unwrap()))
        .build()
        .unwrap()
}

/// A server socket polled by its own task, and its client.
fn serve() -> (
    Arc<tokio::sync::Mutex<WebSocket<DuplexStream>>>,
    WebSocket<DuplexStream>,
) {
    let (server, client) = hyperws::testing::pair(&Config::default());
    (Arc::new(tokio::sync::Mutex::new(server)), client)
}

fn poll_forever(server: Arc<tokio::sync::Mutex<WebSocket<DuplexStream>>>) {
    tokio::spawn(async move { while let Some(Ok(_)) = server.lock().await.recv().await {} });
}

#[tokio::test]
async fn a_socket_gets_exactly_what_it_missed_then_live() {
    let topics = topics(100);
    for i in 0..10 {
        topics.publish("room", Message::text(format!("line {i}"))).unwrap();
    }
    let seen = topics.position("room").unwrap();
    for i in 10..60 {
        topics.publish("room", Message::text(format!("line {i}"))).unwrap();
    }
    let (server, mut client) = serve();
    let recovery = server.lock().await.subscribe_from(&topics, "room", seen).await.unwrap();
    assert_eq!(recovery, Recovery::Complete { replayed: 50 });
    assert!(recovery.is_complete());
    poll_forever(server);
    topics.publish("room", Message::text("live")).unwrap();
    for i in 10..60 {
        let (position, text) = next(&mut client).await;
        assert_eq!((position.epoch(), position.offset()), (seen.epoch(), i + 1));
        assert_eq!(text, format!("line {i}"));
    }
    assert_eq!(next(&mut client).await.1, "live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_while_publications_race_the_subscription() {
    let topics = topics(100_000);
    topics.publish("room", Message::text("first")).unwrap();
    let seen = topics.position("room").unwrap();
    let publisher = std::thread::spawn({
        let topics = topics.clone();
        move || {
            for _ in 0..20_000 {
                topics.publish("room", Message::text("x")).unwrap();
            }
        }
    });
    // Subscribe while the publisher runs.
    while topics.position("room").unwrap().offset() < 200 {
        tokio::task::yield_now().await;
    }
    let (server, mut client) = serve();
    let mut socket = server.lock().await;
    // Room for everything, so the budget's policy is not what is tested.
    socket.set_slow_consumer(SlowConsumer::new(64 << 20, Policy::DropNewest).unwrap());
    let recovery = socket.subscribe_from(&topics, "room", seen).await.unwrap();
    drop(socket);
    let Recovery::Complete { replayed } = recovery else {
        panic!("{recovery:?}")
    };
    poll_forever(server);
    publisher.join().unwrap();
    let last = topics.position("room").unwrap().offset();
    assert_eq!(last, 20_001);
    assert!(replayed < 20_000, "some publications came live: {replayed} replayed");
    for offset in seen.offset() + 1..=last {
        assert_eq!(
            next(&mut client).await.0.offset(),
            offset,
            "in order, none lost or doubled"
        );
    }
}

#[tokio::test]
async fn a_socket_is_told_when_it_cannot_recover() {
    let topics = topics(10);
    topics.publish("room", Message::text("a")).unwrap();
    let seen = topics.position("room").unwrap();
    for _ in 0..15 {
        topics.publish("room", Message::text("b")).unwrap();
    }
    let subscribe_from = |since| {
        let topics = topics.clone();
        async move {
            let (mut server, _client) = hyperws::testing::pair(&Config::default());
            server.subscribe_from(&topics, "room", since).await
        }
    };
    // 15 came since; the last 10 are kept.
    assert_eq!(subscribe_from(seen).await, Ok(Recovery::TooOld { lost: Some(5) }));
    let elsewhere = Topics::builder()
        .history(Retention::new(10, Duration::from_secs(60)).unwrap())
        .build()
        .unwrap();
    elsewhere.publish("room", Message::text("a")).unwrap();
    let other_epoch = elsewhere.position("room").unwrap();
    assert_eq!(subscribe_from(other_epoch).await, Ok(Recovery::EpochChanged));
    let ahead: Position = format!("{:016x}-99", seen.epoch()).parse().unwrap();
    assert_eq!(subscribe_from(ahead).await, Ok(Recovery::Unknown));
    let without_history = Topics::new();
    without_history.publish("room", Message::text("a")).unwrap();
    let (mut server, _client) = hyperws::testing::pair(&Config::default());
    let position = without_history.position("room").unwrap();
    assert_eq!(
        server.subscribe_from(&without_history, "room", position).await,
        Ok(Recovery::HistoryOff)
    );
    assert_eq!(
        server.subscribe_from(&without_history, "room", position).await,
        Err(SubscribeError::AlreadySubscribed)
    );
}

#[tokio::test(start_paused = true)]
async fn history_older_than_its_age_is_gone() {
    let topics = Topics::builder()
        .history(Retention::new(100, Duration::from_secs(30)).unwrap())
        .build()
        .unwrap();
    topics.publish("room", Message::text("a")).unwrap();
    let seen = topics.position("room").unwrap();
    topics.publish("room", Message::text("old")).unwrap();
    tokio::time::advance(Duration::from_secs(31)).await;
    topics.publish("room", Message::text("new")).unwrap();
    let (mut server, mut client) = hyperws::testing::pair(&Config::default());
    let recovery = server.subscribe_from(&topics, "room", seen).await;
    assert_eq!(recovery, Ok(Recovery::TooOld { lost: Some(1) }));
    // Not recovered: live only.
    topics.publish("room", Message::text("live")).unwrap();
    server.flush().await.unwrap();
    assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("live"));
}

#[tokio::test(start_paused = true)]
async fn topics_past_the_limit_are_forgotten_and_their_epoch_changes() {
    let topics = Topics::builder().max_topics(2).build().unwrap();
    topics.publish("a", Message::text("1")).unwrap();
    let a = topics.position("a").unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    topics.publish("b", Message::text("1")).unwrap();
    topics.publish("c", Message::text("1")).unwrap(); // "a", idle longest, is forgotten
    assert_eq!(topics.position("a"), None);
    topics.publish("a", Message::text("2")).unwrap();
    let again = topics.position("a").unwrap();
    assert_ne!(again.epoch(), a.epoch());
    assert_eq!(again.offset(), 1);
    assert!(Topics::builder().max_topics(0).build().is_err());
}

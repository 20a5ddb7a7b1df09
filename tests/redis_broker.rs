//! The Redis broker as an operator watches it: health and counters, a
//! server that accepts and then refuses every command (bounded attempts,
//! never a tight loop), one gap per outage, and `Topics::close` waiting
//! for what was queued. A real `redis-server` where one is needed.
//!
//! `cargo test --features redis --test redis_broker`

#![cfg(feature = "redis")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::process::free_addr;
use common::redis::{kill_subscribers, start_redis, wait_for};
use hyperws::topics::{RedisBroker, Subscribe, Topics};
use hyperws::{Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that speaks enough RESP to accept a connection and then
/// refuses SUBSCRIBE, PUBLISH and PING, as an ACL without the channel
/// would; returns its port and how many connections it accepted.
async fn refusing_server() -> (u16, Arc<AtomicUsize>) {
    common::fake_server::counting(|mut tcp| async move {
        let mut buf = vec![0; 4096];
        while let Ok(n) = tcp.read(&mut buf).await {
            if n == 0 {
                return;
            }
            let reply = replies(&String::from_utf8_lossy(&buf[..n]));
            if tcp.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await
}

/// One reply per command in `input` (arrays of bulk strings).
fn replies(input: &str) -> String {
    input
        .split('*')
        .filter(|command| !command.is_empty())
        .map(|command| {
            let upper = command.to_ascii_uppercase();
            if ["SUBSCRIBE", "PUBLISH", "PING"].iter().any(|c| upper.contains(c)) {
                "-NOPERM this user has no permissions to access one of the channels\r\n"
            } else {
                "+OK\r\n"
            }
        })
        .collect()
}

fn node(url: &str) -> Topics {
    Topics::builder()
        .broker(RedisBroker::new(url).unwrap())
        .build()
        .unwrap()
}

/// A node with a socket subscribed to "news" (polled by its own task),
/// once Redis has its subscription; and that socket's client.
async fn listening(port: u16) -> (Topics, hyperws::WebSocket<tokio::io::DuplexStream>) {
    let listening = node(&format!("redis://127.0.0.1:{port}"));
    let (mut server, client) = hyperws::testing::pair(&Config::default());
    server.subscribe(&listening, "news").unwrap();
    tokio::spawn(async move { while let Some(Ok(_)) = server.recv().await {} });
    wait_for(port, "hyperws:news", 1).await;
    (listening, client)
}

#[tokio::test]
async fn a_server_that_refuses_every_command_sees_few_attempts() {
    let (port, accepted) = refusing_server().await;
    let broker = RedisBroker::new(&format!("redis://127.0.0.1:{port}")).unwrap();
    let topics = Topics::builder().broker(broker).build().unwrap();
    let (mut server, _client) = hyperws::testing::pair(&Config::default());
    server.subscribe(&topics, "news").unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let attempts = accepted.load(Ordering::Relaxed);
    // Delays of 0.1, 0.2, 0.4 … 5 s: about 7 subscribing attempts in 6 s
    // and one publishing connection (nothing is published).
    assert!((3..=12).contains(&attempts), "{attempts} connections in 6 s");
    let health = topics.broker_health();
    assert!(!health.connected);
    let error = health.last_error.clone().expect("the refusal is reported");
    assert!(error.contains("SUBSCRIBE"), "{error}");
    assert!(health.reconnects >= 2, "{health:?}");
}

#[tokio::test]
async fn health_counts_what_was_published_and_close_waits_for_it() {
    let port = free_addr().port();
    let _redis = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");
    let (listening, mut client) = listening(port).await;

    let publishing = node(&url);
    for i in 0..10 {
        publishing.publish("news", Message::text(i.to_string())).unwrap();
    }
    assert!(publishing.close(Duration::from_secs(10)).await, "all ten went out");
    let health = publishing.broker_health();
    assert_eq!((health.published, health.dropped), (10, 0), "{health:?}");
    publishing.publish("news", Message::text("after close")).unwrap();
    assert_eq!(publishing.broker_health().dropped, 1);
    for i in 0..10 {
        let heard = tokio::time::timeout(Duration::from_secs(10), client.recv())
            .await
            .unwrap();
        assert_eq!(heard.unwrap().unwrap(), Message::text(i.to_string()));
    }
    assert!(listening.broker_health().connected);
}

/// The subscribing connection drops while Redis and the publisher stay up:
/// what was published meanwhile is lost, and reported once, not once for
/// the outage and again when the publisher's next sequence number shows
/// the skip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_subscribing_connection_is_one_gap() {
    let port = free_addr().port();
    let _redis = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");
    let (listening, mut client) = listening(port).await;
    let publishing = node(&url);
    publishing.publish("news", Message::text("before")).unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(10), client.recv())
        .await
        .unwrap();
    assert_eq!(heard.unwrap().unwrap(), Message::text("before"));

    kill_subscribers(port).await;
    wait_for(port, "hyperws:news", 0).await;
    for i in 0..10 {
        publishing
            .publish("news", Message::text(format!("missed {i}")))
            .unwrap();
    }
    for _ in 0..100 {
        if publishing.broker_health().published == 11 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(publishing.broker_health().published, 11, "sent while nobody listened");
    wait_for(port, "hyperws:news", 1).await;
    // The same publisher, whose sequence now skips the ten.
    publishing.publish("news", Message::text("after")).unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(10), client.recv())
        .await
        .unwrap();
    assert_eq!(heard.unwrap().unwrap(), Message::text("after"));
    let health = listening.broker_health();
    assert_eq!(health.gaps, 1, "one gap for the outage: {health:?}");
    assert!(health.reconnects >= 1 && health.connected, "{health:?}");
}

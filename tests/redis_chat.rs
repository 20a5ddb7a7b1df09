//! The chat example as three processes sharing one room through a real
//! `redis-server` (feature `redis`; `.ci/run` installs Redis): every message
//! reaches every guest on every node exactly once, in each sender's order;
//! a node killed mid-run leaves the others' delivery whole; Redis restarted
//! mid-run: the nodes subscribe again, tell their guests of the gap, and
//! traffic resumes.
//!
//! `cargo test --features redis --test redis_chat`

#![cfg(feature = "redis")]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::chat::{a_guest_comes_back, guest, text, Guest};
use common::process::{free_addr, start_example, Process};
use common::redis::{start_redis, wait_for};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const PER_GUEST: usize = 20;
const GAP_NOTE: &str = "(messages may be missing";

async fn wait_for_subscribers(port: u16, nodes: u64) {
    wait_for(port, "hyperws:chat", nodes).await;
}

/// Sends `tag #0` … `tag #{PER_GUEST - 1}` (or the part `range` says).
async fn say(guest: &mut Guest, tag: &str, range: std::ops::Range<usize>) {
    for i in range {
        guest.send(Message::text(format!("{tag} #{i}"))).await.unwrap();
    }
}

/// Sends `tag fence`: this guest has said all it will in this phase.
/// Every hop keeps one sender's order (its node's queue to Redis, Redis to
/// each subscriber, a node to its sockets), so a duplicate of anything the
/// guest said would reach every other guest before its fence.
async fn fence(guest: &mut Guest, tag: &str) {
    guest.send(Message::text(format!("{tag} fence"))).await.unwrap();
}

/// Reads until every sender in `tags` has sent its fence (lines of the room
/// that carry `phase`); checks each sender's lines came once each, in order.
/// Returns the other lines.
async fn receive_all(guest: &mut Guest, phase: &str, tags: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    let mut fenced = std::collections::HashSet::new();
    let mut other = Vec::new();
    while fenced.len() < tags.len() {
        let next = tokio::time::timeout(Duration::from_secs(20), guest.next())
            .await
            .unwrap_or_else(|_| panic!("no fence from some of {tags:?} (fenced: {fenced:?}, seen: {seen:?})"));
        let Some(Ok(Message::Text(line))) = next else {
            panic!("the room ended: {next:?}")
        };
        let line = text(&line);
        // "guest 3@41234: p1 n0g1 #7", or "guest 3@41234: p1 n0g1 fence"
        match line.split_once(": ").and_then(|(_, said)| said.strip_prefix(phase)) {
            Some(said) => {
                let said = said.trim_start();
                if let Some(tag) = said.strip_suffix(" fence") {
                    assert!(fenced.insert(format!("{phase} {tag}")), "{tag} fenced twice");
                } else {
                    let (tag, number) = said.rsplit_once(" #").unwrap();
                    seen.entry(format!("{phase} {tag}"))
                        .or_default()
                        .push(number.parse().unwrap());
                }
            }
            None => other.push(line.clone()),
        }
    }
    let expected: Vec<usize> = (0..PER_GUEST).collect();
    for tag in tags {
        assert_eq!(
            seen.get(tag),
            Some(&expected),
            "{tag}: each once, in order (other lines: {other:?})"
        );
    }
    assert_eq!(seen.len(), tags.len(), "only the expected senders: {:?}", seen.keys());
    other
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_a_room_through_redis() {
    let port = free_addr().port();
    let mut redis = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");
    let mut nodes: Vec<(Process, SocketAddr)> = (0..3).map(|_| start_example("chat", &["--redis", &url])).collect();
    let mut guests = Vec::new();
    for (n, (_, addr)) in nodes.iter().enumerate() {
        for g in 0..2 {
            guests.push((format!("n{n}g{g}"), guest(*addr).await));
        }
    }
    wait_for_subscribers(port, 3).await;

    // Everyone talks; everyone hears everyone, once, in order.
    let tags: Vec<String> = guests.iter().map(|(name, _)| format!("p1 {name}")).collect();
    for (name, ws) in &mut guests {
        say(ws, &format!("p1 {name}"), 0..PER_GUEST).await;
        fence(ws, &format!("p1 {name}")).await;
    }
    for (_, ws) in &mut guests {
        receive_all(ws, "p1", &tags).await;
    }

    // Node 2 dies halfway through; the others' guests still hear each other whole.
    guests.truncate(4);
    let tags: Vec<String> = guests.iter().map(|(name, _)| format!("p2 {name}")).collect();
    for (name, ws) in &mut guests {
        say(ws, &format!("p2 {name}"), 0..PER_GUEST / 2).await;
    }
    drop(nodes.pop());
    for (name, ws) in &mut guests {
        say(ws, &format!("p2 {name}"), PER_GUEST / 2..PER_GUEST).await;
        fence(ws, &format!("p2 {name}")).await;
    }
    for (_, ws) in &mut guests {
        receive_all(ws, "p2", &tags).await;
    }

    // Redis restarts: the nodes come back to it on their own, say so, and carry on.
    drop(redis);
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis = start_redis(port);
    wait_for_subscribers(port, 2).await;
    let tags: Vec<String> = guests.iter().map(|(name, _)| format!("p3 {name}")).collect();
    for (name, ws) in &mut guests {
        say(ws, &format!("p3 {name}"), 0..PER_GUEST).await;
        fence(ws, &format!("p3 {name}")).await;
    }
    for (name, ws) in &mut guests {
        let other = receive_all(ws, "p3", &tags).await;
        assert!(
            other.iter().any(|line| line.starts_with(GAP_NOTE)),
            "{name} was told of the gap: {other:?}"
        );
    }
    drop(redis);
}

/// A node holds a topic's Redis channel only while a local socket
/// subscribes to it, and leaves it when the last one goes.
#[tokio::test]
async fn a_node_hears_a_topic_only_while_it_has_subscribers() {
    use hyperws::topics::{RedisBroker, Subscribe, Topics};
    let port = free_addr().port();
    let _redis = start_redis(port);
    let broker = RedisBroker::new(&format!("redis://127.0.0.1:{port}")).unwrap();
    let topics = Topics::builder().broker(broker).build().unwrap();
    let config = hyperws::Config::default();
    let (server, _client) = tokio::io::duplex(1024);
    let mut socket = hyperws::WebSocket::from_raw_socket(server, hyperws::Role::Server, &config);
    wait_for(port, "hyperws:news", 0).await;
    socket.subscribe(&topics, "news").unwrap();
    wait_for(port, "hyperws:news", 1).await;
    drop(socket);
    wait_for(port, "hyperws:news", 0).await;
}

/// What a node published just before its `Topics` was dropped still goes
/// out: the publishing task ends only once nothing is left to send.
#[tokio::test]
async fn a_publication_made_just_before_the_topics_is_dropped_is_sent() {
    use hyperws::topics::{RedisBroker, Subscribe, Topics};
    let port = free_addr().port();
    let _redis = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");
    let listening = Topics::builder()
        .broker(RedisBroker::new(&url).unwrap())
        .build()
        .unwrap();
    let (mut server, mut client) = hyperws::testing::pair(&hyperws::Config::default());
    server.subscribe(&listening, "news").unwrap();
    tokio::spawn(async move { while let Some(Ok(_)) = server.recv().await {} });
    wait_for(port, "hyperws:news", 1).await;

    // Built, used and dropped before its publishing task first runs.
    let leaving = Topics::builder()
        .broker(RedisBroker::new(&url).unwrap())
        .build()
        .unwrap();
    leaving.publish("news", hyperws::Message::text("last words")).unwrap();
    drop(leaving);

    let heard = tokio::time::timeout(Duration::from_secs(10), client.recv())
        .await
        .expect("the last publication never arrived");
    assert_eq!(heard.unwrap().unwrap(), hyperws::Message::text("last words"));
}

/// A `Topics` dropped while Redis is unreachable, with a publication still
/// queued, keeps trying for a while (Redis may be restarting), then gives
/// it up: its tasks end instead of retrying forever.
#[tokio::test(start_paused = true)]
async fn a_publication_left_while_redis_is_unreachable_is_given_up_after_a_while() {
    use hyperws::topics::{RedisBroker, Topics};
    let alive = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let nothing_listens = free_addr().port();
    let url = format!("redis://127.0.0.1:{nothing_listens}");
    let topics = Topics::builder()
        .broker(RedisBroker::new(&url).unwrap())
        .build()
        .unwrap();
    topics.publish("news", hyperws::Message::text("into the void")).unwrap();
    drop(topics);

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(alive(), 1, "the publishing task should still be trying");
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(alive(), 0, "the publishing task never gave up");
}

/// The chat's own recovery on Redis: see `common::chat::a_guest_comes_back`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_comes_back_through_another_node_gets_what_it_missed() {
    let port = free_addr().port();
    let mut redis = Some(start_redis(port));
    let url = format!("redis://127.0.0.1:{port}");
    let nodes: Vec<(Process, SocketAddr)> = (0..3).map(|_| start_example("chat", &["--redis", &url])).collect();
    let addrs: Vec<SocketAddr> = nodes.iter().map(|(_, addr)| *addr).collect();
    a_guest_comes_back(&addrs, async || {
        // Redis loses everything (nothing is saved to disk).
        drop(redis.take());
        tokio::time::sleep(Duration::from_millis(500)).await;
        redis = Some(start_redis(port));
        // Nodes 1 and 2 have guests; node 0 subscribes when the next one comes.
        wait_for_subscribers(port, 2).await;
    })
    .await;
}

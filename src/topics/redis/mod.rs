//! [`RedisBroker`]: topics shared by server processes through Redis
//! pub/sub (feature `redis`).
//!
//! Each node keeps two connections: one subscribed to the channels of the
//! topics it has local subscribers for (only those: a node hears nothing it
//! would throw away), one that publishes. Every publication is sealed in an
//! envelope (node, stream, sequence: `envelope.rs`) so a node drops its own
//! publications as Redis echoes them, drops duplicates, and reports a
//! skipped sequence as a [`TopicEvent::Gap`](super::TopicEvent::Gap). When
//! the connection drops (Redis restarted), the node reconnects with backoff,
//! subscribes again to every topic it needs, and reports a gap of unknown
//! size on each: what was published meanwhile is lost, and said so.

mod history;
mod publisher;
mod subscriber;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use self::history::Queries;
use self::publisher::publish_loop;
use self::subscriber::Subscriber;
use super::broker::{BoxFuture, Broker, Inbound};
use super::envelope::{self, GapTracker};
use super::health::{BrokerHealth, Health};
use super::interest::Interest;
use super::publications::Publications;
use super::reconnect::CONNECT_TIMEOUT;
use super::{Position, Recovery, Retention, Topic};
use crate::proto::SharedMessage;

/// Publications sent in one pipeline.
const BATCH: usize = 256;
/// How long one command or pipeline may take.
const IO_TIMEOUT: Duration = CONNECT_TIMEOUT;
/// How many connections one pipeline is tried on.
const SEND_ATTEMPTS: u32 = 3;
/// Publications still queued when the `Topics` is dropped are tried for
/// this long (from when the publishing task notices) while Redis is
/// unreachable; then they are dropped and the task ends.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Broker`] over Redis pub/sub. Topic `t` travels on channel
/// `hyperws:t` (see [`channel_prefix`](Self::channel_prefix)).
///
/// Build the `Topics` inside a tokio runtime: the broker spawns its tasks
/// there. They end when the `Topics` is dropped, once what it published
/// is sent (given up after about 10 seconds if Redis is unreachable).
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use hyperws::topics::{RedisBroker, Topics};
/// let topics = Topics::builder().broker(RedisBroker::new("redis://127.0.0.1:6379")?).build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisBroker {
    client: redis::Client,
    prefix: String,
    node: u64,
    interest: Arc<Interest>,
    publications: Publications,
    health: Arc<Health>,
    /// The `Topics`' retention, if it keeps history: then Redis Streams
    /// keep it and Redis positions every publication.
    history: OnceLock<Retention>,
    queries: Arc<Queries>,
}

impl RedisBroker {
    /// A broker for the Redis server at `url` (`redis://host:port/db`);
    /// nothing connects until the `Topics` is built.
    ///
    /// # Errors
    /// The URL is not a Redis URL.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        let node = envelope::random_u64();
        let client = redis::Client::open(url)?;
        Ok(Self {
            client: client.clone(),
            prefix: "hyperws:".to_owned(),
            node,
            interest: Arc::default(),
            publications: Publications::new(node),
            health: Arc::default(),
            history: OnceLock::new(),
            queries: Arc::new(Queries::new(client.clone())),
        })
    }

    /// The channel name's prefix (default `hyperws:`): to keep apps that
    /// share a Redis apart.
    #[must_use]
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How many publications may wait for Redis (default 4096); past it
    /// they are dropped, and other nodes report the gap.
    ///
    /// # Errors
    /// [`ConfigError::Zero`](crate::ConfigError::Zero) if `publications` is 0.
    pub fn queue(mut self, publications: usize) -> Result<Self, crate::ConfigError> {
        self.publications
            .set_capacity(publications, "the Redis publication queue (RedisBroker::queue)")?;
        Ok(self)
    }
}

impl Broker for RedisBroker {
    fn start(&self, inbound: Inbound) {
        if let Some(retention) = inbound.retention() {
            let _ = self.history.set(retention);
        }
        let history = self.history.get().copied();
        let (client, health) = (self.client.clone(), Arc::clone(&self.health));
        self.publications
            .open(|rx| tokio::spawn(publish_loop(client, rx, health, history)));
        let subscriber = Subscriber {
            client: self.client.clone(),
            prefix: self.prefix.clone(),
            interest: Arc::clone(&self.interest),
            tracker: GapTracker::new(self.node),
            inbound,
            health: Arc::clone(&self.health),
            history,
            last: HashMap::new(),
            queries: Arc::clone(&self.queries),
        };
        tokio::spawn(subscriber.run());
    }

    fn subscribe(&self, topic: &Topic) {
        self.interest.want(topic, true);
    }

    fn unsubscribe(&self, topic: &Topic) {
        self.interest.want(topic, false);
    }

    fn publish(&self, topic: &str, message: &SharedMessage) {
        self.publications
            .send(topic, format!("{}{topic}", self.prefix), message, &self.health);
    }

    fn health(&self) -> BrokerHealth {
        self.health.snapshot()
    }

    fn keeps_history(&self) -> bool {
        self.history.get().is_some()
    }

    fn history(&self, topic: &Topic, since: Position) -> BoxFuture<Result<Vec<(Position, SharedMessage)>, Recovery>> {
        let Some(&retention) = self.history.get() else {
            return Box::pin(std::future::ready(Err(Recovery::HistoryOff)));
        };
        let (interest, queries, topic) = (Arc::clone(&self.interest), Arc::clone(&self.queries), topic.clone());
        let channel = format!("{}{topic}", self.prefix);
        Box::pin(async move {
            if !interest.heard(&topic, IO_TIMEOUT).await {
                return Err(Recovery::Unavailable);
            }
            queries.fetch(&channel, since, retention).await
        })
    }

    fn close(&self) -> BoxFuture<()> {
        // The task sends what is queued, sees the queue closed, and ends.
        self.publications.close()
    }
}

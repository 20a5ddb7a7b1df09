//! [`NatsBroker`]: topics shared by server processes through NATS (feature
//! `nats`, the official `async-nats` client).
//!
//! Without history, publications travel on core NATS: topic `t` on subject
//! `hyperws.t` (bytes outside `A-Z a-z 0-9 _ -` written `%XX`), sealed in
//! the same envelope as Redis' (a node drops its own publications and
//! duplicates, and reports a skipped sequence); a node subscribes only to
//! the topics it has local subscribers for; an outage is one gap per topic.
//!
//! When the `Topics` keeps history, `JetStream` keeps it: a stream
//! (`HYPERWS`, over `hyperws.>`) bounded per subject by the retention's
//! count and age, whose sequence numbers are the positions every node
//! agrees on and whose creation time is the epoch (a server that lost its
//! data makes a new stream, so clients are told). Live delivery then comes
//! through one ordered `JetStream` consumer per topic and node: core NATS
//! could not put two publishers' messages in one order, and an ordered
//! consumer that misses a message starts again after the last one it had,
//! so a node that lost its connection heals instead of reporting a gap.

mod connection;
mod jetstream;
mod listen;
mod publisher;

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

use super::broker::{BoxFuture, Broker, Inbound};
use super::envelope;
use super::health::{BrokerHealth, Health};
use super::interest::Interest;
use super::publications::Publications;
use super::reconnect::CONNECT_TIMEOUT;
use super::{Position, Recovery, Retention, Topic};
use crate::proto::SharedMessage;

/// How long one request (a `JetStream` ack, a stream look-up) may take.
const IO_TIMEOUT: Duration = CONNECT_TIMEOUT;
/// How long a closed or dropped `Topics` still tries to send what is queued.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Broker`] over NATS: core NATS for live fan-out, `JetStream` for
/// history (see the module docs in the source for how they combine).
///
/// Build the `Topics` inside a tokio runtime: the broker spawns its tasks
/// there.
///
/// ```no_run
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use hyperws::topics::{NatsBroker, Topics};
/// let topics = Topics::builder().broker(NatsBroker::new("nats://127.0.0.1:4222")).build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NatsBroker {
    url: String,
    prefix: String,
    stream: String,
    node: u64,
    shared: Arc<Shared>,
    publications: Publications,
}

/// What the broker's calls share with its tasks.
#[derive(Debug)]
struct Shared {
    health: Health,
    client: OnceLock<async_nats::Client>,
    connected: Notify,
    history: OnceLock<Retention>,
    /// The topics wanted (with local subscribers) and heard live now.
    interest: Interest,
    /// Outages so far (core NATS): a listener that sees a new one starts
    /// its sequences afresh.
    outages: AtomicU64,
}

impl Shared {
    /// The client, once connected (or `None` after the I/O timeout).
    async fn client(&self) -> Option<async_nats::Client> {
        let wait = async {
            loop {
                let notified = self.connected.notified();
                if let Some(client) = self.client.get() {
                    return client.clone();
                }
                notified.await;
            }
        };
        tokio::time::timeout(IO_TIMEOUT, wait).await.ok()
    }
}

impl NatsBroker {
    /// A broker for the NATS server at `url` (`nats://host:port`); nothing
    /// connects until the `Topics` is built.
    #[must_use]
    pub fn new(url: &str) -> Self {
        let node = envelope::random_u64();
        Self {
            url: url.to_owned(),
            prefix: "hyperws.".to_owned(),
            stream: "HYPERWS".to_owned(),
            node,
            shared: Arc::new(Shared {
                health: Health::default(),
                client: OnceLock::new(),
                connected: Notify::new(),
                history: OnceLock::new(),
                interest: Interest::default(),
                outages: AtomicU64::new(0),
            }),
            publications: Publications::new(node),
        }
    }

    /// The subject prefix (default `hyperws`) and the `JetStream` stream's
    /// name (default `HYPERWS`): to keep apps that share a NATS apart.
    #[must_use]
    pub fn names(mut self, subject_prefix: &str, stream: &str) -> Self {
        self.prefix = format!("{subject_prefix}.");
        stream.clone_into(&mut self.stream);
        self
    }

    /// How many publications may wait for NATS (default 4096); past it
    /// they are dropped and counted.
    ///
    /// # Errors
    /// [`ConfigError::Zero`](crate::ConfigError::Zero) if `publications` is 0.
    pub fn queue(mut self, publications: usize) -> Result<Self, crate::ConfigError> {
        self.publications
            .set_capacity(publications, "the NATS publication queue (NatsBroker::queue)")?;
        Ok(self)
    }

    fn subject(&self, topic: &str) -> String {
        subject(&self.prefix, topic)
    }
}

/// `prefix` + `topic`, each byte outside `A-Z a-z 0-9 _ -` as `%XX`: a
/// subject token may not hold `.`, `*`, `>` or white space.
fn subject(prefix: &str, topic: &str) -> String {
    let mut subject = String::with_capacity(prefix.len() + topic.len());
    subject.push_str(prefix);
    for byte in topic.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            subject.push(char::from(byte));
        } else {
            let _ = write!(subject, "%{byte:02X}");
        }
    }
    subject
}

impl Broker for NatsBroker {
    fn start(&self, inbound: Inbound) {
        if let Some(retention) = inbound.retention() {
            let _ = self.shared.history.set(retention);
        }
        let names = connection::Names {
            prefix: self.prefix.clone(),
            stream: self.stream.clone(),
        };
        let shared = Arc::clone(&self.shared);
        let task_names = names.clone();
        self.publications
            .open(|rx| tokio::spawn(publisher::run(shared, task_names, rx)));
        tokio::spawn(connection::run(
            self.url.clone(),
            Arc::clone(&self.shared),
            names,
            inbound,
            self.node,
        ));
    }

    fn subscribe(&self, topic: &Topic) {
        self.shared.interest.want(topic, true);
    }

    fn unsubscribe(&self, topic: &Topic) {
        self.shared.interest.want(topic, false);
    }

    fn publish(&self, topic: &str, message: &SharedMessage) {
        self.publications
            .send(topic, self.subject(topic), message, &self.shared.health);
    }

    fn health(&self) -> BrokerHealth {
        self.shared.health.snapshot()
    }

    fn close(&self) -> BoxFuture<()> {
        // The task sends what is queued, sees the queue closed, and ends.
        self.publications.close()
    }

    fn keeps_history(&self) -> bool {
        self.shared.history.get().is_some()
    }

    fn history(&self, topic: &Topic, since: Position) -> BoxFuture<Result<Vec<(Position, SharedMessage)>, Recovery>> {
        let Some(&retention) = self.shared.history.get() else {
            return Box::pin(std::future::ready(Err(Recovery::HistoryOff)));
        };
        let (shared, topic, stream) = (Arc::clone(&self.shared), topic.clone(), self.stream.clone());
        let subject = self.subject(&topic);
        Box::pin(async move {
            if !shared.interest.heard(&topic, IO_TIMEOUT).await {
                return Err(Recovery::Unavailable);
            }
            let client = shared.client().await.ok_or(Recovery::Unavailable)?;
            jetstream::fetch(&client, &stream, &subject, since, retention).await
        })
    }
}

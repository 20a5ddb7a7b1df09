//! Topics: publish a message once to every socket subscribed to a name, on
//! this server process or, through a [`Broker`], on many.
//!
//! [`Topics::publish`] never waits on a socket. The message is encoded once
//! (a [`SharedMessage`]: one buffer for every subscriber) and queued in each
//! subscriber's mailbox; each socket writes its mail with its own writes,
//! batched with whatever else it sends, while its task polls it (`recv`, a
//! `Stream`, `send` or `flush`: the loop every handler already has). A
//! subscriber whose mail passes its byte budget meets the [`Policy`] of its
//! [`SlowConsumer`]: disconnected (the default), or its newest or oldest
//! publications dropped and counted ([`TopicEvent::Missed`]). A socket
//! leaves every topic when it ends.
//!
//! ```no_run
//! use hyperws::{topics::{Subscribe, Topics}, Message, WebSocket};
//!
//! async fn handle(mut ws: WebSocket, topics: Topics) {
//!     ws.subscribe(&topics, "lobby").unwrap();
//!     while let Some(Ok(message)) = ws.recv().await {
//!         if let Message::Text(text) = message {
//!             // To every socket in "lobby", this one included.
//!             topics.publish("lobby", Message::Text(text)).unwrap();
//!         }
//!     }
//! }
//! ```
//!
//! With the `redis` feature, `Topics::builder().broker(RedisBroker::new(url)?)`
//! shares topics between server processes through a Redis server.

mod broker;
#[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(dead_code))]
mod envelope;
mod events;
#[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(dead_code))]
mod health;
mod history;
#[cfg(any(feature = "redis", feature = "nats"))]
mod interest;
mod limits;
mod mailbox;
mod membership;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
mod nats;
mod position;
#[cfg(any(feature = "redis", feature = "nats"))]
mod publications;
#[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(dead_code))]
mod reconnect;
mod recovery;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
mod redis;
mod registry;
mod replay;
mod seam;
mod streams;
mod subscribe;

use std::fmt;
use std::sync::Arc;

pub use self::broker::{BoxFuture, Broker, InProcess, Inbound};
pub use self::events::{TopicEvent, TopicEvents};
pub use self::health::BrokerHealth;
pub(crate) use self::limits::Limits;
pub use self::limits::SubscribeError;
use self::mailbox::Mailbox;
pub use self::mailbox::{Policy, SlowConsumer};
#[cfg(feature = "nats")]
pub use self::nats::NatsBroker;
pub use self::position::{Position, PositionError};
pub use self::recovery::{Recovering, Recovery, Retention};
#[cfg(feature = "redis")]
pub use self::redis::RedisBroker;
use self::registry::Registry;
use self::streams::{Publication, Stamp, Streams};
pub use self::subscribe::Subscribe;
pub use crate::proto::SharedMessage;
use crate::proto::{Error, Message};
use crate::ConfigError;

/// A topic's name.
pub type Topic = Arc<str>;

/// Named topics sockets subscribe to; clone it freely (clones share the
/// topics). See the [module docs](self).
///
/// ```
/// use hyperws::topics::{Policy, SlowConsumer, Topics};
/// let topics = Topics::builder()
///     .slow_consumer(SlowConsumer::new(64 << 10, Policy::DropOldest)?)
///     .build()?;
/// // Nobody listens yet: published to no one, and that is fine.
/// assert_eq!(topics.publish("news", hyperws::Message::text("hello")).unwrap(), 0);
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Topics(Arc<Inner>);

pub(crate) struct Inner {
    registry: Registry,
    streams: Streams,
    broker: Box<dyn Broker>,
    slow_consumer: SlowConsumer,
    limits: Limits,
}

impl fmt::Debug for Topics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topics")
            .field("broker", &self.0.broker)
            .field("slow_consumer", &self.0.slow_consumer)
            .field("limits", &self.0.limits)
            .field("streams", &self.0.streams)
            .finish_non_exhaustive()
    }
}

impl Default for Topics {
    fn default() -> Self {
        Self::new()
    }
}

impl Topics {
    /// Topics within this process, each subscriber with the default
    /// [`SlowConsumer`] (256 KiB, then disconnect with 1008).
    #[must_use]
    pub fn new() -> Self {
        Self::builder().start()
    }

    /// Chooses the broker and the subscribers' default budget and policy.
    #[must_use]
    pub fn builder() -> TopicsBuilder {
        TopicsBuilder {
            broker: Box::new(InProcess),
            slow_consumer: SlowConsumer::default(),
            limits: Limits::default(),
            retention: None,
            max_topics: DEFAULT_MAX_TOPICS,
            stamp: None,
        }
    }

    /// Publishes a text or binary message to every subscriber of `topic`,
    /// here and (through the broker) on other nodes; returns how many local
    /// subscribers it was offered to (a slow one's policy may have dropped
    /// it, and counted that); 0 with a broker that keeps history, which
    /// positions it and hands it back to every node, this one included, to
    /// deliver. Never waits. It takes the topic's next
    /// [`Position`], is stamped with it if
    /// [`TopicsBuilder::stamp`] says how, and is kept in the topic's history
    /// if [`TopicsBuilder::history`] is on.
    ///
    /// # Errors
    /// [`SendError::NotShareable`](crate::SendError::NotShareable) for a
    /// control message.
    pub fn publish(&self, topic: &str, message: Message) -> Result<usize, Error> {
        if self.0.broker.keeps_history() {
            // Positioned by the broker, and delivered here when it hands
            // the publication back, as on every other node.
            self.0.broker.publish(topic, &SharedMessage::new(message)?);
            return Ok(0);
        }
        if !self.0.streams.stamps() {
            return Ok(self.publish_shared(topic, &SharedMessage::new(message)?));
        }
        // The broker carries it unstamped: each node stamps its own.
        let unstamped = self
            .0
            .broker
            .carries()
            .then(|| SharedMessage::new(message.clone()))
            .transpose()?;
        let delivered = self.0.deliver_local(topic, Publication::Message(message), None)?;
        if let Some(unstamped) = unstamped {
            self.0.broker.publish(topic, &unstamped);
        }
        Ok(delivered)
    }

    /// Publishes a message already encoded (to send the same one to several
    /// topics, or again, without encoding it again). With a
    /// [`stamp`](TopicsBuilder::stamp), it is decoded, stamped and encoded
    /// again.
    #[allow(clippy::must_use_candidate)] // the count is for those who want it
    pub fn publish_shared(&self, topic: &str, message: &SharedMessage) -> usize {
        if self.0.broker.keeps_history() {
            self.0.broker.publish(topic, message);
            return 0;
        }
        let delivered = self
            .0
            .deliver_local(topic, Publication::Shared(message), None)
            .unwrap_or(0);
        self.0.broker.publish(topic, message);
        delivered
    }

    /// The position of the last publication on `topic` in this process, if
    /// it has one (a topic idle for a while with no history is forgotten).
    #[must_use]
    pub fn position(&self, topic: &str) -> Option<Position> {
        self.0.streams.last(topic)
    }

    /// The broker's connections and counters: whether it is connected,
    /// what it published, dropped and reported lost, the last error.
    #[must_use]
    pub fn broker_health(&self) -> BrokerHealth {
        self.0.broker.health()
    }

    /// Stops sending publications to other nodes and waits, up to
    /// `deadline`, until what was queued for them has gone out: for a
    /// graceful shutdown. Returns `true` if it all went (or there was
    /// nothing to send). Local delivery goes on; publications to the
    /// broker after this are dropped and counted.
    pub async fn close(&self, deadline: std::time::Duration) -> bool {
        tokio::time::timeout(deadline, self.0.broker.close()).await.is_ok()
    }

    /// How many sockets of this process subscribe to `topic`.
    #[must_use]
    pub fn local_subscribers(&self, topic: &str) -> usize {
        self.0.registry.count(topic)
    }

    /// The budget and policy a socket gets when it first subscribes.
    #[must_use]
    pub fn slow_consumer(&self) -> SlowConsumer {
        self.0.slow_consumer
    }

    pub(crate) fn limits(&self) -> Limits {
        self.0.limits
    }

    fn join(&self, topic: &Topic, mailbox: &Arc<Mailbox>) {
        self.0.registry.join(topic, mailbox, || self.0.broker.subscribe(topic));
    }

    fn leave(&self, topic: &str, id: u64) {
        self.0.leave(topic, id);
    }

    pub(crate) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Inner {
    /// Positions, stamps and delivers a publication here; `at`: the
    /// position a broker that keeps history gave it (else the next here).
    fn deliver_local(&self, topic: &str, publication: Publication<'_>, at: Option<Position>) -> Result<usize, Error> {
        let deliver = |message: &SharedMessage, position| self.registry.deliver(topic, message, position);
        let (delivered, ended) = self.streams.publish(topic, publication, at, deliver)?;
        for id in ended {
            self.leave(topic, id);
        }
        Ok(delivered)
    }

    fn leave(&self, topic: &str, id: u64) {
        self.registry.leave(topic, id, |name| self.broker.unsubscribe(name));
    }
}

/// Builds [`Topics`]; from [`Topics::builder`].
pub struct TopicsBuilder {
    broker: Box<dyn Broker>,
    slow_consumer: SlowConsumer,
    limits: Limits,
    retention: Option<Retention>,
    max_topics: usize,
    #[allow(clippy::struct_field_names)]
    stamp: Option<Stamp>,
}

/// Default most topics whose positions and history a process keeps.
const DEFAULT_MAX_TOPICS: usize = 10_000;

impl fmt::Debug for TopicsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicsBuilder")
            .field("broker", &self.broker)
            .field("retention", &self.retention)
            .field("stamps", &self.stamp.is_some())
            .finish_non_exhaustive()
    }
}

impl TopicsBuilder {
    /// Shares topics with other nodes through `broker` (default: [`InProcess`]).
    #[must_use]
    pub fn broker(mut self, broker: impl Broker) -> Self {
        self.broker = Box::new(broker);
        self
    }

    /// Every subscriber's budget and policy, unless a socket sets its own
    /// ([`WebSocket::set_slow_consumer`](crate::WebSocket::set_slow_consumer)).
    #[must_use]
    pub fn slow_consumer(mut self, slow_consumer: SlowConsumer) -> Self {
        self.slow_consumer = slow_consumer;
        self
    }

    /// The longest topic name a socket may subscribe to, in bytes (default
    /// 256); a longer one is refused with [`SubscribeError::TopicTooLong`].
    /// 0 (no topic could be joined) makes [`build`](Self::build) fail.
    #[must_use]
    pub fn max_topic_len(mut self, bytes: usize) -> Self {
        self.limits.max_topic_len = bytes;
        self
    }

    /// The most topics of these `Topics` one socket may subscribe to
    /// (default 1024); one more is refused with
    /// [`SubscribeError::TooManySubscriptions`]. 0 (no topic could be
    /// joined) makes [`build`](Self::build) fail.
    #[must_use]
    pub fn max_subscriptions(mut self, count: usize) -> Self {
        self.limits.max_subscriptions = count;
        self
    }

    /// Keeps each topic's last publications, as `retention` bounds them, so
    /// a socket that reconnects can
    /// [`subscribe_from`](Subscribe::subscribe_from) its last position and
    /// miss nothing. Off by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hyperws::topics::{Retention, Topics};
    /// let topics = Topics::builder().history(Retention::new(1000, Duration::from_secs(120))?).build()?;
    /// # Ok::<(), hyperws::ConfigError>(())
    /// ```
    #[must_use]
    pub fn history(mut self, retention: Retention) -> Self {
        self.retention = Some(retention);
        self
    }

    /// The most topics whose positions (and history) this process keeps
    /// (default 10 000); past it, idle topics are forgotten first, then the
    /// one idle longest (their next publication starts a new epoch).
    /// 0 makes [`build`](Self::build) fail.
    #[must_use]
    pub fn max_topics(mut self, topics: usize) -> Self {
        self.max_topics = topics;
        self
    }

    /// How a publication is stamped with its [`Position`] before it is
    /// encoded (once) for every subscriber: to hand the position to the
    /// client, which gives it back to recover what it missed.
    ///
    /// ```
    /// use hyperws::{topics::Topics, Message};
    /// let topics = Topics::builder()
    ///     .stamp(|position, message| match message {
    ///         Message::Text(text) => Message::text(format!("{position} {text}")),
    ///         other => other,
    ///     })
    ///     .build()?;
    /// # Ok::<(), hyperws::ConfigError>(())
    /// ```
    #[must_use]
    pub fn stamp(mut self, stamp: impl Fn(&Position, Message) -> Message + Send + Sync + 'static) -> Self {
        self.stamp = Some(Arc::new(stamp));
        self
    }

    /// The topics, with the broker started.
    ///
    /// # Errors
    /// The first invalid setting, named.
    pub fn build(self) -> Result<Topics, ConfigError> {
        self.limits.validate()?;
        if self.max_topics == 0 {
            return Err(ConfigError::Zero("max_topics"));
        }
        Ok(self.start())
    }

    fn start(self) -> Topics {
        let inner = Arc::new(Inner {
            registry: Registry::default(),
            streams: Streams::new(self.retention, self.max_topics, self.stamp),
            broker: self.broker,
            slow_consumer: self.slow_consumer,
            limits: self.limits,
        });
        inner.broker.start(Inbound(Arc::downgrade(&inner)));
        Topics(inner)
    }
}

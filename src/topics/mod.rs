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
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
mod envelope;
mod events;
mod limits;
mod mailbox;
mod membership;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
mod redis;
mod registry;
mod subscribe;

use std::fmt;
use std::sync::Arc;

pub use self::broker::{Broker, InProcess, Inbound};
pub use self::events::{TopicEvent, TopicEvents};
pub(crate) use self::limits::Limits;
pub use self::limits::SubscribeError;
use self::mailbox::Mailbox;
pub use self::mailbox::{Policy, SlowConsumer};
#[cfg(feature = "redis")]
pub use self::redis::RedisBroker;
use self::registry::Registry;
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
        }
    }

    /// Publishes a text or binary message to every subscriber of `topic`,
    /// here and (through the broker) on other nodes; returns how many local
    /// subscribers it was offered to (a slow one's policy may have dropped
    /// it, and counted that). Never waits.
    ///
    /// # Errors
    /// [`SendError::NotShareable`](crate::SendError::NotShareable) for a
    /// control message.
    pub fn publish(&self, topic: &str, message: Message) -> Result<usize, Error> {
        Ok(self.publish_shared(topic, &SharedMessage::new(message)?))
    }

    /// Publishes a message already encoded (to send the same one to several
    /// topics, or again, without encoding it again).
    #[allow(clippy::must_use_candidate)] // the count is for those who want it
    pub fn publish_shared(&self, topic: &str, message: &SharedMessage) -> usize {
        let delivered = self.0.deliver_local(topic, message);
        self.0.broker.publish(topic, message);
        delivered
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
    fn deliver_local(&self, topic: &str, message: &SharedMessage) -> usize {
        let (delivered, ended) = self.registry.deliver(topic, message);
        for id in ended {
            self.leave(topic, id);
        }
        delivered
    }

    fn leave(&self, topic: &str, id: u64) {
        self.registry.leave(topic, id, |name| self.broker.unsubscribe(name));
    }
}

/// Builds [`Topics`]; from [`Topics::builder`].
#[derive(Debug)]
pub struct TopicsBuilder {
    broker: Box<dyn Broker>,
    slow_consumer: SlowConsumer,
    limits: Limits,
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

    /// The topics, with the broker started.
    ///
    /// # Errors
    /// The first invalid setting, named.
    pub fn build(self) -> Result<Topics, ConfigError> {
        self.limits.validate()?;
        Ok(self.start())
    }

    fn start(self) -> Topics {
        let inner = Arc::new(Inner {
            registry: Registry::default(),
            broker: self.broker,
            slow_consumer: self.slow_consumer,
            limits: self.limits,
        });
        inner.broker.start(Inbound(Arc::downgrade(&inner)));
        Topics(inner)
    }
}

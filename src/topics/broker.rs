//! [`Broker`]: how a [`Topics`](super::Topics) reaches other server
//! processes. The default, [`InProcess`], reaches none.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use super::{BrokerHealth, Inner, Position, Publication, Recovery, Retention, Topic, TopicEvent};
use crate::proto::SharedMessage;

/// Carries publications between the server processes ("nodes") that share
/// topics. `Topics` delivers to its own sockets itself and tells the broker
/// only what other nodes need: what is published here, and which topics
/// have local subscribers (so a node hears only topics it needs).
///
/// Every method is called without waiting and must not block: queue the
/// work for a task of the broker's own. Implementations: [`InProcess`]
/// (none), `RedisBroker` (feature `redis`).
pub trait Broker: fmt::Debug + Send + Sync + 'static {
    /// Called once, when the `Topics` is built: what other nodes publish
    /// goes to `inbound`.
    fn start(&self, inbound: Inbound);

    /// `topic` gained its first local subscriber: start hearing it.
    fn subscribe(&self, topic: &Topic);

    /// `topic` lost its last local subscriber: stop hearing it.
    fn unsubscribe(&self, topic: &Topic);

    /// `message` was published to `topic` here (and already delivered to
    /// this node's subscribers): send it to the other nodes.
    fn publish(&self, topic: &str, message: &SharedMessage);

    /// Its connections and counters now. The default: always connected,
    /// nothing counted (a broker that reaches no other process).
    fn health(&self) -> BrokerHealth {
        BrokerHealth {
            connected: true,
            ..BrokerHealth::default()
        }
    }

    /// Takes no more publications; the future ends once what was queued
    /// has been sent, or given up on. The default has nothing queued.
    fn close(&self) -> BoxFuture<()> {
        Box::pin(std::future::ready(()))
    }

    /// Whether it positions publications and keeps their history itself,
    /// so every node agrees on positions. Then `Topics::publish` only hands
    /// a publication to the broker, which gives it back to every node (this
    /// one too) with [`Inbound::deliver_at`]. Asked after `start`.
    fn keeps_history(&self) -> bool {
        false
    }

    /// What `topic` published after `since`, oldest first, once this node
    /// hears `topic` live (so nothing falls between the two), or why not.
    /// Called only when [`keeps_history`](Self::keeps_history).
    fn history(&self, topic: &Topic, since: Position) -> BoxFuture<Result<Vec<(Position, SharedMessage)>, Recovery>> {
        let _ = (topic, since);
        Box::pin(std::future::ready(Err(Recovery::HistoryOff)))
    }

    /// Whether it carries publications anywhere (`false` spares `Topics`
    /// encoding what nobody would read).
    fn carries(&self) -> bool {
        true
    }
}

/// A future a broker returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// One process only: nothing to carry. The default broker.
#[derive(Clone, Copy, Debug, Default)]
pub struct InProcess;

impl Broker for InProcess {
    fn start(&self, _inbound: Inbound) {}
    fn subscribe(&self, _topic: &Topic) {}
    fn unsubscribe(&self, _topic: &Topic) {}
    fn publish(&self, _topic: &str, _message: &SharedMessage) {}
    fn carries(&self) -> bool {
        false
    }
}

/// A broker's way back into its `Topics`: delivers what other nodes
/// published and reports gaps. It does not keep the `Topics` alive.
#[derive(Clone, Debug)]
pub struct Inbound(pub(super) Weak<Inner>);

impl Inbound {
    /// Delivers a publication from another node to this node's subscribers
    /// of `topic` (not back to the broker); returns how many took it.
    #[allow(clippy::must_use_candidate)] // the count is for those who want it
    pub fn deliver(&self, topic: &str, message: &SharedMessage) -> usize {
        self.deliver_local(topic, None, message)
    }

    /// Delivers a publication that a broker which keeps history positioned
    /// at `position` (from any node, this one included) to this node's
    /// subscribers of `topic`; returns how many took it.
    #[allow(clippy::must_use_candidate)] // the count is for those who want it
    pub fn deliver_at(&self, topic: &str, position: Position, message: &SharedMessage) -> usize {
        self.deliver_local(topic, Some(position), message)
    }

    /// Delivers here, at `position` if a broker gave it one.
    fn deliver_local(&self, topic: &str, position: Option<Position>, message: &SharedMessage) -> usize {
        let deliver = |inner: Arc<Inner>| {
            inner
                .deliver_local(topic, Publication::Shared(message), position)
                .unwrap_or(0)
        };
        self.0.upgrade().map_or(0, deliver)
    }

    /// How much history the `Topics` keeps per topic, if any.
    #[must_use]
    pub fn retention(&self) -> Option<Retention> {
        self.0.upgrade().and_then(|inner| inner.streams.retention())
    }

    /// Tells every local subscriber of `topic` that publications may have
    /// been lost ([`TopicEvent::Gap`]); `missed`, if known, how many.
    pub fn gap(&self, topic: &str, missed: Option<u64>) {
        if let Some(inner) = self.0.upgrade() {
            let topic = Topic::from(topic);
            inner.registry.for_each(&topic, |mailbox| {
                mailbox.notify(TopicEvent::Gap {
                    topic: topic.clone(),
                    missed,
                });
            });
        }
    }

    /// The topics with local subscribers now (what to resubscribe to after
    /// the broker connection comes back).
    #[must_use]
    pub fn topics(&self) -> Vec<Topic> {
        self.0.upgrade().map_or_else(Vec::new, |inner| inner.registry.names())
    }

    /// Whether the `Topics` still exists (a broker's task may stop once it does not).
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

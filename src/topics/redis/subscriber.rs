//! The subscribing connection's task: channels for the topics with local
//! subscribers, publications delivered, gaps reported once per outage.

use std::collections::{HashMap, HashSet};
use std::future::poll_fn;
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;

use super::history::{self, Queries};
use super::IO_TIMEOUT;
use crate::proto::SharedMessage;
use crate::topics::broker::Inbound;
use crate::topics::envelope::{self, GapTracker, Verdict};
use crate::topics::health::{Health, Link};
use crate::topics::interest::Interest;
use crate::topics::reconnect::Backoff;
use crate::topics::{Position, Retention, Topic};

/// The subscribing connection's task.
pub(super) struct Subscriber {
    pub(super) client: redis::Client,
    pub(super) prefix: String,
    pub(super) interest: Arc<Interest>,
    pub(super) tracker: GapTracker,
    pub(super) inbound: Inbound,
    pub(super) health: Arc<Health>,
    /// The `Topics`' retention when Redis keeps the history.
    pub(super) history: Option<Retention>,
    /// The last position delivered per topic (history mode): duplicates
    /// dropped, and where to heal from after an outage.
    pub(super) last: HashMap<Topic, Position>,
    pub(super) queries: Arc<Queries>,
}

impl Subscriber {
    pub(super) async fn run(mut self) {
        let mut backoff = Backoff::new("Redis subscribing");
        let mut reconnecting = false;
        let (client, inbound, health) = (self.client.clone(), self.inbound.clone(), Arc::clone(&self.health));
        while let Some(pubsub) = backoff
            .connect(&health, || inbound.is_alive(), || client.get_async_pubsub())
            .await
        {
            self.listen(pubsub, reconnecting).await;
            health.set_connected(Link::Subscribing, false);
            self.interest.hear_only(HashSet::new());
            reconnecting = true;
        }
    }

    /// Subscribes as wanted and delivers until the connection ends.
    async fn listen(&mut self, pubsub: redis::aio::PubSub, reconnected: bool) {
        let (mut sink, mut stream) = pubsub.split();
        let mut subscribed = HashSet::new();
        if let Err(e) = self.sync(&mut sink, &mut subscribed).await {
            return self.health.error(format_args!("Redis SUBSCRIBE failed: {e}"));
        }
        self.health.set_connected(Link::Subscribing, true);
        if reconnected {
            self.after_outage(&subscribed).await;
        }
        loop {
            tokio::select! {
                message = poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)) => match message {
                    Some(message) => self.deliver(&message),
                    None => return self.health.error("Redis subscribing connection lost"),
                },
                () = self.interest.changed() => {
                    if let Err(e) = self.sync(&mut sink, &mut subscribed).await {
                        return self.health.error(format_args!("Redis SUBSCRIBE failed: {e}"));
                    }
                }
                () = tokio::time::sleep(IO_TIMEOUT) => {
                    if !self.inbound.is_alive() {
                        return;
                    }
                    if tokio::time::timeout(IO_TIMEOUT, sink.ping::<redis::Value>()).await.map_or(true, |r| r.is_err()) {
                        return self.health.error("Redis subscribing connection did not answer a PING");
                    }
                }
            }
        }
    }

    /// Whatever was published while the connection was down never reached
    /// it. With history, it is fetched and delivered (live publications
    /// wait in the connection meanwhile; duplicates are dropped by
    /// position); what cannot be, and everything without history, is one
    /// gap per topic for the outage, and sequences start afresh so the
    /// first publication after it is not reported again.
    async fn after_outage(&mut self, subscribed: &HashSet<Topic>) {
        self.tracker.reset();
        for topic in subscribed {
            let since = self.last.get(topic).copied();
            let healed = match (self.history, since) {
                (Some(retention), Some(since)) => {
                    let channel = format!("{}{topic}", self.prefix);
                    self.queries.fetch(&channel, since, retention).await.ok()
                }
                _ => None,
            };
            match healed {
                Some(missed) => {
                    for (position, message) in missed {
                        self.deliver_at(topic, position, &message);
                    }
                }
                None => self.gap(topic, None),
            }
        }
    }

    fn gap(&self, topic: &str, missed: Option<u64>) {
        self.health.gap();
        self.inbound.gap(topic, missed);
    }

    /// Brings the connection's subscriptions to the wanted set.
    async fn sync(&mut self, sink: &mut redis::aio::PubSubSink, subscribed: &mut HashSet<Topic>) -> Result<(), String> {
        let wanted = self.interest.wanted();
        let join: Vec<Topic> = wanted.difference(subscribed).cloned().collect();
        let leave: Vec<Topic> = subscribed.difference(&wanted).cloned().collect();
        let channels = |topics: &[Topic]| topics.iter().map(|t| format!("{}{t}", self.prefix)).collect::<Vec<_>>();
        if !join.is_empty() {
            tokio::time::timeout(IO_TIMEOUT, sink.subscribe(channels(&join)))
                .await
                .map_err(|_| "timed out".to_owned())?
                .map_err(|e| e.to_string())?;
        }
        if !leave.is_empty() {
            tokio::time::timeout(IO_TIMEOUT, sink.unsubscribe(channels(&leave)))
                .await
                .map_err(|_| "timed out".to_owned())?
                .map_err(|e| e.to_string())?;
            for topic in &leave {
                self.tracker.forget(topic);
                self.last.remove(topic);
            }
        }
        self.interest.hear_only(wanted.clone());
        *subscribed = wanted;
        Ok(())
    }

    fn deliver(&mut self, message: &redis::Msg) {
        let Some(topic) = message.get_channel_name().strip_prefix(&self.prefix) else {
            return;
        };
        let topic = Topic::from(topic);
        if self.history.is_some() {
            let opened = history::open_positioned(message.get_payload_bytes())
                .and_then(|(position, sealed)| Some((position, envelope::open(sealed)?)));
            if let Some((position, opened)) = opened {
                if let Ok(shared) = SharedMessage::new(opened.message) {
                    self.deliver_at(&topic, position, &shared);
                }
            }
            return;
        }
        let Some(opened) = envelope::open(Bytes::copy_from_slice(message.get_payload_bytes())) else {
            tracing::debug!(%topic, "not a hyperws envelope: ignored");
            return;
        };
        let Verdict::Deliver { gap } = self.tracker.check(&topic, &opened) else {
            return;
        };
        if gap > 0 {
            self.gap(&topic, Some(gap));
        }
        if let Ok(shared) = SharedMessage::new(opened.message) {
            self.inbound.deliver(&topic, &shared);
        }
    }

    /// Delivers a publication Redis positioned, once: an offset at or
    /// before the last one of the same epoch is a duplicate; one past the
    /// next is a gap (reported with its size).
    fn deliver_at(&mut self, topic: &Topic, position: Position, message: &SharedMessage) {
        if let Some(last) = self.last.get(topic).filter(|last| last.epoch() == position.epoch()) {
            if position.offset() <= last.offset() {
                return;
            }
            if position.offset() > last.offset() + 1 {
                self.gap(topic, Some(position.offset() - last.offset() - 1));
            }
        }
        self.last.insert(topic.clone(), position);
        self.inbound.deliver_at(topic, position, message);
    }
}

//! The subscribing connection's task: channels for the topics with local
//! subscribers, publications delivered, gaps reported once per outage.

use std::collections::HashSet;
use std::future::poll_fn;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use futures_core::Stream;

use super::{State, IO_TIMEOUT};
use crate::proto::SharedMessage;
use crate::topics::broker::Inbound;
use crate::topics::envelope::{self, GapTracker, Verdict};
use crate::topics::health::{Health, Link};
use crate::topics::reconnect::Backoff;
use crate::topics::Topic;

/// The subscribing connection's task.
pub(super) struct Subscriber {
    pub(super) client: redis::Client,
    pub(super) prefix: String,
    pub(super) state: Arc<State>,
    pub(super) tracker: GapTracker,
    pub(super) inbound: Inbound,
    pub(super) health: Arc<Health>,
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
            // Whatever was published while we were away never reached us:
            // one gap per topic for the outage, and sequences start afresh
            // so the first publication after it is not reported again.
            self.tracker.reset();
            for topic in &subscribed {
                self.gap(topic, None);
            }
        }
        loop {
            tokio::select! {
                message = poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)) => match message {
                    Some(message) => self.deliver(&message),
                    None => return self.health.error("Redis subscribing connection lost"),
                },
                () = self.state.changed.notified() => {
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

    fn gap(&self, topic: &str, missed: Option<u64>) {
        self.health.gap();
        self.inbound.gap(topic, missed);
    }

    /// Brings the connection's subscriptions to the wanted set.
    async fn sync(&mut self, sink: &mut redis::aio::PubSubSink, subscribed: &mut HashSet<Topic>) -> Result<(), String> {
        let wanted = self.state.wanted.lock().unwrap_or_else(PoisonError::into_inner).clone();
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
            }
        }
        *subscribed = wanted;
        Ok(())
    }

    fn deliver(&mut self, message: &redis::Msg) {
        let Some(topic) = message.get_channel_name().strip_prefix(&self.prefix) else {
            return;
        };
        let topic = Topic::from(topic);
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
}

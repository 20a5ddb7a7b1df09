//! One topic heard live: a core NATS subscription, or (with history) an
//! ordered `JetStream` consumer whose stream sequence is the position.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::push::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use futures_util::StreamExt;

use super::connection::Names;
use super::{jetstream, Shared};
use crate::proto::SharedMessage;
use crate::topics::broker::Inbound;
use crate::topics::envelope::{self, GapTracker, Verdict};
use crate::topics::{Position, Retention, Topic};

/// What a topic's task needs.
pub(super) struct Listener {
    pub(super) client: async_nats::Client,
    pub(super) shared: Arc<Shared>,
    pub(super) inbound: Inbound,
    pub(super) names: Names,
    pub(super) topic: Topic,
    pub(super) node: u64,
}

impl Listener {
    /// Core NATS: delivered as they come; own publications and duplicates
    /// dropped; a new outage (counted by the connection) resets the
    /// sequences, its gap having been reported once.
    pub(super) async fn core(self) {
        let subject = super::subject(&self.names.prefix, &self.topic);
        let mut subscription = match self.client.subscribe(subject).await {
            Ok(subscription) => subscription,
            Err(e) => return self.shared.health.error(format_args!("NATS SUB failed: {e}")),
        };
        let _ = self.client.flush().await; // the server has the SUB once this returns
        self.shared.interest.hear(&self.topic, true);
        let mut tracker = GapTracker::new(self.node);
        let mut outages = self.shared.outages.load(Ordering::Relaxed);
        while let Some(message) = subscription.next().await {
            let now = self.shared.outages.load(Ordering::Relaxed);
            if now != outages {
                tracker.reset();
                outages = now;
            }
            let Some(opened) = envelope::open(message.payload) else {
                continue;
            };
            let Verdict::Deliver { gap } = tracker.check(&self.topic, &opened) else {
                continue;
            };
            if gap > 0 {
                self.shared.health.gap();
                self.inbound.gap(&self.topic, Some(gap));
            }
            if let Ok(shared) = SharedMessage::new(opened.message) {
                self.inbound.deliver(&self.topic, &shared);
            }
        }
        self.shared.interest.hear(&self.topic, false);
    }

    /// `JetStream`: an ordered consumer from now on; made again after it
    /// fails, from the publication after the last one delivered while the
    /// epoch holds (so nothing is missed), else from now with one gap.
    pub(super) async fn ordered(self, retention: Retention) {
        let subject = super::subject(&self.names.prefix, &self.topic);
        let js = async_nats::jetstream::new(self.client.clone());
        let mut last: Option<Position> = None;
        let mut delay = Duration::from_millis(100);
        while self.inbound.is_alive() {
            match jetstream::ensure(&js, &self.names.stream, &self.names.prefix, retention).await {
                Ok((stream, epoch)) => {
                    let deliver_policy = match last {
                        Some(last) if last.epoch() == epoch => DeliverPolicy::ByStartSequence {
                            start_sequence: last.offset() + 1,
                        },
                        Some(_) => {
                            self.shared.health.gap();
                            self.inbound.gap(&self.topic, None);
                            DeliverPolicy::New
                        }
                        None => DeliverPolicy::New,
                    };
                    let config = OrderedConfig {
                        deliver_subject: self.client.new_inbox(),
                        filter_subject: subject.clone(),
                        deliver_policy,
                        ..OrderedConfig::default()
                    };
                    match stream.create_consumer(config).await {
                        Ok(consumer) => {
                            delay = Duration::from_millis(100);
                            self.consume(&js, consumer, epoch, &mut last).await;
                        }
                        Err(e) => self
                            .shared
                            .health
                            .error(format_args!("NATS consumer for {}: {e}", self.topic)),
                    }
                }
                Err(e) => self.shared.health.error(format_args!("NATS JetStream stream: {e}")),
            }
            self.shared.interest.hear(&self.topic, false);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Delivers what the consumer gives. After an outage (or a sequence
    /// that went back) it checks the stream is the one it had: one made
    /// again by a server that lost its data has a new epoch, and the
    /// consumer starts afresh with one gap.
    async fn consume(
        &self,
        js: &async_nats::jetstream::Context,
        consumer: async_nats::jetstream::consumer::Consumer<OrderedConfig>,
        epoch: u64,
        last: &mut Option<Position>,
    ) {
        let Ok(mut messages) = consumer.messages().await else {
            return;
        };
        self.shared.interest.hear(&self.topic, true);
        let mut outages = self.shared.outages.load(Ordering::Relaxed);
        while let Some(message) = messages.next().await {
            let Ok(message) = message else {
                return self
                    .shared
                    .health
                    .error(format_args!("NATS consumer for {} ended", self.topic));
            };
            let Ok(info) = message.info() else { continue };
            let position = Position::new(epoch, info.stream_sequence);
            let went_back = last.is_some_and(|last| last.offset() >= position.offset());
            let now = self.shared.outages.load(Ordering::Relaxed);
            if went_back || now != outages {
                outages = now;
                if jetstream::current_epoch(js, &self.names.stream).await != Some(epoch) {
                    // Another stream: start again under its epoch.
                    *last = None;
                    self.shared.health.gap();
                    self.inbound.gap(&self.topic, None);
                    return;
                }
            }
            if went_back {
                continue; // had it already
            }
            *last = Some(position);
            let opened = envelope::open(message.payload.clone());
            if let Some(shared) = opened.and_then(|opened| SharedMessage::new(opened.message).ok()) {
                self.inbound.deliver_at(&self.topic, position, &shared);
            }
        }
    }
}

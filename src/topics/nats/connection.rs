//! The NATS connection and the task that keeps one listener per topic with
//! local subscribers, counts outages and reports their gaps.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_nats::Event;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::listen::Listener;
use super::{Shared, IO_TIMEOUT};
use crate::topics::broker::Inbound;
use crate::topics::health::Link;
use crate::topics::reconnect;
use crate::topics::Topic;

/// The subject prefix (with its dot) and the `JetStream` stream's name.
#[derive(Clone, Debug)]
pub(super) struct Names {
    pub(super) prefix: String,
    pub(super) stream: String,
}

/// Connects (retrying in the background) and keeps the listeners.
pub(super) async fn run(url: String, shared: Arc<Shared>, names: Names, inbound: Inbound, node: u64) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let options = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(IO_TIMEOUT)
        // 100 ms doubling to 5 s: a server that keeps refusing sees a
        // bounded number of attempts a minute.
        .reconnect_delay_callback(reconnect::delay)
        .event_callback(move |event| {
            let events = events_tx.clone();
            async move {
                let _ = events.send(event);
            }
        });
    let client = match options.connect(url.as_str()).await {
        Ok(client) => client,
        Err(e) => return shared.health.error(format_args!("NATS: {e}")),
    };
    let _ = shared.client.set(client.clone());
    shared.connected.notify_waiters();
    let mut listeners: HashMap<Topic, JoinHandle<()>> = HashMap::new();
    let mut down = false;
    while inbound.is_alive() {
        tokio::select! {
            () = shared.interest.changed() => {
                sync(&mut listeners, &client, &shared, &inbound, &names, node);
            }
            Some(event) = events.recv() => match event {
                Event::Connected => {
                    set_connected(&shared, true);
                    if std::mem::take(&mut down) {
                        after_outage(&shared, &inbound, listeners.keys());
                    }
                }
                Event::Disconnected => {
                    set_connected(&shared, false);
                    shared.health.error("NATS connection lost");
                    down = true;
                }
                other => tracing::debug!(?other, "NATS event"),
            },
            () = tokio::time::sleep(IO_TIMEOUT) => {}
        }
        if client.connection_state() == async_nats::connection::State::Connected && !down {
            set_connected(&shared, true);
        }
    }
    listeners.values().for_each(JoinHandle::abort);
}

/// One connection carries both directions.
fn set_connected(shared: &Shared, up: bool) {
    shared.health.set_connected(Link::Subscribing, up);
    shared.health.set_connected(Link::Publishing, up);
}

/// Back after an outage, counted. Core NATS lost what was published
/// meanwhile: one gap per topic. `JetStream`'s ordered consumers catch up on
/// their own, once each has checked the stream is still the one it had.
fn after_outage<'a>(shared: &Shared, inbound: &Inbound, topics: impl Iterator<Item = &'a Topic>) {
    shared.health.reconnecting();
    shared.outages.fetch_add(1, Ordering::Relaxed);
    if shared.history.get().is_some() {
        return; // each listener checks its stream's epoch
    }
    for topic in topics {
        shared.health.gap();
        inbound.gap(topic, None);
    }
}

/// One listener per wanted topic: started for new ones, stopped for gone ones.
fn sync(
    listeners: &mut HashMap<Topic, JoinHandle<()>>,
    client: &async_nats::Client,
    shared: &Arc<Shared>,
    inbound: &Inbound,
    names: &Names,
    node: u64,
) {
    let wanted = shared.interest.wanted();
    listeners.retain(|topic, task| {
        let keep = wanted.contains(topic);
        if !keep {
            task.abort();
            shared.interest.hear(topic, false);
        }
        keep
    });
    for topic in wanted {
        listeners.entry(topic.clone()).or_insert_with(|| {
            let listener = Listener {
                client: client.clone(),
                shared: Arc::clone(shared),
                inbound: inbound.clone(),
                names: names.clone(),
                topic,
                node,
            };
            match shared.history.get() {
                Some(&retention) => tokio::spawn(listener.ordered(retention)),
                None => tokio::spawn(listener.core()),
            }
        });
    }
}

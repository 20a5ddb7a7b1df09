//! What a networked broker's calls share with its listening task: the
//! topics this node wants to hear (those with local subscribers, and a
//! wake-up when they change) and the topics it hears now (a history is
//! fetched only once its topic is heard live, so nothing falls between
//! the two). Shared by every broker that crosses the network.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::Topic;

#[derive(Debug)]
pub(crate) struct Interest {
    wanted: Mutex<HashSet<Topic>>,
    changed: Notify,
    heard: watch::Sender<HashSet<Topic>>,
}

impl Default for Interest {
    fn default() -> Self {
        Self {
            wanted: Mutex::default(),
            changed: Notify::new(),
            heard: watch::Sender::new(HashSet::new()),
        }
    }
}

impl Interest {
    /// `topic` gained (`true`) or lost its local subscribers; the
    /// listening task is woken.
    pub(crate) fn want(&self, topic: &Topic, wanted: bool) {
        let mut topics = self.wanted.lock().unwrap_or_else(PoisonError::into_inner);
        if wanted {
            topics.insert(topic.clone());
        } else {
            topics.remove(topic);
        }
        self.changed.notify_one();
    }

    /// The topics wanted now.
    pub(crate) fn wanted(&self) -> HashSet<Topic> {
        self.wanted.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Ends once the wanted topics changed (or had changed unseen).
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// `topic` is heard live now, or no longer (NATS listens per topic).
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn hear(&self, topic: &Topic, heard: bool) {
        self.heard.send_modify(|topics| {
            if heard {
                topics.insert(topic.clone());
            } else {
                topics.remove(topic);
            }
        });
    }

    /// Exactly `topics` are heard live now (Redis listens on one connection).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn hear_only(&self, topics: HashSet<Topic>) {
        self.heard.send_replace(topics);
    }

    /// Waits, up to `timeout`, until `topic` is heard live.
    pub(crate) async fn heard(&self, topic: &Topic, timeout: Duration) -> bool {
        let mut heard = self.heard.subscribe();
        let wait = async { heard.wait_for(|topics| topics.contains(topic)).await.is_ok() };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }
}

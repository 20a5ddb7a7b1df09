//! Which local sockets subscribe to which topic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::mailbox::Mailbox;
use super::{Position, Topic};
use crate::proto::SharedMessage;

/// Topic name to its local subscribers. A topic exists while it has one.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    topics: RwLock<HashMap<Topic, Arc<Subscribers>>>,
}

/// One topic's subscribers: a list to walk fast, an index to leave fast,
/// and the topic's name, shared with every queued publication.
#[derive(Debug)]
struct Subscribers {
    name: Topic,
    list: Mutex<List>,
}

#[derive(Debug, Default)]
struct List {
    mailboxes: Vec<Arc<Mailbox>>,
    position: HashMap<u64, usize>,
}

impl Registry {
    /// Adds `mailbox` to `topic`; `on_first` runs if it is the topic's first
    /// subscriber, under the registry's lock, so a broker hears of first and
    /// last subscribers in the order they came and went.
    pub(crate) fn join(&self, topic: &Topic, mailbox: &Arc<Mailbox>, on_first: impl FnOnce()) {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let subscribers = topics.entry(topic.clone()).or_insert_with(|| {
            Arc::new(Subscribers {
                name: topic.clone(),
                list: Mutex::default(),
            })
        });
        let mut list = subscribers.list.lock().unwrap_or_else(PoisonError::into_inner);
        if list.position.contains_key(&mailbox.id()) {
            return;
        }
        let at = list.mailboxes.len();
        list.position.insert(mailbox.id(), at);
        list.mailboxes.push(Arc::clone(mailbox));
        if list.mailboxes.len() == 1 {
            on_first();
        }
    }

    /// Removes the mailbox `id` from `topic`; `on_last` gets the topic's
    /// name if it was the last subscriber (under the lock, as for `join`).
    pub(crate) fn leave(&self, topic: &str, id: u64, on_last: impl FnOnce(&Topic)) {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let Some(subscribers) = topics.get(topic) else { return };
        let mut list = subscribers.list.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(at) = list.position.remove(&id) else { return };
        list.mailboxes.swap_remove(at);
        if let Some(moved) = list.mailboxes.get(at).map(|m| m.id()) {
            list.position.insert(moved, at);
        }
        let now_empty = list.mailboxes.is_empty();
        drop(list);
        if now_empty {
            if let Some((name, _)) = topics.remove_entry(topic) {
                on_last(&name);
            }
        }
    }

    /// Queues `message`, at `position` in `topic`, for every subscriber of `topic`; returns how many
    /// took it and the ids of sockets that have ended (to be removed).
    pub(crate) fn deliver(&self, topic: &str, message: &SharedMessage, position: Position) -> (usize, Vec<u64>) {
        let Some(subscribers) = self.get(topic) else {
            return (0, Vec::new());
        };
        let list = subscribers.list.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ended = Vec::new();
        let mut delivered = 0;
        for mailbox in &list.mailboxes {
            if mailbox.offer(message, &subscribers.name, position) {
                delivered += 1;
            } else {
                ended.push(mailbox.id());
            }
        }
        (delivered, ended)
    }

    /// Runs `f` for every subscriber of `topic`.
    pub(crate) fn for_each(&self, topic: &str, f: impl Fn(&Mailbox)) {
        if let Some(subscribers) = self.get(topic) {
            let list = subscribers.list.lock().unwrap_or_else(PoisonError::into_inner);
            list.mailboxes.iter().for_each(|m| f(m));
        }
    }

    /// How many local sockets subscribe to `topic`.
    pub(crate) fn count(&self, topic: &str) -> usize {
        self.get(topic).map_or(0, |s| {
            s.list.lock().unwrap_or_else(PoisonError::into_inner).mailboxes.len()
        })
    }

    /// Every topic with a local subscriber.
    pub(crate) fn names(&self) -> Vec<Topic> {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    fn get(&self, topic: &str) -> Option<Arc<Subscribers>> {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
            .cloned()
    }
}

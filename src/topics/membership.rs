//! The topics one socket joined: kept with its mailbox (so the socket knows
//! nothing of topics) and left all at once when the socket ends.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::mailbox::Mailbox;
use super::{Position, Recovering, Recovery, SlowConsumer, SubscribeError, Topic, Topics};

#[derive(Debug, Default)]
pub(crate) struct Membership {
    joined: Vec<(Topics, Topic)>,
    /// `set_slow_consumer` chose the limits: a `Topics`' default must not
    /// replace them.
    limits_chosen: bool,
    /// The socket has ended: join nothing more.
    ended: bool,
}

impl Membership {
    fn has(&self, topics: &Topics, topic: &str) -> bool {
        self.joined.iter().any(|(t, name)| t.same(topics) && &**name == topic)
    }
}

/// The membership behind its lock.
pub(crate) fn lock(membership: &Mutex<Membership>) -> MutexGuard<'_, Membership> {
    // Every change below leaves the list whole before it can panic.
    membership.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Mailbox {
    /// Joins `topic` of `topics`; joining twice is joining once, and an
    /// ended socket joins nothing.
    pub(crate) fn join(self: &Arc<Self>, topics: &Topics, topic: &str) -> Result<(), SubscribeError> {
        if let Some(topic) = self.admit(topics, topic)? {
            topics.join(&topic, self);
        }
        Ok(())
    }

    /// Joins `topic` of `topics` and queues what it published after
    /// `since` first. A socket already in the topic cannot: what it would
    /// replay may have come already.
    pub(crate) fn join_from(self: &Arc<Self>, topics: &Topics, topic: &str, since: Position) -> Recovering {
        if lock(&self.membership).has(topics, topic) {
            return Recovering::ready(Err(SubscribeError::AlreadySubscribed));
        }
        match self.admit(topics, topic) {
            Ok(Some(topic)) => topics.join_from(&topic, self, since),
            // Ended: nothing will be sent, so nothing is missed either.
            Ok(None) => Recovering::ready(Ok(Recovery::Complete { replayed: 0 })),
            Err(e) => Recovering::ready(Err(e)),
        }
    }

    /// Checks the limits and notes the topic as joined; `None` if it was
    /// already or the socket has ended. The registry's lock is never taken
    /// under the membership's, so the caller joins the registry after.
    fn admit(&self, topics: &Topics, topic: &str) -> Result<Option<Topic>, SubscribeError> {
        let mut membership = lock(&self.membership);
        if membership.ended || membership.has(topics, topic) {
            return Ok(None);
        }
        let joined_here = membership.joined.iter().filter(|(t, _)| t.same(topics)).count();
        topics.limits().check(topic, joined_here)?;
        if !membership.limits_chosen && membership.joined.is_empty() {
            self.set_limits(topics.slow_consumer());
        }
        let topic = Topic::from(topic);
        membership.joined.push((topics.clone(), topic.clone()));
        Ok(Some(topic))
    }

    /// Leaves `topic` of `topics`; what was already queued is still sent.
    pub(crate) fn leave(&self, topics: &Topics, topic: &str) {
        let mut membership = lock(&self.membership);
        let before = membership.joined.len();
        membership
            .joined
            .retain(|(t, name)| !(t.same(topics) && &**name == topic));
        let left = membership.joined.len() < before;
        drop(membership);
        if left {
            topics.leave(topic, self.id());
        }
    }

    /// This socket's limits, which a `Topics`' default no longer replaces.
    pub(crate) fn choose_limits(&self, limits: SlowConsumer) {
        let mut membership = lock(&self.membership);
        self.set_limits(limits);
        membership.limits_chosen = true;
    }

    /// The socket has ended: leave every topic.
    pub(crate) fn leave_all(&self) {
        let joined = {
            let mut membership = lock(&self.membership);
            membership.ended = true;
            std::mem::take(&mut membership.joined)
        };
        for (topics, topic) in joined {
            topics.leave(&topic, self.id());
        }
    }
}

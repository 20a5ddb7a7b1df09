//! The topics one socket joined: kept with its mailbox (so the socket knows
//! nothing of topics) and left all at once when the socket ends.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::mailbox::Mailbox;
use super::{SlowConsumer, SubscribeError, Topic, Topics};

#[derive(Debug, Default)]
pub(crate) struct Membership {
    joined: Vec<(Topics, Topic)>,
    /// `set_slow_consumer` chose the limits: a `Topics`' default must not
    /// replace them.
    limits_chosen: bool,
    /// The socket has ended: join nothing more.
    ended: bool,
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
        let mut membership = lock(&self.membership);
        if membership.ended {
            return Ok(());
        }
        let mut joined_here = 0;
        for (_, name) in membership.joined.iter().filter(|(t, _)| t.same(topics)) {
            if &**name == topic {
                return Ok(());
            }
            joined_here += 1;
        }
        topics.limits().check(topic, joined_here)?;
        if !membership.limits_chosen && membership.joined.is_empty() {
            self.set_limits(topics.slow_consumer());
        }
        let topic = Topic::from(topic);
        membership.joined.push((topics.clone(), topic.clone()));
        drop(membership);
        // The registry's lock is never taken under the membership's.
        topics.join(&topic, self);
        Ok(())
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

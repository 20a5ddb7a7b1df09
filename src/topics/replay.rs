//! Subscribing from a position: the history this process keeps is replayed
//! under the topic's lock; a broker's is fetched while the socket's live
//! publications on the topic are held at the seam (`seam.rs`).

use std::sync::Arc;

use super::mailbox::Mailbox;
use super::streams::Publication;
use super::{Position, Recovering, Recovery, SharedMessage, Topic, Topics};

impl Topics {
    /// Joins `mailbox` to `topic` and queues what it missed since `since`.
    pub(super) fn join_from(&self, topic: &Topic, mailbox: &Arc<Mailbox>, since: Position) -> Recovering {
        if self.0.broker.keeps_history() {
            return self.join_from_broker(topic.clone(), Arc::clone(mailbox), since);
        }
        let join = || self.join(topic, mailbox);
        let replay = |missed: &[SharedMessage]| {
            mailbox.end_recovery(topic, missed, None);
        };
        Recovering::ready(Ok(self.0.streams.join_from(topic, since, join, replay)))
    }

    fn join_from_broker(&self, topic: Topic, mailbox: Arc<Mailbox>, since: Position) -> Recovering {
        // Held from before the join, so nothing live is queued ahead of
        // the history.
        mailbox.start_recovery(&topic);
        self.join(&topic, &mailbox);
        let fetched = self.0.broker.history(&topic, since);
        let seam = Seam {
            topics: self.clone(),
            topic,
            mailbox,
            open: true,
        };
        Recovering::fetching(async move { seam.close(fetched.await, since) })
    }
}

/// A socket's seam for one topic; closed (live publications released) even
/// if the recovery is given up before the history arrives.
struct Seam {
    topics: Topics,
    topic: Topic,
    mailbox: Arc<Mailbox>,
    open: bool,
}

impl Seam {
    fn close(mut self, fetched: Result<Vec<(Position, SharedMessage)>, Recovery>, since: Position) -> Recovery {
        self.open = false;
        let history = match fetched {
            Ok(history) => history,
            Err(why) => {
                self.mailbox.end_recovery(&self.topic, &[], None);
                return why;
            }
        };
        let last = history.last().map_or(since, |(position, _)| *position);
        let streams = &self.topics.0.streams;
        let stamped: Vec<SharedMessage> = history
            .into_iter()
            .filter_map(|(position, message)| streams.stamped(Publication::Shared(&message), position).ok())
            .collect();
        let dropped = self.mailbox.end_recovery(&self.topic, &stamped, Some(last));
        if dropped > 0 {
            return Recovery::Overflow { dropped };
        }
        Recovery::Complete {
            replayed: stamped.len(),
        }
    }
}

impl Drop for Seam {
    fn drop(&mut self) {
        if self.open {
            self.mailbox.end_recovery(&self.topic, &[], None);
        }
    }
}

//! The seam between history and live publications for a socket whose
//! history comes from a broker: while it is fetched, live publications on
//! that topic are held (within the socket's budget); once it arrives, the
//! history is queued, then the held ones it does not already hold.

use std::collections::VecDeque;

use super::Topic;
use crate::proto::SharedMessage;

/// Live publications held for one topic while its history is fetched.
#[derive(Debug)]
pub(super) struct Held {
    topic: Topic,
    pending: VecDeque<(u64, SharedMessage)>,
    bytes: usize,
    /// How many did not fit in the budget.
    dropped: u64,
}

/// The topics of one socket whose history is being fetched.
#[derive(Debug, Default)]
pub(super) struct Seams(Vec<Held>);

impl Seams {
    pub(super) fn open(&mut self, topic: &Topic) {
        if !self.0.iter().any(|held| &held.topic == topic) {
            self.0.push(Held {
                topic: topic.clone(),
                pending: VecDeque::new(),
                bytes: 0,
                dropped: 0,
            });
        }
    }

    /// Holds `message` if `topic` is being recovered; `false` if it is not
    /// (deliver it as usual). Past `budget` bytes held, it is dropped and
    /// counted (the recovery will say so).
    pub(super) fn hold(&mut self, topic: &Topic, offset: u64, message: &SharedMessage, budget: usize) -> bool {
        let Some(held) = self.0.iter_mut().find(|held| &held.topic == topic) else {
            return false;
        };
        if held.bytes + message.frame_len() > budget {
            held.dropped += 1;
        } else {
            held.bytes += message.frame_len();
            held.pending.push_back((offset, message.clone()));
        }
        true
    }

    /// Ends the recovery of `topic`: what was held past offset `after`
    /// (all of it when `None`), and how many were dropped.
    pub(super) fn close(&mut self, topic: &Topic, after: Option<u64>) -> (Vec<SharedMessage>, u64) {
        let Some(at) = self.0.iter().position(|held| &held.topic == topic) else {
            return (Vec::new(), 0);
        };
        let held = self.0.swap_remove(at);
        let live = held
            .pending
            .into_iter()
            .filter(|(offset, _)| after.is_none_or(|after| *offset > after))
            .map(|(_, message)| message)
            .collect();
        (live, held.dropped)
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

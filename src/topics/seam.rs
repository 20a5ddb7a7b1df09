//! The seam between history and live publications for a socket whose
//! history comes from a broker: while it is fetched, live publications on
//! that topic are held (within the socket's budget); once it arrives, the
//! history is queued, then the held ones it does not already hold. The
//! node's live feed may lag behind the history it fetched (the engine
//! answered the fetch before this node's subscription delivered the same
//! publications), so the seam then stays as a floor: live publications at
//! or before the history's last position are dropped until one after it
//! comes.

use std::collections::VecDeque;

use super::{Position, Topic};
use crate::proto::SharedMessage;

/// One topic's seam.
#[derive(Debug)]
enum Seam {
    /// The history is being fetched: live publications wait.
    Holding {
        pending: VecDeque<(Position, SharedMessage)>,
        bytes: usize,
        /// How many did not fit in the budget.
        dropped: u64,
    },
    /// The history up to here was queued: live ones up to here are copies.
    Floor(Position),
}

/// What to do with a live publication.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Live {
    /// Not at a seam: queue it as usual.
    Deliver,
    /// Held, or dropped as one the history already gave.
    Taken,
}

/// The seams of one socket, by topic.
#[derive(Debug, Default)]
pub(super) struct Seams(Vec<(Topic, Seam)>);

impl Seams {
    pub(super) fn open(&mut self, topic: &Topic) {
        let holding = Seam::Holding {
            pending: VecDeque::new(),
            bytes: 0,
            dropped: 0,
        };
        match self.0.iter_mut().find(|(t, _)| t == topic) {
            Some((_, seam)) => *seam = holding,
            None => self.0.push((topic.clone(), holding)),
        }
    }

    /// Holds a live publication at `position` of `topic`, drops it as a
    /// copy of one the history gave, or says to deliver it. Past `budget`
    /// bytes held, it is dropped and counted (the recovery will say so).
    pub(super) fn live(&mut self, topic: &Topic, position: Position, message: &SharedMessage, budget: usize) -> Live {
        let Some(at) = self.0.iter().position(|(t, _)| t == topic) else {
            return Live::Deliver;
        };
        match &mut self.0[at].1 {
            Seam::Holding {
                pending,
                bytes,
                dropped,
            } => {
                if *bytes + message.frame_len() > budget {
                    *dropped += 1;
                } else {
                    *bytes += message.frame_len();
                    pending.push_back((position, message.clone()));
                }
                Live::Taken
            }
            Seam::Floor(floor) if floor.epoch() == position.epoch() && position.offset() <= floor.offset() => {
                Live::Taken
            }
            Seam::Floor(_) => {
                // The live feed has passed the history: the seam is gone.
                self.0.swap_remove(at);
                Live::Deliver
            }
        }
    }

    /// Ends the fetch of `topic`'s history, which reached `after` (`None`:
    /// nothing was recovered): the held publications after it, and how
    /// many did not fit. A floor stays at `after`.
    pub(super) fn close(&mut self, topic: &Topic, after: Option<Position>) -> (Vec<SharedMessage>, u64) {
        let Some(at) = self.0.iter().position(|(t, _)| t == topic) else {
            return (Vec::new(), 0);
        };
        let (_, seam) = self.0.swap_remove(at);
        let Seam::Holding { pending, dropped, .. } = seam else {
            return (Vec::new(), 0);
        };
        let newer = |position: &Position| {
            after.is_none_or(|after| position.epoch() != after.epoch() || position.offset() > after.offset())
        };
        let live: Vec<SharedMessage> = pending
            .into_iter()
            .filter(|(position, _)| newer(position))
            .map(|(_, message)| message)
            .collect();
        if let Some(after) = after {
            self.0.push((topic.clone(), Seam::Floor(after)));
        }
        (live, dropped)
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Message;

    fn message(text: &str) -> SharedMessage {
        SharedMessage::new(Message::text(text)).unwrap()
    }

    /// The node's live feed lags behind the history it fetched: the copies
    /// it delivers after the history are dropped, the first newer one ends
    /// the seam, and one of another epoch is never taken for a copy.
    #[test]
    fn a_live_feed_behind_the_history_delivers_no_copies() {
        let topic = Topic::from("t");
        let mut seams = Seams::default();
        seams.open(&topic);
        assert_eq!(
            seams.live(&topic, Position::new(1, 5), &message("5"), 1 << 20),
            Live::Taken
        );
        let (held, dropped) = seams.close(&topic, Some(Position::new(1, 7)));
        assert!(held.is_empty() && dropped == 0, "5 came with the history");
        assert_eq!(
            seams.live(&topic, Position::new(1, 6), &message("6"), 1 << 20),
            Live::Taken
        );
        assert_eq!(
            seams.live(&topic, Position::new(1, 7), &message("7"), 1 << 20),
            Live::Taken
        );
        assert_eq!(
            seams.live(&topic, Position::new(1, 8), &message("8"), 1 << 20),
            Live::Deliver
        );
        assert_eq!(
            seams.live(&topic, Position::new(1, 6), &message("6"), 1 << 20),
            Live::Deliver,
            "the seam is gone"
        );

        seams.open(&topic);
        let _ = seams.close(&topic, Some(Position::new(1, 7)));
        assert_eq!(
            seams.live(&topic, Position::new(2, 1), &message("new epoch"), 1 << 20),
            Live::Deliver
        );
    }

    #[test]
    fn held_publications_after_the_history_are_released_and_the_budget_counts() {
        let topic = Topic::from("t");
        let mut seams = Seams::default();
        seams.open(&topic);
        let budget = message("x").frame_len() * 2;
        for offset in 6..=9 {
            seams.live(&topic, Position::new(1, offset), &message("x"), budget);
        }
        let (held, dropped) = seams.close(&topic, Some(Position::new(1, 6)));
        assert_eq!((held.len(), dropped), (1, 2), "7 released; 8 and 9 did not fit");
    }
}

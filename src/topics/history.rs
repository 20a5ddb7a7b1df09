//! One topic's sequence and history: the offsets it has handed out, under
//! an epoch, and the publications still kept for sockets that recover.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::{Position, Recovery, Retention};
use crate::proto::SharedMessage;

/// One topic's sequence, and its history when history is on.
#[derive(Debug)]
pub(super) struct Stream {
    epoch: u64,
    /// The offset of the last publication (0: none yet).
    last: u64,
    entries: VecDeque<Entry>,
    /// When the topic last published, to forget idle topics first.
    pub(super) touched: Instant,
}

#[derive(Debug)]
struct Entry {
    offset: u64,
    at: Instant,
    message: SharedMessage,
}

impl Stream {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            epoch: super::envelope::random_u64(),
            last: 0,
            entries: VecDeque::new(),
            touched: now,
        }
    }

    /// The position the next publication will take.
    pub(super) fn next(&self) -> Position {
        Position::new(self.epoch, self.last + 1)
    }

    /// The last publication's position, if there was one.
    pub(super) fn last(&self) -> Option<Position> {
        (self.last > 0).then(|| Position::new(self.epoch, self.last))
    }

    /// Takes the next position for `message`, kept as `retention` allows.
    pub(super) fn record(&mut self, message: &SharedMessage, retention: Option<Retention>, now: Instant) {
        self.last += 1;
        self.touched = now;
        let Some(retention) = retention else { return };
        self.entries.push_back(Entry {
            offset: self.last,
            at: now,
            message: message.clone(),
        });
        self.prune(retention, now);
    }

    /// Takes the position a broker that keeps history gave a publication
    /// (the history is the broker's; this keeps `Topics::position` true).
    pub(super) fn follow(&mut self, position: Position, now: Instant) {
        if position.epoch() != self.epoch || position.offset() > self.last {
            self.epoch = position.epoch();
            self.last = position.offset();
        }
        self.touched = now;
    }

    /// Drops what is past the count or the age.
    pub(super) fn prune(&mut self, retention: Retention, now: Instant) {
        while self.entries.len() > retention.count() {
            self.entries.pop_front();
        }
        let expired = |entry: &Entry| now.saturating_duration_since(entry.at) > retention.age();
        while self.entries.front().is_some_and(expired) {
            self.entries.pop_front();
        }
    }

    /// Whether nothing is kept and the topic has been idle for `idle`.
    pub(super) fn is_idle(&self, idle: Duration, now: Instant) -> bool {
        self.entries.is_empty() && now.saturating_duration_since(self.touched) > idle
    }

    /// The publications after `since`, oldest first, or why they cannot
    /// all be had.
    pub(super) fn after(&self, since: Position, retention: Option<Retention>) -> Result<Vec<SharedMessage>, Recovery> {
        if retention.is_none() {
            return Err(Recovery::HistoryOff);
        }
        if since.epoch() != self.epoch {
            return Err(Recovery::EpochChanged);
        }
        if since.offset() > self.last {
            return Err(Recovery::Unknown);
        }
        let wanted = since.offset() + 1;
        let oldest = self.entries.front().map_or(self.last + 1, |e| e.offset);
        if wanted < oldest {
            return Err(Recovery::TooOld {
                lost: Some(oldest - wanted),
            });
        }
        let skip = (wanted - oldest) as usize;
        Ok(self.entries.iter().skip(skip).map(|e| e.message.clone()).collect())
    }
}

//! [`BrokerHealth`]: what a broker reports about itself, and the counters
//! it keeps to report it, with warnings that cannot flood the log.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A broker's state, from [`Topics::broker_health`](super::Topics::broker_health).
///
/// ```
/// use hyperws::topics::Topics;
/// let health = Topics::new().broker_health();
/// assert!(health.connected); // in one process there is nothing to lose
/// assert_eq!(health.dropped, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerHealth {
    /// Every connection the broker needs is up now.
    pub connected: bool,
    /// Publications handed to the broker's server.
    pub published: u64,
    /// Publications dropped: the queue to the server was full, sending
    /// kept failing, or the `Topics` was closed before they went out.
    pub dropped: u64,
    /// Gaps reported to subscribers (one per outage, or per skipped run).
    pub gaps: u64,
    /// Connections made again after one was lost or refused.
    pub reconnects: u64,
    /// The last thing that went wrong, if anything did.
    pub last_error: Option<String>,
}

/// How often a warning of the same kind may be logged.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The counters behind a [`BrokerHealth`], shared by a broker's tasks.
#[derive(Debug, Default)]
pub(crate) struct Health {
    subscribing: AtomicBool,
    publishing: AtomicBool,
    published: AtomicU64,
    dropped: AtomicU64,
    gaps: AtomicU64,
    reconnects: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// When drops were last warned about, and how many since.
    drop_warning: Mutex<(Option<Instant>, u64)>,
}

/// Which of a broker's connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    Subscribing,
    Publishing,
}

impl Health {
    pub(crate) fn snapshot(&self) -> BrokerHealth {
        BrokerHealth {
            connected: self.subscribing.load(Ordering::Relaxed) && self.publishing.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            gaps: self.gaps.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            last_error: self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }

    pub(crate) fn set_connected(&self, link: Link, up: bool) {
        match link {
            Link::Subscribing => self.subscribing.store(up, Ordering::Relaxed),
            Link::Publishing => self.publishing.store(up, Ordering::Relaxed),
        }
    }

    pub(crate) fn published(&self, count: usize) {
        self.published.fetch_add(count as u64, Ordering::Relaxed);
    }

    pub(crate) fn gap(&self) {
        self.gaps.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reconnecting(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes what went wrong.
    pub(crate) fn error(&self, what: impl std::fmt::Display) {
        let what = what.to_string();
        tracing::warn!("topics broker: {what}");
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(what);
    }

    /// Counts `count` dropped publications; warns at most every 10 s, with
    /// how many were dropped since the last warning.
    pub(crate) fn dropped(&self, count: usize, why: &str) {
        self.dropped.fetch_add(count as u64, Ordering::Relaxed);
        let mut warning = self.drop_warning.lock().unwrap_or_else(PoisonError::into_inner);
        warning.1 += count as u64;
        let now = Instant::now();
        if warning.0.is_none_or(|last| now.duration_since(last) >= WARN_EVERY) {
            tracing::warn!("topics broker: {} publications dropped ({why})", warning.1);
            *warning = (Some(now), 0);
        }
    }
}

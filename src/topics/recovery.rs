//! [`Retention`], how much history a topic keeps, and [`Recovery`], what a
//! socket subscribing from a position was given.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::SubscribeError;
use crate::ConfigError;

/// The most publications a topic may keep.
const MAX_COUNT: usize = 1 << 20;
/// The longest a publication may be kept.
const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How much of each topic's history is kept for sockets that reconnect:
/// the last `count` publications, none older than `age`. History is off
/// unless [`TopicsBuilder::history`](super::TopicsBuilder::history) asks.
///
/// ```
/// use std::time::Duration;
/// use hyperws::topics::Retention;
/// let retention = Retention::new(1000, Duration::from_secs(300))?;
/// assert_eq!(retention.count(), 1000);
/// // Checked when configured.
/// assert!(Retention::new(0, Duration::from_secs(300)).is_err());
/// assert!(Retention::new(10, Duration::ZERO).is_err());
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    count: usize,
    age: Duration,
}

impl Retention {
    /// Keep the last `count` publications of each topic (1 to 2^20), each
    /// for at most `age` (up to a week).
    ///
    /// # Errors
    /// A zero or out-of-range count or age, named.
    pub fn new(count: usize, age: Duration) -> Result<Self, ConfigError> {
        if count == 0 {
            return Err(ConfigError::Zero("a history's count (Retention::new)"));
        }
        if age.is_zero() {
            return Err(ConfigError::Zero("a history's age (Retention::new)"));
        }
        if count > MAX_COUNT || age > MAX_AGE {
            return Err(ConfigError::OutOfRange(
                "a history keeps at most 2^20 publications for at most a week (Retention::new)",
            ));
        }
        Ok(Self { count, age })
    }

    /// How many publications a topic keeps.
    #[must_use]
    pub const fn count(&self) -> usize {
        self.count
    }

    /// How long a publication is kept.
    #[must_use]
    pub const fn age(&self) -> Duration {
        self.age
    }
}

/// What a socket subscribing from a [`Position`](super::Position) was
/// given. In every case it is subscribed and receives live publications;
/// only [`Complete`](Self::Complete) means it missed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recovery {
    /// Every publication after the position was queued for it, in order,
    /// before any live one, none twice.
    Complete {
        /// How many were queued.
        replayed: usize,
    },
    /// The topic keeps no history.
    HistoryOff,
    /// The history the position belongs to was lost (a restart, or the
    /// topic was idle and forgotten): what came since cannot be known.
    EpochChanged,
    /// Some publications after the position are no longer kept.
    TooOld {
        /// How many of them, where the history can count them (in one
        /// process and with Redis; not with NATS, whose sequence numbers
        /// are shared by every topic).
        lost: Option<u64>,
    },
    /// The position is past the topic's last publication (not one this
    /// topic handed out).
    Unknown,
    /// Live publications came faster than the history could be fetched,
    /// past the socket's budget: this many were dropped at the seam.
    Overflow {
        /// How many.
        dropped: u64,
    },
    /// The broker that keeps the history could not be reached.
    Unavailable,
}

impl Recovery {
    /// Whether the socket missed nothing.
    #[must_use]
    pub const fn is_complete(&self) -> bool {
        matches!(self, Self::Complete { .. })
    }
}

/// The future [`Subscribe::subscribe_from`](super::Subscribe::subscribe_from)
/// returns. It does not borrow the socket.
#[must_use = "the recovery says whether the socket missed anything"]
pub struct Recovering(Progress);

enum Progress {
    /// Known already (the history is in this process).
    Ready(Option<Result<Recovery, SubscribeError>>),
    /// Being fetched from the broker; dropped, the socket's held live
    /// publications are released.
    Fetching(Pin<Box<dyn Future<Output = Recovery> + Send>>),
}

impl fmt::Debug for Recovering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Progress::Ready(result) => f.debug_tuple("Ready").field(result).finish(),
            Progress::Fetching(_) => f.write_str("Fetching"),
        }
    }
}

impl Recovering {
    pub(super) fn ready(result: Result<Recovery, SubscribeError>) -> Self {
        Self(Progress::Ready(Some(result)))
    }

    pub(super) fn fetching(fetch: impl Future<Output = Recovery> + Send + 'static) -> Self {
        Self(Progress::Fetching(Box::pin(fetch)))
    }
}

impl Future for Recovering {
    type Output = Result<Recovery, SubscribeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Progress::Ready(result) => Poll::Ready(result.take().expect("Recovering polled after it completed")),
            Progress::Fetching(fetch) => fetch.as_mut().poll(cx).map(Ok),
        }
    }
}

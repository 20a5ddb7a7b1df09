//! The idle timeout: close with 1001 after `timeout` without a text or
//! binary message in either direction.
//!
//! Like the heartbeat, a message only records the time; the deadline moves
//! when it comes due, so a busy socket never re-arms its timer.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) enum IdleClock {
    Off,
    On {
        timeout: Duration,
        last_message: Instant,
        check_at: Instant,
    },
}

impl IdleClock {
    pub(crate) fn new(timeout: Option<Duration>, now: Instant) -> Self {
        match timeout {
            None => Self::Off,
            Some(timeout) => Self::On {
                timeout,
                last_message: now,
                check_at: now + timeout,
            },
        }
    }

    /// A text or binary message moved.
    pub(crate) fn message(&mut self, now: Instant) {
        if let Self::On { last_message, .. } = self {
            *last_message = now;
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            Self::Off => None,
            Self::On { check_at, .. } => Some(*check_at),
        }
    }

    /// Whether the connection has been idle for the whole timeout at `now`.
    pub(crate) fn expired(&mut self, now: Instant) -> bool {
        let Self::On {
            timeout,
            last_message,
            check_at,
        } = self
        else {
            return false;
        };
        if now < *check_at {
            return false;
        }
        *check_at = *last_message + *timeout;
        now >= *check_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_the_last_message() {
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let mut idle = IdleClock::new(Some(minute), start);
        idle.message(start + Duration::from_secs(30));
        assert!(!idle.expired(start + minute));
        assert_eq!(idle.deadline(), Some(start + Duration::from_secs(90)));
        assert!(idle.expired(start + Duration::from_secs(90)));
        assert!(!IdleClock::new(None, start).expired(start + minute * 100));
    }
}

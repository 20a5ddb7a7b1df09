//! The idle timeout: close with 1001 after `timeout` without a text or
//! binary message in either direction.
//!
//! Like the heartbeat, a message only records the time; the deadline moves
//! when it comes due, so a busy socket never re-arms its timer. A received
//! message carries the time it was read at; a sent one only sets a flag
//! (sending reads no clock), and counts as sent when the check comes due:
//! the connection is closed at least `timeout` after its last message, and
//! at most twice that when the last one was ours.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) enum IdleClock {
    Off,
    On {
        timeout: Duration,
        last_message: Instant,
        sent_since_check: bool,
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
                sent_since_check: false,
                check_at: now + timeout,
            },
        }
    }

    /// A text or binary message arrived at `now`.
    pub(crate) fn message_received(&mut self, now: Instant) {
        if let Self::On { last_message, .. } = self {
            *last_message = (*last_message).max(now);
        }
    }

    /// A text or binary message was sent.
    pub(crate) fn message_sent(&mut self) {
        if let Self::On { sent_since_check, .. } = self {
            *sent_since_check = true;
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
            sent_since_check,
            check_at,
        } = self
        else {
            return false;
        };
        if now < *check_at {
            return false;
        }
        if std::mem::take(sent_since_check) {
            *last_message = now;
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
        idle.message_received(start + Duration::from_secs(30));
        assert!(!idle.expired(start + minute));
        assert_eq!(idle.deadline(), Some(start + Duration::from_secs(90)));
        assert!(idle.expired(start + Duration::from_secs(90)));
    }

    #[test]
    fn a_sent_message_counts_from_the_check_after_it() {
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let mut idle = IdleClock::new(Some(minute), start);
        idle.message_sent();
        assert!(!idle.expired(start + minute), "never closed early");
        assert!(idle.expired(start + 2 * minute), "at most twice the timeout");
        assert!(!IdleClock::new(None, start).expired(start + minute * 100));
    }
}

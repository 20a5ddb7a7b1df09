//! Keepalive pings and dead-peer detection.
//!
//! 1. Every byte received records the time; that is all input costs.
//! 2. When the check comes due, a peer heard from within the last
//!    `interval` is alive: the check moves to `interval` after the last
//!    byte. Otherwise a ping goes out, its payload a counter, and the check
//!    moves to `timeout` later.
//! 3. At that check, any byte heard since the ping proves the peer alive
//!    (back to 2, still watching for our pong); nothing heard means dead: the
//!    connection is dropped without a closing handshake, which could only wait
//!    on the same peer.
//! 4. The pong that echoes our outstanding ping is ours and is not
//!    delivered; other pongs are the application's (RFC 6455 §5.5.3 allows
//!    unsolicited ones).
//!
//! The deadline moves only when it comes due, never per read (hyper's
//! `KeepAliveState` works the same way), so a busy socket never re-arms its timer.

use std::time::{Duration, Instant};

/// The heartbeat's settings: ping after `interval` of silence, give up `timeout` later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeartbeatConfig {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// What the heartbeat asks of the connection when its check comes due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Nothing to do yet.
    Wait,
    /// Send a ping with this payload.
    Ping([u8; 8]),
    /// Nothing arrived in time: the peer is dead.
    Dead,
}

/// Where the heartbeat stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No ping outstanding.
    Quiet { check_at: Instant },
    /// Our ping with this payload is outstanding since `sent_at`.
    Pinged {
        payload: [u8; 8],
        sent_at: Instant,
        check_at: Instant,
    },
}

#[derive(Debug)]
pub(crate) enum Heartbeat {
    Disabled,
    Enabled {
        config: HeartbeatConfig,
        phase: Phase,
        last_heard: Instant,
        pings_sent: u64,
    },
}

impl Heartbeat {
    pub(crate) fn new(config: Option<HeartbeatConfig>, now: Instant) -> Self {
        match config {
            None => Self::Disabled,
            Some(config) => Self::Enabled {
                config,
                phase: Phase::Quiet {
                    check_at: now + config.interval,
                },
                last_heard: now,
                pings_sent: 0,
            },
        }
    }

    /// Bytes arrived from the peer.
    pub(crate) fn heard(&mut self, now: Instant) {
        if let Self::Enabled { last_heard, .. } = self {
            *last_heard = now;
        }
    }

    /// Whether a pong answers our outstanding ping (which it then settles,
    /// so a repeat of it is the application's).
    pub(crate) fn is_our_pong(&mut self, payload: &[u8]) -> bool {
        let Self::Enabled { phase, .. } = self else {
            return false;
        };
        match *phase {
            Phase::Pinged {
                payload: ours,
                check_at,
                ..
            } if ours[..] == *payload => {
                *phase = Phase::Quiet { check_at };
                true
            }
            _ => false,
        }
    }

    /// When the next check is due.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            Self::Disabled => None,
            Self::Enabled {
                phase: Phase::Quiet { check_at } | Phase::Pinged { check_at, .. },
                ..
            } => Some(*check_at),
        }
    }

    /// Time has passed.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> Beat {
        let Self::Enabled {
            config,
            phase,
            last_heard,
            pings_sent,
        } = self
        else {
            return Beat::Wait;
        };
        let (check_at, silent_since_ping) = match *phase {
            Phase::Quiet { check_at } => (check_at, false),
            Phase::Pinged { sent_at, check_at, .. } => (check_at, *last_heard < sent_at),
        };
        if now < check_at {
            return Beat::Wait;
        }
        if silent_since_ping {
            *self = Self::Disabled;
            return Beat::Dead;
        }
        let quiet_until = *last_heard + config.interval;
        if now < quiet_until {
            // Heard from recently: check again an interval after the last byte.
            match phase {
                Phase::Quiet { check_at } | Phase::Pinged { check_at, .. } => *check_at = quiet_until,
            }
            return Beat::Wait;
        }
        *pings_sent += 1;
        let payload = pings_sent.to_be_bytes();
        *phase = Phase::Pinged {
            payload,
            sent_at: now,
            check_at: now + config.timeout,
        };
        Beat::Ping(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: HeartbeatConfig = HeartbeatConfig {
        interval: Duration::from_secs(10),
        timeout: Duration::from_secs(5),
    };

    #[test]
    fn pings_after_a_quiet_interval_and_declares_death_after_the_timeout() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Some(CONFIG), start);
        assert_eq!(heartbeat.deadline(), Some(start + CONFIG.interval));
        assert_eq!(heartbeat.on_timeout(start + Duration::from_secs(9)), Beat::Wait);
        let ping_at = start + CONFIG.interval;
        let Beat::Ping(payload) = heartbeat.on_timeout(ping_at) else {
            panic!("expected a ping")
        };
        assert_eq!(heartbeat.deadline(), Some(ping_at + CONFIG.timeout));
        assert_eq!(heartbeat.on_timeout(ping_at + CONFIG.timeout), Beat::Dead);
        assert!(!heartbeat.is_our_pong(&payload), "a dead heartbeat owns no pong");
    }

    #[test]
    fn our_pong_is_recognised_once_even_after_other_traffic() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Some(CONFIG), start);
        let ping_at = start + CONFIG.interval;
        let Beat::Ping(payload) = heartbeat.on_timeout(ping_at) else {
            panic!("expected a ping")
        };
        heartbeat.heard(ping_at + Duration::from_secs(1));
        assert_eq!(heartbeat.on_timeout(ping_at + CONFIG.timeout), Beat::Wait, "alive");
        assert!(!heartbeat.is_our_pong(b"someone else's"));
        assert!(heartbeat.is_our_pong(&payload));
        assert!(!heartbeat.is_our_pong(&payload), "a repeated pong is not ours twice");
    }

    #[test]
    fn input_moves_the_check_only_when_it_comes_due() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Some(CONFIG), start);
        let heard_at = start + Duration::from_secs(4);
        heartbeat.heard(heard_at);
        assert_eq!(
            heartbeat.deadline(),
            Some(start + CONFIG.interval),
            "reading never re-arms the timer"
        );
        assert_eq!(heartbeat.on_timeout(start + CONFIG.interval), Beat::Wait);
        assert_eq!(heartbeat.deadline(), Some(heard_at + CONFIG.interval));
        assert!(matches!(
            heartbeat.on_timeout(heard_at + CONFIG.interval),
            Beat::Ping(_)
        ));
    }

    #[test]
    fn each_ping_carries_a_new_payload() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(Some(CONFIG), start);
        let Beat::Ping(first) = heartbeat.on_timeout(start + CONFIG.interval) else {
            panic!()
        };
        heartbeat.heard(start + CONFIG.interval);
        let Beat::Ping(second) = heartbeat.on_timeout(start + 2 * CONFIG.interval) else {
            panic!()
        };
        assert_ne!(first, second);
        assert!(!heartbeat.is_our_pong(&first), "a pong to an older ping is not ours");
        assert!(heartbeat.is_our_pong(&second));
    }

    #[test]
    fn disabled_never_acts() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(None, start);
        assert_eq!(heartbeat.deadline(), None);
        assert_eq!(heartbeat.on_timeout(start + Duration::from_secs(3600)), Beat::Wait);
    }
}

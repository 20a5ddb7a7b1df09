//! Keepalive pings and dead-peer detection.
//!
//! 1. While frames keep arriving, nothing happens: traffic proves the peer
//!    is alive. Each received frame moves the next ping to `interval` later.
//! 2. After `interval` with nothing received, send a ping whose payload is a
//!    counter, and wait up to `timeout` for any frame.
//! 3. Any frame in time means alive: back to 1. The pong that answers our
//!    latest ping (its payload matches, whenever it arrives) is ours, not the
//!    application's, and is not delivered; other pongs are the application's
//!    (RFC 6455 §5.5.3 allows unsolicited ones).
//! 4. Nothing by the deadline: the peer is dead. The connection is dropped
//!    without a closing handshake, which could only wait for the same peer.

use std::time::{Duration, Instant};

/// Where the heartbeat stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// No pings are sent and no peer is declared dead.
    Disabled,
    /// Waiting for a quiet `interval` to pass.
    Idle {
        /// When to ping if nothing arrives before.
        next_ping: Instant,
    },
    /// A ping is out; some frame must arrive before the deadline.
    AwaitingPong {
        /// The payload of our ping, which its pong echoes.
        payload: [u8; 8],
        /// When the peer is declared dead.
        deadline: Instant,
    },
}

/// What the heartbeat asks the connection to do when its time comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatAction {
    /// Nothing yet.
    Wait,
    /// Send a ping with this payload.
    Ping([u8; 8]),
    /// No frame arrived in time: the peer is dead.
    Dead,
}

/// The heartbeat's settings: ping after `interval` of silence, give up `timeout` later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// Quiet time before a ping.
    pub interval: Duration,
    /// How long to wait for any frame after the ping.
    pub timeout: Duration,
}

/// The heartbeat state and its settings.
#[derive(Debug)]
pub(crate) struct Keepalive {
    config: Option<HeartbeatConfig>,
    state: Heartbeat,
    pings_sent: u64,
    /// Our last ping's payload until its pong comes back: other traffic may
    /// arrive first and end the wait, but that pong is still ours.
    unanswered: Option<[u8; 8]>,
}

impl Keepalive {
    pub(crate) fn new(config: Option<HeartbeatConfig>, now: Instant) -> Self {
        let state = match config {
            Some(c) => Heartbeat::Idle {
                next_ping: now + c.interval,
            },
            None => Heartbeat::Disabled,
        };
        Self {
            config,
            state,
            pings_sent: 0,
            unanswered: None,
        }
    }

    pub(crate) fn state(&self) -> Heartbeat {
        self.state
    }

    /// A frame arrived: the peer is alive.
    pub(crate) fn on_frame(&mut self, now: Instant) {
        if let Some(c) = self.config {
            self.state = Heartbeat::Idle {
                next_ping: now + c.interval,
            };
        }
    }

    /// Whether a received pong answers our last ping (it then stops being
    /// outstanding, so a repeat of it is the application's).
    pub(crate) fn take_our_pong(&mut self, payload: &[u8]) -> bool {
        let ours = self.unanswered.is_some_and(|ping| ping[..] == *payload);
        if ours {
            self.unanswered = None;
        }
        ours
    }

    /// The next instant at which [`on_timeout`](Self::on_timeout) has work.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.state {
            Heartbeat::Disabled => None,
            Heartbeat::Idle { next_ping } => Some(next_ping),
            Heartbeat::AwaitingPong { deadline, .. } => Some(deadline),
        }
    }

    /// Time has passed.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> HeartbeatAction {
        let Some(c) = self.config else {
            return HeartbeatAction::Wait;
        };
        match self.state {
            Heartbeat::Idle { next_ping } if next_ping <= now => {
                self.pings_sent += 1;
                let payload = self.pings_sent.to_be_bytes();
                self.unanswered = Some(payload);
                self.state = Heartbeat::AwaitingPong {
                    payload,
                    deadline: now + c.timeout,
                };
                HeartbeatAction::Ping(payload)
            }
            Heartbeat::AwaitingPong { deadline, .. } if deadline <= now => {
                self.state = Heartbeat::Disabled;
                HeartbeatAction::Dead
            }
            _ => HeartbeatAction::Wait,
        }
    }

    /// Stops pinging (the connection is closing).
    pub(crate) fn stop(&mut self) {
        self.state = Heartbeat::Disabled;
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
        let mut keepalive = Keepalive::new(Some(CONFIG), start);
        assert_eq!(keepalive.deadline(), Some(start + CONFIG.interval));
        assert_eq!(
            keepalive.on_timeout(start + Duration::from_secs(9)),
            HeartbeatAction::Wait
        );
        let ping_at = start + CONFIG.interval;
        let HeartbeatAction::Ping(payload) = keepalive.on_timeout(ping_at) else {
            panic!("expected a ping")
        };
        assert!(!keepalive.take_our_pong(b"someone else's"));
        assert!(keepalive.take_our_pong(&payload));
        assert!(!keepalive.take_our_pong(&payload), "a repeated pong is not ours twice");
        assert_eq!(keepalive.deadline(), Some(ping_at + CONFIG.timeout));
        assert_eq!(keepalive.on_timeout(ping_at + CONFIG.timeout), HeartbeatAction::Dead);
    }

    #[test]
    fn any_frame_proves_the_peer_alive() {
        let start = Instant::now();
        let mut keepalive = Keepalive::new(Some(CONFIG), start);
        let ping_at = start + CONFIG.interval;
        assert!(matches!(keepalive.on_timeout(ping_at), HeartbeatAction::Ping(_)));
        let answered = ping_at + Duration::from_secs(1);
        keepalive.on_frame(answered);
        assert_eq!(
            keepalive.state(),
            Heartbeat::Idle {
                next_ping: answered + CONFIG.interval
            }
        );
        assert_eq!(keepalive.on_timeout(ping_at + CONFIG.timeout), HeartbeatAction::Wait);
    }

    #[test]
    fn each_ping_carries_a_new_payload() {
        let start = Instant::now();
        let mut keepalive = Keepalive::new(Some(CONFIG), start);
        let HeartbeatAction::Ping(first) = keepalive.on_timeout(start + CONFIG.interval) else {
            panic!()
        };
        keepalive.on_frame(start + CONFIG.interval);
        let HeartbeatAction::Ping(second) = keepalive.on_timeout(start + 2 * CONFIG.interval) else {
            panic!()
        };
        assert_ne!(first, second);
        assert!(!keepalive.take_our_pong(&first), "a pong to an older ping is not ours");
        assert!(keepalive.take_our_pong(&second));
    }

    #[test]
    fn disabled_never_acts() {
        let start = Instant::now();
        let mut keepalive = Keepalive::new(None, start);
        assert_eq!(keepalive.deadline(), None);
        assert_eq!(
            keepalive.on_timeout(start + Duration::from_secs(3600)),
            HeartbeatAction::Wait
        );
    }
}

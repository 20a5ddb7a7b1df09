//! The closing handshake (RFC 6455 §5.5.1, §7).
//!
//! 1. Either side sends a close frame and then no more data.
//! 2. The other side answers with a close frame of its own (echoing the code).
//! 3. The TCP connection is closed, the server first (§7.1.1): a client
//!    waits for the server's FIN, up to a deadline.
//!
//! Failing the connection (§7.1.7) sends a close with the fault's code, then
//! waits for the peer's close reply (dropping its other frames), so that our
//! close frame is not lost to a TCP reset and a well-behaved peer completes
//! the handshake at once. Input that cannot even be parsed is drained until
//! the peer hangs up or the deadline passes.
//!
//! How the connection ended is decided here too, once, for reads and writes
//! alike: the end of the transport (EOF or an error) after the handshake
//! completed is the expected end; before it, the peer's fault. The first
//! fault is kept ([`Fault`]) and reported when the connection is closed.

use std::time::{Duration, Instant};

use super::error::Error;
use super::Role;

/// Where the closing handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseState {
    /// No close frame has been sent or received.
    Open,
    /// We sent a close frame and wait for the peer's, still delivering its data.
    CloseSent { deadline: Instant },
    /// We are ending the connection on our own account (the peer broke the
    /// protocol, or it sat idle too long) and sent a close; the peer's frames
    /// are dropped until its close reply arrives.
    Failing { deadline: Instant },
    /// Our part is done; input is discarded until the peer closes TCP.
    Draining { deadline: Instant },
    /// Nothing more will be read or written; only the TCP close remains.
    Closed,
}

impl CloseState {
    /// We queued a close frame of our own initiative.
    pub(crate) fn on_close_sent(self, now: Instant, timeout: Duration) -> Self {
        match self {
            Self::Open => Self::CloseSent {
                deadline: now + timeout,
            },
            other => other,
        }
    }

    /// The peer's close frame arrived (and, if we had not sent one, our reply
    /// is queued): the handshake is complete.
    pub(crate) fn on_close_received(self, role: Role, now: Instant, timeout: Duration) -> Self {
        match (self, role) {
            (Self::Open | Self::CloseSent { .. } | Self::Failing { .. }, Role::Server) => Self::Closed,
            (Self::Open | Self::CloseSent { .. } | Self::Failing { .. }, Role::Client) => Self::Draining {
                deadline: now + timeout,
            },
            (other, _) => other,
        }
    }

    /// The peer broke the protocol (our close frame is queued if we had not
    /// sent one). Failing again, on input we cannot parse, leaves only draining.
    pub(crate) fn on_failure(self, now: Instant, timeout: Duration) -> Self {
        match self {
            Self::Open => Self::Failing {
                deadline: now + timeout,
            },
            Self::CloseSent { deadline } => Self::Failing { deadline },
            Self::Failing { deadline } => Self::Draining { deadline },
            other => other,
        }
    }

    /// Whether the end of the transport now would be the expected end:
    /// RFC 6455 §7.1.4, "_The WebSocket Connection is Closed_" cleanly only
    /// once close frames went both ways (or we failed it ourselves).
    pub(crate) fn expects_transport_end(self) -> bool {
        matches!(self, Self::Failing { .. } | Self::Draining { .. } | Self::Closed)
    }

    /// Time has passed; a deadline at or before `now` ends the wait.
    pub(crate) fn on_timeout(self, now: Instant) -> Self {
        match self.deadline() {
            Some(deadline) if deadline <= now => Self::Closed,
            _ => self,
        }
    }

    /// The instant this state gives up waiting, if it waits.
    pub(crate) fn deadline(self) -> Option<Instant> {
        match self {
            Self::CloseSent { deadline } | Self::Failing { deadline } | Self::Draining { deadline } => Some(deadline),
            Self::Open | Self::Closed => None,
        }
    }

    /// Whether we may still send frames.
    pub(crate) fn can_send(self) -> bool {
        self == Self::Open
    }

    /// Whether frames from the peer are still delivered to the application.
    pub(crate) fn delivers_input(self) -> bool {
        matches!(self, Self::Open | Self::CloseSent { .. })
    }

    /// Whether frames from the peer are still parsed at all.
    pub(crate) fn parses_input(self) -> bool {
        matches!(self, Self::Open | Self::CloseSent { .. } | Self::Failing { .. })
    }
}

/// Why the connection is ending other than by a completed closing
/// handshake: the first cause wins, and is reported once.
#[derive(Debug, Default)]
pub(crate) enum Fault {
    /// Nothing went wrong (so far).
    #[default]
    None,
    /// The first fault, not yet reported.
    Unreported(Error),
    /// Reported; a copy stays for callers who try to send.
    Reported(Error),
}

impl Fault {
    /// Records `error` unless an earlier fault is already known.
    pub(crate) fn record(&mut self, error: Error) {
        if matches!(self, Self::None) {
            tracing::debug!(%error, "WebSocket failing");
            *self = Self::Unreported(error);
        }
    }

    /// The fault to report, once; then `None`.
    pub(crate) fn take(&mut self) -> Option<Error> {
        match std::mem::take(self) {
            Self::Unreported(error) => {
                *self = Self::Reported(error.duplicate());
                Some(error)
            }
            other => {
                *self = other;
                None
            }
        }
    }

    /// What a caller who tries to send is told.
    pub(crate) fn error(&self) -> Option<Error> {
        match self {
            Self::None => None,
            Self::Unreported(error) | Self::Reported(error) => Some(error.duplicate()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    #[test]
    fn server_closes_tcp_as_soon_as_the_handshake_completes() {
        let now = Instant::now();
        let sent = CloseState::Open.on_close_sent(now, TIMEOUT);
        assert_eq!(
            sent,
            CloseState::CloseSent {
                deadline: now + TIMEOUT
            }
        );
        assert_eq!(sent.on_close_received(Role::Server, now, TIMEOUT), CloseState::Closed);
        assert_eq!(
            CloseState::Open.on_close_received(Role::Server, now, TIMEOUT),
            CloseState::Closed
        );
    }

    #[test]
    fn client_waits_for_the_servers_fin() {
        let now = Instant::now();
        let state = CloseState::Open.on_close_received(Role::Client, now, TIMEOUT);
        assert_eq!(
            state,
            CloseState::Draining {
                deadline: now + TIMEOUT
            }
        );
        assert!(state.expects_transport_end());
        assert!(!CloseState::Open.on_close_sent(now, TIMEOUT).expects_transport_end());
    }

    #[test]
    fn deadlines_end_every_wait() {
        let now = Instant::now();
        let sent = CloseState::Open.on_close_sent(now, TIMEOUT);
        assert_eq!(sent.on_timeout(now + TIMEOUT / 2), sent);
        assert_eq!(sent.on_timeout(now + TIMEOUT), CloseState::Closed);
        let failing = CloseState::Open.on_failure(now, TIMEOUT);
        assert!(!failing.delivers_input());
        assert!(failing.parses_input());
        assert_eq!(failing.on_timeout(now + TIMEOUT), CloseState::Closed);
        let draining = failing.on_failure(now, TIMEOUT);
        assert!(!draining.parses_input());
        assert_eq!(draining.on_timeout(now + TIMEOUT), CloseState::Closed);
    }

    #[test]
    fn failing_after_close_keeps_the_original_deadline() {
        let now = Instant::now();
        let sent = CloseState::Open.on_close_sent(now, TIMEOUT);
        let later = now + Duration::from_secs(1);
        assert_eq!(
            sent.on_failure(later, TIMEOUT),
            CloseState::Failing {
                deadline: now + TIMEOUT
            }
        );
    }

    #[test]
    fn a_close_reply_completes_a_failed_connection() {
        let now = Instant::now();
        let failing = CloseState::Open.on_failure(now, TIMEOUT);
        assert_eq!(
            failing.on_close_received(Role::Server, now, TIMEOUT),
            CloseState::Closed
        );
    }
}

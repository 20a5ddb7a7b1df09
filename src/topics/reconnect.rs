//! How a networked broker's tasks reconnect: attempts spaced by a delay
//! that doubles up to a ceiling and goes back to the start only once a
//! session has proved healthy by lasting, so a server that accepts
//! connections and then refuses every command (an ACL without the channel,
//! a proxy without pub/sub) sees a bounded number of attempts a minute, not
//! a tight loop.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::health::Health;

/// How long one connection attempt may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);
/// A session that lasted this long proves the server healthy.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
const HEALTHY: Duration = Duration::from_secs(10);

/// The wait before reconnect attempt `attempts` (counting from 0) when a
/// client library does the reconnecting (NATS): the same doubling.
#[cfg_attr(not(feature = "nats"), allow(dead_code))]
pub(crate) fn delay(attempts: usize) -> Duration {
    let doublings = u32::try_from(attempts.min(16)).unwrap_or(16);
    FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(LAST_RETRY)
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Backoff {
    which: &'static str,
    delay: Duration,
    /// When the current (or last) session began.
    session: Option<Instant>,
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
impl Backoff {
    pub(crate) fn new(which: &'static str) -> Self {
        Self {
            which,
            delay: FIRST_RETRY,
            session: None,
        }
    }

    /// Connects, retrying while `wanted()`; `None` once it is not. After a
    /// session that ended early it waits before trying again, the wait
    /// growing each time.
    pub(crate) async fn connect<T, E: Display, F>(
        &mut self,
        health: &Health,
        wanted: impl Fn() -> bool,
        attempt: impl Fn() -> F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, E>>,
    {
        if let Some(began) = self.session.take() {
            health.reconnecting();
            if began.elapsed() >= HEALTHY {
                self.delay = FIRST_RETRY;
            } else {
                self.wait().await;
            }
        }
        while wanted() {
            match tokio::time::timeout(CONNECT_TIMEOUT, attempt()).await {
                Ok(Ok(connection)) => {
                    self.session = Some(Instant::now());
                    return Some(connection);
                }
                Ok(Err(e)) => health.error(format_args!("{} connection failed: {e}", self.which)),
                Err(_) => health.error(format_args!("{} connection timed out", self.which)),
            }
            self.wait().await;
        }
        None
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(LAST_RETRY);
    }
}

/// When a publishing task stops trying: never while its `Topics` is open;
/// once it is closed or dropped, as soon as nothing is left to send or the
/// drain's deadline has passed.
#[derive(Debug)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Draining {
    deadline: Duration,
    /// When the task first found the `Topics` gone.
    noticed: std::sync::OnceLock<Instant>,
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
impl Draining {
    pub(crate) fn new(deadline: Duration) -> Self {
        Self {
            deadline,
            noticed: std::sync::OnceLock::new(),
        }
    }

    /// Whether to (re)connect, with `left` publications waiting and the
    /// queue `closed` or not. Drops what is left past the deadline.
    pub(crate) fn worth_connecting(&self, closed: bool, left: usize, health: &Health) -> bool {
        if !closed {
            return true;
        }
        let noticed = self.noticed.get_or_init(Instant::now);
        if left > 0 && noticed.elapsed() >= self.deadline {
            health.dropped(left, "unreachable when the Topics was closed");
            return false;
        }
        left > 0
    }
}

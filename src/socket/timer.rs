//! The driver's one timer, armed at the connection's next deadline and
//! asked again only when something changed.
//!
//! A tokio `Sleep`, once polled, keeps the waker it was given and wakes it
//! when its deadline passes; polling it again with the same waker only
//! registers that waker again (an atomic swap, a waker clone, a coop
//! budget step). A socket waits once per batch of input, so on the echo
//! path that repeat was most of what the heartbeat cost: callgrind put 122
//! of its 161 instructions per echo in `Sleep::poll`. Here the sleep is
//! polled only when its deadline moved, the waker changed, or it fired.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, Sleep};

#[derive(Debug)]
pub(super) struct Timer {
    sleep: Pin<Box<Sleep>>,
    /// The waker the sleep holds, once polled since its deadline was set.
    registered: Option<Waker>,
}

impl Timer {
    pub(super) fn new(deadline: Instant) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            registered: None,
        }
    }

    /// Ready once `deadline` has passed; until then the task is woken when it does.
    pub(super) fn poll_until(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
            self.registered = None;
        }
        let same_waker = self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if same_waker && !self.sleep.is_elapsed() {
            return Poll::Pending;
        }
        let poll = self.sleep.as_mut().poll(cx);
        self.registered = poll.is_pending().then(|| cx.waker().clone());
        poll
    }
}

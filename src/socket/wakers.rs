//! Waking a split socket's two tasks: both halves wait on the same
//! transport, timer and signal, each of which keeps only the last waker it
//! was given.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Wake, Waker};

use super::driver::Side;

/// The waker given to everything either half may wait on (write readiness,
/// the timer, the shutdown trigger): it wakes every task waiting. Each of
/// those keeps only the last waker it was given, and both halves of a split
/// socket wait on them, so without this one half could sleep forever behind
/// the other's cancelled call.
#[derive(Debug, Default)]
pub(super) struct Wakers(Mutex<[Option<Waker>; 2]>);

impl Wakers {
    pub(super) fn register(&self, side: Side, waker: &Waker) {
        let mut slots = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = &mut slots[side as usize];
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let taken = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in taken.into_iter().flatten() {
            waker.wake();
        }
    }
}

/// How the driver's waits wake their task: directly while the socket is
/// whole, through the fan-out once it is split (both halves wait on the
/// same transport, timer and signal).
#[derive(Debug)]
pub(super) enum WakeMode {
    Direct,
    FanOut { wakers: Arc<Wakers>, waker: Waker },
}

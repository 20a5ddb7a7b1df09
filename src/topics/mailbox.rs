//! One socket's mailbox: the publications waiting for its own writes, with
//! a byte budget and what to do past it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

use super::events::{EventQueue, TopicEvent};
use super::membership::Membership;
use super::seam::{Live, Seams};
use super::{Position, Topic};
use crate::proto::{CloseFrame, SharedMessage};
use crate::{CloseCode, ConfigError, Outbox, Outgoing};

/// Publications a drained mailbox keeps room for; past a burst larger than
/// this, the room goes back once the socket has taken them all.
const KEPT_QUEUE: usize = 8;

/// What a subscriber whose queued publications would pass its byte budget gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Policy {
    /// The socket is closed with this code (the default: 1008, policy
    /// violation) and leaves every topic; what it had queued is dropped.
    Disconnect(CloseCode),
    /// The new publication is dropped; the subscriber is told
    /// ([`TopicEvent::Missed`]).
    DropNewest,
    /// The oldest queued publications are dropped to make room; the
    /// subscriber is told how many ([`TopicEvent::Missed`]).
    DropOldest,
}

impl Default for Policy {
    /// Disconnect with 1008 (policy violation).
    fn default() -> Self {
        Self::Disconnect(CloseCode::POLICY)
    }
}

/// A subscriber's byte budget and the [`Policy`] past it.
///
/// The budget counts publications a socket has not yet taken into its write
/// buffer; the socket's own [`Config::max_write_buffer_size`](crate::Config)
/// bounds the rest, so a subscriber never holds more than the two together,
/// however slowly its peer reads.
///
/// ```
/// use hyperws::topics::{Policy, SlowConsumer};
/// let lenient = SlowConsumer::new(1 << 20, Policy::DropOldest)?;
/// assert_eq!(lenient.budget(), 1 << 20);
/// assert_eq!(SlowConsumer::default().budget(), 256 << 10);
/// // Checked when configured: an empty budget, or a close code that may not be sent.
/// assert!(SlowConsumer::new(0, Policy::DropNewest).is_err());
/// assert!(SlowConsumer::new(1024, Policy::Disconnect(1006.into())).is_err());
/// # Ok::<(), hyperws::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowConsumer {
    budget: usize,
    policy: Policy,
}

impl Default for SlowConsumer {
    /// 256 KiB, then disconnect with 1008.
    fn default() -> Self {
        Self {
            budget: 256 << 10,
            policy: Policy::default(),
        }
    }
}

impl SlowConsumer {
    /// A budget of `bytes` (encoded frames), and what happens past it.
    ///
    /// # Errors
    /// [`ConfigError::Zero`] if `bytes` is 0 (nothing could ever be
    /// delivered); [`ConfigError::OutOfRange`] if a `Disconnect` code may
    /// not be sent (1005, 1006, 1015, or one outside the ranges RFC 6455
    /// §7.4 allows).
    pub const fn new(bytes: usize, policy: Policy) -> Result<Self, ConfigError> {
        if bytes == 0 {
            return Err(ConfigError::Zero("a subscriber's budget (SlowConsumer::new)"));
        }
        if let Policy::Disconnect(code) = policy {
            if !code.is_sendable() {
                return Err(ConfigError::OutOfRange(
                    "a Disconnect policy needs a close code that may be sent (1000-4999, not 1005, 1006 or 1015)",
                ));
            }
        }
        Ok(Self { budget: bytes, policy })
    }

    /// The budget in bytes.
    #[must_use]
    pub const fn budget(&self) -> usize {
        self.budget
    }
}

/// A socket's queue of publications, shared by every topic it joined and
/// drained by the socket as its [`Outbox`].
#[derive(Debug)]
pub(crate) struct Mailbox {
    id: u64,
    state: Mutex<State>,
    pub(super) membership: Mutex<Membership>,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<(SharedMessage, Topic)>,
    queued_bytes: usize,
    limits: SlowConsumer,
    /// The socket's task, when it waits.
    waker: Option<Waker>,
    events: EventQueue,
    /// The socket must close with this code (until the driver takes it).
    evicted: Option<CloseCode>,
    /// The socket has ended: take nothing more.
    closed: bool,
    /// Topics whose history is being fetched: their live publications wait.
    seams: Seams,
}

impl Mailbox {
    pub(crate) fn new(limits: SlowConsumer) -> Arc<Self> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Arc::new(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                limits,
                waker: None,
                events: EventQueue::default(),
                evicted: None,
                closed: false,
                seams: Seams::default(),
            }),
            membership: Mutex::default(),
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every change below leaves the state whole before it can panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_limits(&self, limits: SlowConsumer) {
        self.state().limits = limits;
    }

    /// Queues a publication at `position` in `topic`; never waits. Returns
    /// `false` if this socket takes nothing more (closed or evicted): the
    /// topic may forget it.
    pub(crate) fn offer(&self, message: &SharedMessage, topic: &Topic, position: Position) -> bool {
        let mut state = self.state();
        if state.closed || state.evicted.is_some() {
            return false;
        }
        let budget = state.limits.budget;
        if state.seams.live(topic, position, message, budget) == Live::Deliver {
            let waker = state.enqueue(message, topic);
            drop(state);
            wake(waker);
        }
        true
    }

    /// Holds `topic`'s live publications until [`end_recovery`](Self::end_recovery).
    pub(crate) fn start_recovery(&self, topic: &Topic) {
        self.state().seams.open(topic);
    }

    /// Queues `history`, then the live publications held meanwhile that
    /// came after `after` (all of them when `None`); returns how many held
    /// ones did not fit the budget.
    pub(crate) fn end_recovery(&self, topic: &Topic, history: &[SharedMessage], after: Option<Position>) -> u64 {
        let mut state = self.state();
        let (live, dropped) = state.seams.close(topic, after);
        if state.closed || state.evicted.is_some() {
            return dropped;
        }
        let mut waker = None;
        for message in history.iter().chain(&live) {
            waker = state.enqueue(message, topic).or(waker);
        }
        drop(state);
        wake(waker);
        dropped
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl State {
    /// Queues a publication under the budget's policy; returns the waker
    /// to wake once the lock is let go (for an eviction too: the socket
    /// closes itself).
    fn enqueue(&mut self, message: &SharedMessage, topic: &Topic) -> Option<Waker> {
        let size = message.frame_len();
        if self.queued_bytes + size <= self.limits.budget || self.make_room(size, topic) {
            self.queued_bytes += size;
            self.queue.push_back((message.clone(), topic.clone()));
        }
        self.waker.take()
    }
}

impl Mailbox {
    /// Reports an event (a gap in a topic's stream) to this subscriber.
    pub(crate) fn notify(&self, event: TopicEvent) {
        let mut state = self.state();
        if !state.closed {
            state.events.push(event);
        }
    }

    pub(crate) fn with_events<R>(&self, f: impl FnOnce(&mut EventQueue) -> R) -> R {
        f(&mut self.state().events)
    }
}

impl Outbox for Mailbox {
    fn take(&self) -> Option<Outgoing> {
        let mut state = self.state();
        if let Some(code) = state.evicted.take() {
            // Reported once; from now on the mailbox takes nothing.
            state.closed = true;
            let reason = "slow consumer".into();
            return Some(Outgoing::Close(CloseFrame { code, reason }));
        }
        let (message, _) = state.queue.pop_front()?;
        state.queued_bytes -= message.frame_len();
        if state.queue.is_empty() && state.queue.capacity() > KEPT_QUEUE {
            // A burst is delivered: its room goes back, as a socket's buffers do.
            state.queue = VecDeque::new();
        }
        Some(Outgoing::Message(message))
    }

    fn register(&self, waker: &Waker) -> bool {
        let mut state = self.state();
        if !state.queue.is_empty() || state.evicted.is_some() {
            return true;
        }
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            state.waker = Some(waker.clone());
        }
        false
    }

    /// The socket has ended: drop what waits, refuse what comes, and leave
    /// every topic.
    fn close(&self) {
        {
            let mut state = self.state();
            state.closed = true;
            state.queue = VecDeque::new();
            state.queued_bytes = 0;
            state.seams.clear();
            state.events.close();
        }
        self.leave_all();
    }
}

impl State {
    /// Applies the policy to a publication of `size` bytes that does not
    /// fit; returns `true` if it may now be queued.
    fn make_room(&mut self, size: usize, topic: &Topic) -> bool {
        match self.limits.policy {
            Policy::Disconnect(code) => {
                self.evicted = Some(code);
                self.queue = VecDeque::new();
                self.queued_bytes = 0;
                false
            }
            Policy::DropNewest => {
                self.events.missed(topic, 1);
                false
            }
            Policy::DropOldest => {
                if size > self.limits.budget {
                    // Bigger than the whole budget: it can never be queued.
                    self.events.missed(topic, 1);
                    return false;
                }
                while self.queued_bytes + size > self.limits.budget {
                    let Some((old, old_topic)) = self.queue.pop_front() else {
                        break;
                    };
                    self.queued_bytes -= old.frame_len();
                    self.events.missed(&old_topic, 1);
                }
                true
            }
        }
    }
}

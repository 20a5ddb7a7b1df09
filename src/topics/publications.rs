//! What a networked broker queues for its publishing task: publications
//! sealed in their topic's order (`envelope.rs`), a bounded queue whose
//! overflow is counted, and the task itself, awaited when the `Topics` is
//! closed. Shared by every broker that crosses the network.

use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::broker::BoxFuture;
use super::envelope::Sequencer;
use super::health::Health;
use crate::proto::SharedMessage;
use crate::ConfigError;

/// Publications waiting for the engine, by default; past it (the engine
/// slow or down) they are dropped and counted.
pub(crate) const DEFAULT_QUEUE: usize = 4096;

/// One publication on its way: where it goes (channel, subject) and its
/// sealed envelope.
pub(crate) type Queued = (String, Bytes);

#[derive(Debug)]
pub(crate) struct Publications {
    capacity: usize,
    /// Sealing and queueing under one lock: two threads publishing to a
    /// topic at once must queue in the order of their sequence numbers, or
    /// a receiver would take the later one for a gap and the earlier for a
    /// duplicate.
    state: Mutex<State>,
    task: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct State {
    sequencer: Sequencer,
    /// `None` before the start and after the close.
    queue: Option<mpsc::Sender<Queued>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Publications {
    pub(crate) fn new(node: u64) -> Self {
        Self {
            capacity: DEFAULT_QUEUE,
            state: Mutex::new(State {
                sequencer: Sequencer::new(node),
                queue: None,
            }),
            task: Mutex::new(None),
        }
    }

    /// Sets how many may wait; `setting` names the setting if it is 0.
    pub(crate) fn set_capacity(&mut self, publications: usize, setting: &'static str) -> Result<(), ConfigError> {
        if publications == 0 {
            return Err(ConfigError::Zero(setting));
        }
        self.capacity = publications;
        Ok(())
    }

    /// Opens the queue; its other end goes to `start`'s task.
    pub(crate) fn open(&self, start: impl FnOnce(mpsc::Receiver<Queued>) -> JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(self.capacity);
        lock(&self.state).queue = Some(tx);
        *lock(&self.task) = Some(start(rx));
    }

    /// Seals `message` for `topic` and queues it for `address`; never
    /// waits. Counted as dropped when the queue is full or closed.
    pub(crate) fn send(&self, topic: &str, address: String, message: &SharedMessage, health: &Health) {
        let mut state = lock(&self.state);
        let sealed = state.sequencer.seal(topic, message);
        let why = match state.queue.as_ref() {
            Some(tx) if tx.try_send((address, sealed)).is_ok() => return,
            Some(_) => "queue full",
            None => "closed",
        };
        drop(state);
        health.dropped(1, why);
    }

    /// Takes no more; the future ends once the task has sent what was
    /// queued (or given up).
    pub(crate) fn close(&self) -> BoxFuture<()> {
        lock(&self.state).queue = None;
        let task = lock(&self.task).take();
        Box::pin(async move {
            if let Some(task) = task {
                let _ = task.await;
            }
        })
    }
}

//! Every topic's [`Stream`]: positions handed out in publishing order,
//! publications stamped with them, history kept and pruned, idle topics
//! forgotten, so the streams stay bounded however many topics come and go.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::time::{Duration, Instant};

use super::history::Stream;
use super::{Position, Recovery, Retention, Topic};
use crate::proto::{Error, Message, SharedMessage};

/// Turns a publication and its position into the message subscribers get.
pub(super) type Stamp = Arc<dyn Fn(&Position, Message) -> Message + Send + Sync>;

/// A topic with no history, no subscriber and no publication for this long
/// is forgotten (its next publication starts a new epoch).
const IDLE: Duration = Duration::from_secs(60);

/// What is published: a message, or one already encoded.
pub(super) enum Publication<'a> {
    Message(Message),
    Shared(&'a SharedMessage),
}

pub(super) struct Streams {
    topics: Mutex<HashMap<Topic, Arc<Mutex<Stream>>>>,
    retention: Option<Retention>,
    /// The most topics whose streams are kept.
    max_topics: usize,
    stamp: Option<Stamp>,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streams")
            .field("retention", &self.retention)
            .field("max_topics", &self.max_topics)
            .field("stamps", &self.stamp.is_some())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change leaves the state whole before anything can panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Streams {
    pub(super) fn new(retention: Option<Retention>, max_topics: usize, stamp: Option<Stamp>) -> Self {
        Self {
            topics: Mutex::default(),
            retention,
            max_topics,
            stamp,
        }
    }

    pub(super) fn retention(&self) -> Option<Retention> {
        self.retention
    }

    pub(super) fn stamps(&self) -> bool {
        self.stamp.is_some()
    }

    /// Gives the publication the topic's next position, stamps and encodes
    /// it, keeps it in the history and hands it to `deliver`, all under the
    /// topic's lock, so positions follow the order of delivery.
    /// `at`: the position a broker that keeps history gave it; the topic's
    /// next position here otherwise.
    pub(super) fn publish<R>(
        &self,
        topic: &str,
        publication: Publication<'_>,
        at: Option<Position>,
        deliver: impl FnOnce(&SharedMessage, Position) -> R,
    ) -> Result<R, Error> {
        let now = Instant::now();
        let stream = self.stream(topic, now);
        let mut stream = lock(&stream);
        let position = at.unwrap_or_else(|| stream.next());
        let message = self.stamped(publication, position)?;
        if at.is_some() {
            stream.follow(position, now);
        } else {
            stream.record(&message, self.retention, now);
        }
        Ok(deliver(&message, position))
    }

    /// The publication as subscribers get it at `position`: stamped if a
    /// stamp is set (encoded again), else as it is.
    pub(super) fn stamped(&self, publication: Publication<'_>, position: Position) -> Result<SharedMessage, Error> {
        match (&self.stamp, publication) {
            (None, Publication::Shared(message)) => Ok(message.clone()),
            (None, Publication::Message(message)) => SharedMessage::new(message),
            (Some(stamp), publication) => {
                let message = match publication {
                    Publication::Message(message) => message,
                    Publication::Shared(message) => message.message(),
                };
                SharedMessage::new(stamp(&position, message))
            }
        }
    }

    /// Runs `join` and then hands `replay` what the topic published after
    /// `since`, under the topic's lock: no publication can fall between the
    /// history and the live ones, nor come twice.
    pub(super) fn join_from(
        &self,
        topic: &str,
        since: Position,
        join: impl FnOnce(),
        replay: impl FnOnce(&[SharedMessage]),
    ) -> Recovery {
        let now = Instant::now();
        let stream = self.stream(topic, now);
        let mut stream = lock(&stream);
        if let Some(retention) = self.retention {
            stream.prune(retention, now);
        }
        join();
        match stream.after(since, self.retention) {
            Ok(missed) => {
                let replayed = missed.len();
                replay(&missed);
                Recovery::Complete { replayed }
            }
            Err(why) => why,
        }
    }

    /// The topic's last position, if it published since it was last forgotten.
    pub(super) fn last(&self, topic: &str) -> Option<Position> {
        let stream = lock(&self.topics).get(topic).cloned()?;
        let last = lock(&stream).last();
        last
    }

    fn stream(&self, topic: &str, now: Instant) -> Arc<Mutex<Stream>> {
        let mut topics = lock(&self.topics);
        if let Some(stream) = topics.get(topic) {
            return Arc::clone(stream);
        }
        if topics.len() >= self.max_topics {
            self.forget_idle(&mut topics, now);
        }
        let stream = Arc::new(Mutex::new(Stream::new(now)));
        topics.insert(Topic::from(topic), Arc::clone(&stream));
        stream
    }

    /// Forgets topics with nothing kept that have been idle; if none is,
    /// the one idle longest.
    fn forget_idle(&self, topics: &mut HashMap<Topic, Arc<Mutex<Stream>>>, now: Instant) {
        topics.retain(|_, stream| {
            let mut stream = lock(stream);
            if let Some(retention) = self.retention {
                stream.prune(retention, now);
            }
            !stream.is_idle(IDLE, now)
        });
        if topics.len() >= self.max_topics {
            let oldest = topics
                .iter()
                .min_by_key(|(_, s)| lock(s).touched)
                .map(|(t, _)| t.clone());
            if let Some(oldest) = oldest {
                topics.remove(&oldest);
            }
        }
    }
}

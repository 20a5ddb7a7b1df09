//! What a subscriber is told besides its messages: publications it missed.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::mailbox::Mailbox;
use super::Topic;

/// Something a subscribed socket should know about one of its topics.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicEvent {
    /// Publications this socket's slow-consumer policy dropped
    /// ([`Policy::DropNewest`](super::Policy::DropNewest) or
    /// [`DropOldest`](super::Policy::DropOldest)).
    Missed {
        /// The topic they were published to.
        topic: Topic,
        /// How many, since the last event for this topic was taken.
        count: u64,
    },
    /// Publications from other nodes may have been lost before reaching this
    /// one: the broker connection was down, or a node's sequence skipped.
    Gap {
        /// The topic.
        topic: Topic,
        /// How many are known lost; `None` when it cannot be known (the
        /// broker connection was down for a while).
        missed: Option<u64>,
    },
}

/// Pending events, one per topic and kind at most (counts add up), so they
/// take bounded room however long nobody asks for them.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    pending: Vec<TopicEvent>,
    waker: Option<Waker>,
    closed: bool,
}

impl EventQueue {
    pub(crate) fn missed(&mut self, topic: &Topic, count: u64) {
        self.push(TopicEvent::Missed {
            topic: topic.clone(),
            count,
        });
    }

    pub(crate) fn push(&mut self, event: TopicEvent) {
        let merged = self.pending.iter_mut().any(|old| match (old, &event) {
            (TopicEvent::Missed { topic, count }, TopicEvent::Missed { topic: t, count: more }) if topic == t => {
                *count += more;
                true
            }
            (TopicEvent::Gap { topic, missed }, TopicEvent::Gap { topic: t, missed: more }) if topic == t => {
                *missed = missed.zip(*more).map(|(a, b)| a + b);
                true
            }
            _ => false,
        });
        if !merged {
            self.pending.push(event);
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    pub(crate) fn close(&mut self) {
        self.closed = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<TopicEvent>> {
        if !self.pending.is_empty() {
            return Poll::Ready(Some(self.pending.remove(0)));
        }
        if self.closed {
            return Poll::Ready(None);
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The [`TopicEvent`]s of one socket, from
/// [`WebSocket::topic_events`](crate::WebSocket::topic_events). It does not
/// borrow the socket, so a handler can wait on both at once; it ends when the
/// socket does.
///
/// ```no_run
/// # async fn run(mut ws: hyperws::WebSocket, topics: hyperws::topics::Topics) {
/// use hyperws::{topics::{Subscribe, TopicEvent}, Message};
/// ws.subscribe(&topics, "news").unwrap();
/// let mut events = ws.topic_events();
/// loop {
///     tokio::select! {
///         message = ws.recv() => match message {
///             Some(Ok(_)) => {}
///             _ => break,
///         },
///         Some(TopicEvent::Missed { topic, count }) = events.recv() => {
///             let note = format!("you missed {count} messages in {topic}");
///             if ws.send(Message::text(note)).await.is_err() { break }
///         }
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct TopicEvents {
    mailbox: Arc<Mailbox>,
}

impl TopicEvents {
    pub(crate) fn new(mailbox: Arc<Mailbox>) -> Self {
        Self { mailbox }
    }

    /// The next event; `None` once the socket has ended.
    ///
    /// # Cancel safety
    /// Cancel safe: an event is taken only when it is returned.
    pub async fn recv(&mut self) -> Option<TopicEvent> {
        poll_fn(|cx| self.mailbox.with_events(|q| q.poll_next(cx))).await
    }
}

impl Stream for TopicEvents {
    type Item = TopicEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<TopicEvent>> {
        self.mailbox.with_events(|q| q.poll_next(cx))
    }
}

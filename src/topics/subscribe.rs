//! [`Subscribe`]: the methods that put a socket in topics.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::mailbox::Mailbox;
use super::{Position, Recovering, SlowConsumer, SubscribeError, TopicEvents, Topics};
use crate::{Outbox, WebSocket, WebSocketWriter};

/// Puts a socket (a [`WebSocket`] or a [`WebSocketWriter`]) in topics.
/// Bring it into scope with `use hyperws::topics::Subscribe;`.
pub trait Subscribe {
    /// Subscribes this socket to `topic` of `topics`: what is published
    /// there is queued for it and written by its own writes, as long as its
    /// task polls it (a `recv` loop does). The first subscription sets the
    /// socket's budget and policy to `topics`' default, unless
    /// [`set_slow_consumer`](Self::set_slow_consumer) chose them.
    /// Subscribing twice is subscribing once; an ended socket ignores it.
    ///
    /// # Errors
    /// The name is longer than `topics` allows, or the socket already holds
    /// as many of its topics as it allows
    /// ([`TopicsBuilder`](super::TopicsBuilder): 256 bytes and 1024 topics
    /// by default).
    ///
    /// ```no_run
    /// # async fn run(mut ws: hyperws::WebSocket) {
    /// use hyperws::{topics::{Subscribe, Topics}, Message};
    /// let topics = Topics::new();
    /// ws.subscribe(&topics, "news").unwrap();
    /// topics.publish("news", Message::text("extra!")).unwrap();
    /// ws.flush().await.unwrap(); // or keep calling recv()
    /// # }
    /// ```
    fn subscribe(&mut self, topics: &Topics, topic: &str) -> Result<(), SubscribeError>;

    /// Subscribes this socket to `topic` as [`subscribe`](Self::subscribe)
    /// does, first queueing, in order, every publication after `since`
    /// that the topic's history still holds, then the live ones, none lost
    /// or doubled at the seam. The [`Recovery`] says whether anything was
    /// missed and why; the socket is subscribed in every case. Needs
    /// [`TopicsBuilder::history`](super::TopicsBuilder::history).
    ///
    /// # Errors
    /// As `subscribe`; and [`SubscribeError::AlreadySubscribed`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use hyperws::topics::{Recovery, Retention, Subscribe, Topics};
    /// use hyperws::{Config, Message};
    /// let topics = Topics::builder().history(Retention::new(100, Duration::from_secs(60))?).build()?;
    /// topics.publish("news", Message::text("one"))?;
    /// let seen = topics.position("news").unwrap(); // what a client saw last
    /// topics.publish("news", Message::text("two"))?;
    ///
    /// let (mut server, mut client) = hyperws::testing::pair(&Config::default());
    /// let recovery = server.subscribe_from(&topics, "news", seen).await?;
    /// assert_eq!(recovery, Recovery::Complete { replayed: 1 });
    /// topics.publish("news", Message::text("three"))?;
    /// server.flush().await?;
    /// assert_eq!(client.recv().await.unwrap()?, Message::text("two"));
    /// assert_eq!(client.recv().await.unwrap()?, Message::text("three"));
    /// # Ok(()) }
    /// ```
    fn subscribe_from(&mut self, topics: &Topics, topic: &str, since: Position) -> Recovering;

    /// Leaves `topic` of `topics`; what was already queued is still sent.
    fn unsubscribe(&mut self, topics: &Topics, topic: &str);

    /// This socket's byte budget for queued publications and what happens
    /// past it, instead of its `Topics`' default.
    fn set_slow_consumer(&mut self, limits: SlowConsumer);

    /// This socket's [`TopicEvents`]: what its policy dropped and the gaps
    /// its broker saw.
    fn topic_events(&mut self) -> TopicEvents;
}

/// The socket's mailbox, attached on first use.
fn mailbox(found: Option<Arc<Mailbox>>, attach: impl FnOnce(Arc<dyn Outbox>)) -> Arc<Mailbox> {
    found.unwrap_or_else(|| {
        let mailbox = Mailbox::new(SlowConsumer::default());
        attach(Arc::clone(&mailbox) as Arc<dyn Outbox>);
        mailbox
    })
}

macro_rules! subscribe_impl {
    ($socket:ident) => {
        impl<IO: AsyncRead + AsyncWrite + Unpin> Subscribe for $socket<IO> {
            fn subscribe(&mut self, topics: &Topics, topic: &str) -> Result<(), SubscribeError> {
                mailbox(self.outbox(), |m| self.attach_outbox(m)).join(topics, topic)
            }

            fn subscribe_from(&mut self, topics: &Topics, topic: &str, since: Position) -> Recovering {
                let mailbox = mailbox(self.outbox(), |m| self.attach_outbox(m));
                mailbox.join_from(topics, topic, since)
            }

            fn unsubscribe(&mut self, topics: &Topics, topic: &str) {
                if let Some(mailbox) = self.outbox::<Mailbox>() {
                    mailbox.leave(topics, topic);
                }
            }

            fn set_slow_consumer(&mut self, limits: SlowConsumer) {
                mailbox(self.outbox(), |m| self.attach_outbox(m)).choose_limits(limits);
            }

            fn topic_events(&mut self) -> TopicEvents {
                TopicEvents::new(mailbox(self.outbox(), |m| self.attach_outbox(m)))
            }
        }
    };
}

subscribe_impl!(WebSocket);
subscribe_impl!(WebSocketWriter);

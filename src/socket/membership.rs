//! A socket's part in [`Topics`]: its mailbox, the topics it joined, and the
//! methods that subscribe it. The driver drains the mailbox into the
//! connection when it writes and leaves every topic when it is dropped.

use std::sync::Arc;
use std::task::Context;

use tokio::io::{AsyncRead, AsyncWrite};

use super::driver::Driver;
use super::{WebSocket, WebSocketWriter};
use crate::proto::CloseFrame;
use crate::topics::{Mail, Mailbox, SlowConsumer, SubscribeError, Topic, TopicEvents, Topics};

/// The topics one socket joined, and the mailbox they deliver to.
#[derive(Debug)]
pub(crate) struct Membership {
    pub(crate) mailbox: Arc<Mailbox>,
    joined: Vec<(Topics, Topic)>,
    /// `set_slow_consumer` chose the limits: a `Topics`' default must not
    /// replace them.
    limits_chosen: bool,
}

impl Membership {
    fn new() -> Self {
        Self {
            mailbox: Mailbox::new(SlowConsumer::default()),
            joined: Vec::new(),
            limits_chosen: false,
        }
    }
}

impl Drop for Membership {
    /// A socket that ends leaves every topic at once.
    fn drop(&mut self) {
        self.mailbox.close();
        for (topics, topic) in self.joined.drain(..) {
            topics.leave(&topic, self.mailbox.id());
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Driver<IO> {
    fn membership(&mut self) -> &mut Membership {
        self.membership.get_or_insert_with(|| Box::new(Membership::new()))
    }

    /// Moves published messages from the mailbox into the connection while
    /// the write buffer has room (their bytes are then written with the
    /// rest); closes the socket if its slow-consumer policy evicted it.
    pub(super) fn take_mail(&mut self) {
        let Some(membership) = &self.membership else { return };
        if self.conn.is_sending_streamed() {
            return; // RFC 6455 §5.4: no other message between a streamed one's fragments.
        }
        while !self.conn.is_write_buffer_filled() {
            match membership.mailbox.take() {
                None => return,
                Some(Mail::Message(message)) => {
                    if self.conn.send_shared(&message).is_err() {
                        // Ended or closing: nothing more will be sent.
                        return membership.mailbox.close();
                    }
                }
                Some(Mail::Evicted(code)) => {
                    let frame = CloseFrame {
                        code,
                        reason: "slow consumer".into(),
                    };
                    let _ = self.conn.close(Some(frame), super::driver::now());
                    return membership.mailbox.close();
                }
            }
        }
    }

    /// Registers for new mail; `true` if some can be taken now.
    pub(super) fn poll_mail(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(membership) = &self.membership else {
            return false;
        };
        membership.mailbox.register(cx.waker()) && !self.conn.is_write_buffer_filled()
    }

    pub(super) fn subscribe(&mut self, topics: &Topics, topic: &str) -> Result<(), SubscribeError> {
        if self.is_finished() {
            return Ok(());
        }
        let membership = self.membership();
        let mut joined_here = 0;
        for (_, name) in membership.joined.iter().filter(|(t, _)| t.same(topics)) {
            if &**name == topic {
                return Ok(());
            }
            joined_here += 1;
        }
        topics.limits().check(topic, joined_here)?;
        if !membership.limits_chosen && membership.joined.is_empty() {
            membership.mailbox.set_limits(topics.slow_consumer());
        }
        let topic = Topic::from(topic);
        topics.join(&topic, &membership.mailbox);
        membership.joined.push((topics.clone(), topic));
        Ok(())
    }

    pub(super) fn unsubscribe(&mut self, topics: &Topics, topic: &str) {
        let Some(membership) = &mut self.membership else {
            return;
        };
        let id = membership.mailbox.id();
        membership.joined.retain(|(t, name)| {
            let leaving = t.same(topics) && &**name == topic;
            if leaving {
                t.leave(name, id);
            }
            !leaving
        });
    }

    pub(super) fn set_slow_consumer(&mut self, limits: SlowConsumer) {
        let membership = self.membership();
        membership.mailbox.set_limits(limits);
        membership.limits_chosen = true;
    }

    pub(super) fn topic_events(&mut self) -> TopicEvents {
        TopicEvents::new(Arc::clone(&self.membership().mailbox))
    }
}

/// The subscribing methods, alike on a whole socket and a writer half.
macro_rules! topic_methods {
    ($driver:ident) => {
        /// Subscribes this socket to `topic` of `topics`: what is published
        /// there is queued for it and written by its own writes, as long as
        /// its task polls it (a `recv` loop does). The first subscription
        /// sets the socket's budget and policy to `topics`' default, unless
        /// [`set_slow_consumer`](Self::set_slow_consumer) chose them.
        /// Subscribing twice is subscribing once; an ended socket ignores it.
        ///
        /// # Errors
        /// The name is longer than `topics` allows, or the socket already
        /// holds as many of its topics as it allows
        /// ([`TopicsBuilder`](crate::topics::TopicsBuilder): 256 bytes and
        /// 1024 topics by default).
        ///
        /// ```no_run
        /// # async fn run(mut ws: hyperws::WebSocket) {
        /// use hyperws::{topics::Topics, Message};
        /// let topics = Topics::new();
        /// ws.subscribe(&topics, "news").unwrap();
        /// topics.publish("news", Message::text("extra!")).unwrap();
        /// ws.flush().await.unwrap(); // or keep calling recv()
        /// # }
        /// ```
        pub fn subscribe(&mut self, topics: &Topics, topic: &str) -> Result<(), SubscribeError> {
            $driver!(self).subscribe(topics, topic)
        }

        /// Leaves `topic` of `topics`; what was already queued is still sent.
        pub fn unsubscribe(&mut self, topics: &Topics, topic: &str) {
            $driver!(self).unsubscribe(topics, topic);
        }

        /// This socket's byte budget for queued publications and what
        /// happens past it, instead of its `Topics`' default.
        pub fn set_slow_consumer(&mut self, limits: SlowConsumer) {
            $driver!(self).set_slow_consumer(limits);
        }

        /// This socket's [`TopicEvents`]: what its policy dropped and the
        /// gaps its broker saw.
        pub fn topic_events(&mut self) -> TopicEvents {
            $driver!(self).topic_events()
        }
    };
}

macro_rules! whole {
    ($s:ident) => {
        $s.driver
    };
}

macro_rules! half {
    ($s:ident) => {
        $s.driver()
    };
}

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocket<IO> {
    topic_methods!(whole);
}

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<IO> {
    topic_methods!(half);
}

//! [`Outbox`]: the one seam between a socket and whatever sends it shared
//! messages (`Topics`, or an application's own fan-out). The socket knows
//! only "something may have frames for me": it takes them while its write
//! buffer has room, sleeps on the outbox's wake-up, and tells every outbox
//! when it ends. Who subscribes to what, budgets and eviction live with the
//! outbox's owner.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use crate::proto::{CloseFrame, Connection, SharedMessage};

/// A source of messages for one socket, polled by the socket's own task
/// whenever it reads, writes or flushes. Implemented by
/// [`Topics`](crate::topics::Topics)' mailboxes; implement it to feed
/// sockets from a fan-out of your own.
///
/// Every method is called with the socket's lock held and must not block.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::task::Waker;
/// use hyperws::{Message, Outbox, Outgoing, SharedMessage};
///
/// /// One message, sent once.
/// #[derive(Debug)]
/// struct Once(Mutex<Option<SharedMessage>>);
///
/// impl Outbox for Once {
///     fn take(&self) -> Option<Outgoing> {
///         self.0.lock().unwrap().take().map(Outgoing::Message)
///     }
///     fn register(&self, _waker: &Waker) -> bool {
///         self.0.lock().unwrap().is_some()
///     }
///     fn close(&self) {}
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (mut server, mut client) = hyperws::testing::pair(&hyperws::Config::default());
/// let hello = SharedMessage::new(Message::text("hello")).unwrap();
/// server.attach_outbox(Arc::new(Once(Mutex::new(Some(hello)))));
/// server.flush().await.unwrap();
/// assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("hello"));
/// # }
/// ```
pub trait Outbox: Any + Send + Sync + fmt::Debug {
    /// The next thing to send, if one waits.
    fn take(&self) -> Option<Outgoing>;

    /// Keeps `waker` to wake the socket when something comes; returns
    /// `true` if something waits already (the socket must not sleep).
    fn register(&self, waker: &Waker) -> bool;

    /// The socket has ended (or was closed): take nothing more for it.
    fn close(&self);
}

/// What an [`Outbox`] hands its socket.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Outgoing {
    /// A message encoded once for every socket it goes to.
    Message(SharedMessage),
    /// Close the socket with this frame (a slow consumer evicted, say).
    Close(CloseFrame),
}

/// A socket's outboxes; each is told when the socket ends.
#[derive(Debug, Default)]
pub(crate) struct Outboxes(Vec<Arc<dyn Outbox>>);

impl Outboxes {
    /// Adds `outbox`; a socket that has `ended` closes it at once instead.
    pub(crate) fn attach(&mut self, outbox: Arc<dyn Outbox>, ended: bool) {
        if ended {
            outbox.close();
        } else {
            self.0.push(outbox);
        }
    }

    /// The first attached outbox of type `T`.
    pub(crate) fn find<T: Outbox>(&self) -> Option<Arc<T>> {
        self.0.iter().find_map(|outbox| {
            let any: Arc<dyn Any + Send + Sync> = Arc::clone(outbox) as _;
            any.downcast::<T>().ok()
        })
    }

    /// Whether no outbox is attached (most sockets): then there is nothing
    /// to take or register, and the driver skips the calls (this is asked
    /// on every read and write, so it must stay inline).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Moves what waits into `conn` while its write buffer has room.
    pub(crate) fn drain_into(&mut self, conn: &mut Connection, now: impl Fn() -> Instant) {
        if conn.is_sending_streamed() {
            return; // RFC 6455 §5.4: no other message between a streamed one's fragments.
        }
        for outbox in &self.0 {
            while !conn.is_write_buffer_filled() {
                let sent = match outbox.take() {
                    None => break,
                    Some(Outgoing::Message(message)) => conn.send_shared(&message),
                    Some(Outgoing::Close(frame)) => conn.close(Some(frame), now()),
                };
                if sent.is_err() {
                    // Ended or closing: nothing more will be sent.
                    return self.close_all();
                }
            }
        }
    }

    /// Registers for news; `true` if something waits now.
    pub(crate) fn register(&self, waker: &Waker) -> bool {
        // Every outbox registers, so none is left without the waker.
        self.0
            .iter()
            .fold(false, |waiting, outbox| outbox.register(waker) | waiting)
    }

    pub(crate) fn close_all(&mut self) {
        for outbox in self.0.drain(..) {
            outbox.close();
        }
    }
}

impl Drop for Outboxes {
    fn drop(&mut self) {
        self.close_all();
    }
}

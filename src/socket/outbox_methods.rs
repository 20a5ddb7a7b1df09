//! The methods that send shared messages and attach [`Outbox`]es, alike on
//! a whole socket and a writer half.

use std::future::poll_fn;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::driver::Side;
use super::outbox::Outbox;
use super::{WebSocket, WebSocketWriter};
use crate::proto::{Error, SharedMessage};

macro_rules! outbox_methods {
    ($driver:ident) => {
        /// Sends a message encoded once for many sockets (see
        /// [`SharedMessage`]) and writes out everything queued: the frame
        /// is not built again for this socket (nor compressed again, unless
        /// this socket keeps its own compression context).
        ///
        /// ```no_run
        /// # async fn run(sockets: &mut [hyperws::WebSocket]) -> Result<(), hyperws::Error> {
        /// use hyperws::{Message, SharedMessage};
        /// let news = SharedMessage::new(Message::text("extra!"))?;
        /// for ws in sockets.iter_mut() {
        ///     ws.send_shared(&news).await?;
        /// }
        /// # Ok(()) }
        /// ```
        ///
        /// # Cancel safety
        /// As [`send`](Self::send).
        pub async fn send_shared(&mut self, message: &SharedMessage) -> Result<(), Error> {
            self.feed_shared(message).await?;
            self.flush().await
        }

        /// Queues a shared message without writing it out; see
        /// [`feed`](Self::feed).
        ///
        /// # Cancel safety
        /// As [`feed`](Self::feed).
        pub async fn feed_shared(&mut self, message: &SharedMessage) -> Result<(), Error> {
            poll_fn(|cx| $driver!(self).poll_ready(cx, Side::Writer)).await?;
            $driver!(self).conn.send_shared(message)
        }

        /// Feeds this socket from `outbox` as well: what it holds is taken
        /// while the write buffer has room, whenever the socket's task
        /// reads, writes or flushes, and the outbox is told when the socket
        /// ends. An ended socket closes it at once. See [`Outbox`].
        pub fn attach_outbox(&mut self, outbox: Arc<dyn Outbox>) {
            $driver!(self).attach_outbox(outbox);
        }

        /// The first outbox of type `T` attached to this socket.
        #[must_use]
        pub fn outbox<T: Outbox>(&self) -> Option<Arc<T>> {
            $driver!(self).outbox()
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
    outbox_methods!(whole);
}

impl<IO: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<IO> {
    outbox_methods!(half);
}

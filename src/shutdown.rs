//! [`Shutdown`]: closes every open socket with 1001 (Going Away) and tells
//! the server when the last one is gone.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// A graceful-shutdown signal shared by a server and its sockets.
///
/// Give it to the sockets through [`ServerConfigBuilder::shutdown`](crate::ServerConfigBuilder::shutdown).
/// [`trigger`](Self::trigger) makes each open socket send close 1001 (Going
/// Away) and finish its closing handshake (up to `Config::close_timeout`);
/// [`closed`](Self::closed) resolves once every one of them is gone.
///
/// ```no_run
/// use axum::{routing::any, Router};
/// use hyperws::{axum::WebSocketUpgrade, ServerConfig, Shutdown};
///
/// # async fn run() -> std::io::Result<()> {
/// let shutdown = Shutdown::new();
/// let config = ServerConfig::builder().shutdown(&shutdown).build().expect("valid config");
/// let app = Router::new().route("/ws", any(move |ws: WebSocketUpgrade| {
///     let config = config.clone();
///     async move { ws.config(config).on_upgrade(|mut socket| async move { while socket.recv().await.is_some() {} }) }
/// }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// let signal = shutdown.clone();
/// tokio::spawn(async move {
///     tokio::signal::ctrl_c().await.ok();
///     signal.trigger();
/// });
/// // Stop accepting once triggered, then wait for the sockets to close.
/// axum::serve(listener, app).with_graceful_shutdown(shutdown.triggered()).await?;
/// shutdown.closed().await;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    triggered: AtomicBool,
    on_trigger: Notify,
    open_sockets: AtomicUsize,
    on_last_close: Notify,
}

impl Shutdown {
    /// A signal that has not been triggered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the shutdown: every socket tied to this signal closes with 1001.
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::Release);
        self.inner.on_trigger.notify_waiters();
    }

    /// Whether [`trigger`](Self::trigger) was called.
    #[must_use]
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::Acquire)
    }

    /// Resolves once the shutdown is triggered (for a server's own graceful
    /// shutdown, such as axum's `with_graceful_shutdown`).
    pub fn triggered(&self) -> impl Future<Output = ()> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        async move {
            loop {
                let notified = inner.on_trigger.notified();
                if inner.triggered.load(Ordering::Acquire) {
                    return;
                }
                notified.await;
            }
        }
    }

    /// Resolves once no socket tied to this signal is open.
    pub async fn closed(&self) {
        loop {
            let notified = self.inner.on_last_close.notified();
            if self.open_sockets() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// How many sockets tied to this signal are open.
    #[must_use]
    pub fn open_sockets(&self) -> usize {
        self.inner.open_sockets.load(Ordering::Acquire)
    }

    /// Counts a new socket until the returned guard is dropped.
    pub(crate) fn register(&self) -> ShutdownGuard {
        self.inner.open_sockets.fetch_add(1, Ordering::AcqRel);
        ShutdownGuard {
            shutdown: self.clone(),
            trigger: Trigger::Unwatched,
        }
    }
}

/// A socket's membership in a [`Shutdown`]: watches for the trigger and
/// counts the socket as open until dropped.
pub(crate) struct ShutdownGuard {
    shutdown: Shutdown,
    trigger: Trigger,
}

type Triggered = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The socket's watch on the trigger: made only when the socket first
/// waits, so a socket that never does costs no allocation for it.
enum Trigger {
    Unwatched,
    Watching(Triggered),
    Fired,
}

impl ShutdownGuard {
    /// The trigger, to be polled until it fires; `None` once it has.
    pub(crate) fn trigger_mut(&mut self) -> Option<&mut Triggered> {
        if matches!(self.trigger, Trigger::Unwatched) {
            self.trigger = Trigger::Watching(Box::pin(self.shutdown.triggered()));
        }
        match &mut self.trigger {
            Trigger::Watching(triggered) => Some(triggered),
            Trigger::Unwatched | Trigger::Fired => None,
        }
    }

    /// Whether the shutdown was triggered and this socket has not acted on
    /// it yet (one atomic load: cheap enough for every call).
    pub(crate) fn is_pending_trigger(&self) -> bool {
        !matches!(self.trigger, Trigger::Fired) && self.shutdown.is_triggered()
    }

    /// Records that the trigger fired.
    pub(crate) fn fired(&mut self) {
        self.trigger = Trigger::Fired;
    }
}

impl std::fmt::Debug for ShutdownGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownGuard")
            .field("shutdown", &self.shutdown)
            .field("fired", &matches!(self.trigger, Trigger::Fired))
            .finish()
    }
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        if self.shutdown.inner.open_sockets.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shutdown.inner.on_last_close.notify_waiters();
        }
    }
}

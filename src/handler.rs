//! After the 101: every door runs a socket's handler through
//! [`run_handler`] (by way of `UpgradeFut::run`), so what happens after the
//! handshake is the same whichever door accepted it. It knows the upgrade
//! only as a future of the socket, so it imports no door.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

use tracing::Instrument;

use crate::WebSocket;

/// Runs a server door's handler once the upgrade completes, inside a span
/// naming the peer, path and subprotocol. A failed upgrade is logged and
/// goes to `on_failed`; a handler that panics is logged and its socket is
/// closed with 1011, and the panic goes no further.
pub(crate) async fn run_handler<H, Fut>(
    upgraded: impl Future<Output = Result<WebSocket, hyper::Error>>,
    path: Box<str>,
    handler: H,
    on_failed: impl FnOnce(hyper::Error),
) where
    H: FnOnce(WebSocket) -> Fut,
    Fut: Future<Output = ()>,
{
    // `ws` lives only inside this match: a binding that outlived it would
    // keep its storage (800-odd bytes) in the task beside the handler's
    // future, which holds the socket itself, for the socket's whole life.
    let mut handler = std::pin::pin!(match upgraded.await {
        Ok(ws) => start(ws, &path, handler),
        Err(e) => {
            tracing::debug!(error = %e, path = %path, "WebSocket upgrade failed after the response");
            return on_failed(e);
        }
    });
    let outcome = std::future::poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await;
    if let Err(payload) = outcome {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string panic payload)");
        let _in_span = handler.span().enter(); // no await follows
        tracing::error!(
            panic = message,
            "WebSocket handler panicked; its socket was closed with 1011"
        );
    }
}

/// The handler's future on `ws`, inside the span every line it logs carries.
fn start<H, Fut>(ws: WebSocket, path: &str, handler: H) -> tracing::instrument::Instrumented<Fut>
where
    H: FnOnce(WebSocket) -> Fut,
{
    let peer = ws.get_ref().tcp_stream().and_then(|tcp| tcp.peer_addr().ok());
    // Everything the socket logs is inside this span; built once per connection.
    let span = tracing::info_span!("websocket", peer = ?peer, path = %path, protocol = ?ws.protocol());
    span.in_scope(|| tracing::debug!("WebSocket opened"));
    // Unwinding drops the socket the handler owns while the thread is still
    // panicking, which is what makes the socket send 1011 (see `Driver`'s drop).
    handler(ws).instrument(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server holds one task per socket for the socket's whole life: it
    /// must hold the socket once (inside the handler), not a second copy
    /// beside it, nor the finished upgrade.
    #[test]
    fn a_sockets_task_holds_the_socket_once() {
        let upgraded = std::future::pending::<Result<WebSocket, hyper::Error>>();
        let handler = |mut ws: WebSocket| async move { while ws.recv().await.is_some() {} };
        let task = run_handler(upgraded, "/ws".into(), handler, |_| {});
        let socket = std::mem::size_of::<WebSocket>();
        let size = std::mem::size_of_val(&task);
        assert!(
            size < socket + socket / 2,
            "the task is {size} bytes; a socket is {socket}"
        );
    }
}

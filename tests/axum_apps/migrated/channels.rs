// A handler written against `Sink` and `Stream` so it can be unit-tested
// with plain channels, as axum's testing example does (with the
// `axum::Error` bound), plus the route that runs it on a real socket.
// `tests/axum_migration.rs` compiles this file as it is and as
// `scripts/migrate-from-axum-ws` rewrote it (`migrated/channels.rs`).

use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
use axum::{response::Response, routing::get, Router};
use futures_util::{Sink, SinkExt, Stream, StreamExt};

pub(crate) fn app() -> Router {
    Router::new().route("/integration-testable", get(integration_testable_handler))
}

async fn integration_testable_handler(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|socket: WebSocket| {
        let (write, read) = socket.split();
        unit_testable_handler(write, read)
    })
}

pub(crate) async fn unit_testable_handler<W, R>(mut write: W, mut read: R)
where
    W: Sink<Message> + Unpin,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    while let Some(Ok(msg)) = read.next().await {
        if let Message::Text(msg) = msg {
            if write.send(Message::text(format!("You said: {msg}"))).await.is_err() {
                break;
            }
        }
    }
}

/// The unit test's inputs: what the handler reads.
pub(crate) fn scripted_input() -> impl Stream<Item = Result<Message, axum::Error>> + Unpin {
    futures_util::stream::iter(vec![Ok(Message::text("one")), Ok(Message::binary(vec![1u8])), Ok(Message::text("two"))])
}

//! Topics whose publications are stamped "position text", as the tests of
//! positions and recovery read them.

use std::time::Duration;

use hyperws::topics::{Position, TopicsBuilder};
use hyperws::{Message, WebSocket};
use tokio::io::DuplexStream;

/// Stamps every text publication "position text".
pub(crate) fn stamped(builder: TopicsBuilder) -> TopicsBuilder {
    builder.stamp(|position, message| match message {
        Message::Text(text) => Message::text(format!("{position} {text}")),
        other => other,
    })
}

/// The next stamped line's position and text (within 10 s).
pub(crate) async fn next(client: &mut WebSocket<DuplexStream>) -> (Position, String) {
    let message = tokio::time::timeout(Duration::from_secs(10), client.recv()).await;
    let Ok(Some(Ok(Message::Text(text)))) = message else {
        panic!("expected a stamped line, got {message:?}");
    };
    let (position, line) = text.split_once(' ').unwrap();
    (position.parse().unwrap(), line.to_owned())
}

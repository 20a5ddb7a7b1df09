// A WebRTC-style signaling relay written the way real axum apps keep the
// socket's error in their own types: `use axum::Error;`, an error enum that
// wraps it with `From` (what `#[from] axum::Error` expands to), and a
// channel of `Result<Message, Error>` fed by a task that reads the socket.
// Two peers join a room; whatever one sends (offer, answer, candidates)
// reaches the other. `tests/axum_migration.rs` compiles this file as it is
// and as `scripts/migrate-from-axum-ws` rewrote it (`migrated/signaling.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::any;
use axum::{Error, Router};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// The app's own error, wrapping the socket's as real apps do.
#[derive(Debug)]
pub(crate) enum SignalingError {
    Socket(Error),
    RoomFull,
}

impl std::fmt::Display for SignalingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Socket(e) => write!(f, "the socket failed: {e}"),
            Self::RoomFull => f.write_str("the room is full"),
        }
    }
}

impl From<Error> for SignalingError {
    fn from(e: Error) -> Self {
        Self::Socket(e)
    }
}

/// Each room's peers: the outbox of each.
type Rooms = Arc<Mutex<HashMap<String, Vec<UnboundedSender<Message>>>>>;

pub(crate) fn app() -> Router {
    Router::new().route("/signal/{room}", any(join)).with_state(Rooms::default())
}

async fn join(ws: WebSocketUpgrade, Path(room): Path<String>, State(rooms): State<Rooms>) -> Response {
    ws.on_upgrade(move |socket| async move {
        if let Err(e) = relay(socket, &room, &rooms).await {
            eprintln!("signaling ended: {e}");
        }
    })
}

async fn relay(socket: WebSocket, room: &str, rooms: &Rooms) -> Result<(), SignalingError> {
    let (mut sender, mut receiver) = socket.split();
    let (outbox, mut for_me) = unbounded_channel::<Message>();
    {
        let mut rooms = rooms.lock().unwrap();
        let peers = rooms.entry(room.to_owned()).or_default();
        if peers.len() == 2 {
            return Err(SignalingError::RoomFull);
        }
        peers.push(outbox.clone());
    }
    // The socket's reader feeds this peer's inbox, errors included.
    let (inbox, mut from_me): (UnboundedSender<Result<Message, Error>>, UnboundedReceiver<_>) = unbounded_channel();
    tokio::spawn(async move {
        while let Some(received) = receiver.next().await {
            if inbox.send(received).is_err() {
                break;
            }
        }
    });
    sender.send(Message::text("joined")).await?;
    loop {
        tokio::select! {
            mine = from_me.recv() => match mine.transpose()? {
                Some(Message::Text(text)) => {
                    let peers = rooms.lock().unwrap()[room].clone();
                    for peer in peers.iter().filter(|peer| !peer.same_channel(&outbox)) {
                        let _ = peer.send(Message::Text(text.clone()));
                    }
                }
                Some(Message::Close(_)) | None => break,
                Some(_) => {}
            },
            theirs = for_me.recv() => match theirs {
                Some(message) => sender.send(message).await?,
                None => break,
            },
        }
    }
    rooms.lock().unwrap().get_mut(room).unwrap().retain(|peer| !peer.same_channel(&outbox));
    Ok(())
}

//! A chat room: every message a browser sends is published to the room's
//! topic, which every connected browser subscribes to. `GET /` serves a page
//! whose JavaScript uses the browser's own `WebSocket`; `/ws` is the axum
//! extractor.
//!
//! ```sh
//! cargo run --example chat -- 127.0.0.1:3000    # then open http://127.0.0.1:3000/ in two tabs
//! ```
//!
//! Several processes share one room through Redis (build with the `redis`
//! feature; `HYPERWS_REDIS_URL` works as well as `--redis`):
//!
//! ```sh
//! cargo run --features redis --example chat -- 127.0.0.1:3000 --redis redis://127.0.0.1:6379
//! cargo run --features redis --example chat -- 127.0.0.1:3001 --redis redis://127.0.0.1:6379
//! ```
//!
//! or through NATS (feature `nats`; `nats-server -js` for the history):
//!
//! ```sh
//! cargo run --features nats --example chat -- 127.0.0.1:3000 --nats nats://127.0.0.1:4222
//! ```
//!
//! Every line of the room is sent as `{"pos": "<position>", "text": "<line>"}`
//! (lines for one guest only have no `pos`). The page remembers the last
//! position and, when the socket drops (the server restarted, the network
//! blinked), reconnects by itself with `/ws?since=<position>`: it gets every
//! line it missed, once and in order, before anything new, or one line
//! saying the history could not be recovered. The room keeps its last 1 000
//! lines for 10 minutes: in this process, in Redis Streams with `--redis`,
//! or in `JetStream` with `--nats` (then a guest may come back through any
//! of the processes).
//!
//! A browser that falls behind has its oldest messages dropped and is told
//! how many; one whose node lost Redis for a while is told messages may be
//! missing. Ctrl-C shuts down gracefully: every browser is sent close 1001
//! (Going Away), and the server exits once they have all closed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::{Html, Response};
use axum::routing::{any, get};
use axum::Router;
use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
use hyperws::topics::{Policy, Position, Recovery, Retention, SlowConsumer, Subscribe, TopicEvent, Topics};
use hyperws::{Config, DeflateConfig, ServerConfig, Shutdown};

/// The one room's topic.
const ROOM: &str = "chat";

#[derive(Clone)]
struct Room {
    topics: Topics,
    /// Tells this process's guests from other processes' ones.
    node: String,
    next_guest: Arc<AtomicUsize>,
    config: ServerConfig,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Warnings (a lost Redis connection, say) go to stderr.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:3000".to_owned();
    let mut engine = std::env::var("HYPERWS_REDIS_URL").ok().map(Engine::Redis);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => engine = args.next().map(Engine::Redis),
            "--nats" => engine = args.next().map(Engine::Nats),
            _ => addr = arg,
        }
    }
    let shutdown = Shutdown::new();
    // Browsers always offer permessage-deflate; messages from 128 bytes up
    // are sent compressed.
    let socket = Config::builder().deflate(DeflateConfig::default()).build();
    let config = ServerConfig::builder()
        .socket(socket.expect("valid socket settings"))
        .shutdown(&shutdown)
        .build()
        .expect("a valid server config");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let room = Room {
        topics: topics(engine),
        node: listener.local_addr()?.port().to_string(),
        next_guest: Arc::new(AtomicUsize::new(1)),
        config: config.clone(),
    };
    let app = Router::new()
        .route("/", get(|| async { Html(include_str!("index.html")) }))
        .route("/ws", any(join))
        .with_state(room);
    println!("chat on http://{}/ (Ctrl-C to stop)", listener.local_addr()?);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            println!("shutting down: closing {} sockets", shutdown.open_sockets());
            shutdown.trigger();
        }
    });
    // Returns once the shutdown is triggered and every socket has closed.
    hyperws::serve(listener, app, &config).await
}

/// Where the room is shared, if it is: `--redis URL` or `--nats URL`
/// (the URL is read only when the matching feature is on).
#[cfg_attr(not(all(feature = "redis", feature = "nats")), allow(dead_code))]
enum Engine {
    Redis(String),
    Nats(String),
}

/// The room's topics: in this process, or shared through Redis or NATS.
#[allow(clippy::needless_pass_by_value)] // consumed when a broker feature is on
fn topics(engine: Option<Engine>) -> Topics {
    // A guest more than 1 MiB behind loses its oldest messages, and is told.
    let slow = SlowConsumer::new(1 << 20, Policy::DropOldest).expect("a valid budget");
    let history = Retention::new(1000, Duration::from_secs(600)).expect("a valid retention");
    let builder = Topics::builder()
        .slow_consumer(slow)
        .history(history)
        .stamp(|position, message| match message {
            Message::Text(text) => line(Some(position), &text),
            other => other,
        });
    match engine {
        None => builder.build().expect("valid topics"),
        #[cfg(feature = "redis")]
        Some(Engine::Redis(url)) => {
            let broker = hyperws::topics::RedisBroker::new(&url).expect("a redis:// URL");
            builder.broker(broker).build().expect("valid topics")
        }
        #[cfg(feature = "nats")]
        Some(Engine::Nats(url)) => {
            let broker = hyperws::topics::NatsBroker::new(&url);
            builder.broker(broker).build().expect("valid topics")
        }
        #[allow(unreachable_patterns)]
        Some(Engine::Redis(_) | Engine::Nats(_)) => {
            eprintln!(
                "--redis and --nats need the redis or nats feature: cargo run --features redis,nats --example chat"
            );
            std::process::exit(2);
        }
    }
}

/// One line for a guest: `{"pos": ..., "text": ...}`, no `pos` for a line
/// to this guest alone.
fn line(position: Option<&Position>, text: &str) -> Message {
    let line = match position {
        Some(position) => serde_json::json!({ "pos": position.to_string(), "text": text }),
        None => serde_json::json!({ "text": text }),
    };
    Message::text(line.to_string())
}

/// `/ws?since=<position>`: the last position a returning guest saw.
#[derive(serde::Deserialize)]
struct Since {
    since: Option<String>,
}

async fn join(ws: WebSocketUpgrade, Query(since): Query<Since>, State(room): State<Room>) -> Response {
    // Not a position (an old page, a typo): the guest starts afresh.
    let since = since.since.and_then(|since| since.parse().ok());
    ws.config(room.config.clone())
        .on_upgrade(move |socket| chat(socket, room, since))
}

/// Subscribes the guest: from where it left off if it says so, queueing
/// every line it missed before anything new; or one line saying why not.
async fn enter(socket: &mut WebSocket, topics: &Topics, since: Option<Position>) -> Option<String> {
    // ROOM is one short name, and a new socket is in no topic: never refused.
    let Some(since) = since else {
        socket.subscribe(topics, ROOM).expect("a short topic name");
        return None;
    };
    match socket
        .subscribe_from(topics, ROOM, since)
        .await
        .expect("a short topic name")
    {
        Recovery::Complete { .. } => None,
        why => Some(format!(
            "(the history could not be recovered: {why:?}; lines may be missing)"
        )),
    }
}

async fn chat(mut socket: WebSocket, room: Room, since: Option<Position>) {
    let guest = room.next_guest.fetch_add(1, Ordering::Relaxed);
    let name = format!("guest {guest}@{}", room.node);
    let say = |line: String| {
        let _ = room.topics.publish(ROOM, Message::text(line));
    };
    let lost = enter(&mut socket, &room.topics, since).await;
    let mut events = socket.topic_events();
    // Subscribed first, so from this line on the guest hears everything.
    for text in lost.into_iter().chain([format!("you are {name}")]) {
        if socket.send(line(None, &text)).await.is_err() {
            return;
        }
    }
    say(format!("{name} joined"));
    loop {
        // The room's messages reach this socket while it waits here: its
        // own writes send them.
        tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => say(format!("{name}: {text}")),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => break,
            },
            Some(event) = events.recv() => {
                let note = match event {
                    TopicEvent::Missed { count, .. } => format!("({count} messages skipped: you fell behind)"),
                    _ => "(messages may be missing: the server lost touch with the others)".to_owned(),
                };
                if socket.send(line(None, &note)).await.is_err() {
                    break;
                }
            }
        }
    }
    say(format!("{name} left"));
}

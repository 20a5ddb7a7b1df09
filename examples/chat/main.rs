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
//! A browser that falls behind has its oldest messages dropped and is told
//! how many; one whose node lost Redis for a while is told messages may be
//! missing. Ctrl-C shuts down gracefully: every browser is sent close 1001
//! (Going Away), and the server exits once they have all closed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, Response};
use axum::routing::{any, get};
use axum::Router;
use hyperws::axum::{Message, WebSocket, WebSocketUpgrade};
use hyperws::topics::{Policy, SlowConsumer, Subscribe, TopicEvent, Topics};
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
    let mut redis = std::env::var("HYPERWS_REDIS_URL").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => redis = args.next(),
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
        topics: topics(redis.as_deref()),
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

/// The room's topics: in this process, or shared through Redis.
fn topics(redis: Option<&str>) -> Topics {
    // A guest more than 1 MiB behind loses its oldest messages, and is told.
    let builder =
        Topics::builder().slow_consumer(SlowConsumer::new(1 << 20, Policy::DropOldest).expect("a valid budget"));
    match redis {
        None => builder.build().expect("valid topics"),
        #[cfg(feature = "redis")]
        Some(url) => {
            let broker = hyperws::topics::RedisBroker::new(url).expect("a redis:// URL");
            builder.broker(broker).build().expect("valid topics")
        }
        #[cfg(not(feature = "redis"))]
        Some(_) => {
            eprintln!("--redis needs the redis feature: cargo run --features redis --example chat");
            std::process::exit(2);
        }
    }
}

async fn join(ws: WebSocketUpgrade, State(room): State<Room>) -> Response {
    ws.config(room.config.clone())
        .on_upgrade(move |socket| chat(socket, room))
}

async fn chat(mut socket: WebSocket, room: Room) {
    let guest = room.next_guest.fetch_add(1, Ordering::Relaxed);
    let name = format!("guest {guest}@{}", room.node);
    let say = |line: String| {
        let _ = room.topics.publish(ROOM, Message::text(line));
    };
    // ROOM is one short name: well within the limits, never refused.
    socket.subscribe(&room.topics, ROOM).expect("a short topic name");
    let mut events = socket.topic_events();
    // Subscribed first, so from this line on the guest hears everything.
    if socket.send(Message::text(format!("you are {name}"))).await.is_err() {
        return;
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
                if socket.send(Message::text(note)).await.is_err() {
                    break;
                }
            }
        }
    }
    say(format!("{name} left"));
}

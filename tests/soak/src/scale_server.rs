//! One server of the scale test (`scripts/scale`): axum's router on
//! `hyperws::serve`, bound with `bind_reuse_port` so that several of these
//! processes share one port. Every socket joins the topic `all`, through a
//! Redis broker when one is named. `GET /publish?seq=S&count=C` publishes C
//! messages `"<seq> <unix ns>"` there. Once a second it writes its counts
//! to a stats file the harness reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use hyperws::axum::WebSocketUpgrade;
use hyperws::topics::{Subscribe, Topics};
use hyperws::{Config, Error, Message, ServerConfig};

/// The topic every socket joins.
const TOPIC: &str = "all";

pub struct Plan {
    pub port: u16,
    /// `redis://...`, or `None` for the in-process `Topics`.
    pub redis: Option<String>,
    /// `(interval, timeout)`, or `None` for hyperws's defaults.
    pub heartbeat: Option<(Duration, Duration)>,
    pub stats: std::path::PathBuf,
}

/// What the server saw, written to the stats file.
#[derive(Default)]
struct Counts {
    opened: AtomicU64,
    closed: AtomicU64,
    /// Ended by the heartbeat: the peer stopped answering pings.
    heartbeat_drops: AtomicU64,
}

#[derive(Clone)]
struct App {
    topics: Topics,
    config: Arc<ServerConfig>,
    counts: Arc<Counts>,
}

pub async fn run(plan: Plan) {
    let topics = match &plan.redis {
        Some(url) => Topics::builder()
            .broker(hyperws::topics::RedisBroker::new(url).expect("a Redis URL"))
            .build(),
        None => Topics::builder().build(),
    }
    .expect("valid topics");
    let mut socket = Config::builder();
    if let Some((interval, timeout)) = plan.heartbeat {
        socket = socket.heartbeat(interval, timeout);
    }
    let config = ServerConfig::builder()
        .socket(socket.build().expect("a valid heartbeat"))
        .build()
        .expect("valid config");
    let app = App {
        topics,
        config: Arc::new(config.clone()),
        counts: Arc::default(),
    };
    tokio::spawn(write_stats(app.counts.clone(), plan.stats));
    tokio::spawn(exit_with_the_harness());
    let router = Router::new()
        .route("/ws", get(upgrade))
        .route("/publish", get(publish))
        .with_state(app);
    let listener = hyperws::bind_reuse_port(([127, 0, 0, 1], plan.port).into()).expect("bind the shared port");
    println!("LISTENING {}", listener.local_addr().unwrap());
    hyperws::serve(listener, router, &config).await.unwrap();
}

async fn upgrade(State(app): State<App>, ws: WebSocketUpgrade) -> axum::response::Response {
    ws.config((*app.config).clone())
        .on_upgrade(move |mut socket| async move {
            // hyperws's own socket (through `DerefMut`), whose errors are typed.
            let socket: &mut hyperws::WebSocket = &mut socket;
            app.counts.opened.fetch_add(1, Ordering::Relaxed);
            socket.subscribe(&app.topics, TOPIC).expect("one short topic");
            // The app reads until the end, as a chat server would; the
            // subscription's publications go out through these reads.
            let ended = loop {
                match socket.recv().await {
                    Some(Ok(_)) => {}
                    Some(Err(error)) => break Some(error),
                    None => break None,
                }
            };
            if matches!(ended, Some(Error::HeartbeatTimeout)) {
                app.counts.heartbeat_drops.fetch_add(1, Ordering::Relaxed);
            }
            app.counts.closed.fetch_add(1, Ordering::Relaxed);
        })
}

/// Ends the process when the harness does (its end closes our stdin).
async fn exit_with_the_harness() {
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    std::process::exit(0);
}

#[derive(serde::Deserialize)]
struct Publish {
    seq: u64,
    count: u64,
}

/// Publishes `count` messages, each stamped with the time it was published.
async fn publish(State(app): State<App>, Query(batch): Query<Publish>) -> String {
    for seq in batch.seq..batch.seq + batch.count {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        app.topics
            .publish(TOPIC, Message::text(format!("{seq} {now}")))
            .expect("a valid message");
    }
    format!("published {}\n", batch.count)
}

/// Every second: `opened closed heartbeat_drops`, replaced whole (a rename).
async fn write_stats(counts: Arc<Counts>, path: std::path::PathBuf) {
    let staging = path.with_extension("new");
    loop {
        let line = format!(
            "{} {} {}\n",
            counts.opened.load(Ordering::Relaxed),
            counts.closed.load(Ordering::Relaxed),
            counts.heartbeat_drops.load(Ordering::Relaxed)
        );
        if std::fs::write(&staging, line).is_ok() {
            let _ = std::fs::rename(&staging, &path);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

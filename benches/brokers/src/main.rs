//! `broker REDIS_URL NATS_URL [COUNT]`: live delivery through each broker,
//! with and without history (issue 25: "keeps live delivery at least as
//! fast as today's pub/sub"). Two nodes in this process: node A publishes
//! 64-byte messages, node B's one subscriber socket receives them; each
//! message carries its send time. Prints, per broker and mode: the
//! latency from `publish` to the subscriber's client (p50, p99) at 1 000
//! messages a second, and the rate of a burst of COUNT (time until the
//! last arrived). `scripts/bench-brokers` starts the servers.

use std::time::{Duration, Instant};

use hyperws::topics::{Broker, NatsBroker, Policy, RedisBroker, Retention, SlowConsumer, Subscribe, Topics};
use hyperws::{Config, Message, WebSocket};
use tokio::io::DuplexStream;

const PACED: usize = 2_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [redis, nats] = [&args[0], &args[1]];
    let count: usize = args.get(2).map_or(20_000, |n| n.parse().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("| broker | history | latency p50 µs | latency p99 µs | burst of {count}: deliveries/s |");
    println!("|---|---|---|---|---|");
    for history in [false, true] {
        // Room for the whole burst, in the brokers' queues and the socket's
        // mailbox: this measures speed, not the limits.
        let redis_broker = || RedisBroker::new(redis).unwrap().queue(1 << 17).unwrap();
        let row = runtime.block_on(measure(redis_broker, history, count));
        println!(
            "| Redis | {} | {row} |",
            if history { "Streams" } else { "off (pub/sub)" }
        );
        let nats_broker = || NatsBroker::new(nats).queue(1 << 17).unwrap();
        let row = runtime.block_on(measure(nats_broker, history, count));
        println!(
            "| NATS | {} | {row} |",
            if history { "JetStream" } else { "off (core)" }
        );
    }
}

fn node<B: Broker>(broker: B, history: bool) -> Topics {
    let budget = SlowConsumer::new(64 << 20, Policy::default()).unwrap();
    let builder = Topics::builder().broker(broker).slow_consumer(budget);
    let builder = if history {
        builder.history(Retention::new(100_000, Duration::from_secs(600)).unwrap())
    } else {
        builder
    };
    builder.build().unwrap()
}

async fn measure<B: Broker>(broker: impl Fn() -> B, history: bool, count: usize) -> String {
    let (a, b) = (node(broker(), history), node(broker(), history));
    let topic = format!("bench-{}", std::process::id() ^ u32::from(history));
    let (mut server, mut client) = hyperws::testing::pair(&Config::default());
    server.subscribe(&b, &topic).unwrap();
    tokio::spawn(async move { while let Some(Ok(_)) = server.recv().await {} });
    let start = Instant::now();
    warm_up(&a, &topic, &mut client, start).await;
    let mut latencies = Vec::with_capacity(PACED);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for _ in 0..PACED {
        tick.tick().await;
        publish(&a, &topic, start);
        latencies.push(receive(&mut client, start).await);
    }
    latencies.sort_unstable();
    let burst = Instant::now();
    for _ in 0..count {
        publish(&a, &topic, start);
    }
    for _ in 0..count {
        receive(&mut client, start).await;
    }
    let rate = count as f64 / burst.elapsed().as_secs_f64();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_micros();
    format!("{} | {} | {rate:.0}", at(0.5), at(0.99))
}

/// Publishes until the subscriber's node hears the topic, then lets the
/// extra copies arrive.
async fn warm_up(a: &Topics, topic: &str, client: &mut WebSocket<DuplexStream>, start: Instant) {
    loop {
        publish(a, topic, start);
        if tokio::time::timeout(Duration::from_millis(200), client.recv())
            .await
            .is_ok()
        {
            break;
        }
    }
    while tokio::time::timeout(Duration::from_millis(500), client.recv())
        .await
        .is_ok()
    {}
}

fn publish(topics: &Topics, topic: &str, start: Instant) {
    let mut payload = vec![0u8; 64];
    payload[..16].copy_from_slice(&start.elapsed().as_nanos().to_be_bytes());
    topics.publish(topic, Message::binary(payload)).unwrap();
}

/// The time the next message spent between `publish` and here.
async fn receive(client: &mut WebSocket<DuplexStream>, start: Instant) -> Duration {
    let message = tokio::time::timeout(Duration::from_secs(10), client.recv()).await;
    let Ok(Some(Ok(Message::Binary(payload)))) = message else {
        panic!("a message was lost: {message:?}")
    };
    let sent = u128::from_be_bytes(payload[..16].try_into().unwrap());
    start.elapsed() - Duration::from_nanos(sent as u64)
}

//! `fanout_lag [run]`: memory where subscribers lag. 1 000 subscribers
//! that never read; one publisher sends 10 000 messages of 1 KiB. Through
//! `Topics` (each subscriber's budget 256 KiB, `DropOldest`) and through
//! axum's chat pattern (a `tokio::sync::broadcast` channel of capacity 100,
//! as in axum's example, and a task per socket that receives and `send`s).
//! Reports the server's peak and final RSS 10 s after "go", and what each
//! subscriber is left with. `fanout_lag server MODE` and `fanout_lag load
//! ADDR N PID` are the processes it starts (server on core 0, load on 1).

// The echo benchmark's modules this one borrows from come with the rest of them.
#![allow(dead_code)]

mod compressed;
mod fanout;
mod load;
mod report;
mod servers;
mod wire;

use std::process::Command;
use std::time::Duration;

use hyperws::topics::{Policy, SlowConsumer, Topics};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const SUBSCRIBERS: usize = 1_000;
const COUNT: usize = 10_000;
const SIZE: usize = 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    match args.first().map(String::as_str) {
        Some("server") => local.block_on(&runtime, serve(&args[1])),
        Some("load") => local.block_on(
            &runtime,
            stall(
                args[1].parse().unwrap(),
                args[2].parse().unwrap(),
                args[3].parse().unwrap(),
            ),
        ),
        _ => run(),
    }
}

fn run() {
    println!("{SUBSCRIBERS} subscribers that never read, {COUNT} messages of {SIZE} B published at once:");
    println!("| | server peak RSS MiB | server RSS after 10 s MiB |");
    println!("|---|---|---|");
    for (mode, name) in [
        ("topics", "Topics (256 KiB budget, DropOldest)"),
        ("broadcast", "broadcast (capacity 100) + task per socket"),
    ] {
        let server = report::Server::start(mode);
        let exe = std::env::current_exe().unwrap();
        let output = Command::new("taskset")
            .args(["-c", "1"])
            .arg(&exe)
            .args([
                "load",
                &server.addr,
                &SUBSCRIBERS.to_string(),
                &server.pid().to_string(),
            ])
            .output()
            .unwrap();
        drop(server);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let result = stdout
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .expect("a result");
        let kib: Vec<f64> = result.split(' ').map(|f| f.parse().unwrap()).collect();
        println!("| {name} | {:.1} | {:.1} |", kib[0] / 1024.0, kib[1] / 1024.0);
    }
}

async fn serve(mode: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    let budget = SlowConsumer::new(256 << 10, Policy::DropOldest).unwrap();
    let topics = Topics::builder().slow_consumer(budget).build().unwrap();
    // axum's chat example: `broadcast::channel(100)`.
    let (channel, _) = tokio::sync::broadcast::channel::<bytes::Bytes>(100);
    let config = hyperws::Config::builder().no_heartbeat().build().unwrap();
    loop {
        let (tcp, _) = listener.accept().await.unwrap();
        let (topics, channel, config, mode) = (topics.clone(), channel.clone(), config.clone(), mode.to_owned());
        tokio::task::spawn_local(async move {
            let ws = fanout::accept(tcp, &config).await;
            // The fan-out benchmark's own handlers, with this run's shape.
            if mode == "topics" {
                fanout::subscriber(ws, topics, SIZE, COUNT).await;
            } else {
                fanout::broadcast_member(ws, channel, SIZE, COUNT).await;
            }
        });
    }
}

/// Connects `n` clients that never read, says "go" on the first, waits
/// 10 s, prints `RESULT peak_kib now_kib` of the server.
async fn stall(addr: std::net::SocketAddr, n: usize, pid: u32) {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(load::handshake_with(addr, "").await.0);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    held[0].write_all(&wire::masked_frame_with(0x81, b"go")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss = report::status_kib(pid, "VmRSS:");
    println!("RESULT {} {rss}", fanout::peak_rss_kib(pid));
    drop(held);
}

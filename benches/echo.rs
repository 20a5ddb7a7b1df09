//! End-to-end echo load: the same client load against a hyperws server and
//! a tokio-tungstenite server, in one run, so the ratio is fair on a noisy
//! machine. Each server echoes as its library is meant to be used:
//! hyperws with `recv` + `feed` (written once per batch of input),
//! tokio-tungstenite with `StreamExt::forward` (flushes when input pauses).
//!
//! `cargo bench --bench echo` (or `-- CONNECTIONS IN_FLIGHT MESSAGES SIZE`)

#![allow(missing_docs)] // a bench binary

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use hyperws::{ClientBuilder, Config, Message};
use tokio::net::TcpListener;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let arg = |i: usize, default: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (connections, in_flight, messages, size) = (arg(1, 16), arg(2, 16), arg(3, 20_000), arg(4, 64));
    println!("echo: {connections} connections x {in_flight} in flight x {messages} messages of {size} B");
    let servers: [(&str, SocketAddr); 2] = [
        ("hyperws", hyperws_server().await),
        ("tokio-tungstenite", tungstenite_server().await),
    ];
    let mut results = Vec::new();
    // Alternate the servers over three rounds so drift on the machine hits both.
    for round in 1..=3 {
        for (name, addr) in servers {
            let rate = load(addr, connections, in_flight, messages, size).await;
            println!("round {round}: {name:18} {rate:>10.0} messages/s");
            results.push((name, rate));
        }
    }
    let best = |name: &str| {
        results
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .fold(0.0, f64::max)
    };
    let (ours, theirs) = (best("hyperws"), best("tokio-tungstenite"));
    println!(
        "best of 3: hyperws {ours:.0}/s, tokio-tungstenite {theirs:.0}/s, ratio {:.2}",
        ours / theirs
    );
}

/// Messages per second echoed, counting both directions' completions once.
async fn load(addr: SocketAddr, connections: usize, in_flight: usize, messages: usize, size: usize) -> f64 {
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            tokio::spawn(async move {
                let url = format!("ws://{addr}/");
                let (mut ws, _) = ClientBuilder::new(url)
                    .config(Config::builder().no_heartbeat().build().unwrap())
                    .connect()
                    .await
                    .unwrap();
                let payload = Message::binary(vec![0x5A; size]);
                let (mut sent, mut received) = (0, 0);
                while sent < in_flight.min(messages) {
                    ws.feed(payload.clone()).await.unwrap();
                    sent += 1;
                }
                ws.flush().await.unwrap();
                while received < messages {
                    match ws.recv().await.unwrap().unwrap() {
                        Message::Binary(_) => received += 1,
                        _ => continue,
                    }
                    if sent < messages {
                        // Queued; written when recv next waits for input.
                        ws.feed(payload.clone()).await.unwrap();
                        sent += 1;
                    }
                }
                ws.close(None).await.ok();
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let total = u32::try_from(connections * messages).expect("a load of under 4 billion messages");
    f64::from(total) / started.elapsed().as_secs_f64()
}

async fn hyperws_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().layer(hyperws::tower::WebSocketLayer::new(
        |mut ws: hyperws::WebSocket| async move {
            while let Some(Ok(message)) = ws.recv().await {
                if (message.is_binary() || message.is_text()) && ws.feed(message).await.is_err() {
                    return;
                }
            }
        },
    ));
    tokio::spawn(async move { hyperws::serve(listener, app, &hyperws::ServerConfig::default()).await });
    addr
}

async fn tungstenite_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tcp.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                let (sink, stream) = ws.split();
                let _ = stream
                    .try_filter(|m| std::future::ready(m.is_binary() || m.is_text()))
                    .forward(sink)
                    .await;
            });
        }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    addr
}

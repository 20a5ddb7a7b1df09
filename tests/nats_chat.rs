//! The chat example as three processes sharing one room through a real
//! `nats-server` with `JetStream` (feature `nats`): a guest that comes back
//! through another node gets exactly what it missed, and is told when the
//! server lost its data. The same scenario as on Redis (`common::chat`).
//!
//! `cargo test --features nats --test nats_chat`

#![cfg(feature = "nats")]

mod common;

use std::net::SocketAddr;

use common::chat::a_guest_comes_back;
use common::nats::{start_nats, store};
use common::process::{free_addr, start_example, Process};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_comes_back_through_another_node_gets_what_it_missed() {
    let port = free_addr().port();
    let dir = store("chat");
    let mut nats = Some(start_nats(port, &dir).await);
    let url = format!("nats://127.0.0.1:{port}");
    let nodes: Vec<(Process, SocketAddr)> = (0..3).map(|_| start_example("chat", &["--nats", &url])).collect();
    let addrs: Vec<SocketAddr> = nodes.iter().map(|(_, addr)| *addr).collect();
    a_guest_comes_back(&addrs, async || {
        drop(nats.take());
        std::fs::remove_dir_all(&dir).unwrap(); // its data is lost
        nats = Some(start_nats(port, &store("chat")).await);
        // Give the nodes' clients a moment to reconnect (they retry every 100 ms at first).
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    })
    .await;
}

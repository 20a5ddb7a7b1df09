//! One load process of the scale test: `count` raw WebSocket clients from
//! one loopback source address, each answering pings and noting when each
//! broadcast arrived. The harness steers it with lines on stdin and reads
//! one line back for each:
//!
//! - `status` → `STATUS <alive> <dropped> <pongs>`: `dropped` counts the
//!   connections that ended though they answered every ping;
//! - `deaf <k> <deadline ms>` → `DEAF <not dropped> <ms,...>`: k clients stop
//!   answering; how long until the server dropped each;
//! - `report <first seq> <last seq>` → `REPORT <alive> <missing> <µs,...>`:
//!   for every live client that had the whole batch, the time from the
//!   first message's publication to its last arrival; `missing` counts
//!   the live clients that lack one.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::peer::{Event, Peer};

/// How many handshakes one process has in flight while it connects.
const CONNECTING_AT_ONCE: usize = 64;
/// The first source port; each client takes the next free one.
const FIRST_PORT: u16 = 10_000;

/// One broadcast as one client saw it.
struct Arrival {
    client: u32,
    seq: u32,
    published_ns: u64,
    arrived_ns: u64,
}

#[derive(Default)]
struct Shared {
    alive: Cell<usize>,
    dropped: Cell<usize>,
    pongs: Cell<u64>,
    /// Clients below this index stop answering, from `deaf_since`.
    deaf_below: Cell<usize>,
    deaf_since: Cell<Option<Instant>>,
    deaf_dropped_ms: RefCell<Vec<u64>>,
    arrivals: RefCell<Vec<Arrival>>,
}

pub async fn run(addr: SocketAddr, source: IpAddr, count: usize) {
    let shared = Rc::new(Shared::default());
    let (opened, failed) = open_all(addr, source, count, &shared).await;
    println!("OPEN {opened} {failed}");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |i: usize| -> u64 { words.get(i).and_then(|w| w.parse().ok()).unwrap_or(0) };
        match words.first().copied() {
            Some("status") => println!(
                "STATUS {} {} {}",
                shared.alive.get(),
                shared.dropped.get(),
                shared.pongs.get()
            ),
            Some("deaf") => deaf(&shared, number(1) as usize, Duration::from_millis(number(2))).await,
            Some("report") => report(&shared, number(1) as u32, number(2) as u32),
            _ => break,
        }
    }
}

/// Opens `count` clients, a few handshakes at a time, each retried once.
async fn open_all(addr: SocketAddr, source: IpAddr, count: usize, shared: &Rc<Shared>) -> (usize, usize) {
    let next = Rc::new(Cell::new(0));
    let port = Rc::new(Cell::new(FIRST_PORT));
    let failed = Rc::new(Cell::new(0));
    let openers: Vec<_> = (0..CONNECTING_AT_ONCE)
        .map(|_| {
            let (next, port, failed, shared) = (next.clone(), port.clone(), failed.clone(), shared.clone());
            tokio::task::spawn_local(async move {
                loop {
                    let client = next.get();
                    if client >= count {
                        return;
                    }
                    next.set(client + 1);
                    let mut peer = None;
                    // A port still held from an earlier run fails: the next one, a few times.
                    for _ in 0..3 {
                        let from = SocketAddr::new(source, port.get());
                        port.set(port.get().checked_add(1).expect("fewer clients than ports"));
                        peer = Peer::connect_from(from, addr).await;
                        if peer.is_some() {
                            break;
                        }
                    }
                    match peer {
                        Some(peer) => {
                            shared.alive.set(shared.alive.get() + 1);
                            tokio::task::spawn_local(client_loop(peer, client as u32, shared.clone()));
                        }
                        None => failed.set(failed.get() + 1),
                    }
                }
            })
        })
        .collect();
    for opener in openers {
        opener.await.unwrap();
    }
    (shared.alive.get(), failed.get())
}

async fn client_loop(mut peer: Peer, client: u32, shared: Rc<Shared>) {
    let is_deaf = || (client as usize) < shared.deaf_below.get();
    loop {
        match peer.next_event().await {
            Event::Ping(payload) if !is_deaf() => {
                if !peer.send(0xA, &payload).await {
                    break;
                }
                shared.pongs.set(shared.pongs.get() + 1);
            }
            Event::Ping(_) => {}
            Event::Data(data) => record(&shared, client, &data),
            Event::Close | Event::Gone => break,
        }
    }
    shared.alive.set(shared.alive.get() - 1);
    match shared.deaf_since.get().filter(|_| is_deaf()) {
        Some(since) => shared
            .deaf_dropped_ms
            .borrow_mut()
            .push(since.elapsed().as_millis() as u64),
        None => shared.dropped.set(shared.dropped.get() + 1),
    }
}

fn unix_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// Notes a broadcast `"<seq> <published unix ns>"`.
fn record(shared: &Shared, client: u32, data: &[u8]) {
    let arrived_ns = unix_ns();
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split(' ').map(|f| f.parse::<u64>().ok());
    if let (Some(Some(seq)), Some(Some(published_ns))) = (fields.next(), fields.next()) {
        let seq = seq as u32;
        shared.arrivals.borrow_mut().push(Arrival {
            client,
            seq,
            published_ns,
            arrived_ns,
        });
    }
}

/// Makes the first `k` clients deaf and waits (at most `deadline`) until
/// the server has dropped them all.
async fn deaf(shared: &Shared, k: usize, deadline: Duration) {
    shared.deaf_dropped_ms.borrow_mut().clear();
    shared.deaf_since.set(Some(Instant::now()));
    shared.deaf_below.set(k);
    let give_up = Instant::now() + deadline;
    while shared.deaf_dropped_ms.borrow().len() < k && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let times = shared.deaf_dropped_ms.borrow();
    let list: Vec<String> = times.iter().map(u64::to_string).collect();
    println!("DEAF {} {}", k - times.len(), list.join(","));
}

/// Per live client: whether it had every message `first..=last`, and the
/// time from the first one's publication to the last arrival.
fn report(shared: &Shared, first: u32, last: u32) {
    let arrivals = shared.arrivals.take();
    let in_batch = |a: &&Arrival| (first..=last).contains(&a.seq);
    let published = arrivals.iter().filter(|a| a.seq == first).map(|a| a.published_ns).min();
    let mut per_client: std::collections::HashMap<u32, (u32, u64)> = std::collections::HashMap::new();
    for arrival in arrivals.iter().filter(in_batch) {
        let entry = per_client.entry(arrival.client).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(arrival.arrived_ns);
    }
    let expected = last - first + 1;
    let complete: Vec<String> = per_client
        .values()
        .filter(|(count, _)| *count == expected)
        .map(|(_, arrived)| ((arrived - published.unwrap_or(*arrived)) / 1000).to_string())
        .collect();
    let alive = shared.alive.get();
    println!(
        "REPORT {alive} {} {}",
        alive.saturating_sub(complete.len()),
        complete.join(",")
    );
}

//! The load generator: N connections, each keeping M pre-masked frames in
//! flight, checking every echo byte for byte. It measures messages per
//! second, latency from write to echo, and the server's CPU time.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire::{masked_frame, parse_header};

/// One echo workload.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub connections: usize,
    pub size: usize,
    pub in_flight: usize,
}

pub const SCENARIOS: [Scenario; 5] = [
    Scenario {
        name: "1 conn, 16 B",
        connections: 1,
        size: 16,
        in_flight: 1,
    },
    Scenario {
        name: "100 conns, 16 B",
        connections: 100,
        size: 16,
        in_flight: 1,
    },
    Scenario {
        name: "100 conns, 16 B, 16 in flight",
        connections: 100,
        size: 16,
        in_flight: 16,
    },
    Scenario {
        name: "10 conns, 64 KiB",
        connections: 10,
        size: 64 << 10,
        in_flight: 1,
    },
    Scenario {
        name: "1 conn, 1 MiB",
        connections: 1,
        size: 1 << 20,
        in_flight: 1,
    },
];

/// What one run of a scenario measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    pub rate: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Server CPU time per message echoed.
    pub cpu_us_per_msg: f64,
}

impl Outcome {
    pub fn to_line(self) -> String {
        format!(
            "RESULT {} {} {} {}",
            self.rate, self.p50_us, self.p99_us, self.cpu_us_per_msg
        )
    }

    pub fn from_line(line: &str) -> Option<Self> {
        let mut fields = line.strip_prefix("RESULT ")?.split(' ').map(|f| f.parse::<f64>().ok());
        Some(Self {
            rate: fields.next()??,
            p50_us: fields.next()??,
            p99_us: fields.next()??,
            cpu_us_per_msg: fields.next()??,
        })
    }
}

/// Shared between the connection tasks (one thread, so `Rc`).
#[derive(Default)]
struct Tally {
    echoed: Cell<u64>,
    measuring: Cell<bool>,
    latencies_ns: RefCell<Vec<u32>>,
}

/// Runs `scenario` against `addr`: a warm-up, then a measured window.
pub async fn run(addr: SocketAddr, scenario: Scenario, server_pid: u32, warmup: Duration, window: Duration) -> Outcome {
    let tally = Rc::new(Tally::default());
    let payload: Rc<[u8]> = (0..scenario.size).map(|i| (i % 251) as u8).collect();
    for _ in 0..scenario.connections {
        let tcp = handshake(addr).await;
        let (tally, payload) = (Rc::clone(&tally), Rc::clone(&payload));
        tokio::task::spawn_local(async move {
            echo_loop(tcp, &payload, scenario.in_flight, &tally).await;
        });
    }
    tokio::time::sleep(warmup).await;
    let (start_count, start_cpu, started) = (tally.echoed.get(), cpu_ns(server_pid), Instant::now());
    tally.measuring.set(true);
    tokio::time::sleep(window).await;
    tally.measuring.set(false);
    let (count, cpu, elapsed) = (
        tally.echoed.get() - start_count,
        cpu_ns(server_pid) - start_cpu,
        started.elapsed(),
    );
    let mut latencies = tally.latencies_ns.take();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).map_or(0.0, |ns| f64::from(*ns) / 1000.0)
    };
    Outcome {
        rate: count as f64 / elapsed.as_secs_f64(),
        p50_us: percentile(0.50),
        p99_us: percentile(0.99),
        cpu_us_per_msg: cpu as f64 / 1000.0 / count.max(1) as f64,
    }
}

/// Opens `count` connections and holds them, doing nothing.
pub async fn hold_idle(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        held.push(handshake(addr).await);
    }
    held
}

async fn handshake(addr: SocketAddr) -> TcpStream {
    handshake_with(addr, "").await.0
}

/// Opens a WebSocket with `extra` request header lines (each ending in
/// `\r\n`); returns the stream and the 101 response's head, lowercase.
pub async fn handshake_with(addr: SocketAddr, extra: &str) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "closed during the handshake");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    (tcp, head)
}

async fn echo_loop(mut tcp: TcpStream, payload: &[u8], in_flight: usize, tally: &Tally) {
    let frame = masked_frame(payload);
    let mut sent_at = VecDeque::with_capacity(in_flight);
    let mut input = BytesMut::with_capacity(payload.len() + (64 << 10));
    let mut batch = Vec::with_capacity(frame.len() * in_flight);
    if send(&mut tcp, &frame, in_flight, &mut batch, &mut sent_at)
        .await
        .is_err()
    {
        return;
    }
    loop {
        input.reserve(payload.len().max(64 << 10));
        match tcp.read_buf(&mut input).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let now = Instant::now();
        let mut echoed = 0;
        while let Some((header_len, len, masked)) = parse_header(&input) {
            if input.len() < header_len + len {
                break;
            }
            assert!(!masked && len == payload.len(), "a wrong echo");
            assert!(input[header_len..header_len + len] == *payload, "an echo that differs");
            input.advance(header_len + len);
            echoed += 1;
            let sent = sent_at.pop_front().expect("an echo nobody sent");
            if tally.measuring.get() {
                let ns = now.duration_since(sent).as_nanos().min(u128::from(u32::MAX)) as u32;
                tally.latencies_ns.borrow_mut().push(ns);
            }
        }
        tally.echoed.set(tally.echoed.get() + echoed as u64);
        if echoed > 0 && send(&mut tcp, &frame, echoed, &mut batch, &mut sent_at).await.is_err() {
            return;
        }
    }
}

/// Writes `count` copies of `frame` in one write.
async fn send(
    tcp: &mut TcpStream,
    frame: &[u8],
    count: usize,
    batch: &mut Vec<u8>,
    sent_at: &mut VecDeque<Instant>,
) -> std::io::Result<()> {
    let now = Instant::now();
    sent_at.extend(std::iter::repeat_n(now, count));
    if count == 1 {
        return tcp.write_all(frame).await;
    }
    batch.clear();
    for _ in 0..count {
        batch.extend_from_slice(frame);
    }
    tcp.write_all(batch).await
}

/// The server's CPU time so far, in nanoseconds (it runs on one thread,
/// whose scheduler statistics are the first field of `schedstat`).
pub fn cpu_ns(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split(' ').next()?.parse().ok())
        .unwrap_or(0)
}

//! The arena's load, with its validator: N connections over L threads
//! (each a single-threaded runtime), each keeping D 5-byte text frames in
//! flight. Every connection first pings and must get its pong, every echo
//! must be a text frame with the same 5 bytes, and at the end each sends a
//! close and must get one back, as HttpArena's validator checks.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::wire::{masked_frame_with, parse_header};

const TEXT: &[u8] = b"hello";
const PING: &[u8] = b"arena";

/// The shape of one run.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub connections: usize,
    pub in_flight: usize,
    pub threads: usize,
}

/// What every connection reports, summed.
#[derive(Default)]
struct Tally {
    connected: AtomicUsize,
    echoed: AtomicU64,
    pongs: AtomicUsize,
    closes: AtomicUsize,
    /// Frames that were not what the validator expects.
    wrong: AtomicUsize,
    stop: std::sync::atomic::AtomicBool,
}

/// Runs `shape` against `addr`: a warm-up, a measured window, then the
/// closes. Prints `RESULT <msg/s> <server CPU µs/msg> <RSS KiB/conn> <pongs> <closes> <wrong>`.
pub fn run(addr: SocketAddr, shape: Shape, server_pid: u32, warmup: Duration, window: Duration) {
    let tally = Arc::new(Tally::default());
    let (go, go_receiver) = watch::channel(false);
    let baseline_kib = crate::report::status_kib(server_pid, "VmRSS:");
    let threads: Vec<_> = (0..shape.threads)
        .map(|t| {
            let tally = tally.clone();
            let share = shape.connections / shape.threads + usize::from(t < shape.connections % shape.threads);
            let go = go_receiver.clone();
            std::thread::spawn(move || load_thread(addr, share, shape.in_flight, &tally, &go))
        })
        .collect();
    let give_up = Instant::now() + Duration::from_secs(60);
    while tally.connected.load(Relaxed) < shape.connections && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(20));
    }
    go.send_replace(true);
    std::thread::sleep(warmup);
    let (echoed, cpu, started) = (tally.echoed.load(Relaxed), cpu_time(server_pid), Instant::now());
    std::thread::sleep(window);
    let count = tally.echoed.load(Relaxed) - echoed;
    let (cpu, elapsed) = (cpu_time(server_pid) - cpu, started.elapsed());
    let rss_kib = crate::report::status_kib(server_pid, "VmRSS:").saturating_sub(baseline_kib);
    tally.stop.store(true, Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    println!(
        "RESULT {} {} {} {} {} {}",
        count as f64 / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / count.max(1) as f64,
        rss_kib as f64 / shape.connections as f64,
        tally.pongs.load(Relaxed),
        tally.closes.load(Relaxed),
        tally.wrong.load(Relaxed)
    );
}

/// How many handshakes one load thread has in flight while it connects.
const CONNECTING_AT_ONCE: usize = 64;

fn load_thread(addr: SocketAddr, connections: usize, in_flight: usize, tally: &Arc<Tally>, go: &watch::Receiver<bool>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let connecting = Rc::new(tokio::sync::Semaphore::new(CONNECTING_AT_ONCE));
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let (connecting, tally, mut go) = (connecting.clone(), tally.clone(), go.clone());
                tokio::task::spawn_local(async move {
                    let permit = connecting.acquire().await.unwrap();
                    let tcp = crate::load::handshake_with(addr, "").await.0;
                    drop(permit);
                    tally.connected.fetch_add(1, Relaxed);
                    // Every connection starts at once, once all are open, so
                    // the first ones' echoes do not slow the later handshakes.
                    if go.wait_for(|go| *go).await.is_ok() {
                        connection(tcp, in_flight, tally).await;
                    }
                })
            })
            .collect();
        // A connection that never ends (no close answered) is cut off here.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        for task in tasks {
            let _ = tokio::time::timeout_at(deadline, task).await;
        }
    });
}

async fn connection(mut tcp: TcpStream, in_flight: usize, tally: Arc<Tally>) {
    let mut input = BytesMut::with_capacity(4096);
    if tcp.write_all(&masked_frame_with(0x89, PING)).await.is_err() {
        return;
    }
    if next_frame(&mut tcp, &mut input, PING).await != Some((0xA, true)) {
        tally.wrong.fetch_add(1, Relaxed);
        return;
    }
    tally.pongs.fetch_add(1, Relaxed);
    let frame = masked_frame_with(0x81, TEXT);
    let batch: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * in_flight).collect();
    let mut outstanding = 0;
    loop {
        // Every whole echo read so far, checked; then as many new frames.
        let mut echoed = 0;
        while let Some((opcode, is_text)) = take_frame(&mut input, TEXT) {
            if opcode != 0x1 || !is_text {
                tally.wrong.fetch_add(1, Relaxed);
                return;
            }
            echoed += 1;
        }
        tally.echoed.fetch_add(echoed as u64, Relaxed);
        outstanding -= echoed;
        if tally.stop.load(Relaxed) {
            if outstanding == 0 {
                break;
            }
        } else if outstanding < in_flight {
            let more = in_flight - outstanding;
            if tcp.write_all(&batch[..frame.len() * more]).await.is_err() {
                return;
            }
            outstanding = in_flight;
        }
        if matches!(tcp.read_buf(&mut input).await, Ok(0) | Err(_)) {
            return;
        }
    }
    close(&mut tcp, &mut input, &tally).await;
}

/// The whole server frame at the start of `input`, consumed: its opcode
/// and whether its payload is `expected`.
fn take_frame(input: &mut BytesMut, expected: &[u8]) -> Option<(u8, bool)> {
    let (header_len, len, _) = parse_header(input)?;
    if input.len() < header_len + len {
        return None;
    }
    let found = (input[0] & 0x0F, input[header_len..header_len + len] == *expected);
    input.advance(header_len + len);
    Some(found)
}

/// Sends a close (1000) and counts the close that must answer it.
async fn close(tcp: &mut TcpStream, input: &mut BytesMut, tally: &Tally) {
    if tcp
        .write_all(&masked_frame_with(0x88, &1000u16.to_be_bytes()))
        .await
        .is_err()
    {
        return;
    }
    if let Some((0x8, _)) = next_frame(tcp, input, &[]).await {
        tally.closes.fetch_add(1, Relaxed);
    }
}

/// The next whole server frame: its opcode and whether its payload is `expected`; `None` at the end.
async fn next_frame(tcp: &mut TcpStream, input: &mut BytesMut, expected: &[u8]) -> Option<(u8, bool)> {
    loop {
        if let Some(frame) = take_frame(input, expected) {
            return Some(frame);
        }
        if matches!(tcp.read_buf(input).await, Ok(0) | Err(_)) {
            return None;
        }
    }
}

/// User plus system CPU time of every thread of `pid`.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    Duration::from_millis((fields.get(10).unwrap_or(&0) + fields.get(11).unwrap_or(&0)) * 10)
}

//! The compressed echo: permessage-deflate with context takeover both ways,
//! JSON-like text, against the Rust libraries that compress (yawc,
//! sockudo-ws). The load offers `permessage-deflate; client_max_window_bits`
//! as Chromium does, sends messages compressed once up front (a cycle
//! compressed from a fresh stream stays valid however often it repeats), and
//! inflates every echo to check it. It reports the server's CPU per message,
//! the echo's bytes on the wire, and the memory a compressed connection
//! keeps once it has gone quiet.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire::{masked_frame_with, parse_header};

/// Servers with compression on, by command-line name (see `servers.rs`).
pub const SERVERS: [&str; 7] = [
    "hyperws-deflate",
    "hyperws-deflate-level6",
    "hyperws-deflate-defaults",
    "hyperws-least-memory",
    "hyperws-smallest-on-wire",
    "yawc",
    "sockudo-ws-deflate",
];

/// (name, connections, message size)
pub const SCENARIOS: [(&str, usize, usize); 2] = [
    ("10 conns, 1 KiB JSON", 10, 1 << 10),
    ("10 conns, 64 KiB JSON", 10, 64 << 10),
];

/// Distinct messages per cycle.
const CYCLE: usize = 64;
const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// JSON-like records about `size` bytes long, each different.
pub(crate) fn messages(size: usize) -> Vec<String> {
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    (0..CYCLE)
        .map(|m| {
            let mut text = String::from("[");
            let mut n = m * 7919;
            while text.len() < size - 120 {
                n = n
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = n >> 33;
                text.push_str(&format!(
                    r#"{{"id":{},"user":"{}{}","price":{}.{:02},"tags":["{}","{}"],"ok":{}}},"#,
                    r % 100_000,
                    words[r % 8],
                    r % 97,
                    r % 1000,
                    r % 100,
                    words[(r >> 3) % 8],
                    words[(r >> 6) % 8],
                    r % 2 == 0
                ));
            }
            text.pop();
            text.push(']');
            text
        })
        .collect()
}

/// The cycle as masked, compressed client frames: one stream across the
/// cycle, or a fresh one per message when the server asked us to reset.
fn compressed_frames(messages: &[String], reset_each: bool) -> Vec<Vec<u8>> {
    let mut stream = Compress::new(Compression::new(1), false);
    messages
        .iter()
        .map(|text| {
            if reset_each {
                stream.reset();
            }
            let mut out = Vec::with_capacity(text.len() + 64);
            let start = stream.total_in();
            while stream.total_in() - start < text.len() as u64 || !out.ends_with(&TAIL) {
                out.reserve(4096);
                let rest = &text.as_bytes()[(stream.total_in() - start) as usize..];
                stream.compress_vec(rest, &mut out, FlushCompress::Sync).unwrap();
            }
            out.truncate(out.len() - 4);
            masked_frame_with(0xc1, &out) // FIN, RSV1, text
        })
        .collect()
}

/// Handshakes with a permessage-deflate offer; returns the stream and the
/// agreed extension line (lowercase; empty when the server does not
/// compress: the uncompressed reference).
async fn handshake(addr: SocketAddr) -> (TcpStream, String) {
    let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    let (tcp, head) = crate::load::handshake_with(addr, offer).await;
    let agreed = head
        .lines()
        .find_map(|l| l.strip_prefix("sec-websocket-extensions:"))
        .unwrap_or("")
        .trim()
        .to_owned();
    (tcp, agreed)
}

/// One connection: the client side of an agreed permessage-deflate.
pub(crate) struct Peer {
    tcp: TcpStream,
    frames: Rc<Vec<Vec<u8>>>,
    inflater: Decompress,
    reset_inflater: bool,
    input: BytesMut,
    inflated: Vec<u8>,
}

impl Peer {
    async fn open(addr: SocketAddr, cycles: &Cycles) -> Self {
        let (tcp, agreed) = handshake(addr).await;
        let frames = if agreed.is_empty() {
            Rc::clone(&cycles.plain)
        } else if agreed.contains("client_no_context_takeover") {
            Rc::clone(&cycles.reset)
        } else {
            Rc::clone(&cycles.takeover)
        };
        Self {
            tcp,
            frames,
            inflater: Decompress::new(false),
            reset_inflater: agreed.contains("server_no_context_takeover"),
            input: BytesMut::with_capacity(128 << 10),
            inflated: Vec::with_capacity(128 << 10),
        }
    }

    /// Sends message `i` of the cycle and checks its echo; returns the
    /// echo's size on the wire.
    async fn echo(&mut self, i: usize, expected: &str) -> usize {
        self.tcp.write_all(&self.frames[i % CYCLE]).await.unwrap();
        let (header_len, len) = loop {
            if let Some((header_len, len, _)) = parse_header(&self.input) {
                if self.input.len() >= header_len + len {
                    break (header_len, len);
                }
            }
            self.input.reserve(64 << 10);
            assert!(self.tcp.read_buf(&mut self.input).await.unwrap() > 0, "server closed");
        };
        let compressed = self.input[0] & 0x40 != 0;
        let payload = &self.input[header_len..header_len + len];
        self.inflated.clear();
        if compressed {
            self.inflated.reserve(expected.len() + 1024);
            let start = self.inflater.total_in();
            self.inflater
                .decompress_vec(payload, &mut self.inflated, FlushDecompress::None)
                .unwrap();
            assert_eq!(self.inflater.total_in() - start, len as u64, "inflate room");
            self.inflater
                .decompress_vec(&TAIL, &mut self.inflated, FlushDecompress::None)
                .unwrap();
            if self.reset_inflater {
                self.inflater.reset(false);
            }
        } else {
            self.inflated.extend_from_slice(payload);
        }
        assert!(self.inflated == expected.as_bytes(), "an echo that differs");
        self.input.advance(header_len + len);
        header_len + len
    }
}

struct Cycles {
    takeover: Rc<Vec<Vec<u8>>>,
    reset: Rc<Vec<Vec<u8>>>,
    plain: Rc<Vec<Vec<u8>>>,
}

impl Cycles {
    fn new(messages: &[String]) -> Self {
        Self {
            takeover: Rc::new(compressed_frames(messages, false)),
            reset: Rc::new(compressed_frames(messages, true)),
            plain: Rc::new(messages.iter().map(|t| masked_frame_with(0x81, t.as_bytes())).collect()),
        }
    }
}

/// Runs one scenario: a warm-up, then a measured window. Prints
/// `CRESULT rate cpu_us_per_msg wire_bytes_per_echo`.
pub async fn run(scenario: usize, addr: SocketAddr, pid: u32, warmup: Duration, window: Duration) {
    let (_, connections, size) = SCENARIOS[scenario];
    let texts = Rc::new(messages(size));
    let cycles = Cycles::new(&texts);
    let (echoed, wire, measuring) = (
        Rc::new(Cell::new(0u64)),
        Rc::new(Cell::new(0u64)),
        Rc::new(Cell::new(false)),
    );
    for _ in 0..connections {
        let mut peer = Peer::open(addr, &cycles).await;
        let (texts, echoed, wire, measuring) = (texts.clone(), echoed.clone(), wire.clone(), measuring.clone());
        tokio::task::spawn_local(async move {
            for i in 0.. {
                let bytes = peer.echo(i, &texts[i % CYCLE]).await;
                if measuring.get() {
                    echoed.set(echoed.get() + 1);
                    wire.set(wire.get() + bytes as u64);
                }
            }
        });
    }
    tokio::time::sleep(warmup).await;
    let (cpu0, started) = (crate::load::cpu_ns(pid), Instant::now());
    measuring.set(true);
    tokio::time::sleep(window).await;
    measuring.set(false);
    let (count, cpu) = (echoed.get().max(1), crate::load::cpu_ns(pid) - cpu0);
    let rate = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "CRESULT {rate} {} {}",
        cpu as f64 / 1000.0 / count as f64,
        wire.get() as f64 / count as f64
    );
}

/// Opens `count` compressed connections, echoes one 1 KiB message on each,
/// and holds them quiet.
pub(crate) async fn hold_quiet(addr: SocketAddr, count: usize) -> Vec<Peer> {
    let texts = messages(1 << 10);
    let cycles = Cycles::new(&texts);
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let mut peer = Peer::open(addr, &cycles).await;
        // The cycle's first message: it refers to nothing before it.
        peer.echo(0, &texts[0]).await;
        held.push(peer);
    }
    held
}

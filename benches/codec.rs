//! Codec throughput: decode (bytes -> message) and encode (message -> bytes)
//! at 16 B, 4 KiB and 1 MiB, masking, and UTF-8 validation; with
//! tungstenite's codec on the same input, so ratios come from one run.
//!
//! `cargo bench --bench codec`

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hyperws::proto::internals::{apply_mask, FrameHeader, OpCode, Utf8Validator, MAX_HEADER_LEN};
use hyperws::proto::{Connection, Role};
use hyperws::{Config, Message};
use tungstenite::protocol::{Role as TRole, WebSocket as TWebSocket, WebSocketConfig};

const SIZES: [usize; 3] = [16, 4 << 10, 1 << 20];
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One masked client frame, as a server reads it off the wire.
fn masked_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut header = FrameHeader::new(opcode, payload.len() as u64);
    header.mask = Some(KEY);
    let mut encoded = [0; MAX_HEADER_LEN];
    let len = header.encode(&mut encoded);
    let mut frame = encoded[..len].to_vec();
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], KEY, 0);
    frame
}

fn text_payload(size: usize) -> Vec<u8> {
    "hyperws bench text ".bytes().cycle().take(size).collect()
}

/// A transport tungstenite can write to: collects bytes, never has input.
struct WriteOnly(Vec<u8>);

impl std::io::Read for WriteOnly {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::WouldBlock.into())
    }
}

impl std::io::Write for WriteOnly {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn tungstenite_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20))
}

/// An endless input stream that repeats one frame, so a long-lived
/// tungstenite socket can be measured the way a long-lived connection runs.
struct Replay {
    frame: Vec<u8>,
    pos: usize,
}

impl std::io::Read for Replay {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.frame.len() - self.pos);
        out[..n].copy_from_slice(&self.frame[self.pos..self.pos + n]);
        self.pos = (self.pos + n) % self.frame.len();
        Ok(n)
    }
}

impl std::io::Write for Replay {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes -> message on a long-lived connection. Both sides copy each frame
/// once into their read buffer (as a socket read would) and then decode it.
fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for size in SIZES {
        for (name, opcode, payload) in [
            ("binary", OpCode::Binary, vec![0xAB; size]),
            ("text", OpCode::Text, text_payload(size)),
        ] {
            let wire = masked_frame(opcode, &payload);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::new(format!("hyperws/{name}"), size), &wire, |b, wire| {
                let mut conn = Connection::new(Role::Server, &Config::default(), Instant::now());
                let now = Instant::now();
                b.iter(|| {
                    conn.handle_bytes(wire, now);
                    black_box(conn.poll_message().unwrap())
                });
            });
            group.bench_with_input(
                BenchmarkId::new(format!("tungstenite/{name}"), size),
                &wire,
                |b, wire| {
                    let replay = Replay {
                        frame: wire.clone(),
                        pos: 0,
                    };
                    let mut ws = TWebSocket::from_raw_socket(replay, TRole::Server, Some(tungstenite_config()));
                    b.iter(|| black_box(ws.read().unwrap()));
                },
            );
        }
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for size in SIZES {
        let payload = Bytes::from(vec![0xAB; size]);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("hyperws", size), &payload, |b, payload| {
            let mut conn = Connection::new(Role::Server, &Config::default(), Instant::now());
            b.iter(|| {
                conn.send(Message::Binary(payload.clone())).unwrap();
                let mut slices = [std::io::IoSlice::new(&[]); 4];
                let used = conn.poll_transmit(&mut slices);
                black_box(&slices[..used]);
                let len = conn.buffered_amount();
                conn.handle_written(len);
            });
        });
        group.bench_with_input(BenchmarkId::new("tungstenite", size), &payload, |b, payload| {
            let mut ws = TWebSocket::from_raw_socket(
                WriteOnly(Vec::with_capacity(2 << 20)),
                TRole::Server,
                Some(tungstenite_config()),
            );
            b.iter(|| {
                ws.send(tungstenite::Message::Binary(payload.clone())).unwrap();
                black_box(ws.get_ref().0.len());
                ws.get_mut().0.clear();
            });
        });
    }
    group.finish();
}

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for size in [4 << 10, 1 << 20] {
        let mut data = vec![0x5A; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("hyperws", size), |b| {
            b.iter(|| apply_mask(black_box(&mut data), KEY, 0));
        });
        group.bench_function(BenchmarkId::new("bytewise", size), |b| {
            b.iter(|| {
                for (i, byte) in black_box(&mut data).iter_mut().enumerate() {
                    *byte ^= KEY[i & 3];
                }
            });
        });
    }
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    let size = 1 << 20;
    let ascii = vec![b'a'; size];
    let mixed: Vec<u8> = "héllo wörld κόσμε €𝄞 "
        .bytes()
        .cycle()
        .take(size - 8)
        .chain("abcdefgh".bytes())
        .collect();
    let mixed = String::from_utf8_lossy(&mixed).into_owned().into_bytes();
    for (name, input) in [("ascii", &ascii), ("mixed", &mixed)] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(BenchmarkId::new("hyperws-incremental-4KiB-pieces", name), |b| {
            b.iter(|| {
                let mut v = Utf8Validator::default();
                for piece in input.chunks(4096) {
                    v.feed(black_box(piece)).unwrap();
                }
                v.finish().unwrap();
            });
        });
        group.bench_function(BenchmarkId::new("std-whole", name), |b| {
            b.iter(|| std::str::from_utf8(black_box(input)).unwrap().len());
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode, mask, utf8);
criterion_main!(benches);

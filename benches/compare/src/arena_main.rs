//! `arena run [--quick] [--server-cores K] [--load-cores L] ...`: the
//! HttpArena-shaped echo benchmark (see `arena_report.rs`): many
//! connections, 5-byte text frames, depth 1 and 16, multi-thread servers,
//! every echo validated. `arena server NAME K` and `arena load ...` are
//! the two halves it starts.

// The echo benchmark's modules this one borrows from (process handling,
// the handshake, the servers' shared echo loops) come with the rest of
// them, unused here.
#![allow(dead_code)]

mod arena;
mod arena_load;
mod arena_report;
mod compressed;
mod load;
mod report;
mod servers;
mod wire;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => arena::serve(&args[1], args[2].parse().expect("a thread count")),
        Some("load") => {
            let number = |i: usize| -> u64 { args[i].parse().expect("a number") };
            let shape = arena_load::Shape {
                connections: number(2) as usize,
                in_flight: number(3) as usize,
                threads: number(4) as usize,
            };
            let addr = args[1].parse().expect("an address");
            let ms = |i: usize| Duration::from_millis(number(i));
            arena_load::run(addr, shape, number(5) as u32, ms(6), ms(7));
        }
        Some("run") => {
            let valid = arena_report::run(&arena_report::Matrix::from_args(&args[1..]));
            std::process::exit(if valid { 0 } else { 1 });
        }
        _ => eprintln!("usage: arena run [--quick] [--server-cores K] [--load-cores L] [--connections 512,4096] [--depths 1,16] [--servers a,b] [--rounds N] | server NAME K | load ADDR CONNS DEPTH THREADS PID WARMUP_MS WINDOW_MS"),
    }
}

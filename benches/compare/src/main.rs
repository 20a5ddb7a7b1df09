//! Side-by-side echo benchmark: hyperws against fastwebsockets,
//! tokio-websockets, sockudo-ws and axum's ws, plus a hand-written ceiling.
//!
//! ```sh
//! scripts/bench-compare            # the whole table (a few minutes)
//! scripts/bench-compare --quick    # a smoke run of a few seconds
//! ```
//!
//! `compare run` starts each server as its own process pinned to core 0
//! (`taskset`), a load process pinned to core 1, once per scenario, and
//! prints the table. `compare server NAME` and `compare load ...` are the
//! two halves it starts.

mod ab;
mod compressed;
mod fanout;
mod load;
mod report;
mod servers;
mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    match args.first().map(String::as_str) {
        Some("server") => local.block_on(&runtime, serve(&args[1])),
        Some("load") => local.block_on(&runtime, load_one(&args[1..])),
        Some("idle") => local.block_on(&runtime, idle(&args[1..])),
        Some("run") => report::run(args.iter().any(|a| a == "--quick")),
        Some("ab") => ab::run(&args[1], &args[2], args.get(3).map_or(6, |n| n.parse().unwrap())),
        Some("deflate") => report::run_compressed(
            args.iter().any(|a| a == "--quick"),
            !args.iter().any(|a| a == "--cpu-only"),
        ),
        Some("cmemory") => report::run_compressed_memory(&args[1..]),
        Some("cload") => local.block_on(&runtime, compressed_load(&args[1..])),
        Some("fanout") => fanout::run(args.iter().any(|a| a == "--quick")),
        Some("fanout-server") => local.block_on(
            &runtime,
            fanout::serve(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap()),
        ),
        Some("fanout-load") => local.block_on(&runtime, fanout_load(&args[1..])),
        Some("cidle") => local.block_on(&runtime, compressed_idle(&args[1..])),
        _ => eprintln!(
            "usage: compare run [--quick] | ab SERVER_A SERVER_B [ROUNDS] | server NAME | load SCENARIO ADDR PID WARMUP_MS WINDOW_MS | idle ADDR N"
        ),
    }
}

/// Serves one library's echo on a free port; prints `LISTENING addr`.
async fn serve(name: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    servers::run(name, listener).await;
}

async fn load_one(args: &[String]) {
    let scenario = load::SCENARIOS[args[0].parse::<usize>().unwrap()];
    let addr: SocketAddr = args[1].parse().unwrap();
    let pid: u32 = args[2].parse().unwrap();
    let ms = |i: usize| Duration::from_millis(args[i].parse().unwrap());
    let outcome = load::run(addr, scenario, pid, ms(3), ms(4)).await;
    println!("{}", outcome.to_line());
}

async fn compressed_load(args: &[String]) {
    let ms = |i: usize| Duration::from_millis(args[i].parse().unwrap());
    let (addr, pid) = (args[1].parse().unwrap(), args[2].parse().unwrap());
    compressed::run(args[0].parse().unwrap(), addr, pid, ms(3), ms(4)).await;
}

async fn fanout_load(args: &[String]) {
    let [addr, subscribers, size, count, pid] = args else {
        panic!("fanout-load ADDR N SIZE COUNT PID")
    };
    let shape = fanout::Shape {
        subscribers: subscribers.parse().unwrap(),
        size: size.parse().unwrap(),
        count: count.parse().unwrap(),
    };
    fanout::load(addr.parse().unwrap(), shape, pid.parse().unwrap()).await;
}

async fn compressed_idle(args: &[String]) {
    let addr: SocketAddr = args[0].parse().unwrap();
    let _held = compressed::hold_quiet(addr, args[1].parse().unwrap()).await;
    println!("HELD");
    std::future::pending::<()>().await;
}

async fn idle(args: &[String]) {
    let addr: SocketAddr = args[0].parse().unwrap();
    let count: usize = args[1].parse().unwrap();
    let _held = load::hold_idle(addr, count).await;
    println!("HELD");
    std::future::pending::<()>().await;
}

//! `transfer [run] [MIB] [ROUNDS]`: one large message each way (see
//! `transfer.rs`); `transfer server NAME` and `transfer load ...` are the
//! processes it starts.

// The echo benchmark's modules this one borrows from (process handling,
// CPU time, the hyper glue, the JSON-like payload) come with the rest of
// them, unused here.
#![allow(dead_code)]

mod compressed;
mod load;
mod report;
mod servers;
mod transfer;
mod transfer_report;
mod wire;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    match args.first().map(String::as_str) {
        Some("server") => local.block_on(&runtime, async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("LISTENING {}", listener.local_addr().unwrap());
            transfer::serve(&args[1], listener).await;
        }),
        Some("load") => local.block_on(
            &runtime,
            transfer::load(
                &args[1],
                args[2] == "up",
                args[3].parse().unwrap(),
                args[4] == "compressed",
            ),
        ),
        Some("run") | None => {
            let number = |i: usize, default: usize| args.get(i).map_or(default, |n| n.parse().unwrap());
            transfer_report::run(number(1, 1024), number(2, 2));
        }
        Some(_) => {
            eprintln!("usage: transfer [run [MIB] [ROUNDS]] | server NAME | load ADDR up|down SIZE plain|compressed")
        }
    }
}

//! `scale [run] [SECONDS] [EXTRA_SERVER...]`: the scale test (see
//! `scale.rs`): 10 000 compressed connections held by two load processes,
//! each server in turn. `scale server NAME` and `scale load ADDR N` are the
//! processes it starts.

// The echo benchmark's modules this one borrows from (process handling,
// CPU time, the hyper glue) come with the rest of them, unused here.
#![allow(dead_code)]

mod compressed;
mod load;
mod report;
mod scale;
mod scale_report;
mod servers;
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
            scale::serve(&args[1], listener).await;
        }),
        Some("load") => local.block_on(
            &runtime,
            scale::load(args[1].parse().unwrap(), args[2].parse().unwrap()),
        ),
        Some("run") | None => {
            let seconds = args.get(1).map_or(120, |n| n.parse().unwrap());
            scale_report::run(seconds, args.get(2..).unwrap_or(&[]));
        }
        Some(_) => eprintln!("usage: scale [run [SECONDS] [NAME@PATH...]] | server NAME | load ADDR N"),
    }
}

//! `soak server INTERVAL_MS TIMEOUT_MS`: the echo server under test, on a
//! free port (prints `LISTENING addr`).
//! `soak load ADDR PID CONNECTIONS SECONDS WARMUP_SECONDS INTERVAL_MS TIMEOUT_MS`:
//! the load and the verdict (exit status 1 on failure).
//! `soak scale`: the scale test (`scripts/scale`, set by `SCALE_*`
//! variables); `soak scale-server` and `soak scale-load` are the processes it starts.

mod load;
mod peer;
mod sample;
mod scale_load;
mod scale_procs;
mod scale_run;
mod scale_server;
mod server;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> u64 { args[i].parse().expect("a number") };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match args.first().map(String::as_str) {
        Some("server") => runtime.block_on(server::run(Duration::from_millis(number(1)), Duration::from_millis(number(2)))),
        Some("load") => {
            let plan = load::Plan {
                addr: args[1].parse().expect("an address"),
                server_pid: number(2) as u32,
                connections: number(3) as usize,
                duration: Duration::from_secs(number(4)),
                warmup: Duration::from_secs(number(5)),
                heartbeat: Duration::from_millis(number(6)) + Duration::from_millis(number(7)),
                mix: load::Mix::from_env(),
            };
            let passed = tokio::task::LocalSet::new().block_on(&runtime, load::run(plan));
            std::process::exit(if passed { 0 } else { 1 });
        }
        Some("scale") => std::process::exit(if scale_run::run(&scale_run::Plan::from_env()) { 0 } else { 1 }),
        Some("scale-server") => runtime.block_on(scale_server::run(scale_server::Plan {
            port: args[1].parse().expect("a port"),
            redis: (args[2] != "-").then(|| args[2].clone()),
            heartbeat: args[3].split_once(',').map(|(interval, timeout)| {
                let ms = |v: &str| Duration::from_millis(v.parse().expect("milliseconds"));
                (ms(interval), ms(timeout))
            }),
            stats: args[4].clone().into(),
        })),
        Some("scale-load") => tokio::task::LocalSet::new().block_on(
            &runtime,
            scale_load::run(args[1].parse().expect("an address"), args[2].parse().expect("a source address"), number(3) as usize),
        ),
        _ => eprintln!("usage: soak server INTERVAL_MS TIMEOUT_MS | soak load ADDR PID N SECONDS WARMUP INTERVAL_MS TIMEOUT_MS | soak scale"),
    }
}

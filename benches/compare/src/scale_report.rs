//! Runs the scale test for each server and prints the table.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::load::cpu_ns;
use crate::report::{rss_bytes, Server};
use crate::scale::SERVERS;

/// Connections (`SCALE_CONNECTIONS`, default 10 000: a smoke run takes
/// fewer), and the load processes that hold them (a process may hold at
/// most 20 000 descriptors).
fn connections() -> usize {
    std::env::var("SCALE_CONNECTIONS").map_or(10_000, |n| n.parse().expect("a count"))
}
const LOADS: usize = 2;
/// From the last connection to the measured window: every socket has sent
/// and received by then.
const WARM_UP: Duration = Duration::from_secs(30);

type Totals = Arc<Mutex<(u64, u64)>>;

/// One load process, pinned to core 1, its latest `STATS` kept.
fn start_load(addr: &str, count: usize) -> (Child, Totals) {
    let mut child = Command::new("taskset")
        .args(["-c", "1"])
        .arg(std::env::current_exe().unwrap())
        .args(["load", addr, &count.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap() == "HELD" {
            break;
        }
    }
    let totals: Totals = Arc::default();
    let latest = Arc::clone(&totals);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut fields = line.strip_prefix("STATS ").into_iter().flat_map(|l| l.split(' '));
            if let (Some(m), Some(b)) = (fields.next(), fields.next()) {
                *latest.lock().unwrap() = (m.parse().unwrap(), b.parse().unwrap());
            }
        }
    });
    (child, totals)
}

fn sum(loads: &[(Child, Totals)]) -> (u64, u64) {
    loads.iter().fold((0, 0), |(m, b), (_, t)| {
        let t = t.lock().unwrap();
        (m + t.0, b + t.1)
    })
}

/// `seconds` of measurement per server, after the connections and a warm-up.
pub fn run(seconds: u64, extra: &[String]) {
    let connections = connections();
    println!(
        "\n## {connections} compressed connections, a 1 KiB JSON message to each every 5 s, one from each every 30 s\n"
    );
    println!("| server | RSS per connection (KB) | server CPU (% of a core) | server µs per delivered message | bytes per message | deliveries/s |");
    println!("|---|---|---|---|---|---|");
    for name in SERVERS.iter().map(|s| (*s).to_owned()).chain(extra.iter().cloned()) {
        let running = Server::start(&name);
        std::thread::sleep(Duration::from_millis(300));
        let rss_before = rss_bytes(running.pid());
        let mut loads: Vec<_> = (0..LOADS)
            .map(|_| start_load(&running.addr, connections / LOADS))
            .collect();
        std::thread::sleep(WARM_UP);
        let (cpu0, (messages0, bytes0)) = (cpu_ns(running.pid()), sum(&loads));
        std::thread::sleep(Duration::from_secs(seconds));
        let (cpu1, (messages1, bytes1)) = (cpu_ns(running.pid()), sum(&loads));
        let rss = rss_bytes(running.pid()).saturating_sub(rss_before);
        let (messages, cpu) = ((messages1 - messages0).max(1), (cpu1 - cpu0) as f64);
        let label = name.split('@').next().unwrap_or(&name);
        println!(
            "| {label} | {:.1} | {:.1} | {:.2} | {:.0} | {:.0} |",
            rss as f64 / connections as f64 / 1000.0,
            cpu / (seconds as f64 * 1e7),
            cpu / 1000.0 / messages as f64,
            (bytes1 - bytes0) as f64 / messages as f64,
            messages as f64 / seconds as f64,
        );
        for (child, _) in &mut loads {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

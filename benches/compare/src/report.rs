//! `compare run`: starts each server and load as pinned processes, one
//! scenario at a time, and prints the tables.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::load::{Outcome, SCENARIOS};
use crate::servers::SERVERS;

/// The other libraries, among which the best is "best peer".
const PEERS: [&str; 4] = ["fastwebsockets", "tokio-websockets", "sockudo-ws", "axum-ws"];

struct Settings {
    warmup_ms: u64,
    window_ms: u64,
    idle_connections: usize,
    rounds: usize,
}

/// One server process, pinned to core 0.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
}

impl Server {
    /// `name` is one of this binary's servers, or `NAME@PATH` for one of
    /// another build's (to compare two versions of the code).
    pub(crate) fn start(name: &str) -> Self {
        let (name, exe) = match name.split_once('@') {
            Some((name, path)) => (name, std::path::PathBuf::from(path)),
            None => (name, std::env::current_exe().unwrap()),
        };
        Self::run(exe, "0", &["server", name])
    }

    /// This binary run with `args`, a server that prints `LISTENING addr`.
    pub(crate) fn start_with(args: &[&str]) -> Self {
        Self::start_on("0", args)
    }

    /// As `start_with`, pinned to `cores` (a `taskset -c` list such as `0-3`).
    pub(crate) fn start_on(cores: &str, args: &[&str]) -> Self {
        Self::run(std::env::current_exe().unwrap(), cores, args)
    }

    fn run(exe: std::path::PathBuf, cores: &str, args: &[&str]) -> Self {
        let mut child = Command::new("taskset")
            .args(["-c", cores])
            .arg(exe)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("taskset (util-linux) runs the server");
        let addr = first_line_with(child.stdout.as_mut().unwrap(), "LISTENING ");
        Self { child, addr }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn first_line_with(out: &mut ChildStdout, prefix: &str) -> String {
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the child ended before `{prefix}`"
        );
        if let Some(rest) = line.trim_end().strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
}

/// Runs every scenario against every server and prints the tables. Each
/// scenario runs in rounds, every server once a round, so drift on a shared
/// machine hits them all alike; the best round of each server counts.
pub fn run(quick: bool) {
    let settings = if quick {
        Settings {
            warmup_ms: 100,
            window_ms: 300,
            idle_connections: 300,
            rounds: 1,
        }
    } else {
        Settings {
            warmup_ms: 500,
            window_ms: 2000,
            idle_connections: 10_000,
            rounds: 3,
        }
    };
    let mut rates = vec![vec![Outcome::default(); SERVERS.len()]; SCENARIOS.len()];
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        for round in 1..=settings.rounds {
            for (s, server) in SERVERS.iter().enumerate() {
                let outcome = echo_once(server, i, settings.warmup_ms, settings.window_ms);
                eprintln!(
                    "round {round} {server:22} {:32} {:>10.0} msg/s",
                    scenario.name, outcome.rate
                );
                if outcome.rate > rates[i][s].rate {
                    rates[i][s] = outcome;
                }
            }
        }
    }
    let idle: Vec<f64> = SERVERS
        .iter()
        .map(|server| idle_rss_per_connection(server, settings.idle_connections))
        .collect();
    print_tables(&rates, &idle, &settings);
}

/// One echo measurement: `server` on core 0, the load for `scenario` on core 1.
pub fn echo_once(server: &str, scenario: usize, warmup_ms: u64, window_ms: u64) -> Outcome {
    run_load(server, "load", scenario, warmup_ms, window_ms, Outcome::from_line)
}

/// Starts `server` on core 0 and the `load` subcommand for `scenario` on
/// core 1; returns what `parse` finds in the load's output.
fn run_load<T>(
    server: &str,
    load: &str,
    scenario: usize,
    warmup_ms: u64,
    window_ms: u64,
    parse: impl Fn(&str) -> Option<T>,
) -> T {
    let running = Server::start(server);
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("taskset")
        .args(["-c", "1"])
        .arg(exe)
        .arg(load)
        .arg(scenario.to_string())
        .arg(&running.addr)
        .arg(running.pid().to_string())
        .arg(warmup_ms.to_string())
        .arg(window_ms.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout.lines().find_map(parse).unwrap_or_else(|| {
        panic!(
            "{server}: no result\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Resident memory the server gains per open, idle WebSocket, in bytes.
fn idle_rss_per_connection(server: &str, count: usize) -> f64 {
    rss_per_connection(server, "idle", count, Duration::from_secs(1))
}

/// The server's RSS growth per connection while `holder` (`idle`: silent
/// sockets; `cidle`: compressed sockets after one echo) holds `count`
/// connections, read `settle` after they are all open.
fn rss_per_connection(server: &str, holder: &str, count: usize, settle: Duration) -> f64 {
    let running = Server::start(server);
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_bytes(running.pid());
    let exe = std::env::current_exe().unwrap();
    let mut held = Command::new("taskset")
        .args(["-c", "1"])
        .arg(exe)
        .args([holder, &running.addr, &count.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    first_line_with(held.stdout.as_mut().unwrap(), "HELD");
    std::thread::sleep(settle);
    let after = rss_bytes(running.pid());
    let _ = held.kill();
    let _ = held.wait();
    (after.saturating_sub(before)) as f64 / count as f64
}

pub(crate) fn rss_bytes(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:") * 1024
}

/// A memory figure of `/proc/PID/status` (`VmRSS:`, `VmHWM:`), in KiB.
pub(crate) fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn column(name: &str) -> usize {
    SERVERS.iter().position(|s| *s == name).unwrap()
}

fn print_tables(rates: &[Vec<Outcome>], idle: &[f64], settings: &Settings) {
    println!(
        "\n## Messages per second (server on core 0, load on core 1; best of {} rounds of {} ms)\n",
        settings.rounds, settings.window_ms
    );
    println!("| scenario | {} |", SERVERS.join(" | "));
    println!("|---|{}", "---|".repeat(SERVERS.len()));
    for (scenario, row) in SCENARIOS.iter().zip(rates) {
        let cells: Vec<String> = row.iter().map(|o| format!("{:.0}", o.rate)).collect();
        println!("| {} | {} |", scenario.name, cells.join(" | "));
    }
    println!("\n## hyperws against the best peer\n");
    println!("| scenario | hyperws | best peer | hyperws / best peer | ceiling | hyperws / ceiling | p50 / p99 µs hyperws | p50 / p99 µs best peer | server CPU µs/msg hyperws / best peer |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let ours = column("hyperws");
    for (scenario, row) in SCENARIOS.iter().zip(rates) {
        let best = PEERS
            .iter()
            .map(|p| column(p))
            .max_by(|a, b| row[*a].rate.total_cmp(&row[*b].rate))
            .unwrap();
        let (h, b, c) = (row[ours], row[best], row[column("ceiling")]);
        println!(
            "| {} | {:.0} | {:.0} ({}) | {:.2} | {:.0} | {:.2} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2} / {:.2} |",
            scenario.name,
            h.rate,
            b.rate,
            SERVERS[best],
            h.rate / b.rate,
            c.rate,
            h.rate / c.rate,
            h.p50_us,
            h.p99_us,
            b.p50_us,
            b.p99_us,
            h.cpu_us_per_msg,
            b.cpu_us_per_msg
        );
    }
    print_other_ratios(rates);
    println!(
        "\n## Idle memory: RSS gained per open WebSocket ({} connections)\n",
        settings.idle_connections
    );
    println!("| {} |", SERVERS.join(" | "));
    println!("|{}", "---|".repeat(SERVERS.len()));
    let cells: Vec<String> = idle.iter().map(|b| format!("{:.1} KB", b / 1000.0)).collect();
    println!("| {} |", cells.join(" | "));
}

fn print_other_ratios(rates: &[Vec<Outcome>]) {
    println!("\n## Other ratios\n");
    println!("| scenario | hyperws behind axum::serve / axum ws behind axum::serve | heartbeat on / off |");
    println!("|---|---|---|");
    for (scenario, row) in SCENARIOS.iter().zip(rates) {
        println!(
            "| {} | {:.2} | {:.3} |",
            scenario.name,
            row[column("hyperws-axum")].rate / row[column("axum-ws")].rate,
            row[column("hyperws")].rate / row[column("hyperws-no-heartbeat")].rate
        );
    }
}

/// `compare deflate`: the compressed scenarios and the quiet memory of a
/// compressed connection, each server pinned to core 0, the load to core 1.
pub fn run_compressed(quick: bool, with_memory: bool) {
    use crate::compressed::{SCENARIOS as CSCENARIOS, SERVERS as CSERVERS};
    let (warmup, window, rounds, held, quiet_s) = if quick {
        (100, 300, 1, 50, 1)
    } else {
        (500, 2000, 3, 2000, 35)
    };
    println!("\n## Compressed echo (best of {rounds} rounds of {window} ms)\n");
    println!("| scenario | server | msg/s | server CPU µs/msg | echo bytes on the wire |");
    println!("|---|---|---|---|---|");
    for (i, (name, _, _)) in CSCENARIOS.iter().enumerate() {
        for server in CSERVERS {
            let best = (0..rounds)
                .map(|_| compressed_measure(server, i, warmup, window))
                .max_by(|a, b| a[0].total_cmp(&b[0]))
                .unwrap();
            println!(
                "| {name} | {server} | {:.0} | {:.2} | {:.0} |",
                best[0], best[1], best[2]
            );
        }
    }
    if !with_memory {
        return;
    }
    println!("\n## RSS per connection {quiet_s} s after one 1 KiB echo ({held} connections)\n");
    println!("| server | KB per connection |");
    println!("|---|---|");
    for server in std::iter::once("hyperws").chain(CSERVERS) {
        let bytes = rss_per_connection(server, "cidle", held, Duration::from_secs(quiet_s));
        println!("| {server} | {:.1} |", bytes / 1000.0);
    }
}

/// `compare cmemory [SERVER...]`: the RSS a compressed connection adds
/// over an uncompressed one (hyperws's), 6 s after one echoed 1 KiB JSON
/// message, 1 000 connections: the shape issue #24 measures. A server named
/// `NAME@PATH` is started from PATH (e.g. the Python `websockets` server).
pub fn run_compressed_memory(extra: &[String]) {
    use crate::compressed::SERVERS as CSERVERS;
    let (held, quiet) = (1000, Duration::from_secs(6));
    let plain = rss_per_connection("hyperws", "cidle", held, quiet);
    println!("\n## RSS per connection 6 s after one 1 KiB JSON echo ({held} connections)\n");
    println!("| server | KB per connection | over uncompressed hyperws |");
    println!("|---|---|---|");
    println!("| hyperws (uncompressed) | {:.1} | — |", plain / 1000.0);
    let names = CSERVERS.iter().map(|s| (*s).to_owned()).chain(extra.iter().cloned());
    for server in names {
        let bytes = rss_per_connection(&server, "cidle", held, quiet);
        let name = server.split('@').next().unwrap_or(&server);
        println!(
            "| {name} | {:.1} | {:+.1} KiB |",
            bytes / 1000.0,
            (bytes - plain) / 1024.0
        );
    }
}

fn compressed_measure(server: &str, scenario: usize, warmup: u64, window: u64) -> [f64; 3] {
    run_load(server, "cload", scenario, warmup, window, |line| {
        let mut fields = line.strip_prefix("CRESULT ")?.split(' ').map(|f| f.parse::<f64>().ok());
        Some([fields.next()??, fields.next()??, fields.next()??])
    })
}

//! The scale test's harness (`scripts/scale`): starts a broker, N servers
//! on one port and L load processes, then holds the connections with the
//! heartbeat on, makes some clients deaf, and broadcasts, reporting memory,
//! CPU, the kernel's spread and the delivery times. Exits 1 if a healthy
//! socket was dropped, a deaf one outlived interval + timeout + slack, or
//! a broadcast missed a socket; the figures themselves are reported, not judged.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::scale_procs::{cpu_time, http_get, server_counts, slab_kib, sockstat_tcp, status_kib, Process};

/// How late past interval + timeout a deaf client may be dropped.
const DEAF_SLACK: Duration = Duration::from_secs(2);

pub struct Plan {
    pub servers: usize,
    pub connections: usize,
    pub loads: usize,
    pub hold: Duration,
    /// `(interval, timeout)` in force on the servers.
    pub heartbeat: (Duration, Duration),
    /// Whether that is hyperws's default (the servers are then given none).
    pub default_heartbeat: bool,
    pub deaf: usize,
    pub batch: u32,
    /// The broker's URL (`SCALE_REDIS`), or `None` for in-process `Topics`.
    pub redis: Option<String>,
    pub port: u16,
}

impl Plan {
    /// From `SCALE_*` variables (see `scripts/scale`).
    pub fn from_env() -> Self {
        let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        let heartbeat_ms = std::env::var("SCALE_HEARTBEAT_MS").ok().filter(|v| v != "default");
        let heartbeat = match &heartbeat_ms {
            Some(ms) => {
                let ms: u64 = ms.parse().expect("SCALE_HEARTBEAT_MS: milliseconds or default");
                (Duration::from_millis(ms), Duration::from_millis(ms))
            }
            None => hyperws::Config::default()
                .heartbeat_intervals()
                .expect("the default heartbeat is on"),
        };
        Self {
            servers: var("SCALE_SERVERS", 6) as usize,
            connections: var("SCALE_CONNECTIONS", 100_000) as usize,
            loads: var("SCALE_LOADS", 6) as usize,
            hold: Duration::from_secs(var("SCALE_HOLD_S", 600)),
            heartbeat,
            default_heartbeat: heartbeat_ms.is_none(),
            deaf: var("SCALE_DEAF", 1000) as usize,
            batch: var("SCALE_BATCH", 100) as u32,
            redis: std::env::var("SCALE_REDIS").ok().filter(|url| !url.is_empty()),
            port: var("SCALE_PORT", 9400) as u16,
        }
    }
}

struct Server {
    process: Process,
    stats: PathBuf,
    baseline_kib: u64,
}

/// Runs the whole test; `true` if nothing was dropped or missed.
pub fn run(plan: &Plan) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], plan.port));
    let mut servers = start_servers(plan);
    let (started, slab_before) = (Instant::now(), slab_kib());
    let mut loads = start_loads(plan, addr);
    println!(
        "opened {} connections in {:.1} s",
        plan.connections,
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(3));
    report_memory(plan, &servers, slab_before);
    let mut healthy = hold(plan, &servers, &mut loads);
    println!(
        "at the end of the hold: {:.2} KiB of RSS per socket",
        rss_per_socket(plan, &servers)
    );
    healthy &= deafen(plan, &servers, &mut loads);
    for (first, last) in [(0, 0), (1, plan.batch)] {
        healthy &= broadcast(addr, &servers, &mut loads, first, last);
    }
    println!(
        "after the broadcasts: {:.2} KiB of RSS per socket",
        rss_per_socket(plan, &servers)
    );
    // A socket gives its buffers back at its heartbeat checks once it is quiet.
    let quiet = 2 * (plan.heartbeat.0 + plan.heartbeat.1);
    std::thread::sleep(quiet);
    println!(
        "{quiet:?} later: {:.2} KiB of RSS per socket",
        rss_per_socket(plan, &servers)
    );
    drop(loads);
    servers.clear();
    println!("{}", if healthy { "SCALE PASSED" } else { "SCALE FAILED" });
    healthy
}

/// The servers' RSS growth since they started, per socket opened.
fn rss_per_socket(plan: &Plan, servers: &[Server]) -> f64 {
    let kib: u64 = servers
        .iter()
        .map(|s| status_kib(s.process.pid(), "VmRSS").saturating_sub(s.baseline_kib))
        .sum();
    kib as f64 / plan.connections as f64
}

fn start_servers(plan: &Plan) -> Vec<Server> {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let redis = plan.redis.clone().unwrap_or_else(|| "-".into());
    let heartbeat = if plan.default_heartbeat {
        "default".to_owned()
    } else {
        format!("{},{}", plan.heartbeat.0.as_millis(), plan.heartbeat.1.as_millis())
    };
    let dir = std::env::temp_dir();
    (0..plan.servers)
        .map(|i| {
            let stats = dir.join(format!("hyperws-scale-{}-{i}.stats", std::process::id()));
            let args = [
                "scale-server".to_owned(),
                plan.port.to_string(),
                redis.clone(),
                heartbeat.clone(),
                stats.display().to_string(),
            ];
            let mut process = Process::start(&exe, &args);
            process.expect("LISTENING");
            let baseline_kib = status_kib(process.pid(), "VmRSS");
            Server {
                process,
                stats,
                baseline_kib,
            }
        })
        .collect()
}

/// Starts the load processes, each from its own source address, and waits
/// until every one has opened its share.
fn start_loads(plan: &Plan, addr: SocketAddr) -> Vec<Process> {
    let exe = std::env::current_exe().unwrap().display().to_string();
    let mut loads: Vec<Process> = (0..plan.loads)
        .map(|i| {
            let share = plan.connections / plan.loads + usize::from(i < plan.connections % plan.loads);
            let source = format!("127.0.0.{}", 2 + i);
            Process::start(
                &exe,
                &["scale-load".into(), addr.to_string(), source, share.to_string()],
            )
        })
        .collect();
    for (i, load) in loads.iter_mut().enumerate() {
        let opened = load.expect("OPEN");
        println!("load {i}: opened / failed: {opened}");
    }
    loads
}

fn report_memory(plan: &Plan, servers: &[Server], slab_before: u64) {
    let (sockets, pages) = sockstat_tcp();
    let mut total_delta = 0;
    let mut spread = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let (opened, closed, _) = server_counts(&server.stats);
        let rss = status_kib(server.process.pid(), "VmRSS");
        let held = opened - closed;
        total_delta += rss.saturating_sub(server.baseline_kib);
        println!(
            "server {i}: {held} sockets, RSS {rss} KiB ({} KiB before), {:.2} KiB per socket",
            server.baseline_kib,
            rss.saturating_sub(server.baseline_kib) as f64 / held.max(1) as f64
        );
        spread.push(held);
    }
    let (min, max) = (spread.iter().min().unwrap(), spread.iter().max().unwrap());
    println!(
        "servers: {:.2} KiB of RSS per socket; spread {min}..{max} sockets per server (even share {})",
        total_delta as f64 / plan.connections as f64,
        plan.connections / plan.servers
    );
    println!(
        "kernel: {sockets} TCP sockets, {pages} pages = {:.2} KiB of socket buffers per connection (both ends); slab grew {:.2} KiB per connection (both ends, every process's descriptors)",
        pages as f64 * 4.0 / plan.connections as f64,
        slab_kib().saturating_sub(slab_before) as f64 / plan.connections as f64
    );
}

/// Holds every connection for `plan.hold` with only the heartbeat running;
/// the servers' CPU over that time, and whether any socket was dropped.
fn hold(plan: &Plan, servers: &[Server], loads: &mut [Process]) -> bool {
    let cpu = |pids: &mut dyn Iterator<Item = u32>| pids.map(cpu_time).sum::<Duration>();
    let server_cpu = cpu(&mut servers.iter().map(|s| s.process.pid()));
    let load_cpu = cpu(&mut loads.iter().map(Process::pid));
    let started = Instant::now();
    while started.elapsed() < plan.hold {
        std::thread::sleep((plan.hold - started.elapsed()).min(Duration::from_secs(60)));
        let (alive, dropped, pongs) = status(loads);
        println!(
            "held {:>4} s: {alive} alive, {dropped} dropped, {pongs} pongs sent",
            started.elapsed().as_secs()
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = cpu(&mut servers.iter().map(|s| s.process.pid())) - server_cpu;
    let load_cpu = cpu(&mut loads.iter().map(Process::pid)) - load_cpu;
    let (alive, dropped, pongs) = status(loads);
    println!(
        "hold of {elapsed:.0} s, heartbeat {:?} + {:?}: servers' CPU {:.2}% of one core (all {} together), load's {:.2}%; {pongs} pongs; {dropped} dropped; {alive} alive",
        plan.heartbeat.0,
        plan.heartbeat.1,
        server_cpu.as_secs_f64() / elapsed * 100.0,
        servers.len(),
        load_cpu.as_secs_f64() / elapsed * 100.0,
    );
    dropped == 0 && alive == plan.connections as u64
}

/// `(alive, dropped, pongs)` over every load process.
fn status(loads: &mut [Process]) -> (u64, u64, u64) {
    let mut sum = (0, 0, 0);
    for load in loads.iter_mut() {
        load.send("status");
        let fields: Vec<u64> = load
            .expect("STATUS")
            .split(' ')
            .filter_map(|n| n.parse().ok())
            .collect();
        sum = (sum.0 + fields[0], sum.1 + fields[1], sum.2 + fields[2]);
    }
    sum
}

/// Makes `plan.deaf` clients stop answering pings; how long the servers took to drop each.
fn deafen(plan: &Plan, servers: &[Server], loads: &mut [Process]) -> bool {
    let limit = plan.heartbeat.0 + plan.heartbeat.1 + DEAF_SLACK;
    let deadline = limit + Duration::from_secs(10);
    let drops_before: u64 = servers.iter().map(|s| server_counts(&s.stats).2).sum();
    let count = loads.len();
    for (i, load) in loads.iter_mut().enumerate() {
        let share = plan.deaf / count + usize::from(i < plan.deaf % count);
        load.send(&format!("deaf {share} {}", deadline.as_millis()));
    }
    let (mut kept, mut times) = (0, Vec::new());
    for load in loads.iter_mut() {
        let line = load.expect("DEAF");
        let (left, list) = line.split_once(' ').unwrap_or((&line, ""));
        kept += left.parse::<usize>().unwrap();
        times.extend(list.split(',').filter_map(|t| t.parse::<u64>().ok()));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let drops: u64 = servers.iter().map(|s| server_counts(&s.stats).2).sum::<u64>() - drops_before;
    times.sort_unstable();
    let late = times.iter().filter(|&&ms| ms > limit.as_millis() as u64).count();
    println!(
        "deaf clients: {} dropped (servers counted {drops} heartbeat timeouts), {kept} still open after {:?}; after p50 {} ms, p99 {} ms, max {} ms (limit interval + timeout + {:?} = {} ms); {late} late",
        times.len(),
        deadline,
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(0),
        DEAF_SLACK,
        limit.as_millis()
    );
    kept == 0 && late == 0
}

/// Publishes messages `first..=last` through one server's `Topics`; how long
/// until every live socket had them all.
fn broadcast(addr: SocketAddr, servers: &[Server], loads: &mut [Process], first: u32, last: u32) -> bool {
    let count = last - first + 1;
    let server_cpu = || servers.iter().map(|s| cpu_time(s.process.pid())).sum::<Duration>();
    let cpu_before = server_cpu();
    let answer = http_get(addr, &format!("/publish?seq={first}&count={count}"));
    std::thread::sleep(Duration::from_secs(if count == 1 { 3 } else { 10 }));
    let cpu = server_cpu() - cpu_before;
    let (mut alive, mut missing, mut times) = (0, 0, Vec::new());
    for load in loads.iter_mut() {
        load.send(&format!("report {first} {last}"));
        let line = load.expect("REPORT");
        let mut words = line.splitn(3, ' ');
        alive += words.next().unwrap().parse::<u64>().unwrap();
        missing += words.next().unwrap().parse::<u64>().unwrap();
        times.extend(
            words
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|t| t.parse::<u64>().ok()),
        );
    }
    times.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "broadcast of {count} ({answer}): {} of {alive} sockets had every one, {missing} missed; last arrival after p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; servers' CPU {} ms",
        times.len(),
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.99)),
        ms(times.last().copied().unwrap_or(0)),
        cpu.as_millis()
    );
    missing == 0 && alive > 0
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or(0)
}

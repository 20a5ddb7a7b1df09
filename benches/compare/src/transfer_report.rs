//! `transfer run [MIB] [ROUNDS]`: runs `transfer.rs`'s servers and load
//! as pinned processes, in interleaved rounds (every server once a round),
//! and prints one table per direction and compression.

use std::process::Command;
use std::time::Duration;

use crate::load::cpu_ns;
use crate::report::Server;
use crate::transfer::SERVERS;

#[derive(Clone, Copy, Default)]
struct Sample {
    /// Payload megabytes (10^6) per second.
    rate: f64,
    /// The server's CPU seconds for the transfer.
    cpu: f64,
    /// The server's peak resident memory over what it held before, in MiB.
    peak: f64,
}

pub fn run(mib: usize, rounds: usize) {
    let size = mib << 20;
    for compressed in [false, true] {
        for up in [true, false] {
            let servers: Vec<&str> = SERVERS
                .iter()
                .copied()
                .filter(|s| !(compressed && s.contains("tungstenite")))
                .collect();
            let mut samples = vec![Vec::new(); servers.len()];
            for round in 1..=rounds {
                for (i, server) in servers.iter().enumerate() {
                    let sample = once(server, up, size, compressed);
                    eprintln!(
                        "round {round} {server:26} {} {}: {:7.0} MB/s, CPU {:5.2} s, peak +{:7.1} MiB",
                        if up { "up  " } else { "down" },
                        if compressed { "compressed" } else { "plain" },
                        sample.rate,
                        sample.cpu,
                        sample.peak
                    );
                    samples[i].push(sample);
                }
            }
            print_table(&servers, &samples, mib, up, compressed);
        }
    }
}

/// One transfer against a fresh server process.
fn once(server: &str, up: bool, size: usize, compressed: bool) -> Sample {
    let running = Server::start(server);
    std::thread::sleep(Duration::from_millis(200));
    let pid = running.pid();
    let (before, cpu_before) = (kib(pid, "VmRSS"), cpu_ns(pid));
    let output = Command::new("taskset")
        .args(["-c", "1"])
        .arg(std::env::current_exe().unwrap())
        .arg("load")
        .arg(&running.addr)
        .arg(if up { "up" } else { "down" })
        .arg(size.to_string())
        .arg(if compressed { "compressed" } else { "plain" })
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seconds: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TRANSFER ")?.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "{server}: no result\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    Sample {
        rate: size as f64 / seconds / 1e6,
        cpu: (cpu_ns(pid) - cpu_before) as f64 / 1e9,
        peak: kib(pid, "VmHWM").saturating_sub(before) as f64 / 1024.0,
    }
}

fn kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn print_table(servers: &[&str], samples: &[Vec<Sample>], mib: usize, up: bool, compressed: bool) {
    let direction = if up { "client -> server" } else { "server -> client" };
    let kind = if compressed { "permessage-deflate" } else { "plain" };
    println!("\n{mib} MiB, one message {direction}, {kind} (each round: MB/s, server CPU s, peak memory growth MiB)\n");
    println!("| server | per round: MB/s, CPU s, peak MiB |");
    println!("|---|---|");
    for (server, rounds) in servers.iter().zip(samples) {
        let cells: Vec<String> = rounds
            .iter()
            .map(|s| format!("{:.0} MB/s, {:.2} s, +{:.1}", s.rate, s.cpu, s.peak))
            .collect();
        println!("| {} | {} |", server.trim_start_matches("transfer-"), cells.join(" / "));
    }
    let rate = |name: &str, round: usize| {
        servers
            .iter()
            .position(|s| s.ends_with(name))
            .map(|i| samples[i][round].rate)
    };
    for round in 0..samples[0].len() {
        let stream = rate("hyperws-stream", round).unwrap();
        let ratio = |peer: &str| rate(peer, round).map_or("-".into(), |r| format!("{:.2}", stream / r));
        println!(
            "\nround {}: streaming / whole {}, / yawc streaming {}, / tokio-tungstenite {}",
            round + 1,
            ratio("hyperws-whole"),
            ratio("yawc-stream"),
            ratio("tungstenite")
        );
    }
}

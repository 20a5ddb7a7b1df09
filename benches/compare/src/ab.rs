//! `compare ab A B [ROUNDS]`: two of this binary's servers against each
//! other (say `hyperws` and `hyperws-no-heartbeat`) in every scenario,
//! alternating which goes first for ROUNDS rounds (default 6), so drift on
//! a shared machine hits both alike. Prints each ratio A / B of the best
//! rate, the median rate and the median server CPU per message. A server
//! named `NAME@PATH` runs from another build of this binary, so two
//! versions of the code go head to head: `ab hyperws@/tmp/old/compare hyperws`.

use crate::load::{Outcome, SCENARIOS};
use crate::report::echo_once;

const WARMUP_MS: u64 = 500;
const WINDOW_MS: u64 = 2000;

pub fn run(a: &str, b: &str, rounds: usize) {
    let servers = [a, b];
    println!("\n## {a} / {b}, {rounds} alternating rounds of {WINDOW_MS} ms per scenario\n");
    println!("| scenario | best rate | median rate | median CPU µs/msg |");
    println!("|---|---|---|---|");
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        let mut outcomes: [Vec<Outcome>; 2] = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for side in [round % 2, 1 - round % 2] {
                let outcome = echo_once(servers[side], i, WARMUP_MS, WINDOW_MS);
                eprintln!(
                    "round {} {:22} {:32} {:>10.0} msg/s {:8.3} µs CPU/msg",
                    round + 1,
                    servers[side],
                    scenario.name,
                    outcome.rate,
                    outcome.cpu_us_per_msg
                );
                outcomes[side].push(outcome);
            }
        }
        let [a, b] = outcomes.map(|o| Summary::of(&o));
        println!(
            "| {} | {:.3} | {:.3} | {:.3} |",
            scenario.name,
            a.best_rate / b.best_rate,
            a.median_rate / b.median_rate,
            a.median_cpu / b.median_cpu,
        );
    }
}

/// What one server's rounds in one scenario measured.
struct Summary {
    best_rate: f64,
    median_rate: f64,
    median_cpu: f64,
}

impl Summary {
    fn of(outcomes: &[Outcome]) -> Self {
        Self {
            best_rate: outcomes.iter().map(|o| o.rate).fold(0.0, f64::max),
            median_rate: median(outcomes.iter().map(|o| o.rate)),
            median_cpu: median(outcomes.iter().map(|o| o.cpu_us_per_msg)),
        }
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

//! `arena run`: the HttpArena-shaped matrix. Every server in turn on K
//! cores, the load on the next L, for each connection count and depth,
//! in rounds (every server once a round); prints a table per round.

use std::process::Command;

use crate::arena::ARENA_SERVERS;
use crate::report::Server;

/// The matrix and the machine's split, from the command line.
pub struct Matrix {
    pub server_cores: usize,
    pub load_cores: usize,
    pub connections: Vec<usize>,
    pub depths: Vec<usize>,
    pub servers: Vec<String>,
    pub rounds: usize,
    pub warmup_ms: u64,
    pub window_ms: u64,
}

impl Matrix {
    /// `[--quick] [--server-cores K] [--load-cores L] [--connections A,B] [--depths A,B] [--servers A,B] [--rounds N]`
    pub fn from_args(args: &[String]) -> Self {
        let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
        let list = |flag: &str, default: &[usize]| {
            value(flag).map_or(default.to_vec(), |v| {
                v.split(',').map(|n| n.parse().expect("a number")).collect()
            })
        };
        let quick = args.iter().any(|a| a == "--quick");
        let number = |flag: &str, default: usize| value(flag).map_or(default, |v| v.parse().expect("a number"));
        Self {
            server_cores: number("--server-cores", 1),
            load_cores: number("--load-cores", 1),
            connections: list("--connections", if quick { &[64, 256] } else { &[512, 4096, 16384] }),
            depths: list("--depths", &[1, 16]),
            servers: value("--servers").map_or(ARENA_SERVERS.map(String::from).to_vec(), |v| {
                v.split(',').map(String::from).collect()
            }),
            rounds: number("--rounds", if quick { 1 } else { 2 }),
            warmup_ms: if quick { 200 } else { 1000 },
            window_ms: if quick { 300 } else { 3000 },
        }
    }
}

/// One cell: messages a second, server CPU per message, RSS per connection, and whether it validated.
#[derive(Clone, Copy, Default)]
struct Cell {
    rate: f64,
    cpu_us: f64,
    kib_per_conn: f64,
    valid: bool,
}

/// Runs the matrix and prints it; `false` if a server failed the validator.
pub fn run(matrix: &Matrix) -> bool {
    let shapes: Vec<(usize, usize)> = matrix
        .connections
        .iter()
        .flat_map(|&c| matrix.depths.iter().map(move |&d| (c, d)))
        .collect();
    let mut all_valid = true;
    for round in 1..=matrix.rounds {
        let cells: Vec<Vec<Cell>> = shapes
            .iter()
            .map(|&(connections, depth)| {
                matrix
                    .servers
                    .iter()
                    .map(|server| measure(matrix, server, connections, depth))
                    .collect()
            })
            .collect();
        all_valid &= cells.iter().flatten().all(|c| c.valid);
        print_round(matrix, round, &shapes, &cells);
    }
    all_valid
}

fn measure(matrix: &Matrix, server: &str, connections: usize, depth: usize) -> Cell {
    let last_server_core = matrix.server_cores - 1;
    let server_cores = format!("0-{last_server_core}");
    let load_cores = format!(
        "{}-{}",
        matrix.server_cores,
        matrix.server_cores + matrix.load_cores - 1
    );
    let running = Server::start_on(&server_cores, &["server", server, &matrix.server_cores.to_string()]);
    let output = Command::new("taskset")
        .args(["-c", &load_cores])
        .arg(std::env::current_exe().unwrap())
        .args(["load", &running.addr, &connections.to_string(), &depth.to_string()])
        .args([matrix.load_cores.to_string(), running.pid().to_string()])
        .args([matrix.warmup_ms.to_string(), matrix.window_ms.to_string()])
        .output()
        .expect("taskset (util-linux) runs the load");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(fields) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
        eprintln!(
            "{server} at {connections}×{depth}: no result\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return Cell::default();
    };
    let f: Vec<f64> = fields.split(' ').map(|v| v.parse().unwrap()).collect();
    let expected = connections as f64;
    let valid = f[3] == expected && f[4] == expected && f[5] == 0.0;
    if !valid {
        eprintln!(
            "{server} at {connections}×{depth}: {} pongs, {} closes, {} wrong frames of {connections}",
            f[3], f[4], f[5]
        );
    }
    Cell {
        rate: f[0],
        cpu_us: f[1],
        kib_per_conn: f[2],
        valid,
    }
}

fn print_round(matrix: &Matrix, round: usize, shapes: &[(usize, usize)], cells: &[Vec<Cell>]) {
    println!(
        "\nround {round}: server on {} core(s), load on {}; 5-byte text echoes; thousand msg/s (server CPU µs/msg, RSS KiB/conn); ✗ = failed the validator",
        matrix.server_cores, matrix.load_cores
    );
    print!("{:<14}", "conns × depth");
    for server in &matrix.servers {
        print!(" | {server:>24}");
    }
    println!(" | hyperws / best peer");
    for (&(connections, depth), row) in shapes.iter().zip(cells) {
        print!("{:<14}", format!("{connections} × {depth}"));
        for cell in row {
            let mark = if cell.valid { ' ' } else { '✗' };
            let text = format!(
                "{:.0}{mark}({:.2}, {:.1})",
                cell.rate / 1e3,
                cell.cpu_us,
                cell.kib_per_conn
            );
            print!(" | {text:>24}");
        }
        println!(" | {}", ratio(&matrix.servers, row));
    }
}

/// hyperws's rate over the best other server's, when both ran.
fn ratio(servers: &[String], row: &[Cell]) -> String {
    let ours = servers.iter().position(|s| s == "hyperws").map(|i| row[i].rate);
    let best = servers
        .iter()
        .zip(row)
        .filter(|(s, _)| *s != "hyperws")
        .map(|(_, c)| c.rate)
        .fold(0.0, f64::max);
    match ours {
        Some(ours) if best > 0.0 => format!("{:.2}", ours / best),
        _ => "-".into(),
    }
}

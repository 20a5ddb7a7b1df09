//! The scale test's processes (the servers, the load processes)
//! and what the harness reads of them from /proc.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

/// A child that the harness kills when it is done with it.
pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Process {
    /// Starts `program args`, its stdin and stdout piped to the harness.
    pub fn start(program: &str, args: &[String]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { child, stdin, stdout }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line that starts with `tag`, without it (other lines are
    /// skipped); panics if the process ends first.
    pub fn expect(&mut self, tag: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let read = self.stdout.read_line(&mut line).expect("read a child's output");
            assert!(read > 0, "a child ended while the harness waited for {tag}");
            if let Some(rest) = line.trim_end().strip_prefix(tag) {
                return rest.trim().to_owned();
            }
        }
    }

    pub fn send(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .expect("steer a load process");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on `addr`; the response body's first line.
pub fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connect to a server");
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(tcp, "GET {path} HTTP/1.1\r\nHost: scale\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = tcp.read_to_string(&mut response);
    response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of every thread of `pid` so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces), from the
    // third on: utime and stime are the 14th and 15th.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let ticks = fields.get(10).unwrap_or(&0) + fields.get(11).unwrap_or(&0);
    // Linux reports in USER_HZ, 100 a second on every platform it runs on.
    Duration::from_millis(ticks * 10)
}

/// The kernel's TCP line of `/proc/net/sockstat`: sockets in use and
/// the pages of socket buffer memory (both ends of every loopback connection).
pub fn sockstat_tcp() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with("TCP:")).unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let value = |name: &str| {
        let at = words.iter().position(|w| *w == name)?;
        words.get(at + 1)?.parse().ok()
    };
    (value("inuse").unwrap_or(0), value("mem").unwrap_or(0))
}

/// A server's stats file: `(opened, closed, heartbeat drops)`.
pub fn server_counts(path: &PathBuf) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let n: Vec<u64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    (
        n.first().copied().unwrap_or(0),
        n.get(1).copied().unwrap_or(0),
        n.get(2).copied().unwrap_or(0),
    )
}

/// The kernel's slab memory in KiB (`Slab` of `/proc/meminfo`): where each
/// socket's structures live, beside its buffers.
pub fn slab_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix("Slab:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

//! Programs run as processes by the tests: the examples, `redis-server`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A child process, killed when dropped.
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback address nothing listens on now.
pub(crate) fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The path of an example `cargo test` built.
pub(crate) fn example_binary(name: &str) -> PathBuf {
    // target/debug/deps/<test>-… -> target/debug/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    assert!(
        path.exists(),
        "{} missing: run `cargo build --examples`",
        path.display()
    );
    path
}

/// Starts an example listening on a free port (plus `args`) and waits for
/// its first line, which it prints once it listens.
pub(crate) fn start_example(name: &str, args: &[&str]) -> (Process, SocketAddr) {
    let addr = free_addr();
    let mut child = Command::new(example_binary(name))
        .arg(addr.to_string())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("EXAMPLE_STDERR").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(!line.is_empty(), "{name} did not start");
    (Process(child), addr)
}

//! A real `nats-server` with `JetStream` for the tests that need one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::process::Process;

/// A `nats-server` on `port` with `JetStream` keeping its data in `store`;
/// returns once it accepts connections.
pub(crate) async fn start_nats(port: u16, store: &Path) -> Process {
    let server = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
    let child = Command::new(&server)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{server} could not start ({e}): install nats-server or set NATS_SERVER"));
    // Killed and waited for when dropped, whatever happens next.
    let server = Process(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nats-server never listened on {port}");
}

/// A fresh folder for a server's `JetStream` data.
pub(crate) fn store(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hyperws-nats-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

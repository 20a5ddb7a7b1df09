//! A real `redis-server` for the tests that need one, and a look at its
//! subscriptions (RESP by hand).

use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::process::Process;

/// A `redis-server` on `port`, with nothing saved to disk.
pub(crate) fn start_redis(port: u16) -> Process {
    let server = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let child = Command::new(&server)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{server} could not start ({e}): install redis-server or set REDIS_SERVER"));
    Process(child)
}

/// Asks Redis how many connections subscribe to `channel` (RESP by hand).
pub(crate) async fn subscribers(port: u16, channel: &str) -> Option<u64> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let command = format!(
        "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n${}\r\n{channel}\r\n",
        channel.len()
    );
    tcp.write_all(command.as_bytes()).await.ok()?;
    let mut reply = vec![0; 256];
    let n = tcp.read(&mut reply).await.ok()?;
    let reply = String::from_utf8_lossy(&reply[..n]).into_owned();
    reply.rsplit(':').next()?.trim().parse().ok()
}

/// Waits until `channel` has `count` subscribers.
pub(crate) async fn wait_for(port: u16, channel: &str, count: u64) {
    for _ in 0..200 {
        if subscribers(port, channel).await == Some(count) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{channel} never had {count} subscribers");
}

/// Closes every subscribing connection Redis holds (`CLIENT KILL TYPE
/// pubsub`), as a network blip or Redis' output-buffer limit would.
pub(crate) async fn kill_subscribers(port: u16) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let command = "*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\npubsub\r\n";
    tcp.write_all(command.as_bytes()).await.unwrap();
    let mut reply = vec![0; 64];
    let n = tcp.read(&mut reply).await.unwrap();
    assert!(reply[..n].starts_with(b":"), "{}", String::from_utf8_lossy(&reply[..n]));
}

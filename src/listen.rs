//! [`bind_reuse_port`]: a listener that shares its port with other processes.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// How many connections the kernel queues before `accept` takes them
/// (tokio's `TcpListener::bind` uses the same; Linux caps it at
/// `net.core.somaxconn`).
const BACKLOG: u32 = 1024;

/// Binds a TCP listener on `addr` with `SO_REUSEPORT` (and `SO_REUSEADDR`),
/// so that several server processes can listen on one port and the kernel
/// spreads new connections among them. One process holds at most as many
/// sockets as its descriptor limit allows; this is how a machine holds more.
///
/// Every process that shares the port must bind it this way (as the same
/// user). On Linux each listener gets its own accept queue and a connection
/// goes to one of them by a hash of its addresses; a process that dies takes
/// the connections in its queue with it, and the rest carry on. Must be
/// called inside a tokio runtime. The listener works with every door:
/// [`serve`](crate::serve), `axum::serve`, or your own accept loop for
/// [`upgrade_request`](crate::upgrade_request).
///
/// # Errors
/// The address is in use by a listener without `SO_REUSEPORT` (or another
/// user's), or the platform has no `SO_REUSEPORT` (Windows):
/// `ErrorKind::Unsupported` there.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// // Run this program N times: all N serve port 3000.
/// let listener = hyperws::bind_reuse_port("127.0.0.1:3000".parse().unwrap())?;
/// axum::serve(listener, app).await
/// # }
/// ```
pub fn bind_reuse_port(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    set_reuseport(&socket)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

#[cfg(all(
    unix,
    not(target_os = "solaris"),
    not(target_os = "illumos"),
    not(target_os = "cygwin")
))]
fn set_reuseport(socket: &TcpSocket) -> io::Result<()> {
    socket.set_reuseport(true)
}

#[cfg(not(all(
    unix,
    not(target_os = "solaris"),
    not(target_os = "illumos"),
    not(target_os = "cygwin")
)))]
fn set_reuseport(_: &TcpSocket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_listeners_share_one_port_and_both_get_connections() {
        let first = bind_reuse_port("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = bind_reuse_port(addr).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
        // The kernel hashes each connection's addresses to one listener:
        // over many connections, both must be chosen.
        let mut held = Vec::new();
        for _ in 0..64 {
            held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        let (a, b) = (accepted(&first).await, accepted(&second).await);
        assert_eq!(a + b, 64, "every connection reached a listener");
        assert!(a > 0 && b > 0, "the kernel spread them: {a} and {b}");
    }

    /// How many connections wait in `listener`'s queue.
    async fn accepted(listener: &TcpListener) -> usize {
        let mut n = 0;
        let wait = std::time::Duration::from_millis(200);
        while let Ok(Ok(_)) = tokio::time::timeout(wait, listener.accept()).await {
            n += 1;
        }
        n
    }

    #[tokio::test]
    async fn a_port_held_without_reuse_port_is_refused() {
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = bind_reuse_port(plain.local_addr().unwrap()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
    }
}

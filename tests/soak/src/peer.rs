//! A raw WebSocket client, just enough for the soak: the upgrade request,
//! masked frames out, and server frames in, answering pings.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const KEY: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

/// What arrived: a ping to answer, a data message, the server's close
/// frame, or the end.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Ping(Vec<u8>),
    Data(Vec<u8>),
    Close,
    /// EOF or a reset: the server dropped the connection.
    Gone,
}

pub struct Peer {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Peer {
    /// Connects and completes the opening handshake, or `None`.
    pub async fn connect(addr: SocketAddr) -> Option<Self> {
        Self::handshake(TcpStream::connect(addr).await.ok()?).await
    }

    /// As `connect`, from `source:port` (the scale test's load processes
    /// each own a loopback address and number its ports themselves: a bind
    /// to port 0 searches every port in use on the address, which at
    /// 15 000 sockets made each connect take milliseconds).
    pub async fn connect_from(source: SocketAddr, addr: SocketAddr) -> Option<Self> {
        let socket = TcpSocket::new_v4().ok()?;
        // A port whose last connection waits in TIME_WAIT may be bound again.
        socket.set_reuseaddr(true).ok()?;
        socket.bind(source).ok()?;
        Self::handshake(socket.connect(addr).await.ok()?).await
    }

    async fn handshake(mut tcp: TcpStream) -> Option<Self> {
        tcp.set_nodelay(true).ok()?;
        let request = "GET /ws HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        tcp.write_all(request.as_bytes()).await.ok()?;
        let mut buf = Vec::with_capacity(256);
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0; 256];
            let n = tcp.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        if !buf.starts_with(b"HTTP/1.1 101") {
            return None;
        }
        buf.drain(..end);
        Some(Self { tcp, buf })
    }

    pub async fn send(&mut self, opcode: u8, payload: &[u8]) -> bool {
        assert!(payload.len() <= 125, "soak frames are small");
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&KEY);
        frame.extend(payload.iter().zip(KEY.iter().cycle()).map(|(b, k)| b ^ k));
        self.tcp.write_all(&frame).await.is_ok()
    }

    /// Reads until a ping, a data frame, a close or the end. Cancel-safe
    /// (it only reads), so it can race a timer in `select!`.
    pub async fn next_event(&mut self) -> Event {
        loop {
            while let Some((opcode, payload)) = self.take_frame() {
                match opcode {
                    0x9 => return Event::Ping(payload),
                    0xA => {}
                    0x8 => return Event::Close,
                    _ => return Event::Data(payload),
                }
            }
            if !self.fill().await {
                return Event::Gone;
            }
        }
    }

    /// Stops answering anything (a peer that vanished without a FIN) and
    /// waits for the server to drop the connection: when it did.
    pub async fn play_dead(&mut self) -> Instant {
        while self.fill().await {
            self.buf.clear();
        }
        Instant::now()
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0; 1024];
        match self.tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// The next whole unmasked server frame (soak frames are never fragmented).
    fn take_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let [first, second, ..] = *self.buf.as_slice() else {
            return None;
        };
        let (len, at) = match second & 0x7F {
            126 => (u16::from_be_bytes(self.buf.get(2..4)?.try_into().ok()?) as usize, 4),
            127 => (u64::from_be_bytes(self.buf.get(2..10)?.try_into().ok()?) as usize, 10),
            short => (usize::from(short), 2),
        };
        let payload = self.buf.get(at..at + len)?.to_vec();
        self.buf.drain(..at + len);
        Some((first & 0x0F, payload))
    }
}

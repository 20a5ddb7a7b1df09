//! Real misbehaviour through the hyper door: peers that vanish, half-close,
//! flood pings, never finish the close, or send their headers too slowly.
//! Every case ends in bounded time and memory with a typed error. Tests on
//! tokio's paused clock run over in-memory pipes, so the timeouts pass
//! without waiting and no socket can race the clock; the others use TCP.

mod common;

use std::time::Duration;

use hyperws::{CloseCode, CloseFrame, Config, Error, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test(start_paused = true)]
async fn a_peer_that_vanishes_is_dropped_after_the_heartbeat_timeout() {
    let config = Config::builder().heartbeat(INTERVAL, TIMEOUT).build().unwrap();
    let (mut tcp, mut seen) = common::recording_in_memory(config).await;
    let started = Instant::now();
    // The peer keeps the socket open and never reads or writes.
    let outcome = seen.recv().await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::HeartbeatTimeout)), "{outcome:?}");
    assert_eq!(started.elapsed(), INTERVAL + TIMEOUT);
    assert!(seen.recv().await.unwrap().is_none());
    // The server sent one ping, then closed TCP.
    let mut wire = Vec::new();
    tcp.read_to_end(&mut wire).await.unwrap();
    assert_eq!(&wire[..2], [0x89, 0x08]);
    assert_eq!(wire.len(), 10);
}

#[tokio::test]
async fn a_peer_that_half_closes_without_a_close_frame_is_an_abnormal_closure() {
    let (addr, mut seen) = common::serve_recording(Config::default()).await;
    let mut tcp = common::raw_upgrade(addr).await;
    tcp.shutdown().await.unwrap(); // FIN, no close frame
    let outcome = seen.recv().await.unwrap().unwrap();
    assert!(matches!(outcome, Err(Error::AbnormalClosure)), "{outcome:?}");
    assert!(seen.recv().await.unwrap().is_none());
    // The server closes its side too.
    let mut rest = Vec::new();
    tcp.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_floods_pings_and_never_reads_cannot_grow_server_memory() {
    let limit = 64 << 10;
    let config = Config::builder()
        .heartbeat(INTERVAL, TIMEOUT)
        .write_buffer_size(limit / 2)
        .max_write_buffer_size(limit)
        .build()
        .unwrap();
    let (report_tx, mut report_rx) = mpsc::unbounded_channel();
    let mut tcp = common::raw_upgrade_in_memory(config, move |mut ws| {
        let report_tx = report_tx.clone();
        async move {
            let mut largest_queue = 0;
            while let Some(item) = ws.recv().await {
                largest_queue = largest_queue.max(ws.buffered_amount());
                if let Err(e) = item {
                    report_tx.send((largest_queue, e)).unwrap();
                }
            }
        }
    })
    .await;
    // 100 000 pings of 125 bytes: about 13 MB of pongs if they were all queued.
    let batch: Vec<u8> = (0..1000)
        .flat_map(|_| common::client_frame(0x9, &[b'p'; 125]))
        .collect();
    let flood = tokio::spawn(async move {
        for _ in 0..100 {
            if tcp.write_all(&batch).await.is_err() {
                return; // the server dropped us
            }
        }
        std::future::pending::<()>().await; // never read, never close
    });
    let (largest_queue, error) = report_rx.recv().await.unwrap();
    assert!(matches!(error, Error::HeartbeatTimeout), "{error:?}");
    // The limit plus at most one read's worth of pongs.
    let one_read = Config::default().read_buffer_size();
    assert!(
        largest_queue <= limit + one_read,
        "the pong queue grew to {largest_queue} bytes"
    );
    flood.abort();
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let config = Config::builder().close_timeout(Duration::from_secs(3)).build().unwrap();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut tcp = common::raw_upgrade_in_memory(config, move |mut ws| {
        let done_tx = done_tx.clone();
        async move {
            let started = Instant::now();
            let result = ws.close(Some(CloseFrame::from_code(CloseCode::NORMAL))).await;
            done_tx.send((result, started.elapsed())).unwrap();
        }
    })
    .await;
    let mut close = [0; 4];
    tcp.read_exact(&mut close).await.unwrap();
    assert_eq!(close, [0x88, 0x02, 0x03, 0xE8], "the server's close 1000");
    // ... and the peer never answers it.
    let (result, elapsed) = done_rx.recv().await.unwrap();
    assert!(matches!(result, Err(Error::CloseTimeout)), "{result:?}");
    assert_eq!(elapsed, Duration::from_secs(3));
    assert_eq!(tcp.read(&mut [0; 1]).await.unwrap(), 0, "then TCP is closed");
}

#[tokio::test]
async fn a_slowloris_client_is_dropped_after_the_handshake_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().layer(hyperws::tower::WebSocketLayer::new(common::echo));
    let config = ServerConfig::builder()
        .handshake_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    tokio::spawn(async move { hyperws::serve(listener, app, &config).await });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: web")
        .await
        .unwrap();
    // ... and the rest of the headers never come.
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(10),
        "dropped at the timeout, not before and not never: {waited:?}"
    );
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 408"),
        "{response}"
    );
}

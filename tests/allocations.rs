//! The echo path allocates nothing per message once warm: a counting
//! allocator (dhat's, in testing mode) counts every heap block the process
//! takes while a server socket echoes a thousand messages over an in-memory
//! pipe. Alone in its file: the allocator is process-wide.

use hyperws::Role;
use hyperws::{Config, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// A masked binary client frame with a payload under 126 bytes.
fn client_frame(payload: &[u8]) -> Vec<u8> {
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x82, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    frame
}

/// Sends `rounds` batches of `batch` frames and reads every echo back.
async fn echo_rounds(peer: &mut tokio::io::DuplexStream, frames: &[u8], echo_len: usize, rounds: usize) {
    let mut echoes = vec![0; echo_len];
    for _ in 0..rounds {
        peer.write_all(frames).await.unwrap();
        peer.read_exact(&mut echoes).await.unwrap();
    }
}

#[test]
fn echoing_allocates_nothing_per_message() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (io, mut peer) = tokio::io::duplex(64 << 10);
        let mut ws = WebSocket::from_raw_socket(io, Role::Server, &Config::default());
        let server = tokio::spawn(async move {
            while let Some(Ok(message)) = ws.recv().await {
                if ws.feed(message).await.is_err() {
                    return;
                }
            }
        });
        let batch = 16;
        let frames = client_frame(&[7; 16]).repeat(batch);
        let echo_len = (2 + 16) * batch;
        echo_rounds(&mut peer, &frames, echo_len, 100).await; // warm up
        let before = dhat::HeapStats::get().total_blocks;
        let rounds = 1000;
        echo_rounds(&mut peer, &frames, echo_len, rounds).await;
        let allocations = dhat::HeapStats::get().total_blocks - before;
        let messages = (rounds * batch) as u64;
        assert!(
            allocations * 100 < messages,
            "{allocations} allocations for {messages} echoed messages"
        );
        drop(peer);
        server.await.unwrap();
    });
}

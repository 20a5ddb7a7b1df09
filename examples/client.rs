//! The seed library's first example, in hyperws: connect to an echo
//! server, send "hello" every 3 seconds from one task while another prints
//! what comes back, and end cleanly when the server closes.
//!
//! ```sh
//! cargo run --example echo &                 # the server
//! cargo run --example client -- ws://127.0.0.1:9001/ 3
//! ```
//! The optional second argument stops after that many messages (default: run
//! until Ctrl-C or the server closes).

use std::time::Duration;

use hyperws::{CloseCode, CloseFrame, Message};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    let limit: Option<usize> = std::env::args().nth(2).and_then(|n| n.parse().ok());
    let (ws, _response) = hyperws::connect(&url).await?;
    println!("connected to {url}");
    let (mut reader, mut writer) = ws.into_split();

    let sender = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(3));
        let mut sent = 0;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = tokio::signal::ctrl_c() => break,
            }
            if limit.is_some_and(|limit| sent == limit) {
                break;
            }
            if writer.send(Message::text("hello")).await.is_err() {
                return; // the connection is closing
            }
            sent += 1;
        }
        let bye = CloseFrame {
            code: CloseCode::NORMAL,
            reason: "bye".into(),
        };
        let _ = writer.close(Some(bye)).await;
    });

    // The reader prints what comes back and completes the closing handshake.
    while let Some(message) = reader.recv().await {
        match message? {
            Message::Text(text) => println!("received: {text}"),
            Message::Close(frame) => println!("closed: {frame:?}"),
            other => println!("received: {other:?}"),
        }
    }
    sender.await.ok();
    Ok(())
}

//! The hyperws client against another library's echo server, with
//! permessage-deflate: for each of three settings the extension must be
//! agreed and every message must come back unchanged (`scripts/interop`
//! runs it against Python's `websockets` and Node's `ws`).
//!
//! ```sh
//! cargo run --example interop_client -- ws://127.0.0.1:9400/
//! ```

use hyperws::{ClientBuilder, Config, DeflateConfig, Message};

fn settings() -> [(&'static str, DeflateConfig); 3] {
    let every = DeflateConfig::default().threshold(0);
    [
        ("default", every.clone()),
        ("small windows", every.clone().window_bits(10).peer_window_bits(11)),
        (
            "no context takeover",
            every.context_takeover(false).peer_context_takeover(false),
        ),
    ]
}

fn messages() -> Vec<Message> {
    let mut list = vec![Message::text(""), Message::text("é")];
    for n in 0..20 {
        let record = format!(r#"{{"user":"ada","status":"online","rooms":["general","rust"],"n":{n}}}"#);
        list.push(Message::text(record));
    }
    list.push(Message::text("κόσμε ".repeat(20_000)));
    // Incompressible bytes from a xorshift generator, then very compressible ones.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    list.push(Message::binary(noise));
    list.push(Message::binary(vec![0; 300_000]));
    list
}

async fn check(url: &str, name: &str, deflate: DeflateConfig) -> Result<(), String> {
    let config = Config::builder().deflate(deflate).build().map_err(|e| e.to_string())?;
    let (mut ws, _) = ClientBuilder::new(url)
        .config(config)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let agreed = ws.deflate().ok_or("permessage-deflate was not agreed")?;
    let list = messages();
    for (i, message) in list.iter().enumerate() {
        ws.send(message.clone()).await.map_err(|e| e.to_string())?;
        match ws.recv().await {
            Some(Ok(echo)) if echo == *message => {}
            other => return Err(format!("message {i} came back as {other:?}")),
        }
    }
    ws.close(None).await.map_err(|e| e.to_string())?;
    println!("hyperws client ok [{name}]: {agreed}; {} messages echoed", list.len());
    Ok(())
}

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9400/".into());
    for (name, deflate) in settings() {
        if let Err(e) = check(&url, name, deflate).await {
            eprintln!("hyperws client FAILED [{name}] against {url}: {e}");
            std::process::exit(1);
        }
    }
}

//! Drives the Autobahn test suite's fuzzing server (kosoku) as an echo
//! client: asks how many cases there are, runs each one, then asks the
//! server to write its reports.
//!
//! ```sh
//! kosoku -m fuzzingserver -o target/autobahn/client 127.0.0.1:9011 &
//! cargo run --release --example autobahn_client -- 127.0.0.1:9011 hyperws
//! ```

use hyperws::{ClientBuilder, Config, DeflateConfig, Message};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9011".into());
    let agent = std::env::args().nth(2).unwrap_or_else(|| "hyperws".into());
    let count = case_count(&addr).await?;
    println!("running {count} cases as agent {agent}");
    for case in 1..=count {
        if let Err(e) = run_case(&addr, case, &agent).await {
            // A case that ends in an error is still a result for the report.
            println!("case {case}: {e}");
        }
    }
    let (mut ws, _) = hyperws::connect(format!("ws://{addr}/updateReports?agent={agent}")).await?;
    ws.close(None).await.ok();
    println!("reports updated");
    Ok(())
}

async fn case_count(addr: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let (mut ws, _) = hyperws::connect(format!("ws://{addr}/getCaseCount")).await?;
    let mut count = 0;
    while let Some(message) = ws.recv().await {
        if let Message::Text(text) = message? {
            count = text.trim().parse().unwrap_or(0);
        }
    }
    Ok(count)
}

/// `DEFLATE=least_memory`, `balanced` (the default) or `smallest_on_wire`.
fn deflate_preset() -> DeflateConfig {
    let name = std::env::var("DEFLATE").unwrap_or_else(|_| "balanced".into());
    DeflateConfig::preset(&name).expect("DEFLATE: least_memory, balanced or smallest_on_wire")
}

/// Echoes every text and binary message until the server closes.
async fn run_case(addr: &str, case: u32, agent: &str) -> Result<(), Box<dyn std::error::Error>> {
    // The heartbeat's own pings would show up in the cases' transcripts.
    // Offer permessage-deflate and compress every message (groups 12 and 13).
    let deflate = deflate_preset().threshold(0);
    let config = Config::builder().no_heartbeat().deflate(deflate).build().unwrap();
    let url = format!("ws://{addr}/runCase?case={case}&agent={agent}");
    let (mut ws, _) = ClientBuilder::new(url).config(config).connect().await?;
    while let Some(message) = ws.recv().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}

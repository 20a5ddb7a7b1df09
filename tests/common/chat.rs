//! The chat example as a client sees it: its lines (`{"pos", "text"}`),
//! and the recovery scenario every engine must pass.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Guest = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A guest of `node`, once the room hears it ("you are …" comes after the
/// chat subscribed it).
pub(crate) async fn guest(node: SocketAddr) -> Guest {
    let mut ws = tokio_tungstenite::connect_async(format!("ws://{node}/ws"))
        .await
        .unwrap()
        .0;
    match ws.next().await {
        Some(Ok(Message::Text(line))) if text(&line).starts_with("you are ") => ws,
        other => panic!("no greeting: {other:?}"),
    }
}

/// The text of one of the chat's lines, `{"pos": ..., "text": ...}`.
pub(crate) fn text(line: &str) -> String {
    let line: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    line["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {line}"))
        .to_owned()
}

/// The next line's text and position (`None` for a line to this guest alone).
pub(crate) async fn next_line(guest: &mut Guest) -> (String, Option<String>) {
    let next = tokio::time::timeout(Duration::from_secs(20), guest.next())
        .await
        .expect("a line");
    let Some(Ok(Message::Text(line))) = next else {
        panic!("the room ended: {next:?}")
    };
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    (text(&line), value["pos"].as_str().map(str::to_owned))
}

/// Reads until a line `ends_with` comes; returns the lines before it.
pub(crate) async fn lines_until(guest: &mut Guest, ends_with: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let (line, _) = next_line(guest).await;
        if line.ends_with(ends_with) {
            return lines;
        }
        lines.push(line);
    }
}

/// A guest leaves having seen a position, 50 lines are said through
/// another node, and it comes back through a third with `/ws?since=`: it
/// gets exactly what it missed, in order, before anything new. Then the
/// engine loses its data (`lose_data`, which returns once the nodes can
/// reach it again): a guest coming back is told the history could not be
/// recovered (its epoch changed).
pub(crate) async fn a_guest_comes_back(nodes: &[SocketAddr], lose_data: impl AsyncFnOnce()) {
    let mut speaker = guest(nodes[1]).await;
    let mut leaver = guest(nodes[0]).await;
    let seen = heard_hello(&mut speaker, &mut leaver).await;
    drop(leaver);
    for i in 0..50 {
        speaker.send(Message::text(format!("line #{i}"))).await.unwrap();
    }
    lines_until(&mut speaker, ": line #49").await;

    let back = format!("ws://{}/ws?since={seen}", nodes[2]);
    let mut returning = tokio_tungstenite::connect_async(back).await.unwrap().0;
    let missed = lines_until(&mut returning, " joined").await;
    let said: Vec<&String> = missed.iter().filter(|line| line.contains(": line #")).collect();
    let expected: Vec<String> = (0..50).map(|i| format!(": line #{i}")).collect();
    assert_eq!(said.len(), 50, "{missed:?}");
    assert!(
        said.iter().zip(&expected).all(|(line, end)| line.ends_with(end)),
        "in order: {missed:?}"
    );
    let rest: Vec<&String> = missed.iter().filter(|line| !line.contains(": line #")).collect();
    assert_eq!(
        rest.len(),
        2,
        "only the leave and this guest's greeting besides: {rest:?}"
    );
    assert!(rest.iter().any(|line| line.ends_with(" left")) && rest.iter().any(|line| line.starts_with("you are ")));

    lose_data().await;
    let back = format!("ws://{}/ws?since={seen}", nodes[0]);
    let mut returning = tokio_tungstenite::connect_async(back).await.unwrap().0;
    let (line, _) = next_line(&mut returning).await;
    assert!(
        line.starts_with("(the history could not be recovered: EpochChanged"),
        "{line}"
    );
}

/// The speaker says hello until the listener hears it (its node may still
/// be subscribing); the last position the listener saw, as a page keeps it.
async fn heard_hello(speaker: &mut Guest, listener: &mut Guest) -> String {
    let mut seen = None;
    let mut hello = false;
    for _ in 0..50 {
        speaker.send(Message::text("hello")).await.unwrap();
        while let Ok(Some(Ok(Message::Text(line)))) =
            tokio::time::timeout(Duration::from_millis(300), listener.next()).await
        {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            seen = value["pos"].as_str().map(str::to_owned).or(seen);
            hello |= text(&line).ends_with(": hello");
        }
        if let (true, Some(seen)) = (hello, &seen) {
            return seen.clone();
        }
    }
    panic!("the listener never heard the speaker");
}

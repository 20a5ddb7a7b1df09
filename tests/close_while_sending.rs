//! We close while the peer is still sending: whichever way the socket is
//! held (whole, `into_split`, `futures`' `StreamExt::split`, axum's
//! documented split pattern), the read side yields every message the peer
//! sent before it saw our close, then the peer's `Message::Close`, then the
//! end. Peers nobody here wrote: tokio-tungstenite, and Python's
//! `websockets` (run by `scripts/interop`, which installs it).

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, Stream, StreamExt};
use hyperws::{CloseCode, CloseFrame, Config, Message};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::connect_async;
use tungstenite::Message as T;

/// How long the server lets the peer send before it closes.
const SENDING_FOR: Duration = Duration::from_millis(150);
/// The most any wait here may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// How the server holds the socket when it closes.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `futures`' `StreamExt::split`, then `SinkExt::close` on the sink half.
    FuturesSplit,
    /// `into_split`, then `close` on the writer half.
    IntoSplit,
    /// The whole socket: `SinkExt::close`, then reading on.
    Whole,
}

/// What the server's read side saw.
#[derive(Debug)]
struct Seen {
    /// Text messages, each checked to be the next number the peer sent.
    counted: u64,
    /// Each `Message::Close` the read side yielded (one is expected).
    closes: Vec<Option<CloseFrame>>,
}

/// Reads until the end, checking the peer's numbered messages arrive in order.
async fn count<E: std::fmt::Debug>(mut read: impl Stream<Item = Result<Message, E>> + Unpin) -> Seen {
    let mut seen = Seen {
        counted: 0,
        closes: Vec::new(),
    };
    while let Some(message) = read.next().await {
        match message.expect("no error before the end") {
            Message::Text(text) => {
                assert_eq!(text.as_str(), seen.counted.to_string(), "messages in order, none lost");
                assert!(seen.closes.is_empty(), "nothing after the close frame");
                seen.counted += 1;
            }
            Message::Close(frame) => seen.closes.push(frame),
            other => panic!("unexpected {other:?}"),
        }
    }
    seen
}

/// A server whose handler lets the peer send for a moment, closes the way
/// `shape` says, and reports what its read side saw.
async fn server(shape: Shape) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    let addr = common::serve(Config::default(), move |ws| {
        let seen_tx = seen_tx.clone();
        async move {
            let seen = match shape {
                Shape::FuturesSplit => {
                    let (mut sender, receiver) = ws.split();
                    let reader = tokio::spawn(count(receiver));
                    tokio::time::sleep(SENDING_FOR).await;
                    sender.close().await.unwrap();
                    timeout(PATIENCE, reader).await.expect("the reader ends").unwrap()
                }
                Shape::IntoSplit => {
                    let (reader, mut writer) = ws.into_split();
                    let reader = tokio::spawn(count(reader));
                    tokio::time::sleep(SENDING_FOR).await;
                    writer.close(None).await.unwrap();
                    timeout(PATIENCE, reader).await.expect("the reader ends").unwrap()
                }
                Shape::Whole => {
                    let mut ws = ws;
                    tokio::time::sleep(SENDING_FOR).await;
                    SinkExt::close(&mut ws).await.unwrap();
                    timeout(PATIENCE, count(ws)).await.expect("the stream ends")
                }
            };
            seen_tx.send(seen).unwrap();
        }
    })
    .await;
    (addr, seen_rx)
}

/// tokio-tungstenite sends a numbered text every millisecond until it reads
/// our close; returns how many sends succeeded.
async fn tungstenite_sends_until_closed(url: String) -> u64 {
    let (mut ws, _) = connect_async(url).await.unwrap();
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                ws.send(T::text(sent.to_string())).await.unwrap();
                sent += 1;
            }
            message = ws.next() => match message {
                Some(Ok(T::Close(_))) => break,
                other => panic!("expected only our close, got {other:?}"),
            },
        }
    }
    // Reading on writes tungstenite's queued reply, then sees the end.
    while timeout(PATIENCE, ws.next())
        .await
        .expect("the server ends it")
        .is_some()
    {}
    sent
}

/// What the server's read side saw matches what the peer sent: every
/// message, then the peer's close (both peers answer a close without a
/// code with one without a code).
async fn assert_all_read(sent: u64, seen: &mut mpsc::UnboundedReceiver<Seen>, what: &str) {
    let seen = timeout(PATIENCE, seen.recv()).await.unwrap().unwrap();
    assert!(
        sent > 10,
        "{what}: the peer was still sending when we closed ({sent} sent)"
    );
    assert_eq!(seen.counted, sent, "{what}: every message the peer sent was read");
    assert_eq!(seen.closes, [None], "{what}: the peer's close was read");
}

async fn against_tungstenite(shape: Shape) {
    let (addr, mut seen) = server(shape).await;
    let sent = tungstenite_sends_until_closed(common::url(addr)).await;
    assert_all_read(sent, &mut seen, &format!("{shape:?}")).await;
}

#[tokio::test]
async fn futures_split_reads_everything_then_the_close_with_tungstenite() {
    against_tungstenite(Shape::FuturesSplit).await;
}

#[tokio::test]
async fn into_split_reads_everything_then_the_close_with_tungstenite() {
    against_tungstenite(Shape::IntoSplit).await;
}

#[tokio::test]
async fn the_whole_socket_reads_everything_then_the_close_with_tungstenite() {
    against_tungstenite(Shape::Whole).await;
}

#[tokio::test]
async fn the_whole_socket_close_returns_the_peers_close_frame() {
    let (replies_tx, mut replies) = mpsc::unbounded_channel();
    let addr = common::serve(Config::default(), move |mut ws| {
        let replies_tx = replies_tx.clone();
        async move {
            tokio::time::sleep(SENDING_FOR).await;
            let frame = CloseFrame {
                code: CloseCode::from(4001),
                reason: "bye".into(),
            };
            replies_tx.send(ws.close(Some(frame)).await.unwrap()).unwrap();
        }
    })
    .await;
    let sent = tungstenite_sends_until_closed(common::url(addr)).await;
    assert!(sent > 10, "the peer was still sending ({sent} sent)");
    // tungstenite echoes the code of the close it answers.
    let reply = timeout(PATIENCE, replies.recv()).await.unwrap().unwrap();
    assert_eq!(reply.map(|frame| frame.code), Some(CloseCode::from(4001)));
}

/// axum's documented pattern through `hyperws::axum`: split with
/// `StreamExt::split`, a task counting on the stream half, `close()` on
/// the sink half.
async fn axum_split_server() -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    use axum::routing::any;
    use hyperws::axum::{WebSocket, WebSocketUpgrade};

    async fn handle_socket(socket: WebSocket, seen_tx: mpsc::UnboundedSender<Seen>) {
        let (mut sender, receiver) = socket.split();
        let reader = tokio::spawn(count(receiver));
        tokio::time::sleep(SENDING_FOR).await;
        sender.close().await.unwrap();
        let seen = timeout(PATIENCE, reader).await.expect("the reader ends").unwrap();
        seen_tx.send(seen).unwrap();
    }

    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/",
        any(move |ws: WebSocketUpgrade| {
            let seen_tx = seen_tx.clone();
            async move { ws.on_upgrade(move |socket| handle_socket(socket, seen_tx)) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen_rx)
}

#[tokio::test]
async fn axums_split_pattern_reads_everything_then_the_close_with_tungstenite() {
    for round in 0..3 {
        let (addr, mut seen) = axum_split_server().await;
        let sent = tungstenite_sends_until_closed(common::url(addr)).await;
        assert_all_read(sent, &mut seen, &format!("axum split, round {round}")).await;
    }
}

/// Python's `websockets` sends a numbered text every millisecond until our
/// close arrives; returns how many sends succeeded.
async fn python_sends_until_closed(url: String) -> u64 {
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/target/interop/venv/bin/python");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/python_sends_until_closed.py"
    );
    let run = tokio::process::Command::new(python)
        .args([script, &url])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = timeout(PATIENCE, run)
        .await
        .expect("the Python peer ends")
        .expect("Python's websockets under target/interop/venv (scripts/interop installs it and runs this test)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the Python peer failed: {stdout}");
    stdout
        .trim()
        .strip_prefix("sent ")
        .and_then(|n| n.parse().ok())
        .expect(&stdout)
}

#[tokio::test]
#[ignore = "needs Python's websockets: scripts/interop installs it and runs this"]
async fn every_shape_reads_everything_then_the_close_with_python_websockets() {
    for shape in [Shape::FuturesSplit, Shape::IntoSplit, Shape::Whole] {
        let (addr, mut seen) = server(shape).await;
        let sent = python_sends_until_closed(common::url(addr)).await;
        assert_all_read(sent, &mut seen, &format!("{shape:?}")).await;
    }
    for round in 0..5 {
        let (addr, mut seen) = axum_split_server().await;
        let sent = python_sends_until_closed(common::url(addr)).await;
        assert_all_read(sent, &mut seen, &format!("axum split, round {round}")).await;
    }
}

/// A peer that never answers our close: the read side ends with
/// `CloseTimeout` after `close_timeout`, whichever way the socket is held.
mod peer_never_replies {
    use hyperws::Role;
    use hyperws::{Error, WebSocket};
    use tokio::time::Instant;

    use super::*;

    fn silent_peer() -> (WebSocket<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
        let (io, peer) = tokio::io::duplex(1 << 16);
        (WebSocket::from_raw_socket(io, Role::Server, &Config::default()), peer)
    }

    /// Reads to the end; returns the last item before `None` and when it came.
    async fn last_item<E>(mut read: impl Stream<Item = Result<Message, E>> + Unpin) -> (Option<E>, Instant) {
        let mut last = None;
        while let Some(item) = timeout(PATIENCE * 2, read.next()).await.expect("bounded") {
            last = item.err();
        }
        (last, Instant::now())
    }

    fn assert_timed_out(last: Option<&Error>, elapsed: Duration) {
        assert!(matches!(last, Some(Error::CloseTimeout)), "got {last:?}");
        let limit = Config::default().close_timeout();
        assert!(
            elapsed >= limit && elapsed < limit + Duration::from_secs(1),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn futures_split() {
        let (ws, _peer) = silent_peer();
        let (mut sender, receiver) = ws.split();
        let start = Instant::now();
        sender.close().await.unwrap();
        let (last, at) = last_item(receiver).await;
        assert_timed_out(last.as_ref(), at - start);
    }

    #[tokio::test(start_paused = true)]
    async fn into_split() {
        let (ws, _peer) = silent_peer();
        let (reader, mut writer) = ws.into_split();
        let start = Instant::now();
        writer.close(None).await.unwrap();
        let (last, at) = last_item(reader).await;
        assert_timed_out(last.as_ref(), at - start);
    }

    #[tokio::test(start_paused = true)]
    async fn the_whole_socket_waiting_in_close() {
        let (mut ws, _peer) = silent_peer();
        let start = Instant::now();
        let frame = CloseFrame::from_code(CloseCode::NORMAL);
        let result = timeout(PATIENCE * 2, ws.close(Some(frame))).await.expect("bounded");
        assert_timed_out(result.err().as_ref(), start.elapsed());
    }
}

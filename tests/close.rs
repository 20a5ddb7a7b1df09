//! The closing handshake in both directions, and its timeout.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use hyperws::Role;
use hyperws::{CloseCode, CloseFrame, Config, Error, Message, WebSocket};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::CloseCode as TCode;
use tungstenite::protocol::CloseFrame as TFrame;
use tungstenite::Message as T;

#[tokio::test]
async fn a_client_close_is_delivered_echoed_and_ends_the_stream() {
    let (addr, mut seen) = common::serve_recording(Config::default()).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    let bye = TFrame {
        code: TCode::from(4001),
        reason: "done here".into(),
    };
    client.close(Some(bye)).await.unwrap();
    // The server echoes the code, then closes TCP: the client's stream ends.
    match client.next().await.unwrap().unwrap() {
        T::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4001),
        other => panic!("expected the close echo, got {other:?}"),
    }
    assert!(client.next().await.is_none());

    let expected = CloseFrame {
        code: CloseCode::from(4001),
        reason: "done here".into(),
    };
    assert_eq!(
        seen.recv().await.unwrap().unwrap().unwrap(),
        Message::Close(Some(expected))
    );
    assert!(seen.recv().await.unwrap().is_none(), "the stream ends after the close");
}

#[tokio::test]
async fn nothing_can_be_sent_after_the_peers_close() {
    let (io, peer) = tokio::io::duplex(1 << 16);
    let mut server = WebSocket::from_raw_socket(io, Role::Server, &Config::default());
    let mut client = WebSocket::from_raw_socket(peer, Role::Client, &Config::default());
    client.send(Message::Close(None)).await.unwrap();
    assert_eq!(server.recv().await.unwrap().unwrap(), Message::Close(None));
    let too_late = server.send(Message::text("too late")).await.unwrap_err();
    assert!(too_late.is_closed() && too_late.is_caller_fault() && !too_late.is_peer_fault());
    assert!(server.recv().await.is_none());
}

#[tokio::test]
async fn a_server_close_reaches_the_client_with_its_code_and_reason() {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let addr = common::serve(Config::default(), move |mut ws| {
        let done_tx = done_tx.clone();
        async move {
            let frame = CloseFrame {
                code: CloseCode::AWAY,
                reason: "shutting down".into(),
            };
            done_tx.send(ws.close(Some(frame)).await).unwrap();
        }
    })
    .await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    match client.next().await.unwrap().unwrap() {
        T::Close(Some(frame)) => {
            assert_eq!(frame.code, TCode::Away);
            assert_eq!(frame.reason.as_str(), "shutting down");
        }
        other => panic!("expected a close, got {other:?}"),
    }
    // tungstenite writes its queued reply when it is next polled; then the
    // server, having its answer, closes TCP and its close() completes cleanly.
    assert!(client.next().await.is_none());
    let closed = done_rx.recv().await.unwrap();
    assert!(closed.is_ok(), "{closed:?}");
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_close_times_out_and_drops_the_transport() {
    let (io, mut peer) = tokio::io::duplex(1 << 16);
    let config = Config::builder().close_timeout(Duration::from_secs(3)).build().unwrap();
    let mut ws = WebSocket::from_raw_socket(io, Role::Server, &config);
    let started = tokio::time::Instant::now();
    // The peer never answers (it reads nothing and writes nothing).
    let result = ws.close(None).await;
    assert!(matches!(result, Err(Error::CloseTimeout)), "{result:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    // Our close frame went out, then the transport was shut down.
    let mut received = Vec::new();
    peer.read_to_end(&mut received).await.unwrap();
    assert_eq!(received, [0x88, 0x00]);
    assert!(ws.recv().await.is_none());
}

#[tokio::test]
async fn messages_that_arrive_after_our_close_are_still_delivered() {
    let (io, peer) = tokio::io::duplex(1 << 16);
    let mut server = WebSocket::from_raw_socket(io, Role::Server, &Config::default());
    let mut client = WebSocket::from_raw_socket(peer, Role::Client, &Config::default());
    server
        .send(Message::Close(Some(CloseFrame::from_code(CloseCode::NORMAL))))
        .await
        .unwrap();
    client.send(Message::text("in flight")).await.unwrap();
    let client_side = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(message) = client.recv().await {
            seen.push(message.unwrap());
        }
        seen
    });
    assert_eq!(server.recv().await.unwrap().unwrap(), Message::text("in flight"));
    assert_eq!(
        server.recv().await.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::from_code(CloseCode::NORMAL)))
    );
    assert!(server.recv().await.is_none());
    assert_eq!(
        client_side.await.unwrap(),
        [Message::Close(Some(CloseFrame::from_code(CloseCode::NORMAL)))]
    );
}

#[tokio::test]
async fn a_peer_that_vanishes_is_an_abnormal_closure() {
    let (io, peer) = tokio::io::duplex(1 << 16);
    let mut server = WebSocket::from_raw_socket(io, Role::Server, &Config::default());
    drop(peer);
    assert!(matches!(server.recv().await, Some(Err(Error::AbnormalClosure))));
    assert!(server.recv().await.is_none());
}

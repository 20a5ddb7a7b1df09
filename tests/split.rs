//! A split socket reads in one task and writes in another.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyperws::{Config, Message};
use tokio_tungstenite::connect_async;
use tungstenite::Message as T;

#[tokio::test]
async fn reader_and_writer_halves_work_from_two_tasks() {
    let addr = common::serve(Config::default(), |ws| async move {
        let (mut reader, mut writer) = ws.into_split();
        // A writer task that ticks on its own while the reader waits for input.
        let ticker = tokio::spawn(async move {
            for i in 0..3 {
                writer.send(Message::text(format!("tick {i}"))).await.unwrap();
            }
            writer.send(Message::text("ticks done")).await.unwrap();
            writer
        });
        let mut seen = Vec::new();
        while let Some(Ok(message)) = reader.next().await {
            if let Message::Text(text) = message {
                seen.push(text.to_string());
                if seen.len() == 2 {
                    break;
                }
            }
        }
        let mut writer = ticker.await.unwrap();
        writer
            .send(Message::text(format!("reader saw {}", seen.join("+"))))
            .await
            .unwrap();
        writer.close(None).await.unwrap();
        // The reader half sees the peer's answer to our close, then the end.
        assert!(matches!(reader.recv().await, Some(Ok(Message::Close(_)))));
        assert!(reader.recv().await.is_none());
    })
    .await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    client.send(T::text("a")).await.unwrap();
    client.send(T::text("b")).await.unwrap();
    let mut received = Vec::new();
    while let Some(Ok(message)) = client.next().await {
        match message {
            T::Text(text) => received.push(text.to_string()),
            T::Close(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(received, ["tick 0", "tick 1", "tick 2", "ticks done", "reader saw a+b"]);
}

#[tokio::test]
async fn the_reader_answers_pings_while_the_writer_is_idle() {
    let addr = common::serve(Config::default(), |ws| async move {
        let (mut reader, _writer) = ws.into_split();
        while reader.recv().await.is_some() {}
    })
    .await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    client.send(T::Ping(b"split".to_vec().into())).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::Pong(b"split".to_vec().into()));
}

#[tokio::test]
async fn a_blocked_writer_is_woken_even_after_the_reader_gives_up_a_recv() {
    use std::pin::pin;

    use futures_util::poll;
    use hyperws::Role;
    use hyperws::WebSocket;
    use tokio::io::AsyncReadExt;

    let (io, mut peer) = tokio::io::duplex(64);
    let config = Config::builder()
        .write_buffer_size(0)
        .max_write_buffer_size(0)
        .build()
        .unwrap();
    let (mut reader, mut writer) = WebSocket::from_raw_socket(io, Role::Server, &config).into_split();
    // The writer fills the pipe and waits for the peer to read.
    let blocked_writer = tokio::spawn(async move {
        for _ in 0..4 {
            writer.send(Message::binary(vec![7u8; 1000])).await.unwrap();
        }
    });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(
        !blocked_writer.is_finished(),
        "the 64-byte pipe should hold the writer back"
    );
    // The reader also tries to write out the queue, then is cancelled: the
    // transport's last write waker now belongs to a recv that no longer exists.
    {
        let mut recv = pin!(reader.recv());
        assert!(poll!(&mut recv).is_pending());
    }
    // The peer starts reading; the writer must be woken and finish.
    let drain = tokio::spawn(async move {
        let mut sink = vec![0; 8192];
        let mut total = 0;
        while total < 4 * 1004 {
            total += peer.read(&mut sink).await.unwrap();
        }
        total
    });
    tokio::time::timeout(Duration::from_secs(10), blocked_writer)
        .await
        .expect("writer was never woken")
        .unwrap();
    assert_eq!(drain.await.unwrap(), 4 * 1004);
}

/// What the handshake agreed is the same whichever half asks.
#[tokio::test]
async fn both_halves_know_what_was_agreed() {
    let deflating = Config::builder()
        .deflate(hyperws::DeflateConfig::default())
        .build()
        .unwrap();
    let server = hyperws::ServerConfig::builder()
        .socket(deflating.clone())
        .protocols(["chat"])
        .build()
        .unwrap();
    let addr = common::serve(server, common::echo).await;
    let (ws, _) = hyperws::ClientBuilder::new(common::url(addr))
        .protocols(["chat"])
        .config(deflating)
        .connect()
        .await
        .unwrap();
    let (agreed_protocol, agreed_deflate) = (ws.protocol().cloned(), ws.deflate());
    assert_eq!(agreed_protocol.as_ref().map(|p| p.to_str().unwrap()), Some("chat"));
    assert!(agreed_deflate.is_some());
    let (reader, mut writer) = ws.into_split();
    for (protocol, deflate) in [
        (reader.protocol(), reader.deflate()),
        (writer.protocol(), writer.deflate()),
    ] {
        assert_eq!(protocol, agreed_protocol.as_ref());
        assert_eq!(deflate, agreed_deflate);
    }
    writer.feed(Message::text("queued")).await.unwrap();
    assert!(writer.buffered_amount() > 0);
    assert_eq!(reader.buffered_amount(), writer.buffered_amount());
    writer.flush().await.unwrap();
    assert_eq!(reader.buffered_amount(), 0);
}

#[tokio::test]
async fn halves_of_one_socket_reunite_and_work_whole() {
    use futures_util::stream::FusedStream;

    let addr = common::serve(Config::default(), common::echo).await;
    let (ws, _) = hyperws::connect(common::url(addr)).await.unwrap();
    let (reader, mut writer) = ws.into_split();
    writer.send(Message::text("before")).await.unwrap();
    let mut ws = reader.reunite(writer).expect("halves of one socket");
    // Whole again: the transport is reachable, for its settings.
    ws.get_mut()
        .tcp_stream()
        .expect("a TCP client")
        .set_nodelay(true)
        .unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("before"));
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("after"));

    // Halves of two sockets are refused, and given back unharmed.
    let (other, _) = hyperws::connect(common::url(addr)).await.unwrap();
    let (reader, writer) = ws.into_split();
    let (_other_reader, other_writer) = other.into_split();
    let hyperws::ReuniteError(reader, _other_writer) = reader.reunite(other_writer).unwrap_err();
    let (mut reader, mut writer) = reader.reunite(writer).expect("its own writer").into_split();
    writer.send(Message::text("still whole")).await.unwrap();
    assert_eq!(reader.recv().await.unwrap().unwrap(), Message::text("still whole"));
    // The reader is a `FusedStream`: terminated once it has ended.
    writer.close(None).await.unwrap();
    assert!(!reader.is_terminated());
    assert!(matches!(reader.recv().await, Some(Ok(Message::Close(_)))));
    assert!(reader.recv().await.is_none());
    assert!(reader.is_terminated());
}

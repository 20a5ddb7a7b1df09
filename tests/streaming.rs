//! Messages streamed through real sockets: larger than every whole-message
//! limit, read and written as they move, with tokio-tungstenite (which
//! gathers whole messages) and our own client as peers; giving up on either
//! side; the heartbeat while a message streams.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyperws::{Config, Error, Message, MessageKind, Received, WebSocket};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::Message as T;

/// Deterministic bytes that show any reordering or loss.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Reads a message to its end as pieces; returns (bytes, pieces).
async fn read_pieces<IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    reader: &mut hyperws::MessageReader<'_, IO>,
) -> Result<(Vec<u8>, usize), Error> {
    let (mut bytes, mut pieces) = (Vec::new(), 0);
    while let Some(piece) = reader.next_piece().await {
        bytes.extend_from_slice(&piece?);
        pieces += 1;
    }
    Ok((bytes, pieces))
}

#[tokio::test]
async fn a_message_past_every_whole_message_limit_streams_in_from_tungstenite() {
    let len = 100 << 20; // one frame: over max_frame_size (16 MiB) and max_message_size (64 MiB)
    let addr = common::serve(Config::default(), |mut ws| async move {
        let Some(Ok(Received::Message(mut reader))) = ws.recv_streaming().await else {
            panic!("expected a message")
        };
        assert_eq!(reader.kind(), MessageKind::Binary);
        let (bytes, pieces) = read_pieces(&mut reader).await.unwrap();
        drop(reader);
        let intact = bytes == pattern(100 << 20);
        ws.send(Message::text(format!("{} {pieces} {intact}", bytes.len())))
            .await
            .unwrap();
        let _ = ws.close(None).await;
    })
    .await;
    let (mut peer, _) = connect_async(format!("ws://{addr}/")).await.unwrap();
    peer.send(T::binary(pattern(len))).await.unwrap();
    let Some(Ok(T::Text(reply))) = peer.next().await else {
        panic!()
    };
    let [size, pieces, intact]: [&str; 3] = reply.split(' ').collect::<Vec<_>>().try_into().unwrap();
    assert_eq!((size, intact), ("104857600", "true"));
    assert!(
        pieces.parse::<usize>().unwrap() > 100,
        "handed on as it arrived: {pieces} pieces"
    );
}

#[tokio::test]
async fn tungstenite_receives_a_message_we_stream_from_an_async_reader() {
    let len = 40 << 20;
    let addr = common::serve(Config::default(), move |mut ws| async move {
        let data = pattern(len);
        let mut writer = ws.send_streaming(MessageKind::Binary).unwrap();
        tokio::io::copy(&mut &data[..], &mut writer).await.unwrap();
        writer.finish().await.unwrap();
        ws.send(Message::text("after")).await.unwrap();
        let _ = ws.close(None).await;
    })
    .await;
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
    let (mut peer, _) = tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), Some(config), false)
        .await
        .unwrap();
    let Some(Ok(T::Binary(data))) = peer.next().await else {
        panic!()
    };
    assert!(data == pattern(len), "the message arrived whole and intact");
    assert_eq!(peer.next().await.unwrap().unwrap(), T::text("after"));
}

#[tokio::test]
async fn a_reader_dropped_part_way_leaves_the_next_message_readable() {
    let addr = common::serve(Config::default(), |mut ws| async move {
        let Some(Ok(Received::Message(mut reader))) = ws.recv_streaming().await else {
            panic!()
        };
        let mut first = [0; 10];
        reader.read_exact(&mut first).await.unwrap();
        drop(reader); // the other ~8 MiB are dropped as they arrive
        let next = ws.recv().await.unwrap().unwrap();
        ws.send(Message::text(format!("{first:?} then {next:?}")))
            .await
            .unwrap();
        let _ = ws.close(None).await;
    })
    .await;
    let (mut peer, _) = connect_async(format!("ws://{addr}/")).await.unwrap();
    peer.send(T::binary(pattern(8 << 20))).await.unwrap();
    peer.send(T::text("next")).await.unwrap();
    let Some(Ok(T::Text(reply))) = peer.next().await else {
        panic!()
    };
    assert_eq!(
        reply.as_str(),
        format!("{:?} then {:?}", &pattern(10)[..], Message::text("next"))
    );
}

#[tokio::test]
async fn a_writer_dropped_after_a_fragment_closes_with_1011_and_nothing_whole_arrives() {
    let addr = common::serve(Config::default(), |mut ws| async move {
        let mut writer = ws.send_streaming(MessageKind::Text).unwrap();
        writer.write_all(b"the start of a message").await.unwrap();
        writer.flush().await.unwrap(); // a first fragment left
        drop(writer);
        while ws.recv().await.is_some() {}
    })
    .await;
    let (mut peer, _) = connect_async(format!("ws://{addr}/")).await.unwrap();
    let received = tokio::time::timeout(Duration::from_secs(5), peer.next()).await.unwrap();
    let Some(Ok(T::Close(Some(frame)))) = received else {
        panic!("{received:?}")
    };
    assert_eq!(u16::from(frame.code), 1011);
}

#[tokio::test]
async fn split_halves_stream_both_ways_at_once_compressed() {
    let config = Config::builder()
        .deflate(hyperws::DeflateConfig::default())
        .build()
        .unwrap();
    let addr = common::serve(config.clone(), |ws| async move {
        // Echoes one message piece by piece while it is still arriving.
        let (mut reader, mut writer) = ws.into_split();
        let Some(Ok(Received::Message(mut incoming))) = reader.recv_streaming().await else {
            panic!()
        };
        let mut outgoing = writer.send_streaming(incoming.kind()).unwrap();
        while let Some(piece) = incoming.next_piece().await {
            outgoing.write_all(&piece.unwrap()).await.unwrap();
            outgoing.flush().await.unwrap();
        }
        outgoing.finish().await.unwrap();
        drop(incoming);
        while reader.recv().await.is_some() {}
    })
    .await;
    let client = hyperws::ClientBuilder::new(format!("ws://{addr}/")).config(config);
    let (ws, _) = client.connect().await.unwrap();
    assert!(ws.deflate().is_some());
    let (mut reader, mut writer) = ws.into_split();
    let len = 24 << 20;
    let sending = tokio::spawn(async move {
        let mut message = writer.send_streaming(MessageKind::Binary).unwrap();
        for chunk in pattern(len).chunks(1 << 20) {
            message.write_all(chunk).await.unwrap();
        }
        message.finish().await.unwrap();
        writer
    });
    let Some(Ok(Received::Message(mut echo))) = reader.recv_streaming().await else {
        panic!()
    };
    let (bytes, pieces) = read_pieces(&mut echo).await.unwrap();
    drop(echo);
    let mut writer = sending.await.unwrap();
    assert!(bytes == pattern(len), "{} bytes came back", bytes.len());
    assert!(pieces > 24, "came back while it was being sent: {pieces} pieces");
    writer.close(None).await.unwrap();
}

/// A client over an in-memory pipe that streams a message with a long
/// stall in the middle, answering pings meanwhile (or not).
async fn stall_mid_message(answer_pings: bool) -> (Result<Vec<u8>, Error>, usize) {
    let config = Config::builder()
        .heartbeat(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .unwrap();
    let (mut server, client) = hyperws::testing::pair(&config);
    let (mut client_reader, mut client_writer) = client.into_split();
    let pings = tokio::spawn(async move {
        let mut pings = 0;
        if !answer_pings {
            return pings; // the reader half is dropped: nothing answers
        }
        loop {
            match client_reader.recv().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(_)) => {}
                _ => return pings,
            }
        }
    });
    tokio::spawn(async move {
        let mut message = client_writer.send_streaming(MessageKind::Binary).unwrap();
        message.write_all(b"before the stall, ").await.unwrap();
        message.flush().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        message.write_all(b"after it").await.unwrap();
        let _ = message.finish().await;
        std::future::pending::<()>().await; // keep the socket open
    });
    let Some(Ok(Received::Message(mut reader))) = server.recv_streaming().await else {
        panic!()
    };
    let received = read_pieces(&mut reader).await.map(|(bytes, _)| bytes);
    drop(reader);
    drop(server);
    (received, pings.await.unwrap())
}

#[tokio::test(start_paused = true)]
async fn the_heartbeat_keeps_a_slow_message_alive_and_drops_a_dead_peer() {
    let (received, pings) = stall_mid_message(true).await;
    assert_eq!(received.unwrap(), b"before the stall, after it");
    assert!(pings >= 4, "pinged through a 10 s stall: {pings}");
    let (received, _) = stall_mid_message(false).await;
    assert!(matches!(received, Err(Error::HeartbeatTimeout)), "{received:?}");
}

#[tokio::test]
async fn a_peer_that_closes_mid_message_fails_the_reader() {
    let (mut server, client) = hyperws::testing::pair(&Config::default());
    let mut client: WebSocket<_> = client;
    let mut writer = client.send_streaming(MessageKind::Binary).unwrap();
    writer.write_all(&[1; 1000]).await.unwrap();
    writer.flush().await.unwrap();
    std::mem::forget(writer); // neither finished nor abandoned: the close cuts it
    client.send(Message::Close(None)).await.unwrap();
    let Some(Ok(Received::Message(mut reader))) = server.recv_streaming().await else {
        panic!()
    };
    let mut bytes = Vec::new();
    let failed = reader.read_to_end(&mut bytes).await.unwrap_err();
    assert_eq!(bytes.len(), 1000);
    let inner = failed.get_ref().and_then(|e| e.downcast_ref::<Error>());
    assert!(matches!(inner, Some(Error::MessageUnfinished)), "{failed:?}");
    let _ = client.flush().await;
}

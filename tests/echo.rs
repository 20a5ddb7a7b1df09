//! Messages of every shape come back unchanged from the echo server,
//! with tokio-tungstenite as the client.

mod common;

use futures_util::{SinkExt, StreamExt};
use hyperws::Config;
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::Message as T;

#[tokio::test]
async fn text_and_binary_are_echoed() {
    let addr = common::serve(Config::default(), common::echo).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    client.send(T::text("héllo wörld")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text("héllo wörld"));
    client.send(T::binary(vec![0u8, 1, 2, 255])).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::binary(vec![0u8, 1, 2, 255]));
    client.send(T::text("")).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), T::text(""));
}

#[tokio::test]
async fn a_fragmented_message_is_echoed_whole() {
    let addr = common::serve(Config::default(), common::echo).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    let whole = "κόσμε fragmented";
    let bytes = whole.as_bytes();
    // Cut inside the two-byte "κ" to check text is validated across fragments.
    let pieces = [&bytes[..1], &bytes[1..7], &bytes[7..]];
    for (i, piece) in pieces.iter().enumerate() {
        let opcode = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(piece.to_vec(), opcode, i == pieces.len() - 1);
        client.send(T::Frame(frame)).await.unwrap();
    }
    client.send(T::Ping(b"between".to_vec().into())).await.unwrap();
    let mut replies = Vec::new();
    while replies.len() < 2 {
        replies.push(client.next().await.unwrap().unwrap());
    }
    assert!(replies.contains(&T::text(whole)), "{replies:?}");
    assert!(replies.contains(&T::Pong(b"between".to_vec().into())), "{replies:?}");
}

#[tokio::test]
async fn a_16_mib_message_is_echoed() {
    let addr = common::serve(Config::default(), common::echo).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    let big: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    client.send(T::binary(big.clone())).await.unwrap();
    match client.next().await.unwrap().unwrap() {
        T::Binary(echoed) => assert!(echoed[..] == big[..], "16 MiB payload differs"),
        other => panic!("expected binary, got {other:?}"),
    }
}

#[tokio::test]
async fn many_messages_in_flight_come_back_in_order() {
    let addr = common::serve(Config::default(), common::echo).await;
    let (client, _) = connect_async(common::url(addr)).await.unwrap();
    let (mut sink, mut stream) = client.split();
    let sender = tokio::spawn(async move {
        for i in 0..2000 {
            sink.feed(T::text(i.to_string())).await.unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });
    for i in 0..2000 {
        assert_eq!(stream.next().await.unwrap().unwrap(), T::text(i.to_string()));
    }
    drop(sender.await.unwrap());
}

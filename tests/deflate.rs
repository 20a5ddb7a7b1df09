//! permessage-deflate end to end: the hyperws client against a hyperws
//! server, each side with and without compression, and what a raw peer sees
//! on the wire.
#![cfg(feature = "deflate")]

mod common;

use std::time::Duration;

use hyperws::{ClientBuilder, CloseCode, Config, DeflateConfig, DeflateParams, Error, Message, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn deflating(deflate: DeflateConfig) -> Config {
    Config::builder().deflate(deflate).build().unwrap()
}

async fn connect(addr: std::net::SocketAddr, config: Config) -> hyperws::WebSocket<hyperws::ClientStream> {
    ClientBuilder::new(common::url(addr))
        .config(config)
        .connect()
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn client_and_server_agree_and_messages_round_trip() {
    let addr = common::serve(deflating(DeflateConfig::default()), common::echo).await;
    let mut ws = connect(addr, deflating(DeflateConfig::default().threshold(0))).await;
    let expected = DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    assert_eq!(ws.deflate(), Some(expected));
    for message in [
        Message::text(""),
        Message::text("κόσμε ".repeat(10_000)),
        Message::binary(vec![7; 200_000]),
        Message::text("short"),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), message);
    }
}

#[tokio::test]
async fn either_side_without_compression_means_none() {
    let plain = common::serve(Config::default(), common::echo).await;
    let mut ws = connect(plain, deflating(DeflateConfig::default())).await;
    assert_eq!(ws.deflate(), None);
    ws.send(common::text(&"x".repeat(500))).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), common::text(&"x".repeat(500)));

    let compressing = common::serve(deflating(DeflateConfig::default()), common::echo).await;
    let mut ws = connect(compressing, Config::default()).await;
    assert_eq!(ws.deflate(), None);
    ws.send(common::text(&"y".repeat(500))).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), common::text(&"y".repeat(500)));
}

/// Reads one unmasked server frame: (first byte, payload).
async fn read_frame(tcp: &mut tokio::net::TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0; 2];
    tcp.read_exact(&mut head).await.unwrap();
    let len = match head[1] & 0x7f {
        126 => usize::from(tcp.read_u16().await.unwrap()),
        127 => tcp.read_u64().await.unwrap() as usize,
        n => usize::from(n),
    };
    let mut payload = vec![0; len];
    tcp.read_exact(&mut payload).await.unwrap();
    (head[0], payload)
}

#[tokio::test]
async fn a_bomb_through_a_real_socket_gets_1009_and_an_error() {
    let config = Config::builder()
        .max_message_size(64 << 10)
        .deflate(DeflateConfig::default())
        .build()
        .unwrap();
    let (addr, mut recording) = common::serve_recording(config).await;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                   Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        response.push(tcp.read_u8().await.unwrap());
    }
    let response = String::from_utf8(response).unwrap().to_ascii_lowercase();
    assert!(
        response.contains("sec-websocket-extensions: permessage-deflate"),
        "{response}"
    );
    // 1 MiB of zeros, raw DEFLATE, sync-flushed, tail cut: about 1 KiB.
    let mut stream = flate2::Compress::new(flate2::Compression::best(), false);
    let mut bomb = Vec::with_capacity(4 << 10);
    stream
        .compress_vec(&vec![0; 1 << 20], &mut bomb, flate2::FlushCompress::Sync)
        .unwrap();
    bomb.truncate(bomb.len() - 4);
    let mut frame = vec![0xc2, 0xfe]; // FIN, RSV1, binary; masked, 16-bit length
    frame.extend_from_slice(&(bomb.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0; 4]); // mask key 0: the payload as is
    frame.extend_from_slice(&bomb);
    tcp.write_all(&frame).await.unwrap();
    let (first, payload) = read_frame(&mut tcp).await;
    assert_eq!(first, 0x88, "a close frame, uncompressed");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), u16::from(CloseCode::SIZE));
    tcp.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xf1]).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), recording.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(ended, Some(Err(Error::Protocol(ProtocolError::MessageTooLarge { .. })))),
        "{ended:?}"
    );
}

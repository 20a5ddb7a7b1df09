//! `examples/upload.rs` as a process: a file streamed up in fragments
//! (compressed, by our client) comes back hashed and stored, and streams
//! down whole to tokio-tungstenite; bad names, missing files and a text
//! message are refused as documented.
//!
//! `cargo test` builds the examples before it runs this file.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::process::start_example;
use futures_util::StreamExt;
use hyperws::{ClientBuilder, CloseCode, Config, DeflateConfig, Message, MessageKind};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::Message as T;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ (i >> 12) as u8).collect()
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hyperws-upload-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn hex_sha256(data: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(data).iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// The status line the server answers an upgrade request for `path` with.
async fn status_of(addr: SocketAddr, path: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0; 256];
    let n = tcp.read(&mut head).await.unwrap();
    String::from_utf8_lossy(&head[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn a_file_streams_up_compressed_and_back_down_whole() {
    let dir = temp_dir("roundtrip");
    let (_server, addr) = start_example("upload", &[dir.to_str().unwrap()]);
    let data = pattern(48 << 20);
    let config = Config::builder().deflate(DeflateConfig::default()).build().unwrap();
    let client = ClientBuilder::new(format!("ws://{addr}/upload/data.bin")).config(config);
    let (mut ws, _) = client.connect().await.unwrap();
    assert!(ws.deflate().is_some(), "the example accepts permessage-deflate");
    let mut writer = ws.send_streaming(MessageKind::Binary).unwrap();
    for chunk in data.chunks(1 << 20) {
        writer.write_all(chunk).await.unwrap();
    }
    writer.finish().await.unwrap();
    let reply = ws.recv().await.unwrap().unwrap();
    assert_eq!(reply, Message::text(format!("ok {} {}", data.len(), hex_sha256(&data))));
    let Some(Ok(Message::Close(Some(frame)))) = ws.recv().await else {
        panic!("a close")
    };
    assert_eq!(frame.code, CloseCode::NORMAL);
    assert!(std::fs::read(dir.join("data.bin")).unwrap() == data, "stored intact");

    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
    let url = format!("ws://{addr}/download/data.bin");
    let (mut peer, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .unwrap();
    let Some(Ok(T::Binary(down))) = peer.next().await else {
        panic!("the file")
    };
    assert!(down == data, "downloaded intact");
    let Some(Ok(T::Close(Some(frame)))) = peer.next().await else {
        panic!("a close")
    };
    assert_eq!(u16::from(frame.code), 1000);
    let files = reqwest_free_get(addr, "/files").await;
    assert!(
        files.contains(&format!("{{\"name\":\"data.bin\",\"size\":{}}}", data.len())),
        "{files}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plain GET's body (the example's JSON list).
async fn reqwest_free_get(addr: SocketAddr, path: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn bad_names_missing_files_and_text_are_refused() {
    let dir = temp_dir("refusals");
    let (_server, addr) = start_example("upload", &[dir.to_str().unwrap()]);
    for name in [".hidden", "..", "a%20b", "caf%C3%A9"] {
        let status = status_of(addr, &format!("/upload/{name}")).await;
        assert!(status.contains(" 400 "), "{name}: {status}");
    }
    assert!(status_of(addr, "/download/nothing.txt").await.contains(" 404 "));
    let (mut ws, _) = hyperws::connect(format!("ws://{addr}/upload/notes.txt")).await.unwrap();
    ws.send(Message::text("not a file")).await.unwrap();
    let Some(Ok(Message::Close(Some(frame)))) = ws.recv().await else {
        panic!("a close")
    };
    assert_eq!(frame.code, CloseCode::UNSUPPORTED);
    assert!(!dir.join("notes.txt").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

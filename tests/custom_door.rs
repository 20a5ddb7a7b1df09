//! A door built from the public handshake API alone (`examples/custom_door.rs`,
//! run as a process) gets what the built-in doors get: the subprotocol
//! and permessage-deflate, negotiated and in force. `scripts/autobahn` runs
//! the whole suite, compression included, through it.

#![cfg(feature = "deflate")]

mod common;

use std::time::Duration;

use common::process::start_example;
use futures_util::{SinkExt, StreamExt};
use hyperws::{ClientBuilder, Config, DeflateConfig, Message};
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_custom_door_agrees_a_subprotocol_and_compression() {
    let (_door, addr) = start_example("custom_door", &[]);
    let config = Config::builder().deflate(DeflateConfig::default()).build().unwrap();
    let (mut ws, response) = ClientBuilder::new(format!("ws://{addr}/"))
        .protocols(["echo"])
        .config(config)
        .connect()
        .await
        .unwrap();
    assert_eq!(ws.protocol().map(|p| p.to_str().unwrap()), Some("echo"));
    assert!(ws.deflate().is_some(), "{:?}", response.headers());
    let long = Message::text("compress me ".repeat(10_000));
    ws.send(long.clone()).await.unwrap();
    assert_eq!(timeout(PATIENCE, ws.recv()).await.unwrap().unwrap().unwrap(), long);
}

#[tokio::test]
async fn a_custom_door_serves_a_peer_nobody_here_wrote() {
    use tungstenite::Message as T;
    let (_door, addr) = start_example("custom_door", &[]);
    let (mut client, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
    for message in [T::text("κόσμε"), T::binary(vec![1u8, 2, 3])] {
        client.send(message.clone()).await.unwrap();
        assert_eq!(
            timeout(PATIENCE, client.next()).await.unwrap().unwrap().unwrap(),
            message
        );
    }
}

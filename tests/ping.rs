//! Pings are answered by the library, while the application only reads.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyperws::{Config, Message};
use tokio_tungstenite::connect_async;
use tungstenite::Message as T;

#[tokio::test]
async fn a_ping_is_answered_while_the_handler_only_receives() {
    // The recording handler never sends: any pong must come from the library.
    let (addr, mut seen) = common::serve_recording(Config::default()).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    client.send(T::Ping(b"are you there".to_vec().into())).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), client.next())
        .await
        .unwrap();
    assert_eq!(answer.unwrap().unwrap(), T::Pong(b"are you there".to_vec().into()));
    // The application is shown the ping too.
    let shown = seen.recv().await.unwrap().unwrap().unwrap();
    assert_eq!(shown, Message::Ping(b"are you there".to_vec().into()));
}

#[tokio::test]
async fn every_ping_of_a_burst_gets_its_own_pong() {
    let addr = common::serve(Config::default(), common::echo).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    for i in 0..10u8 {
        client.feed(T::Ping(vec![i].into())).await.unwrap();
    }
    client.flush().await.unwrap();
    for i in 0..10u8 {
        assert_eq!(client.next().await.unwrap().unwrap(), T::Pong(vec![i].into()));
    }
}

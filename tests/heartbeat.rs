//! Keepalive pings, dead-peer detection and the idle timeout, on tokio's
//! paused clock: no test here waits for real time.

use std::time::Duration;

use hyperws::Role;
use hyperws::{CloseCode, Config, Error, Message, WebSocket};
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(10);

fn server(config: &Config) -> (WebSocket<DuplexStream>, DuplexStream) {
    let (io, peer) = tokio::io::duplex(1 << 16);
    (WebSocket::from_raw_socket(io, Role::Server, config), peer)
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_vanishes_is_declared_dead() {
    let (mut ws, mut peer) = server(&Config::builder().heartbeat(INTERVAL, TIMEOUT).build().unwrap());
    let started = Instant::now();
    // The peer keeps its end open but never reads or writes.
    let result = ws.recv().await;
    assert!(matches!(result, Some(Err(Error::HeartbeatTimeout))), "{result:?}");
    assert_eq!(started.elapsed(), INTERVAL + TIMEOUT);
    assert!(ws.recv().await.is_none());
    // What reached the wire: one ping (payload: a counter), then nothing but
    // the end of the stream.
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    assert_eq!(wire, [0x89, 0x08, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_answers_pings_stays_connected_and_its_pongs_stay_internal() {
    let (mut ws, peer) = server(&Config::builder().heartbeat(INTERVAL, TIMEOUT).build().unwrap());
    let mut client = WebSocket::from_raw_socket(peer, Role::Client, &Config::builder().no_heartbeat().build().unwrap());
    // The client only reads, which answers every ping automatically.
    let pings_seen = tokio::spawn(async move {
        let mut pings = 0;
        while let Some(Ok(message)) = client.recv().await {
            if matches!(message, Message::Ping(_)) {
                pings += 1;
            }
        }
        pings
    });
    let ten_minutes = Duration::from_secs(600);
    let outcome = tokio::time::timeout(ten_minutes, ws.recv()).await;
    assert!(
        outcome.is_err(),
        "nothing reaches the application, no error: {outcome:?}"
    );
    ws.close(None).await.unwrap();
    assert_eq!(pings_seen.await.unwrap(), 20, "one ping per quiet 30 s in 10 minutes");
}

#[tokio::test(start_paused = true)]
async fn traffic_postpones_the_ping() {
    let (mut ws, peer) = server(&Config::builder().heartbeat(INTERVAL, TIMEOUT).build().unwrap());
    let mut client = WebSocket::from_raw_socket(peer, Role::Client, &Config::builder().no_heartbeat().build().unwrap());
    let chatter = tokio::spawn(async move {
        for _ in 0..10 {
            tokio::time::sleep(INTERVAL / 2).await;
            client.send(Message::text("still here")).await.unwrap();
        }
        // Only pings or a close could arrive; count the pings.
        let mut pings = 0;
        while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(1), client.recv()).await {
            pings += usize::from(matches!(message, Message::Ping(_)));
        }
        pings
    });
    for _ in 0..10 {
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("still here"));
    }
    assert_eq!(chatter.await.unwrap(), 0, "a peer that talks is never pinged");
}

#[tokio::test(start_paused = true)]
async fn a_split_reader_drives_the_heartbeat_and_the_writer_learns_why() {
    let (ws, _peer) = server(&Config::builder().heartbeat(INTERVAL, TIMEOUT).build().unwrap());
    let (mut reader, mut writer) = ws.into_split();
    assert!(matches!(reader.recv().await, Some(Err(Error::HeartbeatTimeout))));
    let late = writer.send(Message::text("anyone?")).await;
    assert!(matches!(late, Err(Error::HeartbeatTimeout)), "{late:?}");
}

#[tokio::test(start_paused = true)]
async fn a_writer_blocked_by_a_peer_that_never_reads_is_released_by_the_heartbeat() {
    let limit = 256 << 10;
    let config = Config::builder()
        .heartbeat(INTERVAL, TIMEOUT)
        .max_write_buffer_size(limit)
        .build()
        .unwrap();
    let (mut ws, _peer) = server(&config);
    let chunk = Message::binary(vec![7u8; 16 << 10]);
    let started = Instant::now();
    let mut largest_queue = 0;
    let error = loop {
        match ws.send(chunk.clone()).await {
            Ok(()) => largest_queue = largest_queue.max(ws.buffered_amount()),
            Err(e) => break e,
        }
    };
    assert!(matches!(error, Error::HeartbeatTimeout), "{error:?}");
    assert!(started.elapsed() <= INTERVAL + TIMEOUT);
    assert!(
        largest_queue <= limit + (16 << 10) + 14,
        "queue grew to {largest_queue}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_closed_with_1001() {
    let config = Config::builder()
        .no_heartbeat()
        .idle_timeout(Some(Duration::from_secs(60)))
        .build()
        .unwrap();
    let (mut ws, peer) = server(&config);
    let mut client = WebSocket::from_raw_socket(peer, Role::Client, &Config::builder().no_heartbeat().build().unwrap());
    let client_side = tokio::spawn(async move {
        client.send(Message::text("hello")).await.unwrap();
        let mut seen = Vec::new();
        while let Some(Ok(message)) = client.recv().await {
            seen.push(message);
        }
        seen
    });
    let started = Instant::now();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("hello"));
    assert!(matches!(ws.recv().await, Some(Err(Error::IdleTimeout))));
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(60),
        "counted from the last message"
    );
    assert!(ws.recv().await.is_none());
    match client_side.await.unwrap().as_slice() {
        [Message::Close(Some(frame))] => assert_eq!(frame.code, CloseCode::AWAY),
        other => panic!("expected one close, got {other:?}"),
    }
}

/// A socket first polled by one task and then handed to another still has
/// its heartbeat wake the task that now waits on it (the timer is not
/// asked again while nothing changed, so a change of task must count).
#[tokio::test(start_paused = true)]
async fn a_socket_moved_to_another_task_still_wakes_for_its_heartbeat() {
    let (mut ws, _peer) = server(&Config::builder().heartbeat(INTERVAL, TIMEOUT).build().unwrap());
    let started = Instant::now();
    // This task waits on the socket for a second, then gives up on it.
    assert!(tokio::time::timeout(Duration::from_secs(1), ws.recv()).await.is_err());
    let other = tokio::spawn(async move { ws.recv().await });
    let result = tokio::time::timeout(INTERVAL + TIMEOUT + Duration::from_secs(1), other)
        .await
        .expect("the task holding the socket was never woken by its heartbeat")
        .unwrap();
    assert!(matches!(result, Some(Err(Error::HeartbeatTimeout))), "{result:?}");
    assert_eq!(started.elapsed(), INTERVAL + TIMEOUT);
}

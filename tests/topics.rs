#![cfg(feature = "topics")]
//! Topics in one process: fan-out, leaving, and the slow-consumer policies
//! with a memory bound (paused clock, in-memory pipes).

use std::time::Duration;

use hyperws::topics::{Policy, SlowConsumer, Subscribe, SubscribeError, TopicEvent, Topics};
use hyperws::Role;
use hyperws::{CloseCode, Config, Message, WebSocket};
use tokio::io::DuplexStream;

const PIPE: usize = 16 << 10;

/// A server socket (whose task keeps polling it) and its client.
fn pair(config: &Config) -> (WebSocket<DuplexStream>, WebSocket<DuplexStream>) {
    let (server, client) = tokio::io::duplex(PIPE);
    (
        WebSocket::from_raw_socket(server, Role::Server, config),
        WebSocket::from_raw_socket(client, Role::Client, config),
    )
}

/// Polls a server socket until its peer closes, as a handler's loop does.
fn serve(mut ws: WebSocket<DuplexStream>) -> tokio::task::JoinHandle<Vec<TopicEvent>> {
    tokio::spawn(async move {
        let mut events = ws.topic_events();
        while let Some(Ok(_)) = ws.recv().await {}
        drop(ws);
        let mut seen = Vec::new();
        while let Some(event) = events.recv().await {
            seen.push(event);
        }
        seen
    })
}

async fn texts(client: &mut WebSocket<DuplexStream>, count: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < count {
        match client.recv().await {
            Some(Ok(Message::Text(text))) => got.push(text.to_string()),
            other => panic!("after {} messages: {other:?}", got.len()),
        }
    }
    got
}

#[tokio::test]
async fn every_subscriber_gets_every_publication_in_order() {
    let topics = Topics::new();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (mut server, client) = pair(&Config::default());
        server.subscribe(&topics, "news").unwrap();
        server.subscribe(&topics, "news").unwrap(); // twice is once
        serve(server);
        clients.push(client);
    }
    let (mut other, other_client) = pair(&Config::default());
    other.subscribe(&topics, "sport").unwrap();
    serve(other);
    assert_eq!(topics.local_subscribers("news"), 3);
    let sent: Vec<String> = (0..100).map(|i| format!("news {i}")).collect();
    for text in &sent {
        assert_eq!(topics.publish("news", Message::text(text.as_str())).unwrap(), 3);
    }
    for client in &mut clients {
        assert_eq!(texts(client, sent.len()).await, sent);
    }
    topics.publish("sport", Message::text("goal")).unwrap();
    let mut other_client = other_client;
    assert_eq!(texts(&mut other_client, 1).await, ["goal"]);
}

#[tokio::test]
async fn a_socket_that_ends_or_unsubscribes_leaves_at_once() {
    let topics = Topics::new();
    let (mut server, mut client) = pair(&Config::default());
    server.subscribe(&topics, "a").unwrap();
    server.subscribe(&topics, "b").unwrap();
    server.unsubscribe(&topics, "a");
    assert_eq!((topics.local_subscribers("a"), topics.local_subscribers("b")), (0, 1));
    let task = serve(server);
    client.close(None).await.unwrap();
    while client.recv().await.is_some() {}
    task.await.unwrap();
    assert_eq!(topics.local_subscribers("b"), 0, "the ended socket left");
    assert_eq!(topics.publish("b", Message::text("anyone?")).unwrap(), 0);
}

#[tokio::test]
async fn a_writer_half_subscribes_and_the_reader_loop_writes() {
    let topics = Topics::new();
    let (server, mut client) = pair(&Config::default());
    let (mut reader, mut writer) = server.into_split();
    writer.subscribe(&topics, "half").unwrap();
    tokio::spawn(async move { while let Some(Ok(_)) = reader.recv().await {} });
    topics.publish("half", Message::text("via the writer")).unwrap();
    assert_eq!(texts(&mut client, 1).await, ["via the writer"]);
    drop(writer);
}

#[test]
fn control_messages_cannot_be_published() {
    assert!(Topics::new().publish("t", Message::Ping(bytes::Bytes::new())).is_err());
}

/// A client that reads nothing while 1 000 publications of 1 KiB go out,
/// then reads what reached it. Returns the texts and the events the server
/// socket saw. What waited for it is bounded by the budget, the write
/// buffer and the pipe, whatever was published.
async fn slow_reader(policy: Policy) -> (Vec<String>, Vec<TopicEvent>, Option<CloseCode>) {
    slow_reader_with(policy, None).await
}

/// As `slow_reader`, the socket choosing its own policy if `own` says so.
async fn slow_reader_with(policy: Policy, own: Option<Policy>) -> (Vec<String>, Vec<TopicEvent>, Option<CloseCode>) {
    let budget = 32 << 10;
    let config = Config::builder().write_buffer_size(16 << 10).build().unwrap();
    let topics = Topics::builder()
        .slow_consumer(SlowConsumer::new(budget, policy).unwrap())
        .build()
        .unwrap();
    let (mut server, mut client) = pair(&config);
    // Asking for events first must not fix the socket's limits before it joins.
    drop(server.topic_events());
    if let Some(own) = own {
        server.set_slow_consumer(SlowConsumer::new(budget, own).unwrap());
    }
    server.subscribe(&topics, "firehose").unwrap();
    let task = serve(server);
    let filler = "x".repeat(1000);
    for i in 0..1000 {
        topics
            .publish("firehose", Message::text(format!("{i:04} {filler}")))
            .unwrap();
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut got = Vec::new();
    let mut close = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(1), client.recv()).await {
            Ok(Some(Ok(Message::Text(text)))) => got.push(text[..4].to_string()),
            Ok(Some(Ok(Message::Close(frame)))) => close = frame.map(|f| f.code),
            Ok(Some(Ok(_))) => {}
            Ok(None | Some(Err(_))) => break,
            Err(_) => {
                client.close(None).await.unwrap();
            }
        }
    }
    let events = task.await.unwrap();
    let bound = budget + (16 << 10) + PIPE;
    assert!(
        got.len() * 1007 <= bound + 1007,
        "{} messages waited: more than the bound",
        got.len()
    );
    (got, events, close)
}

fn missed(events: &[TopicEvent]) -> u64 {
    events
        .iter()
        .map(|e| match e {
            TopicEvent::Missed { topic, count } if &**topic == "firehose" => *count,
            other => panic!("unexpected {other:?}"),
        })
        .sum()
}

#[tokio::test(start_paused = true)]
async fn past_its_budget_a_slow_reader_is_disconnected_by_default() {
    let (got, events, close) = slow_reader(Policy::Disconnect(CloseCode::POLICY)).await;
    assert_eq!(close, Some(CloseCode::POLICY));
    assert!(got.len() < 1000 && events.is_empty());
}

#[tokio::test(start_paused = true)]
async fn drop_oldest_keeps_the_newest_and_counts_the_rest() {
    let (got, events, close) = slow_reader(Policy::DropOldest).await;
    assert_eq!(close, None);
    assert_eq!(got.last().map(String::as_str), Some("0999"), "the newest arrives");
    assert!(got.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(
        got.len() as u64 + missed(&events),
        1000,
        "each one arrived or was counted"
    );
}

#[tokio::test(start_paused = true)]
async fn a_socket_may_choose_its_own_policy() {
    let (_, events, close) = slow_reader_with(Policy::DropOldest, Some(Policy::Disconnect(CloseCode::AGAIN))).await;
    assert_eq!(close, Some(CloseCode::AGAIN));
    assert!(events.is_empty());
}

#[tokio::test(start_paused = true)]
async fn drop_newest_keeps_the_oldest_and_counts_the_rest() {
    let (got, events, close) = slow_reader(Policy::DropNewest).await;
    assert_eq!(close, None);
    let expected: Vec<String> = (0..got.len()).map(|i| format!("{i:04}")).collect();
    assert_eq!(got, expected, "the oldest, in order");
    assert_eq!(got.len() as u64 + missed(&events), 1000);
}

/// Publishers on several threads at once, subscribers that also publish
/// (as chat guests do): every subscriber gets every publication, each
/// publisher's in its order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishers_lose_nothing() {
    let topics = Topics::new();
    let (publishers, per_publisher) = (6, 200);
    let mut clients = Vec::new();
    for p in 0..publishers {
        let (mut server, client) = pair(&Config::default());
        server.subscribe(&topics, "room").unwrap();
        let topics = topics.clone();
        // The server task publishes what its client says, like the chat.
        tokio::spawn(async move {
            while let Some(Ok(message)) = server.recv().await {
                if let Message::Text(text) = message {
                    topics.publish("room", Message::text(format!("{p}: {text}"))).unwrap();
                }
            }
        });
        clients.push(client);
    }
    let mut readers = Vec::new();
    for client in clients {
        readers.push(tokio::spawn(async move {
            let mut client = client;
            for i in 0..per_publisher {
                client.send(Message::text(i.to_string())).await.unwrap();
            }
            texts(&mut client, publishers * per_publisher).await
        }));
    }
    for reader in readers {
        let got = reader.await.unwrap();
        for p in 0..publishers {
            let mine: Vec<String> = got
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("{p}: ")).map(str::to_owned))
                .collect();
            let expected: Vec<String> = (0..per_publisher).map(|i| i.to_string()).collect();
            assert_eq!(mine, expected, "publisher {p}");
        }
    }
}

#[test]
fn bad_settings_are_refused_when_configured_with_their_name() {
    use hyperws::ConfigError;
    let refused = SlowConsumer::new(1024, Policy::Disconnect(CloseCode::ABNORMAL)).unwrap_err();
    assert!(refused.to_string().contains("close code that may be sent"), "{refused}");
    assert!(matches!(
        SlowConsumer::new(0, Policy::DropNewest),
        Err(ConfigError::Zero(_))
    ));
    let refused = Topics::builder().max_subscriptions(0).build().unwrap_err();
    assert!(refused.to_string().contains("max_subscriptions"), "{refused}");
    let refused = Topics::builder().max_topic_len(0).build().unwrap_err();
    assert!(refused.to_string().contains("max_topic_len"), "{refused}");
}

/// A socket cannot hold unbounded names or topics: both limits refuse with
/// a clear error, leave the socket's other subscriptions alone, and count
/// only the topics of the `Topics` that set them.
#[tokio::test]
async fn subscriptions_are_limited_in_name_length_and_count() {
    let topics = Topics::builder().max_topic_len(5).max_subscriptions(2).build().unwrap();
    let elsewhere = Topics::new();
    let (mut server, mut client) = pair(&Config::default());
    assert_eq!(
        server.subscribe(&topics, "sixsix"),
        Err(SubscribeError::TopicTooLong { len: 6, max: 5 })
    );
    assert_eq!(topics.local_subscribers("sixsix"), 0);
    server.subscribe(&topics, "fives").unwrap();
    server.subscribe(&elsewhere, "x").unwrap(); // another Topics: not counted
    server.subscribe(&topics, "b").unwrap();
    server.subscribe(&topics, "b").unwrap(); // already in: not one more
    assert_eq!(
        server.subscribe(&topics, "c"),
        Err(SubscribeError::TooManySubscriptions { max: 2 })
    );
    assert_eq!(topics.local_subscribers("c"), 0);
    // Leaving one makes room again; the refused ones never joined.
    server.unsubscribe(&topics, "b");
    server.subscribe(&topics, "c").unwrap();
    topics.publish("c", Message::text("in")).unwrap();
    server.flush().await.unwrap();
    assert_eq!(client.recv().await.unwrap().unwrap(), Message::text("in"));
}

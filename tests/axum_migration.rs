//! The documented migration, followed mechanically: apps written as axum's
//! examples write them (`tests/axum_apps/`), rewritten by
//! `scripts/migrate-from-axum-ws` (`tests/axum_apps/migrated/`), compile
//! and pass the same tests under axum's ws and under hyperws.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;
use tungstenite::Message as T;

mod with_axum {
    pub(crate) mod chat {
        include!("axum_apps/chat.rs");
    }
    pub(crate) mod channels {
        include!("axum_apps/channels.rs");
    }
}

mod with_hyperws {
    pub(crate) mod chat {
        include!("axum_apps/migrated/chat.rs");
    }
    pub(crate) mod channels {
        include!("axum_apps/migrated/channels.rs");
    }
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_text(client: &mut Client) -> String {
    let next = tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .unwrap();
    match next.unwrap().unwrap() {
        T::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn chat_room(app: axum::Router) {
    let addr = serve(app).await;
    let (mut ada, _) = connect_async(format!("ws://{addr}/chat")).await.unwrap();
    ada.send(T::text("ada")).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "ada joined.");
    let (mut bob, _) = connect_async(format!("ws://{addr}/chat")).await.unwrap();
    bob.send(T::text("bob")).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "bob joined.");
    assert_eq!(next_text(&mut bob).await, "bob joined.");
    ada.send(T::text("hello")).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "ada: hello");
    assert_eq!(next_text(&mut bob).await, "ada: hello");
    bob.close(None).await.unwrap();
    assert_eq!(next_text(&mut ada).await, "bob left.");
}

async fn channel_handler_through_a_socket(app: axum::Router) {
    let addr = serve(app).await;
    let (mut client, _) = connect_async(format!("ws://{addr}/integration-testable"))
        .await
        .unwrap();
    client.send(T::text("foo")).await.unwrap();
    assert_eq!(next_text(&mut client).await, "You said: foo");
}

#[tokio::test]
async fn chat_room_with_axum() {
    chat_room(with_axum::chat::app()).await;
}

#[tokio::test]
async fn chat_room_with_hyperws() {
    chat_room(with_hyperws::chat::app()).await;
}

#[tokio::test]
async fn channel_handler_unit_test_with_axum() {
    use axum::extract::ws::Message;
    let mut written: Vec<Message> = Vec::new();
    with_axum::channels::unit_testable_handler(&mut written, with_axum::channels::scripted_input()).await;
    assert_eq!(
        written,
        [Message::text("You said: one"), Message::text("You said: two")]
    );
}

#[tokio::test]
async fn channel_handler_unit_test_with_hyperws() {
    use hyperws::axum::Message;
    let mut written: Vec<Message> = Vec::new();
    with_hyperws::channels::unit_testable_handler(&mut written, with_hyperws::channels::scripted_input()).await;
    assert_eq!(
        written,
        [Message::text("You said: one"), Message::text("You said: two")]
    );
}

#[tokio::test]
async fn channel_handler_on_a_socket_with_axum() {
    channel_handler_through_a_socket(with_axum::channels::app()).await;
}

#[tokio::test]
async fn channel_handler_on_a_socket_with_hyperws() {
    channel_handler_through_a_socket(with_hyperws::channels::app()).await;
}

/// The migrated files are exactly what the script makes of the originals.
#[test]
fn the_migration_is_the_scripts_output() {
    for app in ["chat", "channels"] {
        let output = std::process::Command::new("python3")
            .arg("scripts/migrate-from-axum-ws")
            .arg("--print")
            .arg(format!("tests/axum_apps/{app}.rs"))
            .output()
            .expect("python3 runs the migration script");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let committed = std::fs::read_to_string(format!("tests/axum_apps/migrated/{app}.rs")).unwrap();
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            committed,
            "{app}: rerun the script"
        );
    }
}

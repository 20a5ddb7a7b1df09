//! Oversize input is refused with 1009 and a typed error; bad input with 1002/1007.

mod common;

use futures_util::{SinkExt, StreamExt};
use hyperws::ProtocolError;
use hyperws::{Config, Error};
use tokio_tungstenite::connect_async;
use tungstenite::protocol::frame::coding::CloseCode as TCode;
use tungstenite::Message as T;

/// Serves a handler that only receives; yields the error its `recv` ended with.
async fn serve_reporting(config: Config) -> (std::net::SocketAddr, impl std::future::Future<Output = Error>) {
    let (addr, mut seen) = common::serve_recording(config).await;
    let first_error = async move {
        loop {
            let item = seen.recv().await.expect("handler gone");
            if let Err(e) = item.expect("stream ended without an error") {
                return e;
            }
        }
    };
    (addr, first_error)
}

async fn close_code_received(
    client: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> TCode {
    let code = loop {
        match client.next().await {
            Some(Ok(T::Close(Some(frame)))) => break frame.code,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    // Keep reading, as a real client does: tungstenite sends its close reply,
    // and the server, which closes TCP first, ends the stream.
    while let Some(Ok(_)) = client.next().await {}
    code
}

#[tokio::test]
async fn an_oversize_message_is_closed_with_1009() {
    let (addr, errors) = serve_reporting(Config::builder().max_message_size(1024).build().unwrap()).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    client.send(T::binary(vec![0u8; 1024])).await.unwrap(); // at the limit: fine
    client.send(T::binary(vec![0u8; 1025])).await.unwrap();
    assert_eq!(close_code_received(&mut client).await, TCode::Size);
    match errors.await {
        Error::Protocol(ProtocolError::MessageTooLarge { size: 1025, max: 1024 }) => {}
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn an_oversize_frame_is_closed_with_1009() {
    let (addr, errors) = serve_reporting(Config::builder().max_frame_size(100).build().unwrap()).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    client.send(T::text("x".repeat(101))).await.unwrap();
    assert_eq!(close_code_received(&mut client).await, TCode::Size);
    assert!(matches!(
        errors.await,
        Error::Protocol(ProtocolError::FrameTooLarge { size: 101, max: 100 })
    ));
}

#[tokio::test]
async fn invalid_utf8_is_closed_with_1007() {
    let (addr, errors) = serve_reporting(Config::default()).await;
    let (mut client, _) = connect_async(common::url(addr)).await.unwrap();
    let frame = tungstenite::protocol::frame::Frame::message(
        vec![0xce, 0xba, 0xed, 0xa0, 0x80],
        tungstenite::protocol::frame::coding::OpCode::Data(tungstenite::protocol::frame::coding::Data::Text),
        true,
    );
    client.send(T::Frame(frame)).await.unwrap();
    assert_eq!(close_code_received(&mut client).await, TCode::Invalid);
    assert!(matches!(errors.await, Error::Protocol(ProtocolError::InvalidUtf8)));
}

//! How the end of the transport is read: after a completed closing
//! handshake a reset or EOF is the expected end, not an error; before it,
//! the transport's failure (or the peer's abnormal closure).

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyperws::Role;
use hyperws::{CloseCode, CloseFrame, Config, Error, Message, WebSocket};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A transport whose reads follow a script (bytes, then a failure) and
/// whose writes all succeed.
struct Scripted {
    reads: VecDeque<io::Result<Vec<u8>>>,
}

impl Scripted {
    /// The peer sends `frames`, then resets the connection.
    fn then_reset(frames: Vec<u8>) -> Self {
        let reset = Err(io::ErrorKind::ConnectionReset.into());
        Self {
            reads: VecDeque::from([Ok(frames), reset]),
        }
    }

    /// The peer resets the connection before sending anything.
    fn reset() -> Self {
        Self { reads: VecDeque::new() }
    }
}

impl AsyncRead for Scripted {
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().reads.pop_front() {
            Some(Ok(bytes)) => {
                buf.put_slice(&bytes);
                Poll::Ready(Ok(()))
            }
            Some(Err(e)) => Poll::Ready(Err(e)),
            None => Poll::Ready(Err(io::ErrorKind::ConnectionReset.into())),
        }
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A close frame as the peer of `role` sends it (masked towards a server).
fn close_from_peer_of(role: Role, code: u16) -> Vec<u8> {
    let [hi, lo] = code.to_be_bytes();
    match role {
        Role::Client => vec![0x88, 0x02, hi, lo],
        Role::Server => vec![0x88, 0x82, 0, 0, 0, 0, hi, lo], // zero mask key
    }
}

fn socket(role: Role, reads: Scripted) -> WebSocket<Scripted> {
    WebSocket::from_raw_socket(reads, role, &Config::default())
}

#[tokio::test]
async fn a_reset_after_the_peers_close_ends_the_stream_cleanly() {
    for role in [Role::Client, Role::Server] {
        let mut ws = socket(role, Scripted::then_reset(close_from_peer_of(role, 1000)));
        let first = ws.recv().await;
        let expected = Message::Close(Some(CloseFrame::from_code(CloseCode::NORMAL)));
        assert!(matches!(&first, Some(Ok(m)) if *m == expected), "{role:?}: {first:?}");
        let after = ws.recv().await;
        assert!(
            after.is_none(),
            "{role:?}: a completed close is not an error, got {after:?}"
        );
    }
}

#[tokio::test]
async fn a_reset_after_our_close_was_answered_ends_the_close_cleanly() {
    for role in [Role::Client, Role::Server] {
        let mut ws = socket(role, Scripted::then_reset(close_from_peer_of(role, 1000)));
        let closed = ws.close(Some(CloseFrame::from_code(CloseCode::NORMAL))).await;
        assert!(closed.is_ok(), "{role:?}: {closed:?}");
        assert!(ws.recv().await.is_none());
    }
}

#[tokio::test]
async fn a_reset_before_the_handshake_completes_is_the_transports_failure() {
    let mut ws = socket(Role::Client, Scripted::reset());
    let result = ws.recv().await;
    assert!(
        matches!(&result, Some(Err(Error::Io(e))) if e.kind() == io::ErrorKind::ConnectionReset),
        "{result:?}"
    );
    assert!(result.unwrap().unwrap_err().is_network());
    assert!(ws.recv().await.is_none());
    let late = ws.send(Message::text("late")).await;
    assert!(matches!(late, Err(Error::Io(_))), "the writer learns why: {late:?}");
}

#[tokio::test]
async fn a_reset_while_our_close_is_unanswered_is_the_transports_failure() {
    let mut ws = socket(Role::Client, Scripted::reset());
    let closed = ws.close(None).await;
    assert!(matches!(closed, Err(Error::Io(_))), "{closed:?}");
}

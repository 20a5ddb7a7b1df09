//! The hyper door: upgrade one request on a hyper 1 server.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{Request, Response};
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::handshake::{server, HandshakeError};
use crate::proto::Role;
use crate::{Config, Error, WebSocket};

/// Validates a WebSocket upgrade request and answers it.
///
/// Returns the `101 Switching Protocols` response, which the service must
/// return, and a future that yields the [`WebSocket`] once hyper has sent
/// that response and handed over the connection. The connection must be
/// served with `.with_upgrades()`.
///
/// # Errors
/// The rule the request broke; [`HandshakeError::to_response`] is the answer to send.
///
/// ```no_run
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use hyper::{body::{Bytes, Incoming}, Request, Response};
/// use hyperws::{upgrade_request, Config};
///
/// async fn handle(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
///     let (response, upgraded) = match upgrade_request(&mut request, &Config::default()) {
///         Ok(accepted) => accepted,
///         Err(refused) => return Ok(refused.to_response()),
///     };
///     tokio::spawn(async move {
///         let Ok(mut ws) = upgraded.await else { return };
///         while let Some(Ok(message)) = ws.recv().await {
///             if message.is_text() || message.is_binary() {
///                 let _ = ws.send(message).await;
///             }
///         }
///     });
///     Ok(response)
/// }
/// ```
pub fn upgrade_request<B>(
    request: &mut Request<B>,
    config: &Config,
) -> Result<(Response<Full<Bytes>>, UpgradeFut), HandshakeError> {
    let accept = server::validate_request(request)?;
    let on_upgrade = request
        .extensions_mut()
        .remove::<OnUpgrade>()
        .ok_or(HandshakeError::ConnectionNotUpgradable)?;
    let upgraded = UpgradeFut {
        on_upgrade,
        config: config.clone(),
    };
    Ok((accept.response(), upgraded))
}

/// Resolves to the [`WebSocket`] once hyper hands over the connection.
#[derive(Debug)]
#[must_use = "the WebSocket exists only once this future is awaited"]
pub struct UpgradeFut {
    on_upgrade: OnUpgrade,
    config: Config,
}

impl Future for UpgradeFut {
    type Output = Result<WebSocket<UpgradedIo>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = std::task::ready!(Pin::new(&mut self.on_upgrade).poll(cx)).map_err(io::Error::other)?;
        let (io, read) = UpgradedIo::new(upgraded);
        Poll::Ready(Ok(WebSocket::from_partially_read(io, read, Role::Server, &self.config)))
    }
}

/// The transport under a server-side [`WebSocket`]: the raw `TcpStream`
/// when hyper was serving one (the fast path, no boxed IO), or hyper's
/// `Upgraded` otherwise.
#[derive(Debug)]
pub enum UpgradedIo {
    /// The TCP stream hyper was serving.
    Tcp(TcpStream),
    /// Any other transport, through hyper's type-erased IO.
    Other(TokioIo<Upgraded>),
}

impl UpgradedIo {
    /// Unwraps `upgraded`, keeping any bytes hyper read past the handshake.
    fn new(upgraded: Upgraded) -> (Self, BytesMut) {
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => (Self::Tcp(parts.io.into_inner()), BytesMut::from(parts.read_buf)),
            Err(upgraded) => (Self::Other(TokioIo::new(upgraded)), BytesMut::new()),
        }
    }
}

/// Forwards one `AsyncRead`/`AsyncWrite` method to whichever transport this is.
macro_rules! delegate {
    ($self:ident, $io:ident => $call:expr) => {
        match $self.get_mut() {
            UpgradedIo::Tcp($io) => $call,
            UpgradedIo::Other($io) => $call,
        }
    };
}

impl AsyncRead for UpgradedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_read(cx, buf))
    }
}

impl AsyncWrite for UpgradedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(io) => io.is_write_vectored(),
            Self::Other(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_shutdown(cx))
    }
}

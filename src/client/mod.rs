//! The client: [`connect`] and [`ClientBuilder`] for `ws://` and `wss://`.
//!
//! The HTTP/1.1 upgrade runs over hyper's client connection; the raw stream
//! (TCP, or TLS over TCP) is taken back afterwards, with any bytes hyper
//! read past the handshake, so the socket runs on it directly.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Response, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

mod error;
mod target;
#[cfg(feature = "rustls")]
mod tls;

pub use self::error::{ConnectError, UrlError};
use self::target::Target;
use crate::handshake::client as handshake;
use crate::proto::random::os_seed;
use crate::{Config, Role, WebSocket};

/// How much of a refusal's body is kept in [`ConnectError::UnexpectedStatus`].
const MAX_REFUSAL_BODY: usize = 64 << 10;

/// The transport under a client [`WebSocket`]: TCP for `ws://`, TLS over
/// TCP for `wss://`.
#[derive(Debug)]
pub struct ClientStream(Transport);

#[derive(Debug)]
enum Transport {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

crate::io::enum_io!(Transport {
    Plain,
    #[cfg(feature = "rustls")]
    Tls,
});
crate::io::newtype_io!(ClientStream);

impl ClientStream {
    /// The TCP stream under the socket (under TLS for `wss://`). An
    /// `Option`, as [`UpgradedIo::tcp_stream`](crate::UpgradedIo::tcp_stream)
    /// is, so code reads either side alike; today's client transports always
    /// have one.
    #[must_use]
    pub fn tcp_stream(&self) -> Option<&TcpStream> {
        match &self.0 {
            Transport::Plain(tcp) => Some(tcp),
            #[cfg(feature = "rustls")]
            Transport::Tls(tls) => Some(tls.get_ref().0),
        }
    }

    /// Whether the connection is encrypted (`wss://`).
    #[must_use]
    pub fn is_tls(&self) -> bool {
        !matches!(self.0, Transport::Plain(_))
    }
}

/// Connects to a `ws://` or `wss://` URL with the default settings.
///
/// Returns the socket and the server's `101` response.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use hyperws::Message;
/// let (mut ws, _response) = hyperws::connect("ws://127.0.0.1:9001/").await?;
/// ws.send(Message::text("hello")).await?;
/// if let Some(reply) = ws.recv().await {
///     println!("{:?}", reply?);
/// }
/// ws.close(None).await?;
/// # Ok(()) }
/// ```
pub async fn connect(url: impl AsRef<str>) -> Result<(WebSocket<ClientStream>, Response<()>), ConnectError> {
    ClientBuilder::new(url).connect().await
}

/// Settings for one client connection.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use hyperws::{ClientBuilder, Config};
/// let (ws, response) = ClientBuilder::new("wss://example.com/chat")
///     .header("authorization", "Bearer token")
///     .protocols(["chat.v2", "chat"])
///     .config(Config::builder().max_message_size(1 << 20).build().unwrap())
///     .connect_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// println!("subprotocol: {:?}", ws.protocol());
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing happens until `connect` is awaited"]
pub struct ClientBuilder {
    url: String,
    headers: HeaderMap,
    bad_header: bool,
    protocols: Vec<HeaderValue>,
    config: Config,
    connect_timeout: Duration,
    #[cfg(feature = "rustls")]
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl ClientBuilder {
    /// A client for `url` (`ws://` or `wss://`).
    pub fn new(url: impl AsRef<str>) -> Self {
        Self {
            url: url.as_ref().to_owned(),
            headers: HeaderMap::new(),
            bad_header: false,
            protocols: Vec::new(),
            config: Config::default(),
            connect_timeout: Duration::from_secs(10),
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    /// Adds a header to the upgrade request (an invalid name or value makes
    /// `connect` fail with [`ConnectError::InvalidRequest`]).
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => self.bad_header = true,
        }
        self
    }

    /// Offers these subprotocols, in order of preference.
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for protocol in protocols {
            match HeaderValue::from_str(protocol.as_ref()) {
                Ok(value) => self.protocols.push(value),
                Err(_) => self.bad_header = true,
            }
        }
        self
    }

    /// Limits and timeouts for the socket. Server policy (origins,
    /// subprotocol lists) is not part of a [`Config`]; offer subprotocols
    /// with [`protocols`](Self::protocols).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// How long the whole opening may take: name lookup, TCP, TLS and the
    /// upgrade. Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The TLS settings for `wss://` (roots, client certificates, ALPN).
    /// Default: the webpki root certificates, ALPN `http/1.1`.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn tls(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Opens the connection and performs the upgrade.
    ///
    /// # Errors
    /// See [`ConnectError`]: the caller's mistakes, the network's failures
    /// and the server's refusals are separate variants.
    pub async fn connect(self) -> Result<(WebSocket<ClientStream>, Response<()>), ConnectError> {
        let timeout = self.connect_timeout;
        tokio::time::timeout(timeout, self.open())
            .await
            .unwrap_or(Err(ConnectError::Timeout))
    }

    async fn open(self) -> Result<(WebSocket<ClientStream>, Response<()>), ConnectError> {
        if self.bad_header {
            return Err(ConnectError::InvalidRequest);
        }
        let target = Target::parse(&self.url)?;
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(ConnectError::Connect)?;
        let _ = tcp.set_nodelay(true);
        let stream = if target.secure {
            self.tls_stream(&target.host, tcp).await?
        } else {
            ClientStream(Transport::Plain(tcp))
        };
        self.handshake_over(&target.uri, stream).await
    }

    /// Runs the opening handshake over a transport you opened yourself (a
    /// Unix socket, a proxy's tunnel, an in-memory pipe to a server in the
    /// same process: see [`testing`](crate::testing)); the URL gives only
    /// the `Host` and the path. No connect timeout applies.
    ///
    /// ```
    /// # async fn run() -> Result<(), hyperws::ConnectError> {
    /// use axum::{routing::any, Router};
    /// use hyperws::{axum::WebSocketUpgrade, testing, ClientBuilder};
    ///
    /// let app = Router::new().route("/ws", any(|ws: WebSocketUpgrade| async { ws.on_upgrade(|_| async {}) }));
    /// let (ws, response) = ClientBuilder::new("ws://localhost/ws")
    ///     .header("authorization", "Bearer token")
    ///     .connect_on(testing::serve_in_memory(app))
    ///     .await?;
    /// assert_eq!(response.status(), 101);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`connect`](Self::connect), less the network's.
    pub async fn connect_on<IO>(self, io: IO) -> Result<(WebSocket<IO>, Response<()>), ConnectError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        if self.bad_header {
            return Err(ConnectError::InvalidRequest);
        }
        let target = Target::parse(&self.url)?;
        self.handshake_over(&target.uri, io).await
    }

    /// The HTTP/1.1 upgrade over `io`, through hyper's client connection.
    async fn handshake_over<IO>(&self, uri: &Uri, io: IO) -> Result<(WebSocket<IO>, Response<()>), ConnectError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let key = handshake::new_key(random_bytes());
        #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
        let mut extra = self.headers.clone();
        #[cfg(feature = "deflate")]
        if let Some(deflate) = self.config.deflate() {
            extra.insert(
                http::header::SEC_WEBSOCKET_EXTENSIONS,
                handshake::offer_deflate(deflate),
            );
        }
        let request = handshake::request(uri, &key, &self.protocols, &extra).map(|()| Empty::<Bytes>::new());
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(ConnectError::Http)?;
        tokio::spawn(connection.with_upgrades());
        let mut response = sender.send_request(request).await.map_err(ConnectError::Http)?;
        if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            return Err(refusal(response).await);
        }
        let agreed = handshake::verify_negotiated(&response, &key, &self.protocols, &self.config)
            .map_err(ConnectError::Upgrade)?;
        let upgraded = hyper::upgrade::on(&mut response).await.map_err(ConnectError::Http)?;
        // Our own type went in, so it comes back out: hyper's `Upgraded`
        // wraps the IO it was given.
        let Ok(parts) = upgraded.downcast::<TokioIo<IO>>() else {
            unreachable!("hyper's upgraded IO is the stream the client gave it")
        };
        let ws = WebSocket::from_negotiated(
            parts.io.into_inner(),
            &parts.read_buf,
            Role::Client,
            &self.config,
            agreed,
        );
        Ok((ws, response.map(|_| ())))
    }

    #[cfg(feature = "rustls")]
    async fn tls_stream(&self, host: &str, tcp: TcpStream) -> Result<ClientStream, ConnectError> {
        use rustls::pki_types::ServerName;
        let config = match self.tls.clone() {
            Some(config) => config,
            None => tls::default_config().map_err(ConnectError::Tls)?,
        };
        let name =
            ServerName::try_from(host.to_owned()).map_err(|_| ConnectError::InvalidUrl(UrlError::InvalidServerName))?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(ConnectError::Tls)?;
        Ok(ClientStream(Transport::Tls(Box::new(stream))))
    }

    #[cfg(not(feature = "rustls"))]
    #[allow(clippy::unused_async)] // same shape as the TLS version
    async fn tls_stream(&self, _host: &str, _tcp: TcpStream) -> Result<ClientStream, ConnectError> {
        Err(ConnectError::InvalidUrl(UrlError::TlsNotEnabled))
    }
}

/// A refusal, with up to 64 KiB of its body kept for the caller.
async fn refusal(response: Response<hyper::body::Incoming>) -> ConnectError {
    let (parts, body) = response.into_parts();
    let body = match Limited::new(body, MAX_REFUSAL_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    ConnectError::UnexpectedStatus(Box::new(Response::from_parts(parts, body)))
}

/// 16 unpredictable bytes for the handshake key.
fn random_bytes() -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&os_seed().to_ne_bytes());
    bytes[8..].copy_from_slice(&os_seed().to_ne_bytes());
    bytes
}

//! The arena's servers: each library's echo on a multi-thread runtime over
//! K worker threads (actix-web on its own runtime, K workers), written the
//! way its docs teach, answering pings and closes as a validator expects.

use std::future::Future;

use http_body_util::{Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpStream};

use crate::servers::{echo_batched, hyper_conn};

/// The servers, by the name the command line uses.
pub const ARENA_SERVERS: [&str; 6] = [
    "hyperws",
    "actix-ws",
    "fastwebsockets",
    "tokio-websockets",
    "sockudo-ws",
    "axum-ws",
];

/// Serves `name` with `threads` worker threads on a free port; prints `LISTENING addr`.
pub fn serve(name: &str, threads: usize) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    if name == "actix-ws" {
        return actix::serve(listener, threads);
    }
    listener.set_nonblocking(true).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).unwrap();
        match name {
            "hyperws" => accept_loop(listener, |tcp| hyper_conn(tcp, hyperws_upgrade)).await,
            "fastwebsockets" => accept_loop(listener, |tcp| hyper_conn(tcp, fastwebsockets_upgrade)).await,
            "tokio-websockets" => accept_loop(listener, tokio_websockets_conn).await,
            "sockudo-ws" => accept_loop(listener, sockudo_conn).await,
            "axum-ws" => axum::serve(listener, crate::servers::axum_ws_router()).await.unwrap(),
            other => panic!("unknown server {other}; one of {ARENA_SERVERS:?}"),
        }
    });
}

async fn accept_loop<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tcp.set_nodelay(true).unwrap();
        tokio::spawn(serve(tcp));
    }
}

/// `examples/echo.rs`: `upgrade_request`, then `recv` and `feed`.
async fn hyperws_upgrade(mut request: Request<Incoming>) -> Response<Full<Bytes>> {
    match hyperws::upgrade_request(&mut request, &hyperws::ServerConfig::default()) {
        Ok((response, upgraded)) => {
            tokio::spawn(async move {
                if let Ok(ws) = upgraded.await {
                    crate::servers::hyperws_echo(ws).await;
                }
            });
            response
        }
        Err(refused) => refused.to_response(),
    }
}

async fn fastwebsockets_upgrade(mut request: Request<Incoming>) -> Response<Empty<Bytes>> {
    let (response, upgraded) = fastwebsockets::upgrade::upgrade(&mut request).unwrap();
    tokio::spawn(crate::servers::fastwebsockets_echo(upgraded));
    response
}

async fn tokio_websockets_conn(tcp: TcpStream) {
    let Ok((_request, ws)) = tokio_websockets::ServerBuilder::new().accept(tcp).await else {
        return;
    };
    echo_batched(ws, |m: &tokio_websockets::Message| m.is_text() || m.is_binary()).await;
}

async fn sockudo_conn(tcp: TcpStream) {
    let Some(ws) = crate::servers::sockudo_accept(tcp).await else {
        return;
    };
    echo_batched(ws, |m: &sockudo_ws::protocol::Message| {
        matches!(
            m,
            sockudo_ws::protocol::Message::Text(_) | sockudo_ws::protocol::Message::Binary(_)
        )
    })
    .await;
}

/// actix-web 4 with actix-ws, as actix-ws's README shows, on actix's own
/// runtime (one single-threaded worker per server core).
mod actix {
    use actix_web::{web, App, HttpRequest, HttpServer, Responder};
    use actix_ws::Message;

    pub fn serve(listener: std::net::TcpListener, threads: usize) {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(|| App::new().route("/", web::get().to(echo)))
                .workers(threads)
                .listen(listener)
                .unwrap()
                .run()
                .await
                .unwrap();
        });
    }

    async fn echo(req: HttpRequest, body: web::Payload) -> actix_web::Result<impl Responder> {
        let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
        actix_web::rt::spawn(async move {
            while let Some(Ok(message)) = stream.recv().await {
                let sent = match message {
                    Message::Ping(bytes) => session.pong(&bytes).await,
                    Message::Text(text) => session.text(text).await,
                    Message::Binary(bytes) => session.binary(bytes).await,
                    Message::Close(reason) => {
                        let _ = session.close(reason).await;
                        return;
                    }
                    _ => Ok(()),
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Ok(response)
    }
}

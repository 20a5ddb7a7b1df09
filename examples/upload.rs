//! Files of any size up and down a WebSocket, streamed: the server never
//! holds a file in memory, only the piece in flight.
//!
//! ```sh
//! cargo run --release --example upload -- 127.0.0.1:9004 /tmp/files
//! ```
//!
//! - `ws://ADDR/upload/NAME`: send one binary message (any size, any number
//!   of fragments); it is written to `DIR/NAME` as it arrives (under a
//!   hidden `.NAME.part` until it is whole), then the server sends the text
//!   `ok <bytes> <sha256 hex>` and closes with 1000.
//! - `ws://ADDR/download/NAME`: the server sends `DIR/NAME` as one binary
//!   message streamed from disk, then closes with 1000.
//! - `http://ADDR/`: a page to upload files (with a progress bar) and
//!   download them; `http://ADDR/files` lists them.
//!
//! Names are `[A-Za-z0-9._-]`, not starting with a dot; others get 400.
//! permessage-deflate is accepted when a client offers it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyperws::axum::WebSocketUpgrade;
use hyperws::{CloseCode, CloseFrame, Config, DeflateConfig, Message, MessageKind, Received, ServerConfig, WebSocket};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWriteExt, BufReader};

type Failure = Box<dyn std::error::Error + Send + Sync>;

const PAGE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/upload.html"));

/// How much of a file one read from disk takes, when sending it.
const DISK_READ: usize = 256 << 10;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9004".into());
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "upload-files".into()));
    tokio::fs::create_dir_all(&dir).await?;
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/files", get(list))
        .route("/upload/{name}", get(upload))
        .route("/download/{name}", get(download))
        .with_state(Arc::new(dir.clone()));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "upload server on http://{} storing in {}",
        listener.local_addr()?,
        dir.display()
    );
    hyperws::serve(listener, app, &ServerConfig::default()).await
}

/// The sockets' settings: compression when offered, and messages up to
/// 64 GiB. (A streamed download queues at most about `write_buffer_size`,
/// 128 KiB, for a slow downloader.)
fn config() -> Config {
    Config::builder()
        .deflate(DeflateConfig::default())
        .max_streamed_message_size(64 << 30)
        .build()
        .expect("valid settings")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn refused(name: &str) -> Response {
    let why = format!("{name:?}: names are [A-Za-z0-9._-], not starting with a dot\n");
    (StatusCode::BAD_REQUEST, why).into_response()
}

async fn upload(ws: WebSocketUpgrade, UrlPath(name): UrlPath<String>, State(dir): State<Arc<PathBuf>>) -> Response {
    if !valid_name(&name) {
        return refused(&name);
    }
    let path = dir.join(&name);
    ws.config(config()).on_upgrade(move |socket| async move {
        if let Err(e) = receive_file(socket.into_inner(), &path).await {
            eprintln!("upload of {} failed: {e}", path.display());
        }
    })
}

/// Writes the socket's one binary message to `path` as it arrives.
async fn receive_file(mut ws: WebSocket, path: &Path) -> Result<(), Failure> {
    let mut reader = loop {
        match ws.recv_streaming().await {
            Some(Ok(Received::Message(reader))) => break reader,
            Some(Ok(Received::Control(_))) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Ok(()),
        }
    };
    if reader.kind() != MessageKind::Binary {
        drop(reader);
        return close(ws, CloseCode::UNSUPPORTED, "send the file as one binary message").await;
    }
    // Hidden (a leading dot) until whole: never listed, never downloadable.
    let part = path.with_file_name(format!(".{}.part", path.file_name().unwrap_or_default().display()));
    let mut file = tokio::fs::File::create(&part).await?;
    let (mut hasher, mut bytes) = (Sha256::new(), 0u64);
    while let Some(piece) = reader.next_piece().await {
        let piece = piece?;
        hasher.update(&piece);
        file.write_all(&piece).await?;
        bytes += piece.len() as u64;
    }
    drop(reader);
    file.flush().await?;
    tokio::fs::rename(&part, path).await?;
    let digest = hasher.finalize().iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    ws.send(Message::text(format!("ok {bytes} {digest}"))).await?;
    close(ws, CloseCode::NORMAL, "").await
}

async fn download(ws: WebSocketUpgrade, UrlPath(name): UrlPath<String>, State(dir): State<Arc<PathBuf>>) -> Response {
    if !valid_name(&name) {
        return refused(&name);
    }
    let path = dir.join(&name);
    let Ok(file) = tokio::fs::File::open(&path).await else {
        return (StatusCode::NOT_FOUND, format!("no file {name:?}\n")).into_response();
    };
    ws.config(config()).on_upgrade(move |socket| async move {
        if let Err(e) = send_file(socket.into_inner(), file).await {
            eprintln!("download of {} failed: {e}", path.display());
        }
    })
}

/// Sends `file` as one binary message, read from disk as it goes out.
async fn send_file(mut ws: WebSocket, file: tokio::fs::File) -> Result<(), Failure> {
    let mut writer = ws.send_streaming(MessageKind::Binary)?;
    tokio::io::copy_buf(&mut BufReader::with_capacity(DISK_READ, file), &mut writer).await?;
    writer.finish().await?;
    close(ws, CloseCode::NORMAL, "").await
}

async fn close(mut ws: WebSocket, code: CloseCode, reason: &str) -> Result<(), Failure> {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    ws.close(Some(frame)).await?;
    Ok(())
}

/// The stored files as JSON: `[{"name": .., "size": ..}, ..]` (names need no escaping).
async fn list(State(dir): State<Arc<PathBuf>>) -> Response {
    let mut files = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir.as_ref()).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            let size = entry.metadata().await.map_or(0, |m| m.len());
            if valid_name(&name) {
                files.push(format!("{{\"name\":\"{name}\",\"size\":{size}}}"));
            }
        }
    }
    files.sort();
    ([("content-type", "application/json")], format!("[{}]", files.join(","))).into_response()
}

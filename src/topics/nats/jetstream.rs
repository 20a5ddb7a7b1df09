//! The `JetStream` side: the stream that keeps every topic's history (its
//! creation time is the epoch) and a topic's history after a position.

use async_nats::jetstream::stream::{self, LastRawMessageErrorKind, Stream};
use async_nats::jetstream::Context;
use bytes::Bytes;

use super::IO_TIMEOUT;
use crate::proto::SharedMessage;
use crate::topics::envelope;
use crate::topics::{Position, Recovery, Retention};

/// The stream named `name` over `prefix>`, made if missing, bounded per
/// subject by `retention`; and its epoch.
pub(super) async fn ensure(
    js: &Context,
    name: &str,
    prefix: &str,
    retention: Retention,
) -> Result<(Stream, u64), String> {
    let config = stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{prefix}>")],
        max_messages_per_subject: i64::try_from(retention.count()).unwrap_or(i64::MAX),
        max_age: retention.age(),
        ..stream::Config::default()
    };
    let made = tokio::time::timeout(IO_TIMEOUT, js.get_or_create_stream(config)).await;
    let mut stream = made.map_err(|_| "timed out".to_owned())?.map_err(|e| e.to_string())?;
    let epoch = epoch(&mut stream).await?;
    Ok((stream, epoch))
}

/// The epoch of the stream named `name` now, if it can be had.
pub(super) async fn current_epoch(js: &Context, name: &str) -> Option<u64> {
    let mut stream = tokio::time::timeout(IO_TIMEOUT, js.get_stream(name)).await.ok()?.ok()?;
    epoch(&mut stream).await.ok()
}

/// The stream's epoch, from its information.
async fn epoch(stream: &mut Stream) -> Result<u64, String> {
    let info = tokio::time::timeout(IO_TIMEOUT, stream.info()).await;
    let info = info.map_err(|_| "timed out".to_owned())?.map_err(|e| e.to_string())?;
    Ok(epoch_of(info))
}

/// The stream's creation time in nanoseconds: a stream made again (the
/// server lost its data) has another.
fn epoch_of(info: &stream::Info) -> u64 {
    u64::try_from(info.created.unix_timestamp_nanos()).unwrap_or(0)
}

/// What `subject` published after `since`, oldest first. Complete only if
/// `since`'s own publication is still kept: `JetStream` drops a subject's
/// oldest first, so then all after it are kept too. (A position whose
/// publication aged out is `TooOld` even if nothing came after it.)
pub(super) async fn fetch(
    client: &async_nats::Client,
    name: &str,
    subject: &str,
    since: Position,
    retention: Retention,
) -> Result<Vec<(Position, SharedMessage)>, Recovery> {
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = match tokio::time::timeout(IO_TIMEOUT, js.get_stream(name)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(_)) => return Err(Recovery::EpochChanged), // the stream is gone
        Err(_) => return Err(Recovery::Unavailable),
    };
    let info = tokio::time::timeout(IO_TIMEOUT, stream.info()).await;
    let Ok(Ok(info)) = info else {
        return Err(Recovery::Unavailable);
    };
    if epoch_of(info) != since.epoch() {
        return Err(Recovery::EpochChanged);
    }
    if since.offset() > info.state.last_sequence {
        return Err(Recovery::Unknown);
    }
    match next(&stream, subject, since.offset()).await? {
        Some((sequence, _)) if sequence == since.offset() => {}
        _ => return Err(Recovery::TooOld { lost: None }),
    }
    let mut history = Vec::new();
    let mut after = since.offset();
    while history.len() < retention.count() {
        let Some((sequence, payload)) = next(&stream, subject, after + 1).await? else {
            break;
        };
        after = sequence;
        let message = envelope::open(payload).and_then(|opened| SharedMessage::new(opened.message).ok());
        if let Some(message) = message {
            history.push((Position::new(since.epoch(), sequence), message));
        }
    }
    Ok(history)
}

/// The first publication on `subject` at or after `sequence`.
async fn next(stream: &Stream, subject: &str, sequence: u64) -> Result<Option<(u64, Bytes)>, Recovery> {
    let got = tokio::time::timeout(IO_TIMEOUT, stream.get_first_raw_message_by_subject(subject, sequence)).await;
    match got {
        Ok(Ok(message)) => Ok(Some((message.sequence, message.payload))),
        Ok(Err(e)) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
        _ => Err(Recovery::Unavailable),
    }
}

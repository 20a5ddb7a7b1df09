//! History in Redis Streams, for a `Topics` that keeps history: one Lua
//! script gives a publication the topic's next offset (under an epoch kept
//! beside it), appends it to the topic's stream (bounded by `MAXLEN`, the
//! keys expiring after the retention's age) and publishes it with its
//! position, all at once, so every node sees the same positions in the same
//! order. A Redis that loses its data loses the epoch too: the next
//! publication starts a new one and clients are told, not misled.

use bytes::Bytes;
use redis::aio::MultiplexedConnection;

use super::IO_TIMEOUT;
use crate::proto::SharedMessage;
use crate::topics::envelope;
use crate::topics::{Position, Recovery, Retention};

/// KEYS: meta hash, stream. ARGV: channel, maxlen, age in ms, an epoch to
/// use if the topic has none, then one envelope per publication (a run of
/// consecutive publications to one topic: one script run for the run).
pub(super) const PUBLISH: &str = r"
local n = #ARGV - 4
local last = redis.call('HINCRBY', KEYS[1], 'offset', n)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[4]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local now = redis.call('TIME')
local at = string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
for i = 1, n do
  local offset = last - n + i
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '0-' .. offset, 'at', at, 'm', ARGV[4 + i])
  redis.call('PUBLISH', ARGV[1], epoch .. ' ' .. offset .. ' ' .. ARGV[4 + i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return last
";

/// The keys of `channel`'s topic: its meta hash (epoch, last offset) and
/// its stream. The suffixes differ in their last part, so no topic's
/// meta key is another's stream key.
pub(super) fn keys(channel: &str) -> (String, String) {
    (format!("{channel}:meta"), format!("{channel}:stream"))
}

/// Consecutive publications to one channel as one script run, for a pipeline.
pub(super) fn publish_command<'a>(
    pipe: &mut redis::Pipeline,
    sha: &str,
    channel: &str,
    sealed: impl Iterator<Item = &'a [u8]>,
    retention: Retention,
) {
    let (meta, stream) = keys(channel);
    let epoch = format!("{:016x}", envelope::random_u64());
    let age = u64::try_from(retention.age().as_millis()).unwrap_or(u64::MAX);
    let command = pipe.cmd("EVALSHA");
    command.arg(sha).arg(2).arg(meta).arg(stream);
    command.arg(channel).arg(retention.count()).arg(age).arg(epoch);
    for sealed in sealed {
        command.arg(sealed);
    }
    command.ignore();
}

/// A positioned publication as it comes on the channel:
/// `<epoch hex> <offset> <envelope>`.
pub(super) fn open_positioned(payload: &[u8]) -> Option<(Position, Bytes)> {
    let mut parts = payload.splitn(3, |b| *b == b' ');
    let epoch = std::str::from_utf8(parts.next()?).ok()?;
    let offset = std::str::from_utf8(parts.next()?).ok()?;
    let position = format!("{epoch}-{offset}").parse().ok()?;
    Some((position, Bytes::copy_from_slice(parts.next()?)))
}

/// What a topic's meta hash, stream and Redis' clock said.
type Fetched = (
    Option<String>,
    Option<u64>,
    Vec<(String, Vec<(String, Vec<u8>)>)>,
    (u64, u64),
);

/// What `channel`'s topic published after `since`, oldest first, or why
/// it cannot all be had.
pub(super) async fn fetch(
    conn: &mut MultiplexedConnection,
    channel: &str,
    since: Position,
    retention: Retention,
) -> Result<Vec<(Position, SharedMessage)>, Recovery> {
    let (meta, stream) = keys(channel);
    let from = format!("0-{}", since.offset().saturating_add(1));
    let mut pipe = redis::pipe();
    pipe.cmd("HGET").arg(&meta).arg("epoch");
    pipe.cmd("HGET").arg(&meta).arg("offset");
    pipe.cmd("XRANGE")
        .arg(&stream)
        .arg(from)
        .arg("+")
        .arg("COUNT")
        .arg(retention.count());
    pipe.cmd("TIME");
    let query = tokio::time::timeout(IO_TIMEOUT, pipe.query_async::<Fetched>(conn)).await;
    let Ok(Ok((epoch, last, entries, (secs, micros)))) = query else {
        return Err(Recovery::Unavailable);
    };
    let epoch = epoch.and_then(|e| u64::from_str_radix(&e, 16).ok());
    if epoch != Some(since.epoch()) {
        return Err(Recovery::EpochChanged);
    }
    let last = last.unwrap_or(0);
    if since.offset() > last {
        return Err(Recovery::Unknown);
    }
    let age = u64::try_from(retention.age().as_millis()).unwrap_or(u64::MAX);
    let oldest_kept = (secs * 1000 + micros / 1000).saturating_sub(age);
    let history: Vec<(Position, SharedMessage)> = entries
        .into_iter()
        .filter_map(|(id, fields)| entry(since.epoch(), &id, fields, oldest_kept))
        .collect();
    let first = history.first().map_or(last + 1, |(position, _)| position.offset());
    if first > since.offset() + 1 {
        return Err(Recovery::TooOld {
            lost: Some(first - since.offset() - 1),
        });
    }
    Ok(history)
}

/// One stream entry, if it is whole and young enough.
fn entry(epoch: u64, id: &str, fields: Vec<(String, Vec<u8>)>, oldest_kept: u64) -> Option<(Position, SharedMessage)> {
    let offset = id.strip_prefix("0-")?.parse().ok()?;
    let mut at = None;
    let mut message = None;
    for (name, value) in fields {
        match name.as_str() {
            "at" => at = std::str::from_utf8(&value).ok()?.parse::<u64>().ok(),
            "m" => message = envelope::open(Bytes::from(value)).map(|opened| opened.message),
            _ => {}
        }
    }
    if at? < oldest_kept {
        return None;
    }
    Some((Position::new(epoch, offset), SharedMessage::new(message?).ok()?))
}

/// One connection for history queries, shared by every recovery of a node
/// (many clients reconnecting at once must not open a connection each).
#[derive(Debug)]
pub(super) struct Queries {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl Queries {
    pub(super) fn new(client: redis::Client) -> Self {
        Self {
            client,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// What `channel`'s topic published after `since`; the connection is
    /// made on first use and again after it failed.
    pub(super) async fn fetch(
        &self,
        channel: &str,
        since: Position,
        retention: Retention,
    ) -> Result<Vec<(Position, SharedMessage)>, Recovery> {
        let mut conn = {
            let mut shared = self.conn.lock().await;
            if shared.is_none() {
                let connect = self.client.get_multiplexed_async_connection();
                *shared = tokio::time::timeout(IO_TIMEOUT, connect)
                    .await
                    .ok()
                    .and_then(Result::ok);
            }
            shared.clone().ok_or(Recovery::Unavailable)?
        };
        let fetched = fetch(&mut conn, channel, since, retention).await;
        if matches!(fetched, Err(Recovery::Unavailable)) {
            *self.conn.lock().await = None;
        }
        fetched
    }
}

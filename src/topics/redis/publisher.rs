//! The publishing connection's task: queued publications sent in pipelines.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::{history, BATCH, DRAIN_TIMEOUT, IO_TIMEOUT, SEND_ATTEMPTS};
use crate::topics::health::{Health, Link};
use crate::topics::reconnect::{Backoff, Draining};
use crate::topics::Retention;

/// Sends queued publications in pipelines, reconnecting as needed. A
/// pipeline that fails is sent again on the next connection (receivers
/// drop what they already have), up to `SEND_ATTEMPTS` times; then it is
/// dropped and other nodes see the gap. Order is kept.
pub(super) async fn publish_loop(
    client: redis::Client,
    mut rx: mpsc::Receiver<(String, Bytes)>,
    health: Arc<Health>,
    history: Option<Retention>,
) {
    let mut backoff = Backoff::new("Redis publishing");
    let mut batch = Vec::with_capacity(BATCH);
    let mut attempts = 0;
    let draining = Draining::new(DRAIN_TIMEOUT);
    // Worth connecting while the `Topics` may still publish, or for a
    // while after it is closed if something is left to send.
    while let Some(mut conn) = backoff
        .connect(
            &health,
            || draining.worth_connecting(rx.is_closed(), rx.len() + batch.len(), &health),
            || client.get_multiplexed_async_connection(),
        )
        .await
    {
        let Ok(sha) = script(&mut conn, history, &health).await else {
            continue;
        };
        health.set_connected(Link::Publishing, true);
        loop {
            if batch.is_empty() && rx.recv_many(&mut batch, BATCH).await == 0 {
                return; // the `Topics` is closed and all was sent
            }
            let pipe = match (&sha, history) {
                (Some(sha), Some(retention)) => kept(&batch, sha, retention),
                _ => live(&batch),
            };
            if send(&mut conn, &pipe, &health).await {
                health.published(batch.len());
                batch.clear();
                attempts = 0;
                continue;
            }
            attempts += 1;
            if attempts >= SEND_ATTEMPTS {
                health.dropped(batch.len(), "Redis refused them 3 times");
                batch.clear();
                attempts = 0;
            }
            break;
        }
        health.set_connected(Link::Publishing, false);
    }
}

/// With history, every publication goes through the script, loaded again
/// on every connection (a restarted Redis has forgotten it): its SHA.
async fn script(
    conn: &mut redis::aio::MultiplexedConnection,
    history: Option<Retention>,
    health: &Health,
) -> Result<Option<String>, ()> {
    if history.is_none() {
        return Ok(None);
    }
    load_script(conn)
        .await
        .map(Some)
        .map_err(|e| health.error(format_args!("Redis SCRIPT LOAD failed: {e}")))
}

/// Sends one pipeline; `false` (and the error noted) if it failed.
async fn send(conn: &mut redis::aio::MultiplexedConnection, pipe: &redis::Pipeline, health: &Health) -> bool {
    match tokio::time::timeout(IO_TIMEOUT, pipe.query_async::<()>(conn)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            health.error(format_args!("Redis PUBLISH failed: {e}"));
            false
        }
        Err(_) => {
            health.error("Redis PUBLISH timed out");
            false
        }
    }
}

/// Plain pub/sub: one `PUBLISH` each.
fn live(batch: &[(String, Bytes)]) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for (channel, sealed) in batch {
        pipe.cmd("PUBLISH").arg(channel).arg(&sealed[..]).ignore();
    }
    pipe
}

/// With history: one script run per run of publications to one topic, in
/// the order they were queued.
fn kept(batch: &[(String, Bytes)], sha: &str, retention: Retention) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for run in batch.chunk_by(|a, b| a.0 == b.0) {
        let sealed = run.iter().map(|(_, sealed)| &sealed[..]);
        history::publish_command(&mut pipe, sha, &run[0].0, sealed, retention);
    }
    pipe
}

async fn load_script(conn: &mut redis::aio::MultiplexedConnection) -> Result<String, String> {
    let mut load = redis::cmd("SCRIPT");
    load.arg("LOAD").arg(history::PUBLISH);
    match tokio::time::timeout(IO_TIMEOUT, load.query_async(conn)).await {
        Ok(Ok(sha)) => Ok(sha),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    }
}

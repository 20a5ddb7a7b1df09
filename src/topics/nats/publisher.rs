//! The publishing task: queued publications sent on core NATS, or through
//! `JetStream` (acknowledged, so what was kept is counted) when the `Topics`
//! keeps history.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::join_all;
use tokio::sync::mpsc;

use super::connection::Names;
use super::{jetstream, Shared, DRAIN_TIMEOUT, IO_TIMEOUT};

/// Publications sent before their acknowledgements are awaited.
const BATCH: usize = 256;

pub(super) async fn run(shared: Arc<Shared>, names: Names, mut rx: mpsc::Receiver<(String, Bytes)>) {
    let Some(client) = wait_for_client(&shared, &rx).await else {
        let left = rx.len();
        if left > 0 {
            shared
                .health
                .dropped(left, "NATS never connected before the Topics was closed");
        }
        return;
    };
    let js = async_nats::jetstream::new(client.clone());
    let ensure = || async {
        if let Some(&retention) = shared.history.get() {
            // The stream must exist before a publication, or it is lost.
            if let Err(e) = jetstream::ensure(&js, &names.stream, &names.prefix, retention).await {
                shared.health.error(format_args!("NATS JetStream stream: {e}"));
            }
        }
    };
    ensure().await;
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let sent = batch.len();
        let failed = if shared.history.get().is_some() {
            let mut failed = send_kept(&js, std::mem::take(&mut batch)).await;
            if !failed.is_empty() {
                // A server that lost its data lost the stream: make it again, try once more.
                ensure().await;
                failed = send_kept(&js, failed).await;
            }
            failed.len()
        } else {
            send_live(&client, batch.drain(..)).await
        };
        shared.health.published(sent - failed);
        if failed > 0 {
            shared.health.dropped(failed, "NATS refused them");
        }
    }
}

/// The client, once connected; `None` if the `Topics` was closed and the
/// drain's deadline passed first.
async fn wait_for_client(shared: &Shared, rx: &mpsc::Receiver<(String, Bytes)>) -> Option<async_nats::Client> {
    let mut waited = std::time::Duration::ZERO;
    loop {
        if let Some(client) = shared.client().await {
            return Some(client);
        }
        waited += IO_TIMEOUT;
        if rx.is_closed() && waited >= DRAIN_TIMEOUT {
            return None;
        }
    }
}

/// Core NATS; returns how many failed.
async fn send_live(client: &async_nats::Client, batch: impl Iterator<Item = (String, Bytes)>) -> usize {
    let mut failed = 0;
    for (subject, sealed) in batch {
        if client.publish(subject, sealed).await.is_err() {
            failed += 1;
        }
    }
    if tokio::time::timeout(IO_TIMEOUT, client.flush())
        .await
        .map_or(true, |r| r.is_err())
    {
        tracing::debug!("NATS flush did not complete");
    }
    failed
}

/// `JetStream`, every publication acknowledged; returns those that were not.
async fn send_kept(js: &async_nats::jetstream::Context, batch: Vec<(String, Bytes)>) -> Vec<(String, Bytes)> {
    let mut acks = Vec::with_capacity(batch.len());
    for (subject, sealed) in &batch {
        let sent = js.publish(subject.clone(), sealed.clone()).await;
        acks.push(async move {
            let ack = std::future::IntoFuture::into_future(sent.ok()?);
            tokio::time::timeout(IO_TIMEOUT, ack).await.ok()?.ok()
        });
    }
    let acked = join_all(acks).await;
    batch
        .into_iter()
        .zip(acked)
        .filter_map(|(publication, ack)| ack.is_none().then_some(publication))
        .collect()
}

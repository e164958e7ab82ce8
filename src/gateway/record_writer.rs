//! The call-record writer: the driver hands it every B2BUA state change as it happens; one
//! task commits them in order, batching what queued up while the previous commit was on disk
//! (group commit), so durable writes never stall SIP processing.

use super::b2bua::Record;
use crate::store::{CallStore, CallUpdate, Timestamp};
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::warn;

/// Largest batch in one commit.
const MAX_BATCH: usize = 512;

/// Sends updates to the writer task.
#[derive(Debug, Clone)]
pub struct RecordWriter {
    tx: mpsc::UnboundedSender<(String, CallUpdate)>,
}

impl RecordWriter {
    /// Starts the writer task over `store`; it ends when every sender is dropped, after
    /// writing everything it was given.
    pub fn start(store: Arc<dyn CallStore>) -> (RecordWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(write_loop(store, rx));
        (RecordWriter { tx }, task)
    }

    /// Queues one B2BUA record, stamped with the wall clock now.
    pub fn record(&self, call: String, record: Record) {
        let at = Timestamp::now();
        let update = match record {
            Record::Received {
                caller,
                display_name,
                trunk,
                sip_call_id,
            } => CallUpdate::Received {
                at,
                caller,
                display_name,
                trunk,
                sip_call_id,
            },
            Record::Screened {
                class,
                score,
                reasons,
                audio,
            } => CallUpdate::Screened {
                at,
                class,
                score,
                reasons,
                audio,
            },
            Record::Queued => CallUpdate::Queued { at },
            Record::Ringing { seat } => CallUpdate::Ringing { at, seat },
            Record::Answered { seat } => CallUpdate::Answered { at, seat },
            Record::Ended { reason, by } => CallUpdate::Ended { at, reason, by },
        };
        self.update(call, update);
    }

    /// Queues any update (media statistics, screening results).
    pub fn update(&self, call: String, update: CallUpdate) {
        if self.tx.send((call, update)).is_err() {
            warn!("call-record writer has stopped; update lost");
        }
    }
}

async fn write_loop(
    store: Arc<dyn CallStore>,
    mut rx: mpsc::UnboundedReceiver<(String, CallUpdate)>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let store = store.clone();
        let failures = tokio::task::spawn_blocking(move || store.record_events(batch)).await;
        match failures {
            Ok(failures) => {
                for (call, err) in failures {
                    warn!(%call, %err, "call record update failed");
                }
            }
            Err(err) => warn!(%err, "call record writer panicked"),
        }
    }
}

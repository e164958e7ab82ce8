//! The call-record writer: the driver hands it every B2BUA state change as it happens; one
//! task commits them in order, batching what queued up while the previous commit was on disk
//! (group commit), so durable writes never stall SIP processing.
//!
//! **When the store falls behind** (a slow disk, a locked file) the bounded queue
//! (`store.record_queue`) fills. The driver must not wait for the disk (every call's
//! signalling would stall) and a record must never be lost, so the overflow goes to an
//! in-memory spill, in order: once anything is spilled, later updates are spilled too until
//! the writer has caught up, so a call's `Received` is always written before its `Ended`.
//! Every spilled update is counted ([`RecordWriter::spilled`]) and the first of each burst
//! is warned about. The spill is memory: a crash loses it exactly as it loses the queue
//! (calls in progress are then marked interrupted at the next start).

use super::b2bua::Record;
use crate::store::{CallStore, CallUpdate, Timestamp};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, Notify};
use tracing::warn;

/// Largest batch in one commit.
const MAX_BATCH: usize = 512;

type Update = (String, CallUpdate);

/// The overflow of the bounded queue, shared by the driver and the writer task.
#[derive(Debug, Default)]
struct Spill {
    queue: Mutex<VecDeque<Update>>,
    /// Wakes the writer when the queue is empty but the spill is not.
    wake: Notify,
    /// Updates that went through the spill since the start.
    total: AtomicU64,
}

/// Sends updates to the writer task.
#[derive(Debug, Clone)]
pub struct RecordWriter {
    tx: mpsc::Sender<Update>,
    spill: Arc<Spill>,
}

impl RecordWriter {
    /// Starts the writer task over `store` with a queue of `capacity` updates (at least 1);
    /// it ends when every sender is dropped, after writing everything it was given.
    pub fn start(
        store: Arc<dyn CallStore>,
        capacity: usize,
    ) -> (RecordWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let spill = Arc::new(Spill::default());
        let task = tokio::spawn(write_loop(store, rx, spill.clone()));
        (RecordWriter { tx, spill }, task)
    }

    /// Updates that had to wait in the spill because the queue was full.
    pub fn spilled(&self) -> u64 {
        self.spill.total.load(Ordering::Relaxed)
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
            Record::Located { update } => update,
        };
        self.update(call, update);
    }

    /// Queues any update (media statistics, screening results); never waits.
    pub fn update(&self, call: String, update: CallUpdate) {
        let mut spill = self
            .spill
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Behind a non-empty spill, the queue would overtake it: keep the order.
        let item = if spill.is_empty() {
            match self.tx.try_send((call, update)) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(item)) => {
                    warn!(
                        queue = self.tx.max_capacity(),
                        "call-record queue full: the store is behind; records wait in memory"
                    );
                    item
                }
                Err(mpsc::error::TrySendError::Closed((call, _))) => {
                    // Only at shutdown, after the writer task ended: nothing can write it.
                    warn!(%call, "call-record writer has stopped; update not written");
                    return;
                }
            }
        } else {
            (call, update)
        };
        spill.push_back(item);
        self.spill.total.fetch_add(1, Ordering::Relaxed);
        drop(spill);
        self.spill.wake.notify_one();
    }
}

/// The next batch: the queue first (it holds the oldest updates), the spill when the queue
/// is empty; `None` when every sender is gone and both are empty.
async fn next_batch(rx: &mut mpsc::Receiver<Update>, spill: &Spill) -> Option<Vec<Update>> {
    loop {
        let mut batch = Vec::new();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            let mut spilled = spill.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let n = spilled.len().min(MAX_BATCH);
            batch.extend(spilled.drain(..n));
        }
        if !batch.is_empty() {
            return Some(batch);
        }
        tokio::select! {
            first = rx.recv() => match first {
                Some(first) => return Some(vec![first]),
                // Senders gone: the spill may still hold updates queued before.
                None => {
                    let mut spilled = spill.queue.lock().unwrap_or_else(PoisonError::into_inner);
                    if spilled.is_empty() {
                        return None;
                    }
                    return Some(spilled.drain(..).collect());
                }
            },
            () = spill.wake.notified() => {}
        }
    }
}

async fn write_loop(store: Arc<dyn CallStore>, mut rx: mpsc::Receiver<Update>, spill: Arc<Spill>) {
    while let Some(batch) = next_batch(&mut rx, &spill).await {
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

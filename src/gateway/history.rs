//! Caller-history reads off the SIP task, each with a deadline (issue 9 item 3).
//!
//! The B2BUA asks for a screened caller's past dispositions ([`HistoryRequest`]) and goes on
//! screening at once; this reader runs the store query on the blocking pool and hands the
//! answer back to the driver. A read that fails, exceeds [`HISTORY_DEADLINE`], or finds
//! [`MAX_READS`] reads already in flight gives no answer: the call is screened without
//! history (fail open), and SIP processing never waits for the store, whatever its latency
//! (a networked store's round trip, a locked SQLite file).

use super::b2bua::HistoryRequest;
use crate::store::{CallStore, CallerHistory, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tracing::warn;

/// How long a history read may take. The earliest screening decision (speech heard long
/// enough) comes about half a second in; a history later than that is not used anyway.
pub const HISTORY_DEADLINE: Duration = Duration::from_millis(500);

/// Reads in flight at most: a stalled store must not pile up blocking threads.
pub const MAX_READS: usize = 16;

/// A history for a call: (siaga call id, history).
pub type HistoryAnswer = (String, CallerHistory);

/// Runs [`HistoryRequest`]s against the store.
#[derive(Clone)]
pub struct HistoryReader {
    store: Arc<dyn CallStore>,
    days: u32,
    deadline: Duration,
    permits: Arc<Semaphore>,
    answers: mpsc::UnboundedSender<HistoryAnswer>,
}

impl std::fmt::Debug for HistoryReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryReader")
            .field("days", &self.days)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl HistoryReader {
    /// A reader over `store` looking `days` back, and where its answers arrive.
    pub fn new(
        store: Arc<dyn CallStore>,
        days: u32,
        deadline: Duration,
    ) -> (HistoryReader, mpsc::UnboundedReceiver<HistoryAnswer>) {
        let (answers, rx) = mpsc::unbounded_channel();
        let reader = HistoryReader {
            store,
            days,
            deadline,
            permits: Arc::new(Semaphore::new(MAX_READS)),
            answers,
        };
        (reader, rx)
    }

    /// Starts one read; returns at once (needs a tokio runtime).
    pub fn read(&self, request: HistoryRequest) {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            warn!(call = %request.call, "caller history: too many reads in flight; screening without it");
            return;
        };
        let store = self.store.clone();
        let since_ms = i64::from(self.days) * 86_400_000;
        let (deadline, answers) = (self.deadline, self.answers.clone());
        tokio::spawn(async move {
            let HistoryRequest { call, number } = request;
            let read = tokio::task::spawn_blocking(move || {
                // The permit is held until the query really ends, even after the deadline.
                let _permit = permit;
                let now = Timestamp::now();
                store.caller_history(&number, now, Timestamp::from_ms(now.as_ms() - since_ms))
            });
            let history = match tokio::time::timeout(deadline, read).await {
                Ok(Ok(Ok(history))) => history,
                Ok(Ok(Err(err))) => {
                    warn!(%call, %err, "caller history unavailable: screening without it");
                    return;
                }
                Ok(Err(err)) => {
                    warn!(%call, %err, "caller history read failed: screening without it");
                    return;
                }
                Err(_) => {
                    warn!(%call, ?deadline, "caller history read too slow: screening without it");
                    return;
                }
            };
            if answers.send((call, history)).is_err() {
                tracing::debug!("caller history not delivered: the driver has stopped");
            }
        });
    }
}

//! The bounded call-record queue (issue 9 item 7): when the store falls behind, the overflow
//! waits in the writer's spill, counted, and every record is still written, in order. The
//! driver side never waits.

use siaga::gateway::b2bua::Record;
use siaga::gateway::record_writer::RecordWriter;
use siaga::store::{
    Account, CallRecord, CallState, CallStore, CallUpdate, CallerCount, CallerHistory, Disposition,
    EndReason, HourCount, ListFilter, MemoryStore, Party, StoreError, Timestamp,
};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A memory store whose writes wait until the gate opens (a disk that stalls).
struct GatedStore {
    inner: MemoryStore,
    open: Mutex<bool>,
    opened: Condvar,
}

impl GatedStore {
    fn wait_open(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }
    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl CallStore for GatedStore {
    fn record_event(&self, id: &str, update: CallUpdate) -> Result<(), StoreError> {
        self.wait_open();
        self.inner.record_event(id, update)
    }
    fn dispose(&self, id: &str, disposition: Disposition) -> Result<CallRecord, StoreError> {
        self.inner.dispose(id, disposition)
    }
    fn dispositions(&self, id: &str) -> Result<Vec<Disposition>, StoreError> {
        self.inner.dispositions(id)
    }
    fn interrupt_unfinished(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.inner.interrupt_unfinished(now)
    }
    fn get(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        self.inner.get(id)
    }
    fn list(&self, filter: &ListFilter) -> Result<Vec<CallRecord>, StoreError> {
        self.inner.list(filter)
    }
    fn caller_history(
        &self,
        number: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<CallerHistory, StoreError> {
        self.inner.caller_history(number, now, since)
    }
    fn hourly_counts(&self, from_hour: i64, to_hour: i64) -> Result<Vec<HourCount>, StoreError> {
        self.inner.hourly_counts(from_hour, to_hour)
    }
    fn top_callers(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<CallerCount>, StoreError> {
        self.inner.top_callers(since, until, limit)
    }
    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.inner.put_account(account)
    }
    fn account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        self.inner.account(name)
    }
}

const CALLS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_spills_in_order_and_loses_no_record() {
    let store = Arc::new(GatedStore {
        inner: MemoryStore::new(),
        open: Mutex::new(false),
        opened: Condvar::new(),
    });
    let (writer, task) = RecordWriter::start(store.clone(), 8);
    let started = Instant::now();
    for n in 0..CALLS {
        let call = format!("c{n}");
        writer.record(
            call.clone(),
            Record::Received {
                caller: Some(format!("0812{n:06}")),
                display_name: None,
                trunk: "127.0.0.1:5070".into(),
                sip_call_id: format!("sip-{n}"),
            },
        );
        writer.record(call.clone(), Record::Queued);
        writer.record(
            call,
            Record::Ended {
                reason: EndReason::Abandoned,
                by: Party::Caller,
            },
        );
    }
    // The driver side never waited for the stalled store.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let spilled = writer.spilled();
    assert!(
        spilled >= (3 * CALLS - 8 - 512) as u64,
        "the queue holds 8 (and the writer one batch): the rest is spilled, got {spilled}"
    );
    store.release();
    drop(writer);
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("writer drains")
        .expect("writer task");
    let records = store.list(&ListFilter::default()).unwrap();
    assert_eq!(records.len(), CALLS, "every call has its record");
    // In order per call: an Ended before its Received would have been refused (unknown call).
    assert!(
        records.iter().all(|r| r.state == CallState::Ended
            && r.queued_at.is_some()
            && r.end_reason == Some(EndReason::Abandoned)),
        "{:?}",
        records.iter().find(|r| r.state != CallState::Ended)
    );
}

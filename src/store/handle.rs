//! The async face of a [`CallStore`]: every call runs on tokio's blocking pool, so an fsync
//! or a long report never stalls the SIP and media tasks on the async workers.
use std::sync::Arc;

use super::{
    Account, CallRecord, CallStore, CallUpdate, CallerCount, CallerHistory, Disposition, HourCount,
    ListFilter, StoreError, Timestamp,
};

/// A cloneable, async handle to a store.
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<dyn CallStore>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHandle")
    }
}

impl StoreHandle {
    /// Wraps a store.
    pub fn new(store: Arc<dyn CallStore>) -> Self {
        StoreHandle { store }
    }

    /// The store itself, for blocking callers (CLI, start-up).
    pub fn blocking(&self) -> &Arc<dyn CallStore> {
        &self.store
    }

    /// Runs `f` on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn CallStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// See [`CallStore::record_event`].
    pub async fn record_event(&self, id: String, update: CallUpdate) -> Result<(), StoreError> {
        self.run(move |s| s.record_event(&id, update)).await
    }

    /// See [`CallStore::dispose`].
    pub async fn dispose(&self, id: String, d: Disposition) -> Result<CallRecord, StoreError> {
        self.run(move |s| s.dispose(&id, d)).await
    }

    /// See [`CallStore::dispositions`].
    pub async fn dispositions(&self, id: String) -> Result<Vec<Disposition>, StoreError> {
        self.run(move |s| s.dispositions(&id)).await
    }

    /// See [`CallStore::interrupt_unfinished`].
    pub async fn interrupt_unfinished(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.run(move |s| s.interrupt_unfinished(now)).await
    }

    /// See [`CallStore::get`].
    pub async fn get(&self, id: String) -> Result<Option<CallRecord>, StoreError> {
        self.run(move |s| s.get(&id)).await
    }

    /// See [`CallStore::list`].
    pub async fn list(&self, filter: ListFilter) -> Result<Vec<CallRecord>, StoreError> {
        self.run(move |s| s.list(&filter)).await
    }

    /// See [`CallStore::caller_history`].
    pub async fn caller_history(
        &self,
        number: String,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<CallerHistory, StoreError> {
        self.run(move |s| s.caller_history(&number, now, since))
            .await
    }

    /// See [`CallStore::hourly_counts`].
    pub async fn hourly_counts(&self, from: i64, to: i64) -> Result<Vec<HourCount>, StoreError> {
        self.run(move |s| s.hourly_counts(from, to)).await
    }

    /// See [`CallStore::top_callers`].
    pub async fn top_callers(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<CallerCount>, StoreError> {
        self.run(move |s| s.top_callers(since, until, limit)).await
    }

    /// See [`CallStore::put_account`].
    pub async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        self.run(move |s| s.put_account(&account)).await
    }

    /// See [`CallStore::account`].
    pub async fn account(&self, name: String) -> Result<Option<Account>, StoreError> {
        self.run(move |s| s.account(&name)).await
    }
}

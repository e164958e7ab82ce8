//! Call records, dispositions, caller history, analytics counts and API accounts, behind one
//! interface ([`CallStore`]) with two backends: [`SqliteStore`] (the embedded default) and
//! [`MemoryStore`] (tests, dev). One battery of tests runs against both (`battery.rs`).
//!
//! The trait is synchronous: database work blocks. Async code goes through [`StoreHandle`],
//! which runs every call on tokio's blocking pool, never on the async worker threads.
//!
//! A PostgreSQL backend for multi-node sites implements the same trait: nothing above this
//! module sees SQL. What it needs: the same tables (`schema.rs` is plain SQL apart from
//! `INSERT OR REPLACE`/`ON CONFLICT`, which PostgreSQL also has), and the per-hour counts
//! updated in the transaction that changes a record.
pub mod backup;
mod bindings;
mod handle;
mod memory;
mod open;
pub mod panic_devices;
mod record;
mod schema;
mod sqlite;
mod sqlite_rows;
mod time;

#[cfg(test)]
mod battery;
#[cfg(test)]
pub(crate) use battery::temp_sqlite as temp_sqlite_for_tests;

use serde::{Deserialize, Serialize};

pub use bindings::StoredBinding;
pub use handle::StoreHandle;
pub use memory::MemoryStore;
pub use open::{open, open_existing};
pub use record::{
    AudioStats, CallRecord, CallState, CallUpdate, Disposition, EndReason, HistoryMark, Location,
    Party, ScreeningClass,
};
pub use sqlite::SqliteStore;
pub use time::{Timestamp, HOUR_MS};

/// Errors of the store. Backend errors carry the backend's message, not its type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An update (other than `Received`) or a disposition for a call the store does not have.
    #[error("unknown call {id:?}")]
    UnknownCall {
        /// The call id.
        id: String,
    },
    /// A second `Received` for the same call id.
    #[error("call {id:?} already exists")]
    Duplicate {
        /// The call id.
        id: String,
    },
    /// A call event on a finished call.
    #[error("call {id:?} is {from:?}, it cannot become {to:?}")]
    Transition {
        /// The call id.
        id: String,
        /// Its state.
        from: CallState,
        /// The state the update asked for.
        to: CallState,
    },
    /// The database file could not be opened or migrated.
    #[error("store {path}: {message}")]
    Open {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The database refused a statement (I/O error, disk full, corruption, busy).
    #[error("database: {0}")]
    Backend(String),
    /// A stored value could not be read back (a column holding an unknown enum name).
    #[error("corrupt value in column {column}: {value:?}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// The blocking task running the store call panicked or was cancelled.
    #[error("store task failed: {0}")]
    Task(String),
}

/// Which records `list` returns. Every field narrows; `None` does not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// Received at or after.
    pub since: Option<Timestamp>,
    /// Received before.
    pub until: Option<Timestamp>,
    /// Effective category.
    pub category: Option<String>,
    /// Effective kecamatan.
    pub kecamatan: Option<String>,
    /// Caller number.
    pub caller: Option<String>,
    /// Seat that rang last or answered.
    pub seat: Option<String>,
    /// At most this many, newest first (0: the backend's cap, 1000).
    pub limit: usize,
}

/// The cap on `list` when the filter gives none.
pub const LIST_LIMIT: usize = 1000;

/// What screening reads about a caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerHistory {
    /// Calls received in the hour before `now`.
    pub calls_1h: u32,
    /// Calls received in the 24 hours before `now`.
    pub calls_24h: u32,
    /// Calls since `since` disposed as prank.
    pub prank: u32,
    /// Calls since `since` disposed as ghost.
    pub ghost: u32,
    /// Calls since `since` disposed as an emergency or service report.
    pub genuine: u32,
}

/// Calls received in one UTC hour, in one kecamatan, with one category (the analytics base).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct HourCount {
    /// Hours since the epoch (UTC).
    pub hour: i64,
    /// Effective kecamatan; empty when unknown.
    pub kecamatan: String,
    /// Effective category; empty when not disposed.
    pub category: String,
    /// Number of calls.
    pub calls: u64,
}

/// A caller and how often they called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerCount {
    /// Caller number.
    pub caller: String,
    /// Calls in the range.
    pub calls: u64,
    /// Of which disposed as prank.
    pub prank: u64,
    /// Of which disposed as ghost.
    pub ghost: u64,
}

/// What an API account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A call taker: reads calls, disposes the calls of its own seat.
    Seat,
    /// Reads everything, corrects any disposition.
    Supervisor,
    /// Reads calls and analytics.
    Analyst,
    /// Everything a supervisor may, and account management.
    Admin,
}

/// An API account. The password is only ever stored as an Argon2 PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The SIP seat this account answers on (seat role only).
    pub seat: Option<String>,
    /// Argon2 PHC hash of the password.
    pub password_hash: String,
}

/// Storage of call records and everything derived from them.
///
/// Every method is blocking; call it through [`StoreHandle`] from async code. Every write is
/// committed when the method returns.
pub trait CallStore: Send + Sync {
    /// Applies one state change to call `id`; `Received` creates the record.
    fn record_event(&self, id: &str, update: CallUpdate) -> Result<(), StoreError>;

    /// Applies several updates in order. A backend with durable commits makes this one
    /// commit (group commit: the gateway's writer batches what arrived while the previous
    /// commit was on disk). One failing update does not stop the others; the failures are
    /// returned with their call ids.
    fn record_events(&self, batch: Vec<(String, CallUpdate)>) -> Vec<(String, StoreError)> {
        batch
            .into_iter()
            .filter_map(|(id, update)| self.record_event(&id, update).err().map(|e| (id, e)))
            .collect()
    }

    /// Sets the current disposition of call `id`, keeping earlier ones as its history.
    fn dispose(&self, id: &str, disposition: Disposition) -> Result<CallRecord, StoreError>;

    /// Every disposition of call `id`, oldest first (the correction history).
    fn dispositions(&self, id: &str) -> Result<Vec<Disposition>, StoreError>;

    /// At start-up: marks every call not ended as interrupted at `now`; returns how many.
    fn interrupt_unfinished(&self, now: Timestamp) -> Result<usize, StoreError>;

    /// One call.
    fn get(&self, id: &str) -> Result<Option<CallRecord>, StoreError>;

    /// Calls matching `filter`, newest first.
    fn list(&self, filter: &ListFilter) -> Result<Vec<CallRecord>, StoreError>;

    /// Calls of `number` in the last 1 h / 24 h before `now`, and its dispositions on calls
    /// received since `since`.
    fn caller_history(
        &self,
        number: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<CallerHistory, StoreError>;

    /// Per-hour counts for hours in `[from_hour, to_hour)` (UTC hours since the epoch).
    fn hourly_counts(&self, from_hour: i64, to_hour: i64) -> Result<Vec<HourCount>, StoreError>;

    /// The `limit` callers with most calls received in `[since, until)`, most first (ties by
    /// number); withheld numbers are not counted.
    fn top_callers(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<CallerCount>, StoreError>;

    /// Creates or replaces an account.
    fn put_account(&self, account: &Account) -> Result<(), StoreError>;

    /// One account by name.
    fn account(&self, name: &str) -> Result<Option<Account>, StoreError>;

    /// Replaces every stored seat registration with `bindings`.
    ///
    /// # Errors
    ///
    /// A backend that keeps no registrations says so ([`StoreError::Backend`]).
    fn save_bindings(&self, _bindings: &[StoredBinding]) -> Result<(), StoreError> {
        Err(StoreError::Backend(
            "this store keeps no registrations".into(),
        ))
    }

    /// The stored seat registrations, expired ones included (the caller filters).
    ///
    /// # Errors
    ///
    /// As [`CallStore::save_bindings`].
    fn load_bindings(&self) -> Result<Vec<StoredBinding>, StoreError> {
        Err(StoreError::Backend(
            "this store keeps no registrations".into(),
        ))
    }
}

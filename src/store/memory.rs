//! The in-memory twin: the same behaviour as SQLite, computed the plain way (a scan for every
//! query), which also makes it an independent check of SQLite's pre-aggregated counts.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::{
    Account, CallRecord, CallStore, CallUpdate, CallerCount, CallerHistory, Disposition,
    HistoryMark, HourCount, ListFilter, StoreError, Timestamp, HOUR_MS, LIST_LIMIT,
};

#[derive(Default)]
struct Inner {
    calls: HashMap<String, CallRecord>,
    dispositions: HashMap<String, Vec<Disposition>>,
    accounts: HashMap<String, Account>,
    bindings: Vec<super::StoredBinding>,
}

/// Call records in a `Mutex<HashMap>`; lost when dropped.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves whole records (every write is one assignment).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether `r` passes `f` (shared with nothing else: SQLite does this in SQL).
fn matches(r: &CallRecord, f: &ListFilter) -> bool {
    f.since.is_none_or(|t| r.received_at >= t)
        && f.until.is_none_or(|t| r.received_at < t)
        && (f.category.is_none() || r.category() == f.category.as_deref())
        && (f.kecamatan.is_none() || r.kecamatan == f.kecamatan)
        && (f.caller.is_none() || r.caller == f.caller)
        && (f.seat.is_none() || r.seat == f.seat)
}

fn mark(r: &CallRecord) -> Option<HistoryMark> {
    r.disposition.as_ref().map(|d| d.mark)
}

impl CallStore for MemoryStore {
    fn save_bindings(&self, bindings: &[super::StoredBinding]) -> Result<(), StoreError> {
        self.lock().bindings = bindings.to_vec();
        Ok(())
    }

    fn load_bindings(&self) -> Result<Vec<super::StoredBinding>, StoreError> {
        Ok(self.lock().bindings.clone())
    }

    fn record_event(&self, id: &str, update: CallUpdate) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.calls.get_mut(id) {
            Some(record) => {
                let auto = record.screening_disposition(&update);
                record.apply(update)?;
                if let Some(d) = auto {
                    record.dispose(d.clone());
                    inner.dispositions.entry(id.to_owned()).or_default().push(d);
                }
                Ok(())
            }
            None => {
                let record = CallRecord::create(id, update)?;
                inner.calls.insert(id.to_owned(), record);
                Ok(())
            }
        }
    }

    fn dispose(&self, id: &str, disposition: Disposition) -> Result<CallRecord, StoreError> {
        let mut inner = self.lock();
        let record = inner
            .calls
            .get_mut(id)
            .ok_or_else(|| StoreError::UnknownCall { id: id.to_owned() })?;
        record.dispose(disposition.clone());
        let record = record.clone();
        inner
            .dispositions
            .entry(id.to_owned())
            .or_default()
            .push(disposition);
        Ok(record)
    }

    fn dispositions(&self, id: &str) -> Result<Vec<Disposition>, StoreError> {
        Ok(self
            .lock()
            .dispositions
            .get(id)
            .cloned()
            .unwrap_or_default())
    }

    fn interrupt_unfinished(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let open = inner.calls.values_mut().filter(|r| !r.state.is_terminal());
        let mut n = 0;
        for record in open {
            record.interrupt(now);
            n += 1;
        }
        Ok(n)
    }

    fn get(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        Ok(self.lock().calls.get(id).cloned())
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<CallRecord>, StoreError> {
        let inner = self.lock();
        let mut out: Vec<CallRecord> = inner
            .calls
            .values()
            .filter(|r| matches(r, filter))
            .cloned()
            .collect();
        out.sort_by(|a, b| (b.received_at, &b.id).cmp(&(a.received_at, &a.id)));
        let limit = if filter.limit == 0 {
            LIST_LIMIT
        } else {
            filter.limit
        };
        out.truncate(limit);
        Ok(out)
    }

    fn caller_history(
        &self,
        number: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<CallerHistory, StoreError> {
        let inner = self.lock();
        let mut h = CallerHistory::default();
        let of_caller = inner
            .calls
            .values()
            .filter(|r| r.caller.as_deref() == Some(number) && r.received_at <= now);
        for r in of_caller {
            let age = now.as_ms() - r.received_at.as_ms();
            h.calls_1h += u32::from(age < HOUR_MS);
            h.calls_24h += u32::from(age < 24 * HOUR_MS);
            if r.received_at >= since {
                match mark(r) {
                    Some(HistoryMark::Prank) => h.prank += 1,
                    Some(HistoryMark::Ghost) => h.ghost += 1,
                    Some(HistoryMark::Genuine) => h.genuine += 1,
                    Some(HistoryMark::Neutral) | None => {}
                }
            }
        }
        Ok(h)
    }

    fn hourly_counts(&self, from_hour: i64, to_hour: i64) -> Result<Vec<HourCount>, StoreError> {
        let inner = self.lock();
        let mut counts: BTreeMap<(i64, String, String), u64> = BTreeMap::new();
        for r in inner.calls.values() {
            let bucket = r.bucket();
            if (from_hour..to_hour).contains(&bucket.0) {
                *counts.entry(bucket).or_default() += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((hour, kecamatan, category), calls)| HourCount {
                hour,
                kecamatan,
                category,
                calls,
            })
            .collect())
    }

    fn top_callers(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<CallerCount>, StoreError> {
        let inner = self.lock();
        let mut by: HashMap<&str, CallerCount> = HashMap::new();
        let in_range = inner
            .calls
            .values()
            .filter(|r| r.received_at >= since && r.received_at < until);
        for r in in_range {
            let Some(caller) = r.caller.as_deref() else {
                continue;
            };
            let c = by.entry(caller).or_insert_with(|| CallerCount {
                caller: caller.to_owned(),
                calls: 0,
                prank: 0,
                ghost: 0,
            });
            c.calls += 1;
            c.prank += u64::from(mark(r) == Some(HistoryMark::Prank));
            c.ghost += u64::from(mark(r) == Some(HistoryMark::Ghost));
        }
        let mut out: Vec<CallerCount> = by.into_values().collect();
        out.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.caller.cmp(&b.caller)));
        out.truncate(limit);
        Ok(out)
    }

    fn put_account(&self, account: &Account) -> Result<(), StoreError> {
        self.lock()
            .accounts
            .insert(account.name.clone(), account.clone());
        Ok(())
    }

    fn account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().accounts.get(name).cloned())
    }
}

//! The embedded default: one SQLite file in WAL mode.
//!
//! - `journal_mode=WAL`: readers (API, analytics) never block the writer (the B2BUA) and the
//!   writer never blocks them.
//! - `synchronous=FULL`: every commit fsyncs the WAL before it returns. With `NORMAL`, WAL
//!   commits survive a process crash but the last ones can roll back on power loss; a 112
//!   call record must survive both, and the cost is one fsync per state change (measured in
//!   BENCHMARKS.md), far above the city's 70-80 calls a day.
//! - `busy_timeout`: another process (a `siaga report` run) holding a lock makes us wait up
//!   to that long instead of failing at once.
//!
//! One write connection and one read connection, each behind a `Mutex`; every write is one
//! `IMMEDIATE` transaction that also keeps `hourly_counts` exact.
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::sqlite_rows::{name, parse, record_from_row, record_values, SELECT, UPSERT};
use super::{
    schema, Account, CallRecord, CallStore, CallUpdate, CallerCount, CallerHistory, Disposition,
    HourCount, ListFilter, StoreError, Timestamp, HOUR_MS, LIST_LIMIT,
};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A non-negative count column (SQLite integers are i64).
fn count(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    row.get::<_, i64>(i).map(|n| n.max(0).unsigned_abs())
}

/// Call records in a SQLite file.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

type Bucket = (i64, String, String);

impl SqliteStore {
    /// Opens (creating it and its directory if needed) and migrates the database at `path`.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<SqliteStore, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let connect = || -> Result<Connection, String> {
            let conn = Connection::open(path).map_err(|e| e.to_string())?;
            conn.busy_timeout(busy_timeout).map_err(|e| e.to_string())?;
            conn.pragma_update(None, "journal_mode", "WAL")
                .and_then(|()| conn.pragma_update(None, "synchronous", "FULL"))
                .map_err(|e| e.to_string())?;
            Ok(conn)
        };
        let mut writer = connect().map_err(open_err)?;
        schema::schema_up(&mut writer).map_err(open_err)?;
        let reader = connect().map_err(open_err)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    /// Writes whole records (an import, a restore, a benchmark's seed) in one transaction,
    /// keeping the hourly counts exact. Existing ids are replaced.
    pub fn import(&self, records: &[CallRecord]) -> Result<usize, StoreError> {
        self.write(|tx| {
            for r in records {
                let old = load(tx, &r.id)?.map(|o| o.bucket());
                save(tx, r, old)?;
            }
            Ok(records.len())
        })
    }

    /// A pragma's value on the write connection, as text.
    #[cfg(test)]
    pub(crate) fn pragma(&self, name: &str) -> String {
        self.writer()
            .query_row(&format!("PRAGMA {name}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(s) => s,
                other => format!("{other:?}"),
            })
            .unwrap_or_else(|e| e.to_string())
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // rusqlite rolls back an open transaction on drop, so a poisoned lock is consistent.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer and commits.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

/// One update inside an open transaction (a SAVEPOINT-free upsert: a failed update leaves
/// the row as it was, since nothing is written before `apply` succeeds).
fn apply_one(tx: &Transaction<'_>, id: &str, update: CallUpdate) -> Result<(), StoreError> {
    match load(tx, id)? {
        Some(mut record) => {
            let old = record.bucket();
            let auto = record.screening_disposition(&update);
            record.apply(update)?;
            if let Some(d) = auto {
                insert_disposition(tx, id, &d)?;
                record.dispose(d);
            }
            save(tx, &record, Some(old))
        }
        None => save(tx, &CallRecord::create(id, update)?, None),
    }
}

fn insert_disposition(tx: &Transaction<'_>, id: &str, d: &Disposition) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO dispositions
         (call_id, at, by_name, category, mark, kecamatan, kelurahan, notes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            d.at.as_ms(),
            d.by,
            d.category,
            name(&d.mark),
            d.kecamatan,
            d.kelurahan,
            d.notes
        ])
    })
    .map_err(db)?;
    Ok(())
}

fn load(conn: &Connection, id: &str) -> Result<Option<CallRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("{} WHERE id = ?1", *SELECT))
        .map_err(db)?;
    let mut rows = stmt.query([id]).map_err(db)?;
    match rows.next().map_err(db)? {
        Some(row) => record_from_row(row).map(Some),
        None => Ok(None),
    }
}

fn save(tx: &Transaction<'_>, r: &CallRecord, old: Option<Bucket>) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&UPSERT).map_err(db)?;
    stmt.execute(rusqlite::params_from_iter(record_values(r)))
        .map_err(db)?;
    let new = r.bucket();
    if old.as_ref() == Some(&new) {
        return Ok(());
    }
    if let Some((hour, kec, cat)) = old {
        tx.prepare_cached(
            "UPDATE hourly_counts SET calls = calls - 1
             WHERE hour = ?1 AND kecamatan = ?2 AND category = ?3",
        )
        .and_then(|mut s| s.execute(params![hour, kec, cat]))
        .and_then(|_| tx.execute("DELETE FROM hourly_counts WHERE calls <= 0", []))
        .map_err(db)?;
    }
    tx.prepare_cached(
        "INSERT INTO hourly_counts (hour, kecamatan, category, calls) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (hour, kecamatan, category) DO UPDATE SET calls = calls + 1",
    )
    .and_then(|mut s| s.execute(params![new.0, new.1, new.2]))
    .map_err(db)?;
    Ok(())
}

impl CallStore for SqliteStore {
    fn record_event(&self, id: &str, update: CallUpdate) -> Result<(), StoreError> {
        self.write(|tx| apply_one(tx, id, update))
    }

    fn record_events(&self, batch: Vec<(String, CallUpdate)>) -> Vec<(String, StoreError)> {
        let mut failures = Vec::new();
        let committed = self.write(|tx| {
            for (id, update) in batch.clone() {
                if let Err(err) = apply_one(tx, &id, update) {
                    failures.push((id, err));
                }
            }
            Ok(())
        });
        match committed {
            Ok(()) => failures,
            // The commit itself failed: nothing of the batch is on disk; say so per call.
            Err(err) => {
                let text = err.to_string();
                batch
                    .into_iter()
                    .map(|(id, _)| (id, StoreError::Backend(text.clone())))
                    .collect()
            }
        }
    }

    fn dispose(&self, id: &str, d: Disposition) -> Result<CallRecord, StoreError> {
        self.write(|tx| {
            let mut record =
                load(tx, id)?.ok_or_else(|| StoreError::UnknownCall { id: id.to_owned() })?;
            let old = record.bucket();
            insert_disposition(tx, id, &d)?;
            record.dispose(d);
            save(tx, &record, Some(old))?;
            Ok(record)
        })
    }

    fn dispositions(&self, id: &str) -> Result<Vec<Disposition>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT category, mark, kecamatan, kelurahan, notes, by_name, at
                 FROM dispositions WHERE call_id = ?1 ORDER BY seq",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .map_err(db)?;
        rows.map(|row| {
            let (category, mark, kecamatan, kelurahan, notes, by, at) = row.map_err(db)?;
            Ok(Disposition {
                category,
                mark: parse("mark", mark)?,
                kecamatan,
                kelurahan,
                notes,
                by,
                at: Timestamp::from_ms(at),
            })
        })
        .collect()
    }

    fn interrupt_unfinished(&self, now: Timestamp) -> Result<usize, StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE calls SET state = 'interrupted', ended_at = ?1, end_reason = NULL,
                 ended_by = NULL WHERE state NOT IN ('ended', 'interrupted')",
                [now.as_ms()],
            )
            .map_err(db)
        })
    }

    fn get(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        load(&self.reader(), id)
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<CallRecord>, StoreError> {
        let limit = if f.limit == 0 { LIST_LIMIT } else { f.limit };
        let sql = format!(
            "{} WHERE received_at >= ?1 AND received_at < ?2
               AND (?3 IS NULL OR category = ?3) AND (?4 IS NULL OR kecamatan = ?4)
               AND (?5 IS NULL OR caller = ?5) AND (?6 IS NULL OR seat = ?6)
             ORDER BY received_at DESC, id DESC LIMIT ?7",
            *SELECT
        );
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let mut rows = stmt
            .query(params![
                f.since.map_or(i64::MIN, Timestamp::as_ms),
                f.until.map_or(i64::MAX, Timestamp::as_ms),
                f.category,
                f.kecamatan,
                f.caller,
                f.seat,
                i64::try_from(limit).unwrap_or(i64::MAX),
            ])
            .map_err(db)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            out.push(record_from_row(row)?);
        }
        Ok(out)
    }

    fn caller_history(
        &self,
        number: &str,
        now: Timestamp,
        since: Timestamp,
    ) -> Result<CallerHistory, StoreError> {
        let day_ago = now.as_ms() - 24 * HOUR_MS;
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT coalesce(sum(received_at > ?2 - 3600000), 0),
                        coalesce(sum(received_at > ?2 - 86400000), 0),
                        coalesce(sum(received_at >= ?3 AND mark = 'prank'), 0),
                        coalesce(sum(received_at >= ?3 AND mark = 'ghost'), 0),
                        coalesce(sum(received_at >= ?3 AND mark = 'genuine'), 0)
                 FROM calls WHERE caller = ?1 AND received_at >= min(?3, ?4)
                   AND received_at <= ?2",
            )
            .map_err(db)?;
        stmt.query_row(params![number, now.as_ms(), since.as_ms(), day_ago], |r| {
            Ok(CallerHistory {
                calls_1h: r.get(0)?,
                calls_24h: r.get(1)?,
                prank: r.get(2)?,
                ghost: r.get(3)?,
                genuine: r.get(4)?,
            })
        })
        .map_err(db)
    }

    fn hourly_counts(&self, from_hour: i64, to_hour: i64) -> Result<Vec<HourCount>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT hour, kecamatan, category, calls FROM hourly_counts
                 WHERE hour >= ?1 AND hour < ?2 AND calls > 0
                 ORDER BY hour, kecamatan, category",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([from_hour, to_hour], |r| {
                Ok(HourCount {
                    hour: r.get(0)?,
                    kecamatan: r.get(1)?,
                    category: r.get(2)?,
                    calls: count(r, 3)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn top_callers(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<CallerCount>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT caller, count(*), coalesce(sum(mark = 'prank'), 0),
                        coalesce(sum(mark = 'ghost'), 0)
                 FROM calls WHERE received_at >= ?1 AND received_at < ?2 AND caller IS NOT NULL
                 GROUP BY caller ORDER BY count(*) DESC, caller LIMIT ?3",
            )
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![since.as_ms(), until.as_ms(), limit], |r| {
                Ok(CallerCount {
                    caller: r.get(0)?,
                    calls: count(r, 1)?,
                    prank: count(r, 2)?,
                    ghost: count(r, 3)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn put_account(&self, a: &Account) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO accounts (name, role, seat, password_hash)
                 VALUES (?1, ?2, ?3, ?4)",
                params![a.name, name(&a.role), a.seat, a.password_hash],
            )
            .map(drop)
            .map_err(db)
        })
    }

    fn account(&self, account: &str) -> Result<Option<Account>, StoreError> {
        let conn = self.reader();
        let row = conn
            .query_row(
                "SELECT name, role, seat, password_hash FROM accounts WHERE name = ?1",
                [account],
                |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(name, role, seat, password_hash)| {
            Ok(Account {
                name,
                role: parse("role", role)?,
                seat,
                password_hash,
            })
        })
        .transpose()
    }

    fn save_bindings(&self, bindings: &[super::StoredBinding]) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM bindings", []).map_err(db)?;
            for b in bindings {
                tx.execute(
                    "INSERT OR REPLACE INTO bindings
                     (seat, contact, expires_at, q, call_id, cseq, source, transport)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        b.seat,
                        b.contact,
                        b.expires_at.as_ms(),
                        b.q.map(f64::from),
                        b.call_id,
                        b.cseq,
                        b.source,
                        b.transport
                    ],
                )
                .map_err(db)?;
            }
            Ok(())
        })
    }

    fn load_bindings(&self) -> Result<Vec<super::StoredBinding>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare(
                "SELECT seat, contact, expires_at, q, call_id, cseq, source, transport
                 FROM bindings ORDER BY seat, contact",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(super::StoredBinding {
                    seat: r.get(0)?,
                    contact: r.get(1)?,
                    expires_at: super::Timestamp::from_ms(r.get(2)?),
                    q: r.get::<_, Option<f64>>(3)?.map(|q| q as f32),
                    call_id: r.get(4)?,
                    cseq: r.get(5)?,
                    source: r.get(6)?,
                    transport: r.get(7)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}

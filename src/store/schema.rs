//! Versioned schema: `MIGRATIONS[i]` takes the database from version `i` to `i + 1`.
//!
//! Append a migration for every change; never edit a shipped one. `schema_up` runs the
//! missing ones, each in its own transaction together with the new `schema_version`.
use rusqlite::{Connection, OptionalExtension};

/// Version 1: calls, dispositions, per-hour counts, accounts.
const V1: &str = "
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    sip_call_id TEXT NOT NULL,
    caller TEXT,
    display_name TEXT,
    trunk TEXT NOT NULL,
    state TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    screened_at INTEGER,
    queued_at INTEGER,
    ringing_at INTEGER,
    answered_at INTEGER,
    ended_at INTEGER,
    class TEXT,
    score INTEGER,
    reasons TEXT NOT NULL DEFAULT '[]',
    speech_ms INTEGER,
    silence_ms INTEGER,
    mean_dbfs REAL,
    peak_dbfs REAL,
    dtmf TEXT,
    seat TEXT,
    end_reason TEXT,
    ended_by TEXT,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    location_source TEXT,
    kecamatan TEXT,
    kelurahan TEXT,
    category TEXT,
    mark TEXT,
    d_kecamatan TEXT,
    d_kelurahan TEXT,
    notes TEXT,
    disposed_by TEXT,
    disposed_at INTEGER
);
-- list by time range (newest first), top callers
CREATE INDEX calls_received ON calls (received_at);
-- caller history: one caller's calls in a window
CREATE INDEX calls_caller ON calls (caller, received_at);
-- start-up recovery: only the few open calls are indexed
CREATE INDEX calls_open ON calls (state) WHERE state NOT IN ('ended', 'interrupted');

CREATE TABLE dispositions (
    seq INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id),
    at INTEGER NOT NULL,
    by_name TEXT NOT NULL,
    category TEXT NOT NULL,
    mark TEXT NOT NULL,
    kecamatan TEXT,
    kelurahan TEXT,
    notes TEXT NOT NULL
);
CREATE INDEX dispositions_call ON dispositions (call_id, seq);

-- Pre-aggregated analytics: calls per UTC hour x kecamatan x category, kept exact in the
-- transaction that changes a record. A month is at most 744 hours x places x categories rows.
CREATE TABLE hourly_counts (
    hour INTEGER NOT NULL,
    kecamatan TEXT NOT NULL,
    category TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (hour, kecamatan, category)
) WITHOUT ROWID;

CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    seat TEXT,
    password_hash TEXT NOT NULL
);
";

/// Version 2: RTP statistics of both legs, as JSON (issue 3: packets, loss, jitter per
/// stream are kept for the call record).
const V2: &str = "ALTER TABLE calls ADD COLUMN media TEXT;";

/// Version 3: seat registrations kept across restarts (issue 9), with their expiry.
const V3: &str = "
CREATE TABLE bindings (
    seat TEXT NOT NULL,
    contact TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    q REAL,
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    source TEXT NOT NULL,
    transport TEXT NOT NULL,
    PRIMARY KEY (seat, contact)
);
";

/// Every migration, in order; version 4 is issue 13's panic-button devices.
const MIGRATIONS: &[&str] = &[V1, V2, V3, super::panic_devices::PANIC_DEVICES_SQL];

/// The version this build expects.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// Current version (0 for an empty database).
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let v: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(v.unwrap_or(0))
}

/// Brings the database to [`LATEST`]. A database newer than this build is refused.
pub(crate) fn schema_up(conn: &mut Connection) -> Result<i64, String> {
    let current = version(conn).map_err(|e| e.to_string())?;
    if current > LATEST {
        return Err(format!(
            "schema version {current} is newer than this siaga ({LATEST}); refusing to open"
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let next = i as i64 + 1;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .and_then(|()| tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [next]))
            .and_then(|_| tx.commit())
            .map_err(|e| format!("migration to version {next}: {e}"))?;
    }
    Ok(LATEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(version(&conn).unwrap(), 0);
        assert_eq!(schema_up(&mut conn).unwrap(), LATEST);
        assert_eq!(schema_up(&mut conn).unwrap(), LATEST, "idempotent");
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])
            .unwrap();
        let err = schema_up(&mut conn).unwrap_err();
        assert!(err.contains("newer"), "{err}");
    }
}

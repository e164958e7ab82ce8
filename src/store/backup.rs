//! `siaga backup FILE`: a consistent copy of the live SQLite store, taken while calls run.
//!
//! Uses SQLite's online backup API (<https://sqlite.org/backup.html>) in one step: the copy is
//! made inside a single read transaction, so it is the database as of one commit. In WAL mode
//! (the store's mode) a reader never blocks the gateway's writer, so calls go on while the copy
//! is made. The copy is written beside the destination and renamed into place only after
//! `PRAGMA integrity_check` passes on it: a failed or interrupted backup never leaves a
//! half-written file under the destination's name.
//!
//! Restore (docs/deploy.md): stop the gateway, copy the backup over `store.path` (remove the
//! old `-wal` and `-shm` files beside it), start the gateway.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The file written.
    pub dest: PathBuf,
    /// Call records in the copy.
    pub calls: u64,
    /// Size of the copy.
    pub bytes: u64,
    /// Wall time of the copy and its check.
    pub elapsed: Duration,
}

/// Why a backup failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The live store could not be opened (missing file, permissions).
    #[error("cannot open the store {path}: {reason}")]
    Source {
        /// The store file.
        path: PathBuf,
        /// SQLite's words.
        reason: String,
    },
    /// The copy failed (disk full, destination not writable...).
    #[error("cannot write the backup {path}: {reason}")]
    Write {
        /// The destination.
        path: PathBuf,
        /// SQLite's or the OS's words.
        reason: String,
    },
    /// The copy does not pass `PRAGMA integrity_check`.
    #[error("the backup {path} failed its integrity check: {reason}")]
    Corrupt {
        /// The temporary copy (deleted).
        path: PathBuf,
        /// The first problem reported.
        reason: String,
    },
    /// The destination is the live store itself.
    #[error("the backup destination {0} is the live store")]
    SameFile(PathBuf),
}

/// Copies the store at `source` to `dest` (replacing it), consistently, without stopping writers.
///
/// # Errors
///
/// [`BackupError`] naming the file at fault; `dest` is left as it was.
pub fn backup(
    source: &Path,
    dest: &Path,
    busy_timeout: Duration,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    if same_file(source, dest) {
        return Err(BackupError::SameFile(dest.to_path_buf()));
    }
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|c| c.busy_timeout(busy_timeout).map(|()| c))
    .map_err(|e| BackupError::Source {
        path: source.to_path_buf(),
        reason: e.to_string(),
    })?;
    let tmp = temp_name(dest);
    let write_err = |e: &dyn std::fmt::Display| BackupError::Write {
        path: dest.to_path_buf(),
        reason: e.to_string(),
    };
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut dst = Connection::open(&tmp).map_err(|e| write_err(&e))?;
        {
            let copy = rusqlite::backup::Backup::new(&src, &mut dst).map_err(|e| write_err(&e))?;
            // -1: every page in one step, i.e. one read transaction on the source (the
            // library's run_to_completion only takes positive page counts).
            let give_up = Instant::now() + busy_timeout;
            loop {
                use rusqlite::backup::StepResult;
                match copy.step(-1).map_err(|e| write_err(&e))? {
                    StepResult::Done => break,
                    StepResult::More => continue,
                    _busy_or_locked if Instant::now() < give_up => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    other => return Err(write_err(&format!("store busy: {other:?}"))),
                }
            }
        }
        let check: String = dst
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| write_err(&e))?;
        if check != "ok" {
            return Err(BackupError::Corrupt {
                path: tmp.clone(),
                reason: check,
            });
        }
        let calls: i64 = dst
            .query_row("SELECT count(*) FROM calls", [], |r| r.get(0))
            .map_err(|e| write_err(&e))?;
        dst.close().map_err(|(_, e)| write_err(&e))?;
        Ok(u64::try_from(calls).unwrap_or(0))
    })();
    let calls = match result {
        Ok(calls) => calls,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(&e)
    })?;
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        dest: dest.to_path_buf(),
        calls,
        bytes,
        elapsed: started.elapsed(),
    })
}

fn temp_name(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CallStore, CallUpdate, SqliteStore, Timestamp};

    fn store_with_calls(path: &Path, n: u32) {
        let store = SqliteStore::open(path, Duration::from_secs(1)).unwrap();
        for i in 0..n {
            store
                .record_event(
                    &format!("call-{i}"),
                    CallUpdate::Received {
                        at: Timestamp::from_ms(1_700_000_000_000 + i64::from(i)),
                        caller: Some(format!("0812{i:07}")),
                        display_name: None,
                        trunk: "test".into(),
                        sip_call_id: format!("sip-{i}"),
                    },
                )
                .unwrap();
        }
    }

    #[test]
    fn copies_every_call_and_checks_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.sqlite");
        store_with_calls(&live, 25);
        let dest = dir.path().join("backup.sqlite");
        let report = backup(&live, &dest, Duration::from_secs(1)).unwrap();
        assert_eq!(report.calls, 25);
        assert!(report.bytes > 0);
        assert!(!temp_name(&dest).exists());
        let copy = SqliteStore::open(&dest, Duration::from_secs(1)).unwrap();
        assert!(copy.get("call-24").unwrap().is_some());
    }

    #[test]
    fn refuses_to_overwrite_the_live_store() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("live.sqlite");
        store_with_calls(&live, 1);
        let err = backup(&live, &live, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, BackupError::SameFile(_)), "{err}");
    }

    #[test]
    fn a_missing_store_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = backup(
            &dir.path().join("nope.sqlite"),
            &dir.path().join("b.sqlite"),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("nope.sqlite"), "{err}");
        assert!(!dir.path().join("b.sqlite").exists());
    }
}

//! `GET /ready`: whether this gateway can take 112 calls now, for a supervisor or a load
//! balancer (`/health` only says the process answers).
//!
//! Three checks, each named in the answer:
//! - **store**: a real write through the configured store path ([`StoreProbe`]): a fresh
//!   SQLite connection (opened read-write, never created) updates one row of
//!   `ready_probe` within [`PROBE_DEADLINE`], at most once per [`PROBE_REUSE`]. Through the path rather than the live
//!   connection on purpose: a store whose file or directory was removed, replaced or made
//!   read-only keeps an open descriptor writing into a file nobody will read, and a restart
//!   would fail; the probe sees that, for root too (root ignores file modes, but not a path
//!   that no longer leads to a writable database).
//! - **sip**: the SIP driver still takes commands ([`RoutingControl::alive`]).
//! - **screening**: the screening model is loaded ([`Readiness::set_screening_loaded`];
//!   true from the start when screening is disabled).
//!
//! 200 `{"ready": true, "checks": {..: "ok"}, "seats_ready", "seats"}`; 503 with
//! `"ready": false`, `"failing": [names]` and the reason in each failing check. No seat
//! ready is reported, not failed: calls still queue and are answered by the announcement.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::ApiState;
use crate::config::Config;
use crate::routing::SeatStateKind;

/// How long the store probe may take before the store counts as not writable.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// A probe result is reused this long: `/ready` is public, and a flood of it must not
/// become a flood of writes competing with the call records for the store's write lock.
pub const PROBE_REUSE: Duration = Duration::from_secs(1);

/// A probe write through the store path.
#[derive(Debug, Clone)]
pub struct StoreProbe {
    path: PathBuf,
    busy: Duration,
}

impl StoreProbe {
    /// A probe of the SQLite file at `path`, waiting at most `busy` for a lock.
    pub fn new(path: impl Into<PathBuf>, busy: Duration) -> StoreProbe {
        StoreProbe {
            path: path.into(),
            busy,
        }
    }

    /// One probe write (blocking; run it off the async workers).
    ///
    /// # Errors
    ///
    /// The database cannot be opened read-write or the row cannot be written.
    pub fn write(&self) -> Result<(), String> {
        use rusqlite::OpenFlags;
        // No SQLITE_OPEN_CREATE: a vanished store must fail, not become a new empty file.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags)
            .map_err(|e| format!("cannot open read-write: {e}"))?;
        conn.busy_timeout(self.busy).map_err(|e| e.to_string())?;
        let now = crate::store::Timestamp::now().as_ms();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS ready_probe \
             (id INTEGER PRIMARY KEY CHECK (id = 1), at_ms INTEGER NOT NULL)",
        )
        .and_then(|()| {
            conn.execute(
                "INSERT INTO ready_probe (id, at_ms) VALUES (1, ?1) \
                 ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms",
                [now],
            )
        })
        .map(|_| ())
        .map_err(|e| format!("cannot write: {e}"))
    }
}

/// What `/ready` checks beyond the routing surface.
#[derive(Debug)]
pub struct Readiness {
    store: StoreProbe,
    screening_loaded: AtomicBool,
    /// The last probe and when it ended; the lock also makes probes one at a time.
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    /// Probes `store.path`; the screening model counts as loaded when screening is
    /// disabled, and otherwise once [`Readiness::set_screening_loaded`] says so.
    pub fn new(config: &Config) -> Readiness {
        Readiness {
            store: StoreProbe::new(
                config.store.path.clone(),
                Duration::from_millis(config.store.busy_timeout_ms).min(PROBE_DEADLINE),
            ),
            screening_loaded: AtomicBool::new(!config.screening.enabled),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The screening model is (or is no longer) loaded.
    pub fn set_screening_loaded(&self, loaded: bool) {
        self.screening_loaded.store(loaded, Ordering::SeqCst);
    }

    /// Whether the screening model is loaded.
    pub fn screening_loaded(&self) -> bool {
        self.screening_loaded.load(Ordering::SeqCst)
    }

    /// The store probe within [`PROBE_DEADLINE`], one at a time, reused for
    /// [`PROBE_REUSE`].
    async fn store_writable(self: Arc<Self>) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, r)) = last.as_ref() {
            if at.elapsed() < PROBE_REUSE {
                return r.clone();
            }
        }
        let me = Arc::clone(&self);
        let probe = tokio::task::spawn_blocking(move || me.store.write());
        let r = match tokio::time::timeout(PROBE_DEADLINE, probe).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("probe failed: {e}")),
            Err(_) => Err(format!("no write within {PROBE_DEADLINE:?}")),
        };
        *last = Some((Instant::now(), r.clone()));
        r
    }
}

/// `GET /ready`.
pub(super) async fn ready(State(state): State<ApiState>) -> Response {
    let store = Arc::clone(&state.readiness).store_writable().await;
    let seats = if state.routing.alive() {
        state
            .routing
            .seats()
            .await
            .map_err(|e| format!("the SIP driver does not answer: {e}"))
    } else {
        Err("the SIP driver does not take commands".to_owned())
    };
    let sip = seats.as_ref().map(|_| ()).map_err(Clone::clone);
    let seats = seats.unwrap_or_default();
    let screening = if state.readiness.screening_loaded() {
        Ok(())
    } else {
        Err("the screening model is not loaded".to_owned())
    };
    let seats_ready = seats
        .iter()
        .filter(|s| s.state == SeatStateKind::Available)
        .count();
    let mut checks = Map::new();
    let mut failing = Vec::new();
    for (name, r) in [("store", store), ("sip", sip), ("screening", screening)] {
        match r {
            Ok(()) => {
                checks.insert(name.into(), Value::from("ok"));
            }
            Err(why) => {
                tracing::warn!(check = name, reason = %why, "not ready");
                checks.insert(name.into(), Value::from(why));
                failing.push(name);
            }
        }
    }
    let mut body = json!({
        "ready": failing.is_empty(),
        "checks": checks,
        "seats_ready": seats_ready,
        "seats": seats.len(),
    });
    let status = if failing.is_empty() {
        StatusCode::OK
    } else {
        body["failing"] = json!(failing);
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::super::router;
    use super::super::test_app::app;
    use super::*;
    use axum::http::StatusCode;

    fn readiness(path: &std::path::Path, screening: bool) -> Arc<Readiness> {
        let mut config = Config::default();
        config.store.path = path.to_path_buf();
        config.screening.enabled = screening;
        Arc::new(Readiness::new(&config))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ready_names_the_failing_check_and_counts_seats() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("siaga.sqlite");
        crate::store::SqliteStore::open(&db, Duration::from_secs(1)).unwrap();
        let mut a = app();
        let r = readiness(&db, true);
        a.router = router(a.state.clone().with_readiness(Arc::clone(&r)));

        let answer = a.call("GET", "/ready", None, "").await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.json["failing"], json!(["screening"]));
        assert_eq!(answer.json["checks"]["store"], "ok");

        r.set_screening_loaded(true);
        let answer = a.call("GET", "/ready", None, "").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["ready"], true);
        // Fixture: a available, b on a call, c unregistered.
        assert_eq!(
            (
                answer.json["seats_ready"].as_u64(),
                answer.json["seats"].as_u64()
            ),
            (Some(1), Some(3))
        );
        // The probe really wrote its row.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM ready_probe", [], |row| row.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_vanished_store_is_not_ready_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("gone.sqlite");
        let mut a = app();
        a.router = router(a.state.clone().with_readiness(readiness(&db, false)));
        let answer = a.call("GET", "/ready", None, "").await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.json["failing"], json!(["store"]));
        assert!(answer.json["checks"]["store"]
            .as_str()
            .unwrap()
            .contains("cannot open"));
        assert!(!db.exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sip_fails_once_the_driver_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("siaga.sqlite");
        crate::store::SqliteStore::open(&db, Duration::from_secs(1)).unwrap();
        // A driver stand-in that answers seat views until it is gone.
        let (handle, mut inbox) = crate::gateway::Handle::channel();
        let driver = tokio::spawn(async move {
            while let Some(cmd) = inbox.commands.recv().await {
                if let crate::gateway::Command::Seats { reply } = cmd {
                    let _ = reply.send(Vec::new());
                }
            }
        });
        let routing = Arc::new(handle);
        let store = Arc::new(crate::store::MemoryStore::new());
        let state = ApiState::new(&Config::default(), routing, store).unwrap();
        let router = router(state.with_readiness(readiness(&db, false)));
        let get = || async {
            let req = axum::http::Request::get("/ready")
                .header("host", "localhost")
                .body(axum::body::Body::empty())
                .unwrap();
            let res = tower::ServiceExt::oneshot(router.clone(), req)
                .await
                .unwrap();
            res.status()
        };
        assert_eq!(get().await, StatusCode::OK);
        driver.abort();
        let _ = driver.await;
        assert_eq!(get().await, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn probe_results_are_reused_for_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("siaga.sqlite");
        crate::store::SqliteStore::open(&db, Duration::from_secs(1)).unwrap();
        let r = readiness(&db, false);
        assert_eq!(Arc::clone(&r).store_writable().await, Ok(()));
        for f in ["siaga.sqlite", "siaga.sqlite-wal", "siaga.sqlite-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        // Within PROBE_REUSE: the last answer, no new write.
        assert_eq!(Arc::clone(&r).store_writable().await, Ok(()));
        tokio::time::sleep(PROBE_REUSE + Duration::from_millis(100)).await;
        assert!(Arc::clone(&r).store_writable().await.is_err());
    }
}

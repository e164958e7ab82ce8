//! The small sections: `[store]`, `[log]`.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// `[store]`: where call records live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Which database holds the records (`store::open` chooses by it). Only `sqlite` today;
    /// a PostgreSQL backend would be a new variant with its own settings.
    #[serde(default)]
    pub backend: StoreBackend,
    /// Call-record updates queued for the writer before the overflow goes to its in-memory
    /// spill (counted and warned; never dropped).
    #[serde(default = "default_record_queue")]
    pub record_queue: usize,
    /// SQLite database file; relative paths are relative to the working directory.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// How long a write waits for a lock held by another process (a `siaga report` run), ms.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
}

/// The store's database engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreBackend {
    /// One SQLite file at `store.path` (WAL).
    #[default]
    Sqlite,
}

fn default_record_queue() -> usize {
    4096
}

fn default_busy_timeout_ms() -> u64 {
    5000
}

fn default_store_path() -> PathBuf {
    PathBuf::from("data/siaga.sqlite")
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: StoreBackend::default(),
            record_queue: default_record_queue(),
            path: default_store_path(),
            busy_timeout_ms: default_busy_timeout_ms(),
        }
    }
}

impl StoreConfig {
    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if self.path.as_os_str().is_empty() {
            return Err(ValidationError::new("store.path", "must not be empty"));
        }
        if self.record_queue == 0 {
            return Err(ValidationError::new(
                "store.record_queue",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// `[log]`: logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` EnvFilter directive, e.g. `info` or `info,siaga::sip=debug`.
    /// `RUST_LOG`, when set, wins over this.
    #[serde(default = "default_level")]
    pub level: String,
    /// `text` (one human line per event) or `json` (one JSON object per line, for a log
    /// collector: `timestamp`, `level`, `target`, `fields`, `span`).
    #[serde(default)]
    pub format: LogFormat,
}

/// `log.format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Plain text lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

fn default_level() -> String {
    "info".to_owned()
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: default_level(),
            format: LogFormat::Text,
        }
    }
}

impl LogConfig {
    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        // Parse it now so a typo fails `check-config` instead of silently logging nothing.
        tracing_subscriber::EnvFilter::try_new(&self.level)
            .map(drop)
            .map_err(|e| ValidationError::new("log.level", format!("{:?}: {e}", self.level)))
    }
}

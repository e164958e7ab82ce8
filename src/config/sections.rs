//! The small sections: `[store]`, `[log]`.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// `[store]`: where call records live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite database file; relative paths are relative to the working directory.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// How long a write waits for a lock held by another process (a `siaga report` run), ms.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
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

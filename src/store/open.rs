//! [`open`]: the one place that turns `[store]` into a [`CallStore`]. The gateway, the CLI
//! (`siaga report`, `siaga account`, `siaga calls`) and the demo all open the store here, so a
//! new backend (PostgreSQL) is one new [`StoreBackend`] variant and one arm below.

use super::{CallStore, SqliteStore, StoreError};
use crate::config::{StoreBackend, StoreConfig};
use std::sync::Arc;
use std::time::Duration;

/// Opens the configured store, creating it (and, for SQLite, its folder) when missing.
///
/// # Errors
///
/// The folder cannot be created, or the backend cannot open or migrate the database.
pub fn open(config: &StoreConfig) -> Result<Arc<dyn CallStore>, StoreError> {
    match config.backend {
        StoreBackend::Sqlite => {
            if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|err| StoreError::Open {
                    path: config.path.display().to_string(),
                    message: format!("cannot create folder {}: {err}", dir.display()),
                })?;
            }
            let timeout = Duration::from_millis(config.busy_timeout_ms);
            Ok(Arc::new(SqliteStore::open(&config.path, timeout)?))
        }
    }
}

/// Opens a store that must exist already (read-only tools: a typo in `store.path` must not
/// silently create an empty database).
///
/// # Errors
///
/// [`StoreError::Open`] when the SQLite file does not exist, else as [`open`].
pub fn open_existing(config: &StoreConfig) -> Result<Arc<dyn CallStore>, StoreError> {
    match config.backend {
        StoreBackend::Sqlite if !config.path.exists() => Err(StoreError::Open {
            path: config.path.display().to_string(),
            message: "no such file (store.path)".into(),
        }),
        StoreBackend::Sqlite => open(config),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_sqlite_in_a_new_folder_and_refuses_a_missing_file_for_readers() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            path: dir.path().join("sub/calls.sqlite"),
            ..StoreConfig::default()
        };
        assert!(open_existing(&config).is_err());
        let store = open(&config).unwrap();
        assert_eq!(store.list(&Default::default()).unwrap().len(), 0);
        assert!(config.path.is_file());
        assert!(open_existing(&config).is_ok());
    }

    #[test]
    fn sqlite_keeps_bindings_across_a_reopen_and_replaces_them_whole() {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            path: dir.path().join("calls.sqlite"),
            ..StoreConfig::default()
        };
        let b = |seat: &str, contact: &str| crate::store::StoredBinding {
            seat: seat.into(),
            contact: contact.into(),
            expires_at: crate::store::Timestamp::from_ms(1_700_000_060_000),
            q: Some(0.5),
            call_id: "reg-1".into(),
            cseq: 7,
            source: "127.0.0.1:5099".into(),
            transport: "udp".into(),
        };
        let saved = vec![
            b("seat1", "sip:a@127.0.0.1:5099"),
            b("seat2", "sip:b@127.0.0.1:5098"),
        ];
        open(&config).unwrap().save_bindings(&saved).unwrap();
        let store = open(&config).unwrap();
        assert_eq!(store.load_bindings().unwrap(), saved);
        store.save_bindings(&saved[1..]).unwrap();
        assert_eq!(store.load_bindings().unwrap(), saved[1..].to_vec());
    }
}

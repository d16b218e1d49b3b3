//! STUB: the state helper replaces this.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::core::{PersistedRecord, RecordId};

/// The state directory is unusable (exit 73).
#[derive(Debug, thiserror::Error)]
#[error("state directory {dir}: {reason}")]
pub struct StateError {
    pub dir: PathBuf,
    pub reason: String,
}

/// The state directory and its `state.json`.
#[derive(Debug)]
pub struct StateStore {
    dir: PathBuf,
}

/// What `load` found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: BTreeMap<RecordId, PersistedRecord>,
    /// Set when the file was unreadable and was quarantined (log at WARN).
    pub warning: Option<String>,
}

impl StateStore {
    /// Opens (and creates, mode 0700) the state directory and checks it is writable.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        Ok(StateStore {
            dir: dir.to_path_buf(),
        })
    }

    /// Reads the state file. Missing → empty; unreadable or unknown version → quarantined
    /// (`state.json.bad-<unix time>`) and empty, with a warning.
    pub fn load(&self, now: SystemTime) -> Result<Loaded, StateError> {
        let _ = (now, &self.dir);
        Ok(Loaded::default())
    }

    /// Atomically replaces the state file (temp, fsync, rename, fsync dir, mode 0600).
    pub fn save(&self, records: &BTreeMap<RecordId, PersistedRecord>) -> Result<(), StateError> {
        let _ = records;
        Ok(())
    }
}

impl StateStore {
    /// Reads the state without creating or changing anything (dry run, `status`).
    pub fn peek(dir: &Path) -> BTreeMap<RecordId, PersistedRecord> {
        let _ = dir;
        BTreeMap::new()
    }

    /// Queues a retry request for a running daemon.
    pub fn request_retry(&self, record: Option<&str>) -> Result<(), StateError> {
        let _ = record;
        Ok(())
    }

    /// Takes (and deletes) the queued retry requests.
    pub fn take_retry_requests(&self) -> Vec<Option<String>> {
        Vec::new()
    }
}

//! The state directory on disk: atomic saves of `state.json`, quarantine of an unreadable file,
//! and the `retry-request` file that `dynipd retry` leaves for the daemon.
//! Does not decide what to store or when to save (that is `core`), nor the JSON form (`model`).
//!
//! See: DESIGN.md "State" (atomic writes, mode 0600, quarantine as `state.json.bad-<unix time>`).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::core::{PersistedRecord, RecordId};

use super::model::{self, StateContent};

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "state.json";
/// The retry-request file's name inside the state directory.
pub const RETRY_REQUEST_FILE: &str = "retry-request";

/// A state file larger than this is not ours (or is a symlink to something odd, like
/// `/dev/zero`): quarantined instead of read to the end.
const MAX_STATE_BYTES: u64 = 16 << 20;
/// Same for the retry-request file.
const MAX_RETRY_REQUEST_BYTES: u64 = 64 << 10;

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
    /// The abuse guard's recent requests per provider (#9).
    pub providers: BTreeMap<crate::core::ProviderId, crate::core::PersistedProvider>,
    /// Set when the file was unreadable and was quarantined (log at WARN).
    pub warning: Option<String>,
}

impl StateStore {
    /// Opens the state directory, creating it (mode 0700, parents too) when missing, and checks
    /// that it is a directory we can create files in.
    ///
    /// Errors (→ exit 73): the path exists but is not a directory, cannot be created, or is not
    /// writable.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        let store = StateStore {
            dir: dir.to_path_buf(),
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(store.error("exists but is not a directory".into())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| store.error(format!("cannot create it: {e}")))?;
            }
            Err(e) => return Err(store.error(format!("cannot inspect it: {e}"))),
        }
        let probe = dir.join(format!(".write-test-{}", std::process::id()));
        let created = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&probe);
        match created {
            Ok(_) => {
                fs::remove_file(&probe)
                    .map_err(|e| store.error(format!("cannot remove {}: {e}", probe.display())))?;
            }
            Err(e) => {
                return Err(store.error(format!("is not writable: {e}; fix its ownership")));
            }
        }
        store.remove_stale_temp_files();
        Ok(store)
    }

    /// Removes `state.json.tmp-<pid>` files another process left behind when it was killed
    /// mid-save: harmless, but a crash loop would otherwise leave one per crash. Best effort.
    fn remove_stale_temp_files(&self) {
        let ours = format!("{STATE_FILE}.tmp-{}", std::process::id());
        let prefix = format!("{STATE_FILE}.tmp-");
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_regular = entry.file_type().is_ok_and(|t| t.is_file());
            if is_regular && name.starts_with(&prefix) && name != ours {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Opens an existing state directory without creating it or probing it, for the commands
    /// that only read state or leave a request (`status`, `retry`): run as root before the
    /// daemon ever ran, they must not create a root-owned directory the daemon cannot use.
    ///
    /// Errors: the directory is missing or not a directory.
    pub fn existing(dir: &Path) -> Result<StateStore, StateError> {
        let store = StateStore {
            dir: dir.to_path_buf(),
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(store),
            Ok(_) => Err(store.error("exists but is not a directory".into())),
            Err(e) => Err(store.error(format!("cannot open it: {e}"))),
        }
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Reads the state file. Missing → empty; unreadable (not a regular file, empty, bad UTF-8
    /// or JSON, wrong types, unknown version) → renamed to `state.json.bad-<unix time of now>`
    /// and empty, with a warning for the caller to log at WARN.
    ///
    /// Errors only when an unreadable file cannot be moved aside: starting empty next to it
    /// would overwrite it on the first save.
    pub fn load(&self, now: SystemTime) -> Result<Loaded, StateError> {
        let path = self.path();
        match fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => return Err(self.error(format!("cannot inspect {}: {e}", path.display()))),
        }
        let problem = match read_regular_file(&path, MAX_STATE_BYTES) {
            Ok(bytes) => match model::decode(&bytes) {
                Ok(state) => {
                    return Ok(Loaded {
                        records: state.records,
                        providers: state.providers,
                        warning: None,
                    });
                }
                Err(e) => e,
            },
            Err(e) => e,
        };
        let bad = self.quarantine(&path, now)?;
        Ok(Loaded {
            records: BTreeMap::new(),
            providers: BTreeMap::new(),
            warning: Some(format!(
                "state file {} could not be read ({problem}); moved to {}; starting with empty state",
                path.display(),
                bad.display()
            )),
        })
    }

    /// Reads the state file without changing anything (for `dynipd status`): missing → empty;
    /// unreadable → an error saying why (the daemon quarantines it at its next start).
    pub fn peek(&self) -> Result<BTreeMap<RecordId, PersistedRecord>, StateError> {
        let path = self.path();
        match fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(self.error(format!("cannot inspect {}: {e}", path.display()))),
        }
        read_regular_file(&path, MAX_STATE_BYTES)
            .and_then(|bytes| model::decode(&bytes))
            .map(|state| state.records)
            .map_err(|e| self.error(format!("state file {} is unreadable: {e}", path.display())))
    }

    /// Atomically replaces the state file: writes `state.json.tmp-<pid>` (mode 0600), fsyncs
    /// it, renames it over `state.json` and fsyncs the directory, so a crash or power cut
    /// leaves either the old or the new file, never a torn one.
    ///
    /// Errors: any step failing (disk full, permissions); the old file is then untouched.
    pub fn save(&self, state: &StateContent) -> Result<(), StateError> {
        let bytes = model::encode(state)
            .map_err(|e| self.error(format!("cannot encode the state: {e}")))?;
        let path = self.path();
        let tmp = self
            .dir
            .join(format!("{STATE_FILE}.tmp-{}", std::process::id()));
        let result = write_synced(&tmp, &bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .and_then(|()| File::open(&self.dir)?.sync_all());
        result.map_err(|e| {
            // Best effort: a leftover temp file is harmless, the next save replaces it.
            let _ = fs::remove_file(&tmp);
            self.error(format!("cannot save {}: {e}", path.display()))
        })
    }

    /// Leaves a retry request for the daemon (`dynipd retry [RECORD]`): appends the record name,
    /// or `*` for every record, as one line to `retry-request`. The file is created mode 0644 so
    /// that root can write it for a daemon running as another user, who reads and deletes it.
    ///
    /// Errors: a name that would break the line format, or the file cannot be written.
    pub fn request_retry(&self, record: Option<&str>) -> Result<(), StateError> {
        let line = match record {
            None => "*".to_string(),
            Some(name) if name.is_empty() || name.chars().any(char::is_control) => {
                return Err(self.error(format!("cannot request a retry of record {name:?}")));
            }
            Some(name) => name.to_string(),
        };
        let path = self.dir.join(RETRY_REQUEST_FILE);
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .open(&path)
            .map_err(|e| self.error(format!("cannot open {}: {e}", path.display())))?;
        // One write call per line: O_APPEND keeps concurrent requests from interleaving.
        file.write_all(format!("{line}\n").as_bytes())
            .map_err(|e| self.error(format!("cannot write {}: {e}", path.display())))
    }

    /// Takes the pending retry requests, oldest first, and deletes the file: `None` = every
    /// record, `Some(name)` = that record. Duplicates are dropped. Missing file → empty.
    ///
    /// A file that cannot be read is deleted and logged at WARN: a retry request is a nudge,
    /// never worth stopping the daemon for.
    pub fn take_retry_requests(&self) -> Vec<Option<String>> {
        let path = self.dir.join(RETRY_REQUEST_FILE);
        // Rename first so a request appended while we read lands either in what we read or in
        // a fresh file for the next call.
        let taken = self
            .dir
            .join(format!("{RETRY_REQUEST_FILE}.taken-{}", std::process::id()));
        match fs::rename(&path, &taken) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot take retry requests");
                return Vec::new();
            }
        }
        let content = read_regular_file(&taken, MAX_RETRY_REQUEST_BYTES);
        if let Err(e) = fs::remove_file(&taken) {
            tracing::warn!(path = %taken.display(), error = %e, "cannot remove retry requests");
        }
        let bytes = match content {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable retry requests");
                return Vec::new();
            }
        };
        let mut requests: Vec<Option<String>> = Vec::new();
        for line in String::from_utf8_lossy(&bytes).lines() {
            let line = line.trim();
            let request = match line {
                "" => continue,
                "*" => None,
                name => Some(name.to_string()),
            };
            if !requests.contains(&request) {
                requests.push(request);
            }
        }
        requests
    }

    /// Moves an unreadable file aside as `<name>.bad-<unix time>` (with `.1`, `.2`… when that
    /// name is taken, so an earlier quarantined file is never overwritten).
    fn quarantine(&self, path: &Path, now: SystemTime) -> Result<PathBuf, StateError> {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let base = format!("{STATE_FILE}.bad-{secs}");
        let mut bad = self.dir.join(&base);
        let mut n = 0u32;
        while fs::symlink_metadata(&bad).is_ok() {
            n += 1;
            bad = self.dir.join(format!("{base}.{n}"));
        }
        fs::rename(path, &bad).map_err(|e| {
            self.error(format!(
                "state file {} is unreadable and cannot be moved to {}: {e}; move it away by hand",
                path.display(),
                bad.display()
            ))
        })?;
        Ok(bad)
    }

    fn error(&self, reason: String) -> StateError {
        StateError {
            dir: self.dir.clone(),
            reason,
        }
    }
}

/// Reads a regular file (following symlinks) of at most `cap` bytes. The error is a short
/// reason for a warning.
fn read_regular_file(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("larger than {cap} bytes"));
    }
    Ok(bytes)
}

/// Creates `path` afresh with mode 0600, writes `bytes` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // A leftover from a crash may have another mode, and `mode` applies only on creation.
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::Duration;

    use super::*;
    use crate::core::Addresses;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    fn sample() -> BTreeMap<RecordId, PersistedRecord> {
        BTreeMap::from([(
            "home.example.org".to_string(),
            PersistedRecord {
                published: Addresses {
                    ipv4: Some(Ipv4Addr::new(81, 2, 69, 160)),
                    ipv6: None,
                },
                published_at: Some(now()),
                attempts: 1,
                fingerprint: 42,
                ..PersistedRecord::default()
            },
        )])
    }

    fn content(records: BTreeMap<RecordId, PersistedRecord>) -> StateContent {
        StateContent {
            records,
            providers: BTreeMap::new(),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn open_creates_the_directory_0700() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/state");
        StateStore::open(&dir).unwrap();
        assert!(dir.is_dir());
        assert_eq!(mode(&dir), 0o700);
        assert!(names(&dir).is_empty(), "probe file left behind");
    }

    #[test]
    fn open_removes_temp_files_left_by_killed_processes() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("state.json.tmp-1"), "torn").unwrap();
        fs::write(tmp.path().join("state.json.tmp-99999999"), "").unwrap();
        fs::write(tmp.path().join("state.json.bad-5"), "kept").unwrap();
        fs::create_dir(tmp.path().join("state.json.tmp-dir")).unwrap();
        StateStore::open(tmp.path()).unwrap();
        assert_eq!(
            names(tmp.path()),
            ["state.json.bad-5", "state.json.tmp-dir"],
            "only regular temp files go"
        );
    }

    #[test]
    fn open_rejects_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = StateStore::open(&file).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn open_rejects_a_read_only_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ro");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).unwrap();
        // root ignores permissions: then there is nothing to test.
        if fs::write(dir.join("probe"), "x").is_ok() {
            eprintln!("skipped: permissions are not enforced for this user (root?)");
            return;
        }
        let err = StateStore::open(&dir).unwrap_err();
        assert!(err.to_string().contains("not writable"), "{err}");
    }

    #[test]
    fn missing_file_loads_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::open(tmp.path()).unwrap();
        let loaded = store.load(now()).unwrap();
        assert!(loaded.records.is_empty());
        assert!(loaded.warning.is_none());
    }

    #[test]
    fn save_then_load_roundtrips_with_mode_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::open(tmp.path()).unwrap();
        store.save(&content(sample())).unwrap();
        assert_eq!(mode(&store.path()), 0o600);
        assert_eq!(names(tmp.path()), ["state.json"], "temp file left behind");
        let loaded = store.load(now()).unwrap();
        assert_eq!(loaded.records, sample());
        assert!(loaded.warning.is_none());

        // A second save replaces the first, even over a stale world-readable temp file.
        let tmp_name = tmp
            .path()
            .join(format!("state.json.tmp-{}", std::process::id()));
        fs::write(&tmp_name, "stale").unwrap();
        fs::set_permissions(&tmp_name, fs::Permissions::from_mode(0o666)).unwrap();
        store.save(&StateContent::default()).unwrap();
        assert_eq!(mode(&store.path()), 0o600);
        assert!(store.load(now()).unwrap().records.is_empty());
        assert_eq!(names(tmp.path()), ["state.json"]);
    }

    #[test]
    fn unreadable_files_are_quarantined() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("garbage", b"not json at all", "no readable version"),
            ("zero bytes", b"", "empty"),
            ("bad utf-8", b"{\"version\": 1, \"x\": \"\xff\"}", "UTF-8"),
            (
                "unknown version",
                b"{\"version\": 7, \"records\": {}}",
                "unknown version 7",
            ),
            (
                "wrong types",
                b"{\"version\": 1, \"records\": {\"a\": {\"attempts\": \"many\"}}}",
                "invalid type",
            ),
        ];
        for (name, bytes, want) in cases {
            let tmp = tempfile::tempdir().unwrap();
            let store = StateStore::open(tmp.path()).unwrap();
            fs::write(store.path(), bytes).unwrap();
            let loaded = store.load(now()).unwrap();
            assert!(loaded.records.is_empty(), "{name}");
            let warning = loaded.warning.unwrap();
            assert!(warning.contains(want), "{name}: {warning}");
            assert!(warning.contains("state.json.bad-1767225600"), "{warning}");
            assert!(warning.contains("starting with empty state"), "{warning}");
            assert_eq!(names(tmp.path()), ["state.json.bad-1767225600"], "{name}");
            assert_eq!(
                fs::read(tmp.path().join("state.json.bad-1767225600")).unwrap(),
                *bytes,
                "{name}: quarantined content changed"
            );
            // The next save starts afresh next to the quarantined file.
            store.save(&content(sample())).unwrap();
            assert_eq!(store.load(now()).unwrap().records, sample());
        }
    }

    #[test]
    fn a_directory_or_odd_symlink_in_place_of_the_file_is_quarantined() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::open(tmp.path()).unwrap();
        fs::create_dir(store.path()).unwrap();
        let loaded = store.load(now()).unwrap();
        assert!(loaded.warning.unwrap().contains("moved to"));
        assert!(tmp.path().join("state.json.bad-1767225600").is_dir());

        // A second quarantine in the same second keeps the first one.
        std::os::unix::fs::symlink("/dev/zero", store.path()).unwrap();
        let warning = store.load(now()).unwrap().warning.unwrap();
        assert!(warning.contains("not a regular file"), "{warning}");
        assert!(warning.contains("state.json.bad-1767225600.1"), "{warning}");
        assert!(tmp.path().join("state.json.bad-1767225600").is_dir());

        std::os::unix::fs::symlink(tmp.path().join("nowhere"), store.path()).unwrap();
        let warning = store.load(now()).unwrap().warning.unwrap();
        assert!(warning.contains("state.json.bad-1767225600.2"), "{warning}");
    }

    #[test]
    fn save_into_a_vanished_directory_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let store = StateStore::open(&dir).unwrap();
        fs::remove_dir(&dir).unwrap();
        let err = store.save(&content(sample())).unwrap_err();
        assert!(err.to_string().contains("cannot save"), "{err}");
    }

    #[test]
    fn existing_and_peek_change_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("missing");
        assert!(StateStore::existing(&missing).is_err());
        assert!(!missing.exists());

        let store = StateStore::existing(tmp.path()).unwrap();
        assert!(store.peek().unwrap().is_empty());
        store.save(&content(sample())).unwrap();
        assert_eq!(store.peek().unwrap(), sample());
        fs::write(store.path(), "garbage").unwrap();
        let err = store.peek().unwrap_err();
        assert!(err.to_string().contains("unreadable"), "{err}");
        assert_eq!(
            names(tmp.path()),
            ["state.json"],
            "peek quarantined the file"
        );
    }

    #[test]
    fn retry_requests_roundtrip() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::open(tmp.path()).unwrap();
        assert!(store.take_retry_requests().is_empty());
        store.request_retry(Some("home.example.org")).unwrap();
        store.request_retry(None).unwrap();
        store.request_retry(Some("home.example.org")).unwrap();
        assert_eq!(mode(&tmp.path().join(RETRY_REQUEST_FILE)), 0o644);
        assert_eq!(
            store.take_retry_requests(),
            [Some("home.example.org".to_string()), None]
        );
        assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
        assert!(store.take_retry_requests().is_empty());
        assert!(store.request_retry(Some("a\nb")).is_err());
        assert!(store.request_retry(Some("")).is_err());
    }
}

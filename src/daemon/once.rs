//! `dynipd once [--dry-run] [--force]`: one detection and publish round, then exit.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use tokio::sync::mpsc;
use tracing::warn;

use crate::config;
use crate::core::Event;
use crate::core::scheduler::RecordStatus;
use crate::state::StateStore;
use crate::state::model::StateContent;

use super::AppError;
use super::report::timestamp;
use super::shell::{Mode, Shell};

/// `once` flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct OnceOptions {
    pub dry_run: bool,
    pub force: bool,
}

/// Runs one round. `Ok(true)` when every record is published (or, in a dry run, would be sent
/// or needs nothing).
pub fn once(config_path: &Path, options: OnceOptions) -> Result<bool, AppError> {
    let config = config::load(config_path)?;
    for w in &config.warnings {
        warn!("{w}");
    }
    let (store, restored) = if options.dry_run {
        // A dry run writes nothing: no state dir is created, nothing is quarantined.
        let dir = &config.daemon.state_dir;
        let restored = match StateStore::existing(dir).and_then(|s| s.peek()) {
            Ok(records) => records,
            Err(_) if !dir.join("state.json").exists() => BTreeMap::new(),
            Err(e) => {
                warn!("{e}; the dry run starts from empty state");
                BTreeMap::new()
            }
        };
        let restored = StateContent {
            records: restored,
            providers: BTreeMap::new(),
        };
        (None, restored)
    } else {
        let store = StateStore::open(&config.daemon.state_dir)?;
        let loaded = store.load(SystemTime::now())?;
        if let Some(w) = &loaded.warning {
            warn!("{w}");
        }
        let restored = StateContent {
            records: loaded.records,
            providers: loaded.providers,
        };
        (Some(store), restored)
    };
    let mode = if options.dry_run {
        Mode::DryRun
    } else {
        Mode::Live
    };
    let rt = super::runtime()?;
    rt.block_on(async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut shell = Shell::new(config, store, restored, mode, tx)?;
        shell.handle(Event::Start);
        if options.force {
            shell.handle(Event::ForceRefresh);
        }
        while shell.in_flight > 0 {
            match rx.recv().await {
                Some(result) => shell.accept_ready(result, &mut rx),
                None => break,
            }
        }
        shell.flush();
        Ok(report(&shell, options.dry_run))
    })
}

/// Prints one line per record to stdout; true when all are fine.
fn report(shell: &Shell, dry_run: bool) -> bool {
    let snapshot: BTreeMap<_, _> = shell.scheduler.snapshot();
    let mut all_ok = true;
    for record in &shell.config.records {
        let state = snapshot.get(&record.name);
        let published = state.map(|s| s.published).unwrap_or_default();
        let error = state
            .and_then(|s| s.last_error.as_ref())
            .map(|e| e.message.clone())
            .unwrap_or_default();
        let (ok, line) = if dry_run && shell.planned.contains(&record.name) {
            (true, "would be sent (dry run)".to_string())
        } else {
            match shell.scheduler.record_status(&record.name) {
                RecordStatus::UpToDate => (true, format!("published {published}")),
                RecordStatus::Unknown => {
                    (false, "no address detected; nothing published".to_string())
                }
                RecordStatus::Pending => (false, format!("not published: {error}")),
                RecordStatus::Waiting { next_attempt } => (
                    false,
                    format!(
                        "not published: {error}; next attempt {}",
                        timestamp(next_attempt)
                    ),
                ),
                RecordStatus::Parked { reason } => (false, format!("parked: {reason}")),
            }
        };
        all_ok &= ok;
        println!("{}: {line}", record.name);
    }
    all_ok
}

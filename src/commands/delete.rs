//! `dynipd delete RECORD [--dry-run]`: removes the record's A and AAAA records at its provider
//! (the kinds in `provider::DELETE_KINDS`), then forgets the record's published addresses in
//! the state file, so a record that stays configured is published again by the next `once` or
//! `run` instead of being believed in place.
//! Does not remove the record from the config; the operator does that.

use std::path::Path;
use std::time::SystemTime;

use tracing::warn;

use crate::config::{self, Config, RecordConfig};
use crate::core::Addresses;
use crate::daemon::{self, AppError};
use crate::exit;
use crate::http::HttpClients;
use crate::provider::{AnyProvider, DeleteError, Deleted, Target};
use crate::state::StateStore;

use super::retry::{no_such_record, running_daemon};

/// Runs the command: exit 0 when the record was deleted or had nothing to delete (or, with
/// `dry_run`, the request was printed), 1 when the provider did not delete it.
///
/// Errors: config errors (78); an unknown record or a provider kind that cannot delete (64);
/// an unusable state directory (73).
pub fn delete(config_path: &Path, record: &str, dry_run: bool) -> Result<i32, AppError> {
    let config = config::load(config_path)?;
    for w in &config.warnings {
        warn!("{w}");
    }
    let Some(rec) = config.record(record) else {
        return Err(no_such_record(&config, record));
    };
    let Some(provider_config) = config.providers.get(&rec.provider) else {
        return Err(AppError::Internal(format!(
            "record \"{record}\" names provider \"{}\", which the validated config lacks",
            rec.provider
        )));
    };
    let timeout = config.daemon.request_timeout;
    let clients = HttpClients::new(timeout).map_err(AppError::Internal)?;
    let provider = AnyProvider::new(&rec.provider, provider_config, clients, timeout);
    let target = target(&config, rec);
    let unsupported = |e: DeleteError| {
        AppError::Usage(format!(
            "cannot delete record \"{record}\" via provider \"{}\": {e}",
            rec.provider
        ))
    };
    let plan = provider.plan_delete(&target).map_err(unsupported)?;
    if dry_run {
        println!(
            "would send via provider \"{}\" to delete {record}:",
            rec.provider
        );
        for request in plan {
            println!("  {}", request.replace('\n', "\n  "));
        }
        return Ok(exit::OK);
    }
    let outcome = daemon::runtime()?.block_on(provider.delete(&target));
    match outcome {
        Ok(Deleted::Removed) => println!(
            "{record}: deleted its A and AAAA records via provider \"{}\"",
            rec.provider
        ),
        Ok(Deleted::Absent) => println!(
            "{record}: nothing to delete: provider \"{}\" has no A or AAAA record at that name",
            rec.provider
        ),
        Err(DeleteError::Failed(failure)) => {
            eprintln!(
                "dynipd: record \"{record}\" was not deleted ({}): {}",
                failure.class, failure.message
            );
            return Ok(exit::NOT_PUBLISHED);
        }
        Err(e @ DeleteError::Unsupported { .. }) => return Err(unsupported(e)),
    }
    forget_published(&config, record)?;
    Ok(exit::OK)
}

/// What the provider needs to delete `rec`: its name and families, and its provider cache
/// from the state file when there is one (read only).
fn target(config: &Config, rec: &RecordConfig) -> Target {
    let cache = StateStore::existing(&config.daemon.state_dir)
        .and_then(|store| store.peek())
        .ok()
        .and_then(|mut records| records.remove(&rec.name))
        .map(|state| state.provider_cache)
        .unwrap_or_default();
    Target {
        name: rec.name.clone(),
        families: rec.families,
        ttl: rec.ttl,
        addresses: Addresses::default(),
        cache,
    }
}

/// Clears the record's published addresses in the state file (nothing when there is no state
/// yet). A running daemon keeps its own view and would overwrite the file, so it is told
/// about instead.
fn forget_published(config: &Config, record: &str) -> Result<(), AppError> {
    let dir = &config.daemon.state_dir;
    if !dir.exists() {
        return Ok(());
    }
    if let Some(pid) = running_daemon(dir) {
        eprintln!(
            "warning: dynipd run (pid {pid}) still counts \"{record}\" as published; remove the \
             record from the config and reload it (SIGHUP), or it is published again only at \
             the next address change, refresh or SIGUSR1"
        );
        return Ok(());
    }
    let store = StateStore::existing(dir)?;
    let mut loaded = store.load(SystemTime::now())?;
    if let Some(w) = &loaded.warning {
        warn!("{w}");
    }
    if let Some(state) = loaded.records.get_mut(record) {
        state.published = Addresses::default();
        state.published_at = None;
        store.save(&crate::state::model::StateContent {
            records: loaded.records,
            providers: loaded.providers,
        })?;
    }
    Ok(())
}

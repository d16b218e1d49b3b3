//! `dynipd retry [RECORD]`: clears parking and backoff. With a running daemon (its pid file in
//! the state dir) the request is written for it and it is sent SIGHUP; otherwise the state file
//! is edited directly, so the next `once` or `run` publishes.

use std::path::Path;
use std::time::SystemTime;

use crate::config;
use crate::daemon::AppError;
use crate::state::StateStore;

/// Runs the command.
pub fn retry(config_path: &Path, record: Option<&str>) -> Result<i32, AppError> {
    let config = config::load(config_path)?;
    if let Some(name) = record
        && config.record(name).is_none()
    {
        return Err(no_such_record(&config, name));
    }
    let what = record.map_or_else(|| "every record".to_string(), |r| format!("record \"{r}\""));
    // `existing`, not `open`: root running this before the daemon's first start must not
    // create a root-owned state dir the daemon cannot write.
    if !config.daemon.state_dir.exists() {
        println!("no state yet (the daemon never ran): nothing to retry");
        return Ok(crate::exit::OK);
    }
    let store = StateStore::existing(&config.daemon.state_dir)?;
    if let Some(pid) = running_daemon(&config.daemon.state_dir) {
        store.request_retry(record)?;
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            return Err(AppError::Internal(format!(
                "cannot signal the daemon (pid {pid}); the retry request waits for its next reload"
            )));
        }
        println!("asked the running daemon (pid {pid}) to retry {what}");
        return Ok(crate::exit::OK);
    }
    let mut loaded = store.load(SystemTime::now())?;
    let mut released = 0;
    for (name, state) in loaded.records.iter_mut() {
        if record.is_none_or(|r| r == name)
            && (state.parked.is_some() || state.next_attempt.is_some() || state.attempts > 0)
        {
            state.parked = None;
            state.next_attempt = None;
            state.attempts = 0;
            released += 1;
        }
    }
    // The abuse guard's request log is kept: `retry` releases records, not the cap (#9).
    store.save(&crate::state::model::StateContent {
        records: loaded.records,
        providers: loaded.providers,
    })?;
    println!("cleared parking and backoff of {what} ({released} changed); the next run publishes");
    Ok(crate::exit::OK)
}

/// The usage error for a record name the config does not have.
pub(crate) fn no_such_record(config: &config::Config, name: &str) -> AppError {
    let names: Vec<String> = config
        .records
        .iter()
        .map(|r| format!("\"{}\"", r.name))
        .collect();
    AppError::Usage(format!(
        "no record named \"{name}\" (configured: {})",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    ))
}

/// The pid in `state-dir/dynipd.pid` when that process is alive.
pub(crate) fn running_daemon(state_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(state_dir.join("dynipd.pid")).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

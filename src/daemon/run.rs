//! `dynipd run`: the daemon loop. One `select!` over the wake-up timer, task results, kernel
//! address events, signals and the watchdog; everything it learns becomes a core event.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::config::{self, Config};
use crate::core::Event;
use crate::notify::Notifier;
use crate::signals::{self, Request};
use crate::state::StateStore;
use crate::state::model::StateContent;

use super::AppError;
use super::interface_events::InterfaceEvents;
use super::shell::{Mode, Shell};

/// Runs the daemon until TERM/INT. Config and state errors are returned before anything runs
/// (exit 78 / 73).
pub fn run(config_path: &Path) -> Result<(), AppError> {
    let config = config::load(config_path)?;
    let store = StateStore::open(&config.daemon.state_dir)?;
    let rt = super::runtime()?;
    rt.block_on(serve(config_path.to_path_buf(), config, store))
}

async fn serve(config_path: PathBuf, config: Config, store: StateStore) -> Result<(), AppError> {
    let mut signals = signals::listen()
        .map_err(|e| AppError::Internal(format!("cannot install signal handlers: {e}")))?;
    for w in &config.warnings {
        warn!("{w}");
    }
    let loaded = store.load(std::time::SystemTime::now())?;
    if let Some(w) = &loaded.warning {
        warn!("{w}");
    }
    let pid_file = config.daemon.state_dir.join("dynipd.pid");
    if let Err(e) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
        warn!(path = %pid_file.display(), "cannot write pid file ({e}); `dynipd retry` will not reach this daemon");
    }
    let retry_requests = store.take_retry_requests();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let restored = StateContent {
        records: loaded.records,
        providers: loaded.providers,
    };
    let mut shell = Shell::new(config, Some(store), restored, Mode::Live, tx)?;
    let mut notifier = Notifier::from_env();
    let watchdog = Notifier::watchdog_interval();
    log_startup(&shell.config);
    // Subscribe before the first detection, so no change slips in between.
    let mut events = InterfaceEvents::default();
    events.ensure(
        !shell.interface_sources().is_empty(),
        shell.config.daemon.check_interval,
    );

    shell.handle(Event::Start);
    for record in retry_requests {
        shell.handle(Event::Retry { record });
    }
    shell.flush();
    notifier.send("READY=1");
    notifier.status(&shell.status_line());

    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    loop {
        let sleep = tokio::time::sleep(shell.sleep_duration());
        tokio::select! {
            () = sleep => shell.handle(Event::Tick),
            Some(result) = rx.recv() => shell.accept(result),
            changed = events.changed() => match changed {
                Ok(()) => {
                    for source in shell.interface_sources() {
                        debug!(source = %source, "interface address event");
                        shell.handle(Event::InterfaceChanged { source });
                    }
                }
                Err(e) => events.fail(&e, shell.config.daemon.check_interval),
            },
            Some(request) = signals.recv() => match request {
                Request::Stop => break,
                Request::Reload => {
                    reload(&mut shell, &config_path);
                    events.ensure(
                        !shell.interface_sources().is_empty(),
                        shell.config.daemon.check_interval,
                    );
                }
                Request::Refresh => {
                    info!("SIGUSR1: re-detecting and republishing every record");
                    shell.handle(Event::ForceRefresh);
                }
            },
            _ = watchdog_tick.tick(), if watchdog.is_some() => notifier.send("WATCHDOG=1"),
        }
        shell.flush();
        notifier.status(&shell.status_line());
    }

    notifier.send("STOPPING=1");
    info!("stopping");
    // Let in-flight requests finish (their outcome is worth saving) within one request timeout.
    let grace = tokio::time::sleep(shell.config.daemon.request_timeout);
    tokio::pin!(grace);
    while shell.in_flight > 0 {
        tokio::select! {
            () = &mut grace => {
                warn!(requests = shell.in_flight, "abandoning in-flight requests at shutdown");
                break;
            }
            Some(result) = rx.recv() => shell.accept_ready(result, &mut rx),
        }
    }
    shell.flush();
    let _ = std::fs::remove_file(&pid_file);
    Ok(())
}

fn reload(shell: &mut Shell, config_path: &Path) {
    match config::load(config_path) {
        Err(errors) => {
            error!("SIGHUP: the new config is invalid; keeping the running one\n{errors}")
        }
        Ok(config) => {
            if config.daemon.state_dir != shell.config.daemon.state_dir {
                warn!("SIGHUP: a new state-dir takes effect only after a restart");
            }
            for w in &config.warnings {
                warn!("{w}");
            }
            match shell.reconfigure(config) {
                Ok(()) => {
                    info!("SIGHUP: config reloaded");
                    log_startup(&shell.config);
                    shell.handle(Event::Start);
                }
                Err(e) => {
                    error!("SIGHUP: cannot apply the new config ({e}); keeping the running one")
                }
            }
        }
    }
    let store = StateStore::open(&shell.config.daemon.state_dir);
    if let Ok(store) = store {
        for record in store.take_retry_requests() {
            shell.handle(Event::Retry { record });
        }
    }
}

fn log_startup(config: &Config) {
    if config.records.is_empty() {
        info!(config = %config.path.display(), "no records configured; nothing to publish");
    } else {
        info!(
            config = %config.path.display(),
            records = config.records.len(),
            sources = config.sources.len(),
            providers = config.providers.len(),
            "dynipd {} started",
            env!("CARGO_PKG_VERSION")
        );
    }
}

//! `Shell`: owns the config, the scheduler, the sources, providers and state store, and carries
//! out actions: spawns detection and publish tasks whose results come back as events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tracing::error;

use crate::config::Config;
use crate::core::scheduler::Scheduler;
use crate::core::{Action, Event, Families, RecordId};
use crate::http::HttpClients;
use crate::provider::{AnyProvider, Target};
use crate::source::AnySource;
use crate::state::StateStore;
use crate::state::model::StateContent;

use super::AppError;
use super::report;

/// How actions are carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Publish for real and save state.
    Live,
    /// Print the detections and exact requests; send nothing; write nothing.
    DryRun,
}

/// A task's result, tagged with the config generation it was started under.
#[derive(Debug)]
pub struct TaskResult {
    pub generation: u64,
    pub event: Event,
}

/// The shell's working set.
pub struct Shell {
    pub config: Config,
    pub scheduler: Scheduler,
    sources: BTreeMap<String, Arc<AnySource>>,
    source_families: BTreeMap<String, Families>,
    providers: BTreeMap<String, Arc<AnyProvider>>,
    store: Option<StateStore>,
    mode: Mode,
    tx: mpsc::UnboundedSender<TaskResult>,
    /// Events still expected from spawned tasks.
    pub in_flight: usize,
    /// Bumped on every reload; detections of an older generation are dropped.
    pub generation: u64,
    /// When the scheduler wants the next `Tick`.
    pub wake: Option<SystemTime>,
    /// Dry run: records whose request was printed.
    pub planned: BTreeSet<RecordId>,
    /// The core asked for a save that has not happened yet: `flush` writes it, once per batch
    /// of events (a 1,000-record round is one fsync'd write, not 1,000).
    pub dirty: bool,
    /// The last save failed (logged once until a save succeeds again).
    save_failed: bool,
}

impl Shell {
    /// Builds sources, providers and the scheduler from `config` and the restored state.
    pub fn new(
        config: Config,
        store: Option<StateStore>,
        restored: StateContent,
        mode: Mode,
        tx: mpsc::UnboundedSender<TaskResult>,
    ) -> Result<Shell, AppError> {
        let now = SystemTime::now();
        let scheduler = Scheduler::new(
            config.timing(),
            config.source_specs(),
            config.record_specs(),
            restored.records,
            now,
            seed(),
        )
        .with_providers(config.provider_specs(), &restored.providers, now);
        let mut shell = Shell {
            config,
            scheduler,
            sources: BTreeMap::new(),
            source_families: BTreeMap::new(),
            providers: BTreeMap::new(),
            store,
            mode,
            tx,
            in_flight: 0,
            generation: 0,
            wake: None,
            planned: BTreeSet::new(),
            dirty: false,
            save_failed: false,
        };
        shell.build_parts()?;
        Ok(shell)
    }

    /// Replaces the config (HUP): rebuilds the parts and a scheduler that keeps every record's
    /// persisted state; records whose fingerprint changed are un-parked by the core.
    pub fn reconfigure(&mut self, config: Config) -> Result<(), AppError> {
        let snapshot = self.scheduler.snapshot();
        let providers = self.scheduler.provider_snapshot();
        let now = SystemTime::now();
        self.scheduler = Scheduler::new(
            config.timing(),
            config.source_specs(),
            config.record_specs(),
            snapshot,
            now,
            seed(),
        )
        .with_providers(config.provider_specs(), &providers, now);
        self.config = config;
        self.generation += 1;
        self.build_parts()
    }

    fn build_parts(&mut self) -> Result<(), AppError> {
        let timeout = self.config.daemon.request_timeout;
        let clients = HttpClients::new(timeout).map_err(AppError::Internal)?;
        self.sources = self
            .config
            .sources
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    Arc::new(AnySource::new(name, c, clients.clone(), timeout)),
                )
            })
            .collect();
        self.source_families = self
            .config
            .source_specs()
            .into_iter()
            .map(|s| (s.name, s.families))
            .collect();
        self.providers = self
            .config
            .providers
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    Arc::new(AnyProvider::new(name, c, clients.clone(), timeout)),
                )
            })
            .collect();
        Ok(())
    }

    /// The interface sources some record uses: those an address event concerns.
    pub fn interface_sources(&self) -> Vec<String> {
        self.source_families
            .keys()
            .filter(|name| {
                matches!(
                    self.config.sources.get(*name),
                    Some(crate::config::SourceConfig::Interface(_))
                )
            })
            .cloned()
            .collect()
    }

    /// Feeds an event to the core and carries out what it asks.
    pub fn handle(&mut self, event: Event) {
        let actions = self.scheduler.handle(SystemTime::now(), event);
        self.perform(actions);
    }

    /// Carries out actions in order. Saves are deferred to `flush`, except that a round that
    /// starts requests is saved first: the core counts every request against the provider's
    /// hourly cap before it goes out, and a crash must not forget that count (#9). The
    /// requests themselves only start once this returns (single-threaded runtime).
    pub fn perform(&mut self, actions: Vec<Action>) {
        let mut publishes = Vec::new();
        for action in actions {
            match action {
                Action::Detect { source } => self.detect(source),
                Action::Publish { provider, items } => publishes.push((provider, items)),
                Action::SaveState => self.dirty = true,
                Action::WakeAt(at) => self.wake = Some(at),
                Action::Report(r) => report::log(&r),
            }
        }
        if !publishes.is_empty() {
            self.flush();
        }
        for (provider, items) in publishes {
            self.publish(&provider, &items);
        }
    }

    fn detect(&mut self, source: String) {
        let (Some(s), Some(&families)) =
            (self.sources.get(&source), self.source_families.get(&source))
        else {
            error!(source = %source, "internal error: detection asked for an unknown source");
            return;
        };
        let s = Arc::clone(s);
        let tx = self.tx.clone();
        let generation = self.generation;
        let mode = self.mode;
        self.in_flight += 1;
        tokio::spawn(async move {
            let detection = if mode == Mode::DryRun {
                let (explanations, detection) = s.explain(families).await;
                println!("{}", crate::commands::detect::render_table(&explanations));
                detection
            } else {
                s.detect(families).await
            };
            let _ = tx.send(TaskResult {
                generation,
                event: Event::Detected { source, detection },
            });
        });
    }

    fn publish(&mut self, provider: &str, items: &[crate::core::PublishItem]) {
        let Some(p) = self.providers.get(provider) else {
            error!(
                provider,
                "internal error: publish asked for an unknown provider"
            );
            return;
        };
        let snapshot = self.scheduler.snapshot();
        let targets: Vec<Target> = items
            .iter()
            .filter_map(|item| {
                let record = self.config.record(&item.record)?;
                Some(Target {
                    name: record.name.clone(),
                    families: record.families,
                    ttl: record.ttl,
                    addresses: item.addresses,
                    cache: snapshot
                        .get(&record.name)
                        .map(|s| s.provider_cache.clone())
                        .unwrap_or_default(),
                })
            })
            .collect();
        if self.mode == Mode::DryRun {
            let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
            println!(
                "would send via provider \"{provider}\" for {}:",
                names.join(", ")
            );
            for request in p.plan(&targets) {
                println!("  {}", request.replace('\n', "\n  "));
            }
            self.planned.extend(targets.into_iter().map(|t| t.name));
            return;
        }
        let p = Arc::clone(p);
        let tx = self.tx.clone();
        let generation = self.generation;
        self.in_flight += targets.len();
        tokio::spawn(async move {
            let mut pending: BTreeSet<RecordId> = targets.iter().map(|t| t.name.clone()).collect();
            for (record, result) in p.publish(&targets).await {
                if pending.remove(&record) {
                    let _ = tx.send(TaskResult {
                        generation,
                        event: Event::Published { record, result },
                    });
                }
            }
            // A provider must answer for every target; one that does not is a bug, and the
            // record is retried rather than left in flight forever.
            for record in pending {
                let failure = crate::core::Failure {
                    class: crate::core::ErrorClass::Protocol,
                    message: "internal error: provider returned no outcome for this record".into(),
                };
                let _ = tx.send(TaskResult {
                    generation,
                    event: Event::Published {
                        record,
                        result: Err(failure),
                    },
                });
            }
        });
    }

    /// Writes the state file if the core asked for a save since the last one. The shell calls
    /// it after each batch of events, before any request goes out, and at shutdown; a failed
    /// save stays pending.
    pub fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(store) = &self.store else {
            self.dirty = false;
            return;
        };
        let state = StateContent {
            records: self.scheduler.snapshot(),
            providers: self.scheduler.provider_snapshot(),
        };
        match store.save(&state) {
            Ok(()) => {
                self.dirty = false;
                self.save_failed = false;
            }
            Err(e) => {
                if !self.save_failed {
                    error!(error = %e, "cannot save state; will retry at the next change");
                }
                self.save_failed = true;
            }
        }
    }

    /// Takes every task result that is already waiting, then saves once.
    pub fn accept_ready(
        &mut self,
        first: TaskResult,
        rx: &mut mpsc::UnboundedReceiver<TaskResult>,
    ) {
        self.accept(first);
        while let Ok(more) = rx.try_recv() {
            self.accept(more);
        }
        self.flush();
    }

    /// Takes a finished task's event: detections from an older config generation are dropped
    /// (the new scheduler re-detects), publish outcomes are always fed (a confirmed publish is a
    /// fact whatever the config).
    pub fn accept(&mut self, result: TaskResult) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if result.generation != self.generation && matches!(result.event, Event::Detected { .. }) {
            return;
        }
        self.handle(result.event);
    }

    /// The one-line summary for sd_notify STATUS= (e.g. "3 records published, 1 parked").
    pub fn status_line(&self) -> String {
        let s = self.scheduler.summary();
        let mut parts = vec![format!(
            "{} record{} published",
            s.published,
            if s.published == 1 { "" } else { "s" }
        )];
        for (n, word) in [
            (s.pending, "pending"),
            (s.failing, "failing"),
            (s.parked, "parked"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        parts.join(", ")
    }

    /// How long to sleep until the scheduler's next wake-up, bounded so a wall-clock jump is
    /// noticed within one check interval.
    pub fn sleep_duration(&self) -> Duration {
        let cap = self
            .config
            .daemon
            .check_interval
            .max(Duration::from_secs(1));
        match self.wake {
            Some(at) => at
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .min(cap),
            None => cap,
        }
    }
}

/// A jitter seed from std's randomly keyed hasher (no extra dependency).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

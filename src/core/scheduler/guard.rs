//! The abuse guard's side of the scheduler (`core::abuse`, #9): each provider's request window,
//! restored and snapshotted with the state file; a due publish waits while its provider's
//! `max-requests-per-hour` is used up, and the cap is reported once per episode.
//! Does not count requests itself (`abuse::RequestWindow`) nor pick the records (`dispatch`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::Scheduler;
use super::record::{Plan, RecordState};
use crate::core::abuse::{DEFAULT_MAX_REQUESTS_PER_HOUR, RequestWindow};
use crate::core::{PersistedProvider, ProviderId, ProviderSpec, PublishItem, RecordId, Report};

impl Scheduler {
    /// Sets each provider's abuse-guard cap and restores its recent requests (the state file's
    /// provider section). A provider some record uses but `specs` omits gets the default cap
    /// ([`DEFAULT_MAX_REQUESTS_PER_HOUR`]); restored providers nobody uses are dropped. Stored
    /// request times in the future count as `now`. See: #9.
    pub fn with_providers(
        mut self,
        specs: Vec<ProviderSpec>,
        restored: &BTreeMap<ProviderId, PersistedProvider>,
        now: SystemTime,
    ) -> Scheduler {
        let mut limits: BTreeMap<ProviderId, u32> = self
            .records
            .iter()
            .map(|r| (r.spec.provider.clone(), DEFAULT_MAX_REQUESTS_PER_HOUR))
            .collect();
        for spec in specs {
            limits.insert(spec.name, spec.max_requests_per_hour);
        }
        self.windows = limits
            .into_iter()
            .map(|(name, limit)| {
                let times = restored
                    .get(&name)
                    .map(|p| p.requests.as_slice())
                    .unwrap_or_default();
                let window = RequestWindow::new(limit, times, now);
                (name, window)
            })
            .collect();
        self
    }

    /// The abuse guard's recent requests per provider (for the state file's provider section).
    /// Providers without recent requests are left out.
    pub fn provider_snapshot(&self) -> BTreeMap<ProviderId, PersistedProvider> {
        self.windows
            .iter()
            .map(|(name, w)| {
                let requests = w.times();
                (name.clone(), PersistedProvider { requests })
            })
            .filter(|(_, p)| !p.requests.is_empty())
            .collect()
    }

    /// A record's plan, with its provider's abuse guard applied: a publish that is due while
    /// the provider's cap is used up waits until a slot frees.
    pub(super) fn plan_of(&self, r: &RecordState, now: SystemTime) -> Plan {
        match r.plan(self.source_view(r), &self.timing, now) {
            Plan::Due(reason) => match self.cap_free_at(&r.spec.provider, now) {
                Some(t) => Plan::At(t),
                None => Plan::Due(reason),
            },
            plan => plan,
        }
    }

    /// When `provider`'s cap lets the next request out, if it is used up at `now`.
    pub(super) fn cap_free_at(&self, provider: &str, now: SystemTime) -> Option<SystemTime> {
        self.windows.get(provider).and_then(|w| w.free_at(now))
    }

    /// Reports the providers whose cap held records back (once per episode), and clears the
    /// episode of those whose due records all went out.
    pub(super) fn report_capped(
        &mut self,
        held: &[(ProviderId, Vec<RecordId>)],
        groups: &[(ProviderId, Vec<PublishItem>)],
        now: SystemTime,
        out: &mut super::Outbox,
    ) {
        for (provider, window) in &mut self.windows {
            match held.iter().find(|(p, _)| p == provider) {
                // Reported once per episode: the window stays marked until a publish passes.
                Some((_, names)) if window.mark_capped() => {
                    out.reports.push(Report::RequestCapReached {
                        provider: provider.clone(),
                        limit: window.limit(),
                        held: names.clone(),
                        until: window.free_at(now).unwrap_or(now),
                    });
                }
                Some(_) => {}
                None if groups.iter().any(|(p, _)| p == provider) => window.clear_capped(),
                None => {}
            }
        }
    }
}

//! The scheduler: desired vs published per record; decides what to detect, publish, save and
//! when to wake. Pure: `now` is passed in, randomness comes from a seeded generator.
//! Does not pick retry delays (`core::backoff`), judge addresses (`core::select`) or perform
//! anything: the shell carries out the returned [`Action`]s.
//!
//! See: DESIGN.md "Behaviour rules" and "Architecture".

mod guard;
mod record;
mod source;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use record::{Plan, RecordState};
use source::SourceState;

use super::abuse::{DEFAULT_MAX_REQUESTS_PER_HOUR, RequestWindow};
use super::{
    Action, Addresses, Event, PersistedRecord, ProviderId, PublishItem, RecordId, RecordSpec,
    Report, SourceSpec, Timing,
};

/// Counts for the sd_notify STATUS= line and `status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Up to date ([`RecordStatus::UpToDate`]).
    pub published: usize,
    /// Due, in flight or not yet known ([`RecordStatus::Pending`], [`RecordStatus::Unknown`]).
    pub pending: usize,
    /// Waiting after a failure ([`RecordStatus::Waiting`]).
    pub failing: usize,
    /// Parked ([`RecordStatus::Parked`]).
    pub parked: usize,
}

/// Where one record stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    /// Published addresses equal desired ones for every carried family that was detected.
    UpToDate,
    /// Nothing detected yet for any carried family, and nothing published (also: no such
    /// record).
    Unknown,
    /// A publish is due or in flight.
    Pending,
    /// Waiting for the next attempt after a failure.
    Waiting { next_attempt: SystemTime },
    /// Parked after a rejection.
    Parked { reason: String },
}

/// The decision engine. See DESIGN.md "Behaviour rules".
#[derive(Debug)]
pub struct Scheduler {
    timing: Timing,
    sources: Vec<SourceState>,
    records: Vec<RecordState>,
    /// The abuse guard per provider (`core::abuse`). A provider without a window gets one with
    /// the default cap when first published to.
    windows: BTreeMap<ProviderId, RequestWindow>,
    /// Decided by `new`, emitted by the first `handle`.
    startup_reports: Vec<Report>,
    startup_save: bool,
    rng: SplitMix64,
    /// The `now` of the previous call, to notice the wall clock going backwards.
    last_now: SystemTime,
    next_wake: Option<SystemTime>,
}

/// A backwards step of the wall clock smaller than this is ignored (NTP slews, rounding).
const CLOCK_JUMP: Duration = Duration::from_secs(1);

impl Scheduler {
    /// Builds the scheduler from config and restored state, clamping stored deadlines to
    /// `[now, now + retry-max]` and treating a future publish time as unknown (its refresh is
    /// then due one `refresh-interval` after `now`). A record whose stored fingerprint differs
    /// from its spec's is un-parked (`Report::Unparked { why: "config changed" }`), its backoff
    /// reset, and it is republished once its source is detected (`PublishReason::Forced`).
    /// Restored records that are not configured are dropped. Those reports and a `SaveState`
    /// (when the persisted part changed) come out of the first [`Scheduler::handle`] call.
    /// Every source is due for detection at `now`. `seed` seeds the jitter generator.
    pub fn new(
        timing: Timing,
        sources: Vec<SourceSpec>,
        records: Vec<RecordSpec>,
        restored: BTreeMap<RecordId, PersistedRecord>,
        now: SystemTime,
        seed: u64,
    ) -> Scheduler {
        let mut restored = restored;
        let sources: Vec<SourceState> = sources
            .into_iter()
            .map(|spec| SourceState::new(spec, now))
            .collect();
        let mut startup_reports = Vec::new();
        let mut startup_save = false;
        let mut states = Vec::with_capacity(records.len());
        for spec in records {
            let source = sources.iter().position(|s| s.spec.name == spec.source);
            let stored = restored.remove(&spec.name);
            let r = RecordState::restore(spec, source, stored, now, &timing);
            startup_reports.extend(r.reports);
            startup_save |= r.changed;
            states.push(r.record);
        }
        // Whatever is left belongs to records no longer configured: dropped, and the file
        // should say so.
        startup_save |= !restored.is_empty();
        Scheduler {
            timing,
            sources,
            records: states,
            windows: BTreeMap::new(),
            startup_reports,
            startup_save,
            rng: SplitMix64(seed),
            last_now: now,
            next_wake: None,
        }
    }

    /// Feeds one event; returns the actions to carry out, in this order:
    /// `Detect`* (source order), `Report`*, `Publish`* (one per provider, in order of the first
    /// due record; items in record order), at most one `SaveState`, and at most one `WakeAt`,
    /// always last.
    ///
    /// - Every call first handles the event, then emits every detection and publish due at
    ///   `now`, so `Tick` needs no special handling and any event can trigger work.
    /// - `WakeAt(t)` is the earliest deadline, always after `now`: each source's next periodic
    ///   detection (`check-interval` after the previous one *started*) and settle deadline, and
    ///   the backoff / refresh time of records that will then be due. A deadline that passed
    ///   while its source is still being detected is left out (the `Detected` event
    ///   re-evaluates), so `WakeAt` is absent only when nothing waits on time. A stray `Tick`
    ///   is always harmless.
    /// - A record is never published while its source's detection is in flight (the result may
    ///   change the payload), while its own publish is in flight, while parked, before its
    ///   next attempt time, or while its provider's `max-requests-per-hour` is used up (the
    ///   abuse guard: reported once as `Report::RequestCapReached`, then woken when a slot
    ///   frees). A `Publish` always comes with a `SaveState`, so the guard's count is on disk
    ///   before the request goes out.
    /// - A wall clock that moved back by more than a second re-clamps every deadline to its
    ///   natural maximum (check-interval, settle, retry-max, refresh-interval); a jump forward
    ///   just makes things due.
    pub fn handle(&mut self, now: SystemTime, event: Event) -> Vec<Action> {
        let mut out = Outbox {
            save: self.observe_clock(now),
            ..Outbox::default()
        };
        out.reports.append(&mut self.startup_reports);
        out.save |= std::mem::take(&mut self.startup_save);

        match event {
            Event::Start => {
                for s in &mut self.sources {
                    s.request_now(now);
                }
            }
            Event::Tick => {}
            Event::Detected { source, detection } => {
                if let Some(s) = self.sources.iter_mut().find(|s| s.spec.name == source) {
                    s.apply(detection, &mut out.reports);
                }
            }
            Event::InterfaceChanged { source } => {
                if let Some(s) = self.sources.iter_mut().find(|s| s.spec.name == source) {
                    s.interface_changed(now, &self.timing);
                }
            }
            Event::Published { record, result } => {
                if let Some(r) = self.records.iter_mut().find(|r| r.spec.name == record) {
                    let random = self.rng.next_u64();
                    let report = match result {
                        Ok(confirmed) => Some(r.on_confirmed(confirmed, now, &self.timing, random)),
                        Err(failure) => r.on_failed(failure, now, &self.timing, random),
                    };
                    out.reports.extend(report);
                    out.save = true;
                }
            }
            Event::ForceRefresh => {
                for r in &mut self.records {
                    r.forced = true;
                    out.save |= release(r, "USR1/force", &mut out.reports);
                }
                for s in &mut self.sources {
                    s.request_now(now);
                }
            }
            Event::Retry { record } => {
                for r in &mut self.records {
                    if record.as_ref().is_none_or(|name| *name == r.spec.name) {
                        out.save |= release(r, "retry requested", &mut out.reports);
                    }
                }
            }
        }

        self.dispatch(now, &mut out);
        self.next_wake = self.earliest_deadline(now);
        out.into_actions(self.next_wake)
    }

    /// The persisted part of every configured record (for the state file).
    pub fn snapshot(&self) -> BTreeMap<RecordId, PersistedRecord> {
        self.records
            .iter()
            .map(|r| (r.spec.name.clone(), r.persisted.clone()))
            .collect()
    }

    /// Where one record stands, as of the last `handle` call (or `new`).
    pub fn record_status(&self, record: &str) -> RecordStatus {
        let Some(r) = self.records.iter().find(|r| r.spec.name == record) else {
            return RecordStatus::Unknown;
        };
        let p = &r.persisted;
        if let Some(reason) = &p.parked {
            return RecordStatus::Parked {
                reason: reason.clone(),
            };
        }
        if r.in_flight.is_some() {
            return RecordStatus::Pending;
        }
        if let Some(next_attempt) = p
            .next_attempt
            .filter(|t| p.attempts > 0 && *t > self.last_now)
        {
            return RecordStatus::Waiting { next_attempt };
        }
        let desired = self.desired_of(r);
        let has_work = !r.payload(desired).is_empty()
            && (r.is_changed(desired)
                || r.forced
                || r.refresh_at(&self.timing)
                    .is_some_and(|t| t <= self.last_now));
        if has_work {
            match self.cap_free_at(&r.spec.provider, self.last_now) {
                Some(next_attempt) => RecordStatus::Waiting { next_attempt },
                None => RecordStatus::Pending,
            }
        } else if desired.restricted_to(r.spec.families).is_empty() && p.published.is_empty() {
            RecordStatus::Unknown
        } else {
            RecordStatus::UpToDate
        }
    }

    /// Counts over all records (see [`Summary`]).
    pub fn summary(&self) -> Summary {
        let mut sum = Summary::default();
        for r in &self.records {
            match self.record_status(&r.spec.name) {
                RecordStatus::UpToDate => sum.published += 1,
                RecordStatus::Unknown | RecordStatus::Pending => sum.pending += 1,
                RecordStatus::Waiting { .. } => sum.failing += 1,
                RecordStatus::Parked { .. } => sum.parked += 1,
            }
        }
        sum
    }

    /// True when no detection or publish is in flight and none is due as of the last `handle`
    /// call: `once` stops here. Records waiting for a backoff or refresh time do not count.
    pub fn is_idle(&self) -> bool {
        let now = self.last_now;
        let sources_idle = self.sources.iter().all(|s| !s.in_flight && !s.is_due(now));
        sources_idle
            && self.records.iter().all(|r| {
                r.in_flight.is_none()
                    && !matches!(self.plan_of(r, now), Plan::Due(_) | Plan::Blocked)
            })
    }

    /// The earliest deadline, if any: what the last `WakeAt` said (`None` if it had none).
    pub fn next_wake(&self) -> Option<SystemTime> {
        self.next_wake
    }

    /// Notices the clock going backwards; returns whether the persisted part changed.
    fn observe_clock(&mut self, now: SystemTime) -> bool {
        let went_back = now
            .checked_add(CLOCK_JUMP)
            .is_some_and(|t| t < self.last_now);
        self.last_now = now;
        if !went_back {
            return false;
        }
        for s in &mut self.sources {
            s.reclamp(now, &self.timing);
        }
        let mut changed = false;
        for r in &mut self.records {
            changed |= r.reclamp(now, &self.timing);
        }
        changed
    }

    fn desired_of(&self, r: &RecordState) -> Addresses {
        r.source
            .and_then(|i| self.sources.get(i))
            .map(|s| s.desired)
            .unwrap_or_default()
    }

    fn source_view(&self, r: &RecordState) -> Option<(Addresses, bool)> {
        r.source
            .and_then(|i| self.sources.get(i))
            .map(|s| (s.desired, s.in_flight))
    }

    /// Emits every detection and publish due at `now`.
    fn dispatch(&mut self, now: SystemTime, out: &mut Outbox) {
        for s in &mut self.sources {
            if s.is_due(now) {
                s.start_detection(now, &self.timing);
                out.detects.push(Action::Detect {
                    source: s.spec.name.clone(),
                });
            }
        }
        let mut groups: Vec<(ProviderId, Vec<PublishItem>)> = Vec::new();
        // Records the abuse guard held back, per provider, in record order.
        let mut held: Vec<(ProviderId, Vec<RecordId>)> = Vec::new();
        for i in 0..self.records.len() {
            let r = &self.records[i];
            let view = self.source_view(r);
            let Plan::Due(reason) = r.plan(view, &self.timing, now) else {
                continue;
            };
            let provider = r.spec.provider.clone();
            // The guard counts rounds: the records of a provider that are due together go out
            // as one Publish (one rfc2136 message, one dyndns2 request per 20 hosts), so a
            // round takes one slot however many records it carries. Counting records would
            // hold back a 100-record zone forever under the default cap of 60 (#9, #10).
            let joins_round = groups.iter().any(|(p, _)| *p == provider);
            if !joins_round {
                let window = self
                    .windows
                    .entry(provider.clone())
                    .or_insert_with(|| RequestWindow::new(DEFAULT_MAX_REQUESTS_PER_HOUR, &[], now));
                if window.room(now) == 0 {
                    match held.iter_mut().find(|(p, _)| *p == provider) {
                        Some((_, names)) => names.push(r.spec.name.clone()),
                        None => held.push((provider, vec![r.spec.name.clone()])),
                    }
                    continue;
                }
                window.record(now);
            }
            let addresses = r.payload(view.map(|(d, _)| d).unwrap_or_default());
            let item = PublishItem {
                record: r.spec.name.clone(),
                addresses,
                reason,
            };
            match groups.iter_mut().find(|(p, _)| *p == provider) {
                Some((_, items)) => items.push(item),
                None => groups.push((provider, vec![item])),
            }
            self.records[i].in_flight = Some((reason, addresses));
        }
        self.report_capped(&held, &groups, now, out);
        // The guard's count must be on disk before the requests go out: a crash loop must not
        // reset it.
        out.save |= !groups.is_empty();
        out.publishes = groups
            .into_iter()
            .map(|(provider, items)| Action::Publish { provider, items })
            .collect();
    }

    fn earliest_deadline(&self, now: SystemTime) -> Option<SystemTime> {
        let sources = self.sources.iter().filter_map(|s| s.deadline(now));
        let records = self
            .records
            .iter()
            .filter_map(|r| match self.plan_of(r, now) {
                Plan::At(t) => Some(t),
                Plan::Idle | Plan::Blocked | Plan::Due(_) => None,
            });
        sources.chain(records).min()
    }
}

/// Un-parks a record and drops its wait, reporting the un-parking. Returns whether the persisted
/// part changed.
fn release(r: &mut RecordState, why: &str, reports: &mut Vec<Report>) -> bool {
    let (was_parked, changed) = r.release();
    if was_parked {
        reports.push(Report::Unparked {
            record: r.spec.name.clone(),
            why: why.into(),
        });
    }
    changed
}

/// The actions of one `handle` call, collected by kind and emitted in a fixed order.
#[derive(Default)]
struct Outbox {
    detects: Vec<Action>,
    reports: Vec<Report>,
    publishes: Vec<Action>,
    save: bool,
}

impl Outbox {
    fn into_actions(self, wake: Option<SystemTime>) -> Vec<Action> {
        let mut actions = self.detects;
        actions.extend(self.reports.into_iter().map(Action::Report));
        actions.extend(self.publishes);
        if self.save {
            actions.push(Action::SaveState);
        }
        actions.extend(wake.map(Action::WakeAt));
        actions
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough for jitter. Not for
/// anything secret.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `t + d`, saturating far in the future instead of panicking on overflow (a config may say
/// "1000 years").
fn later(t: SystemTime, d: Duration) -> SystemTime {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    t.checked_add(d)
        .or_else(|| t.checked_add(CENTURY))
        .unwrap_or(t)
}

/// `now - start`, zero if `start` is in the future.
fn since(now: SystemTime, start: SystemTime) -> Duration {
    now.duration_since(start).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod invariants;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

//! One record as the scheduler sees it: its persisted state, what is in flight, and whether a
//! publish is due. Does not pick delays (that is `core::backoff`) nor group records into
//! `Publish` actions (that is the parent module).

use std::time::SystemTime;

use super::{later, since};
use crate::core::{
    Addresses, Confirmed, ErrorClass, Failure, PersistedRecord, PublishReason, RecordSpec, Report,
    Timing, backoff,
};

/// What a record needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Nothing until some event changes the picture (parked, up to date, nothing to send).
    Idle,
    /// Waiting on in-flight work (its own publish, or its source's detection) whose completion
    /// re-evaluates it. Contributes no deadline, so the core never asks to wake for it.
    Blocked,
    /// Publish now.
    Due(PublishReason),
    /// Publish at this time (backoff, rate limit, refresh).
    At(SystemTime),
}

#[derive(Debug)]
pub(super) struct RecordState {
    pub(super) spec: RecordSpec,
    /// Index into the scheduler's sources; `None` if the spec names an unknown source (config
    /// validation prevents that; such a record is simply never due).
    pub(super) source: Option<usize>,
    pub(super) persisted: PersistedRecord,
    /// A publish was emitted: why, and what was sent.
    pub(super) in_flight: Option<(PublishReason, Addresses)>,
    /// Republish even if unchanged (USR1, `once --force`, a changed config), until a success.
    pub(super) forced: bool,
    /// Stands in for an unknown `published_at` in the refresh deadline: a refresh is due one
    /// `refresh-interval` after this, not immediately (DESIGN.md "State": a future publish time
    /// is "unknown").
    refresh_anchor: SystemTime,
    /// Start of the current run of failures, for "succeeded after N attempts over D". Memory
    /// only: failures restored from the state file count from `new`.
    first_failure: Option<SystemTime>,
    /// Do not republish before this after a confirmation that differs from what was sent: a
    /// provider confirming other addresses than asked would otherwise make the record due again
    /// at once, forever.
    hold_until: Option<SystemTime>,
    mismatches: u32,
}

/// What restoring one record found.
pub(super) struct Restored {
    pub(super) record: RecordState,
    pub(super) reports: Vec<Report>,
    /// The persisted part changed (config changed): save.
    pub(super) changed: bool,
}

impl RecordState {
    /// Builds a record from its spec and stored state (DESIGN.md "State", "Parking").
    pub(super) fn restore(
        spec: RecordSpec,
        source: Option<usize>,
        stored: Option<PersistedRecord>,
        now: SystemTime,
        timing: &Timing,
    ) -> Restored {
        let mut reports = Vec::new();
        let mut changed = false;
        let mut forced = false;
        let mut p = match stored {
            Some(p) => p,
            None => PersistedRecord {
                fingerprint: spec.fingerprint,
                ..PersistedRecord::default()
            },
        };
        // Stored deadlines are clamped to [now, now + retry-max]; a future publish time is
        // unknown. Both are re-derived at every load, so neither alone is worth a save.
        let max_at = later(now, timing.retry_max);
        p.next_attempt = p.next_attempt.map(|t| t.clamp(now, max_at));
        if p.published_at.is_some_and(|t| t > now) {
            p.published_at = None;
        }
        if p.fingerprint != spec.fingerprint {
            // DESIGN.md "Parking": a changed config un-parks and resets the backoff. The state
            // was earned with another config (maybe another provider or TTL), so republish once.
            if p.parked.take().is_some() {
                reports.push(Report::Unparked {
                    record: spec.name.clone(),
                    why: "config changed".into(),
                });
            }
            p.attempts = 0;
            p.next_attempt = None;
            p.last_error = None;
            p.fingerprint = spec.fingerprint;
            forced = true;
            changed = true;
        }
        // Removing a family from a record is a config change, not a detection result.
        let carried = p.published.restricted_to(spec.families);
        if carried != p.published {
            p.published = carried;
            changed = true;
        }
        let first_failure = (p.attempts > 0).then_some(now);
        Restored {
            record: RecordState {
                spec,
                source,
                persisted: p,
                in_flight: None,
                forced,
                refresh_anchor: now,
                first_failure,
                hold_until: None,
                mismatches: 0,
            },
            reports,
            changed,
        }
    }

    /// The source's desired addresses as this record publishes them: with `ipv6-host-id`, the
    /// detected prefix combined with the host id.
    fn shaped(&self, desired: Addresses) -> Addresses {
        match self.spec.ipv6_host_id {
            Some(host) => Addresses {
                ipv6: desired.ipv6.map(|a| host.apply(a)),
                ..desired
            },
            None => desired,
        }
    }

    /// What would be sent: per carried family the desired address if known, else the published
    /// one (detection failure is not absence). May be empty; an empty payload is never sent.
    pub(super) fn payload(&self, desired: Addresses) -> Addresses {
        let desired = self.shaped(desired);
        let mut out = Addresses::default();
        for family in self.spec.families.iter() {
            if let Some(a) = desired.get(family).or(self.persisted.published.get(family)) {
                out.set(a);
            }
        }
        out
    }

    /// A carried family has a known desired address that differs from the published one.
    pub(super) fn is_changed(&self, desired: Addresses) -> bool {
        let desired = self.shaped(desired);
        self.spec.families.iter().any(|f| {
            let want = desired.get(f);
            want.is_some() && want != self.persisted.published.get(f)
        })
    }

    /// When the refresh is due, if refreshing applies (configured, something published).
    pub(super) fn refresh_at(&self, timing: &Timing) -> Option<SystemTime> {
        let interval = timing.refresh_interval?;
        if self.persisted.published.is_empty() {
            return None;
        }
        let base = self.persisted.published_at.unwrap_or(self.refresh_anchor);
        Some(later(base, interval))
    }

    /// The earliest time a new attempt is allowed (backoff, rate limit, mismatch hold).
    fn not_before(&self) -> Option<SystemTime> {
        match (self.persisted.next_attempt, self.hold_until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Decides what this record needs. `source` is `(desired, detection in flight)`.
    pub(super) fn plan(
        &self,
        source: Option<(Addresses, bool)>,
        timing: &Timing,
        now: SystemTime,
    ) -> Plan {
        if self.persisted.parked.is_some() {
            return Plan::Idle;
        }
        if self.in_flight.is_some() {
            return Plan::Blocked;
        }
        let Some((desired, detecting)) = source else {
            return Plan::Idle;
        };
        if self.payload(desired).is_empty() {
            return Plan::Idle;
        }
        let plan = self.plan_ignoring_detection(desired, timing, now);
        // A detection about to finish may change the payload: wait for it rather than send
        // something already stale (this also makes a forced publish wait for its detection).
        match plan {
            Plan::Due(_) if detecting => Plan::Blocked,
            plan => plan,
        }
    }

    fn plan_ignoring_detection(
        &self,
        desired: Addresses,
        timing: &Timing,
        now: SystemTime,
    ) -> Plan {
        let not_before = self.not_before().filter(|t| *t > now);
        let reason = if self.is_changed(desired) {
            Some(PublishReason::Changed)
        } else if self.forced {
            Some(PublishReason::Forced)
        } else {
            None
        };
        if let Some(reason) = reason {
            return match not_before {
                Some(t) => Plan::At(t),
                None => Plan::Due(reason),
            };
        }
        let Some(refresh) = self.refresh_at(timing) else {
            return Plan::Idle;
        };
        let at = not_before.map_or(refresh, |t| t.max(refresh));
        if at <= now {
            Plan::Due(PublishReason::Refresh)
        } else {
            Plan::At(at)
        }
    }

    /// The provider confirmed. Returns the report; the persisted part always changes.
    pub(super) fn on_confirmed(
        &mut self,
        confirmed: Confirmed,
        now: SystemTime,
        timing: &Timing,
        random: u64,
    ) -> Report {
        let sent = self.in_flight.take();
        let families = self.spec.families;
        // A family the provider did not return keeps its old published value.
        let mut published = self.persisted.published.restricted_to(families);
        let returned = confirmed.addresses.restricted_to(families);
        for family in families.iter() {
            if let Some(a) = returned.get(family) {
                published.set(a);
            }
        }
        let p = &mut self.persisted;
        let recovered = (p.attempts > 0).then(|| {
            let start = self.first_failure.unwrap_or(now);
            (p.attempts, since(now, start))
        });
        p.published = published;
        p.published_at = Some(now);
        p.attempts = 0;
        p.next_attempt = None;
        p.last_error = None;
        if !confirmed.provider_cache.is_empty() {
            p.provider_cache = confirmed.provider_cache;
        }
        self.first_failure = None;
        self.forced = false;

        let mismatch =
            sent.is_some_and(|(_, payload)| published.restricted_to(payload.families()) != payload);
        if mismatch {
            self.mismatches = self.mismatches.saturating_add(1);
            let delay =
                backoff::delay_after_failure(ErrorClass::Protocol, self.mismatches, timing, random);
            self.hold_until = Some(later(now, delay));
        } else {
            self.mismatches = 0;
            self.hold_until = None;
        }
        Report::Published {
            record: self.spec.name.clone(),
            addresses: published,
            reason: sent.map_or(PublishReason::Changed, |(r, _)| r),
            recovered,
        }
    }

    /// The publish failed. `published` never changes here: an unconfirmed update may or may not
    /// have been applied, and only confirmed addresses are recorded (DESIGN.md "State").
    /// Returns the report, if any; the persisted part always changes.
    pub(super) fn on_failed(
        &mut self,
        failure: Failure,
        now: SystemTime,
        timing: &Timing,
        random: u64,
    ) -> Option<Report> {
        self.in_flight = None;
        let p = &mut self.persisted;
        let previous = p.last_error.replace(failure.clone());
        p.attempts = p.attempts.saturating_add(1);
        if self.first_failure.is_none() {
            self.first_failure = Some(now);
        }
        if failure.class == ErrorClass::Rejected {
            p.next_attempt = None;
            if p.parked.is_some() {
                return None; // reported when it was parked
            }
            p.parked = Some(failure.message.clone());
            return Some(Report::Parked {
                record: self.spec.name.clone(),
                failure,
            });
        }
        let delay = backoff::delay_after_failure(failure.class, p.attempts, timing, random);
        let next_attempt = later(now, delay);
        p.next_attempt = Some(next_attempt);
        // Same kind and words as last time: the shell logs it quietly (STYLE.md §6). The kind,
        // not the whole class, so a varying Retry-After does not count as news.
        let repeated = previous.is_some_and(|prev| {
            prev.class.as_str() == failure.class.as_str() && prev.message == failure.message
        });
        Some(Report::RetryScheduled {
            record: self.spec.name.clone(),
            attempt: p.attempts,
            failure,
            next_attempt,
            repeated,
        })
    }

    /// `retry` / USR1: un-park and drop any wait. Returns whether it was parked and whether the
    /// persisted part changed.
    pub(super) fn release(&mut self) -> (bool, bool) {
        self.hold_until = None;
        self.mismatches = 0;
        let was_parked = self.persisted.parked.take().is_some();
        let had_wait = self.persisted.next_attempt.take().is_some();
        (was_parked, was_parked || had_wait)
    }

    /// The clock went backwards: cap every wait at its natural maximum. Returns whether the
    /// persisted part changed.
    pub(super) fn reclamp(&mut self, now: SystemTime, timing: &Timing) -> bool {
        let mut changed = false;
        let max_at = later(now, timing.retry_max);
        if self.persisted.next_attempt.is_some_and(|t| t > max_at) {
            self.persisted.next_attempt = Some(max_at);
            changed = true;
        }
        self.hold_until = self.hold_until.map(|t| t.min(max_at));
        if self.persisted.published_at.is_some_and(|t| t > now) {
            // A publish "in the future" is a time we cannot trust: unknown, refresh one
            // interval from now.
            self.persisted.published_at = None;
            self.refresh_anchor = now;
            changed = true;
        }
        self.refresh_anchor = self.refresh_anchor.min(now);
        self.first_failure = self.first_failure.map(|t| t.min(now));
        changed
    }
}

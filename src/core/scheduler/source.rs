//! One source as the scheduler sees it: desired addresses, detection timing, repeated failures.
//! Does not judge candidates (that is `core::select` and the sources themselves).

use std::net::IpAddr;
use std::time::SystemTime;

use super::later;
use crate::core::{Addresses, Detected, Detection, Family, Report, SourceSpec, Timing};

#[derive(Debug)]
pub(super) struct SourceState {
    pub(super) spec: SourceSpec,
    /// The latest good detection per family. A failed detection leaves it alone: detection
    /// failure is not absence (DESIGN.md "Behaviour rules").
    pub(super) desired: Addresses,
    /// The last failure message per family (IPv4, IPv6), for "report once, then on change".
    last_failure: [Option<String>; 2],
    /// A `Detect` was emitted and its `Detected` has not come back.
    pub(super) in_flight: bool,
    /// Next periodic detection: `check-interval` after the last one started.
    next_check: Option<SystemTime>,
    /// A coalesced interface event: detect at this time.
    settle_at: Option<SystemTime>,
}

fn slot(family: Family) -> usize {
    match family {
        Family::Ipv4 => 0,
        Family::Ipv6 => 1,
    }
}

impl SourceState {
    /// A source is first detected at once (`Event::Start`, or the first `handle` call).
    pub(super) fn new(spec: SourceSpec, now: SystemTime) -> SourceState {
        SourceState {
            spec,
            desired: Addresses::default(),
            last_failure: [None, None],
            in_flight: false,
            next_check: Some(now),
            settle_at: None,
        }
    }

    /// A detection should be started now.
    pub(super) fn is_due(&self, now: SystemTime) -> bool {
        !self.in_flight && self.earliest().is_some_and(|t| t <= now)
    }

    /// When the next detection should start, for `WakeAt`. While one is in flight, a deadline
    /// already passed is left out (the completion re-evaluates; waking for it would spin).
    pub(super) fn deadline(&self, now: SystemTime) -> Option<SystemTime> {
        [self.next_check, self.settle_at]
            .into_iter()
            .flatten()
            .filter(|t| !self.in_flight || *t > now)
            .min()
    }

    fn earliest(&self) -> Option<SystemTime> {
        match (self.next_check, self.settle_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Make a detection due now (`Start`, `ForceRefresh`). An in-flight one counts instead.
    pub(super) fn request_now(&mut self, now: SystemTime) {
        if !self.in_flight {
            self.next_check = Some(now);
        }
    }

    /// A `Detect` is being emitted. It covers every interface event seen so far; the next
    /// periodic one is `check-interval` after this one starts, so the period does not drift
    /// with detection time.
    pub(super) fn start_detection(&mut self, now: SystemTime, timing: &Timing) {
        self.in_flight = true;
        self.next_check = Some(later(now, check_interval(timing)));
        self.settle_at = None;
    }

    /// An interface event: detect after `settle`, unless a detection is already scheduled
    /// earlier (a burst of events is coalesced, never pushed later).
    pub(super) fn interface_changed(&mut self, now: SystemTime, timing: &Timing) {
        let at = later(now, timing.settle);
        self.settle_at = Some(self.settle_at.map_or(at, |t| t.min(at)));
    }

    /// A detection round came back. Updates desired addresses and reports changes and failures.
    pub(super) fn apply(&mut self, detection: Detection, reports: &mut Vec<Report>) {
        self.in_flight = false;
        let results: [(Family, Detected<IpAddr>); 2] = [
            (Family::Ipv4, map_found(detection.ipv4, IpAddr::V4)),
            (Family::Ipv6, map_found(detection.ipv6, IpAddr::V6)),
        ];
        for (family, result) in results {
            // A family nobody asked for cannot change any record; ignore it.
            if !self.spec.families.has(family) {
                continue;
            }
            match result {
                Detected::Found(addr) => {
                    self.last_failure[slot(family)] = None;
                    let old = self.desired.get(family);
                    if old != Some(addr) {
                        self.desired.set(addr);
                        reports.push(Report::AddressChanged {
                            source: self.spec.name.clone(),
                            family,
                            old,
                            new: addr,
                        });
                    }
                }
                Detected::Failed(message) => {
                    let previous = &mut self.last_failure[slot(family)];
                    let repeated = previous.as_deref() == Some(message.as_str());
                    *previous = Some(message.clone());
                    reports.push(Report::DetectionFailed {
                        source: self.spec.name.clone(),
                        family,
                        message,
                        repeated,
                    });
                }
                Detected::NotAsked => {}
            }
        }
    }

    /// The clock went backwards: nothing may wait longer than its natural maximum.
    pub(super) fn reclamp(&mut self, now: SystemTime, timing: &Timing) {
        let check_max = later(now, check_interval(timing));
        self.next_check = self.next_check.map(|t| t.min(check_max));
        let settle_max = later(now, timing.settle);
        self.settle_at = self.settle_at.map(|t| t.min(settle_max));
    }
}

/// `check-interval`, floored at one second so a zero from a bad config cannot spin.
fn check_interval(timing: &Timing) -> std::time::Duration {
    timing.check_interval.max(std::time::Duration::from_secs(1))
}

fn map_found<A>(d: Detected<A>, f: impl FnOnce(A) -> IpAddr) -> Detected<IpAddr> {
    match d {
        Detected::Found(a) => Detected::Found(f(a)),
        Detected::Failed(m) => Detected::Failed(m),
        Detected::NotAsked => Detected::NotAsked,
    }
}

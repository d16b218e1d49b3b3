//! The scheduler: desired vs published per record; decides what to detect, publish, save and
//! when to wake. Pure: `now` is passed in.
//! STUB: the core helper replaces this body.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::{Action, Event, PersistedRecord, RecordId, RecordSpec, SourceSpec, Timing};

/// Counts for the sd_notify STATUS= line and `status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub published: usize,
    pub pending: usize,
    pub failing: usize,
    pub parked: usize,
}

/// Where one record stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    /// Published addresses equal desired ones for every carried family that was detected.
    UpToDate,
    /// Nothing detected yet for any carried family, and nothing published.
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
    records: Vec<RecordSpec>,
    state: BTreeMap<RecordId, PersistedRecord>,
}

impl Scheduler {
    /// Builds the scheduler from config and restored state, clamping stored deadlines to
    /// `[now, now + retry-max]` and treating a future publish time as unknown. A record whose
    /// stored fingerprint differs from its spec's is un-parked and its backoff reset.
    /// `seed` seeds the jitter generator.
    pub fn new(
        timing: Timing,
        sources: Vec<SourceSpec>,
        records: Vec<RecordSpec>,
        restored: BTreeMap<RecordId, PersistedRecord>,
        now: SystemTime,
        seed: u64,
    ) -> Scheduler {
        let _ = (sources, now, seed);
        Scheduler {
            timing,
            records,
            state: restored,
        }
    }

    /// Feeds one event; returns the actions to carry out, in order.
    pub fn handle(&mut self, now: SystemTime, event: Event) -> Vec<Action> {
        let _ = (now, event);
        vec![Action::WakeAt(now + self.timing.check_interval)]
    }

    /// The persisted part of every configured record (for the state file).
    pub fn snapshot(&self) -> BTreeMap<RecordId, PersistedRecord> {
        self.state.clone()
    }

    /// Where one record stands.
    pub fn record_status(&self, record: &str) -> RecordStatus {
        let _ = record;
        RecordStatus::Unknown
    }

    /// Counts over all records.
    pub fn summary(&self) -> Summary {
        Summary {
            pending: self.records.len(),
            ..Summary::default()
        }
    }

    /// True when no detection or publish is in flight or due now: `once` stops here.
    pub fn is_idle(&self) -> bool {
        true
    }

    /// The earliest deadline, if any (what the last `WakeAt` said).
    pub fn next_wake(&self) -> Option<SystemTime> {
        None
    }

    /// Unused-variable guard for the stub.
    pub fn retry_max(&self) -> Duration {
        self.timing.retry_max
    }
}

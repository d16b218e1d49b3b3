//! The core's vocabulary with the shell: the events it is fed, the actions it returns, and the
//! facts it reports for logging. Does not decide anything; that is `scheduler`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::{Addresses, Detection, Failure, Family, ProviderId, RecordId, SourceId};

/// Why a publish is requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishReason {
    /// Desired differs from published.
    Changed,
    /// `refresh-interval` elapsed since the last confirmed publish.
    Refresh,
    /// USR1, `once --force` or `retry`.
    Forced,
}

/// One record to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishItem {
    pub record: RecordId,
    /// The addresses to publish, only for the families the record carries. A family that was
    /// never detected nor published is `None`; the set is never empty.
    pub addresses: Addresses,
    pub reason: PublishReason,
}

/// The world, turned into input for the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The daemon (or `once`) starts: detect every source now.
    Start,
    /// A wake-up time the core asked for has come.
    Tick,
    /// A source finished a detection round.
    Detected {
        source: SourceId,
        detection: Detection,
    },
    /// The kernel reported an address change on a source's interfaces: detect after `settle`.
    InterfaceChanged { source: SourceId },
    /// A provider finished publishing a record. `Ok` carries the confirmed addresses and the
    /// provider cache to keep.
    Published {
        record: RecordId,
        result: Result<Confirmed, Failure>,
    },
    /// USR1 / `once --force`: re-detect every source and republish every record, un-parked.
    ForceRefresh,
    /// `dynipd retry [RECORD]`: clear parking and backoff (all records when `None`).
    Retry { record: Option<RecordId> },
}

/// A provider's confirmation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confirmed {
    pub addresses: Addresses,
    pub provider_cache: BTreeMap<String, String>,
}

/// What the core asks the shell to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run a detection round of this source, then send `Event::Detected`.
    Detect { source: SourceId },
    /// Publish these records through this provider (records due together, so a provider can
    /// batch them), then send one `Event::Published` per item.
    Publish {
        provider: ProviderId,
        items: Vec<PublishItem>,
    },
    /// The persisted part of some record changed: save the state file.
    SaveState,
    /// Send `Event::Tick` at this time (the earliest of the core's deadlines).
    WakeAt(SystemTime),
    /// Something the operator should hear about; the shell picks the level.
    Report(Report),
}

/// Log-worthy facts, decided in the core so "report once, then again on change" is testable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// A source's detected address for a family changed (INFO).
    AddressChanged {
        source: SourceId,
        family: Family,
        old: Option<IpAddr>,
        new: IpAddr,
    },
    /// A family could not be detected (WARN the first time / on a new message, else DEBUG).
    DetectionFailed {
        source: SourceId,
        family: Family,
        message: String,
        repeated: bool,
    },
    /// A record was published (INFO). `recovered` = (failed attempts, since) after failures.
    Published {
        record: RecordId,
        addresses: Addresses,
        reason: PublishReason,
        recovered: Option<(u32, Duration)>,
    },
    /// A publish failed and will be retried at `next_attempt` (WARN first / changed, else DEBUG).
    RetryScheduled {
        record: RecordId,
        failure: Failure,
        attempt: u32,
        next_attempt: SystemTime,
        repeated: bool,
    },
    /// A record was parked (ERROR, once).
    Parked { record: RecordId, failure: Failure },
    /// A parked record was released (INFO): config changed, `retry` or USR1.
    Unparked { record: RecordId, why: String },
    /// A provider's `max-requests-per-hour` held back due records (ERROR, once per episode):
    /// they go out at `until`. See: #9.
    RequestCapReached {
        provider: ProviderId,
        limit: u32,
        held: Vec<RecordId>,
        until: SystemTime,
    },
}

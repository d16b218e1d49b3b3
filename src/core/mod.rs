//! The functional core: every decision dynipd makes, and no I/O.
//!
//! Nothing under `core/` may do I/O (async runtime, HTTP, DNS, files, sockets, processes) or
//! read the clock: `now` is always a parameter (DESIGN.md "Architecture"). The shell turns the
//! world into [`Event`]s and carries out the [`Action`]s that [`scheduler::Scheduler::handle`]
//! returns.

pub mod abuse;
pub mod backoff;
mod events;
pub mod fingerprint;
pub mod host_id;
pub mod quorum;
pub mod scheduler;
pub mod scope;
pub mod select;

pub use events::{Action, Confirmed, Event, PublishItem, PublishReason, Report};

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime};

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    /// The family of an address. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) counts as IPv6
    /// here; `scope` rejects it (protocols/echo-services.md, strict parsing rule 5).
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// The word used in config, logs and JSON: `ipv4` / `ipv6`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which families a record carries (or a source is asked for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Families {
    pub ipv4: bool,
    pub ipv6: bool,
}

impl Families {
    pub const BOTH: Families = Families {
        ipv4: true,
        ipv6: true,
    };
    pub const IPV4: Families = Families {
        ipv4: true,
        ipv6: false,
    };
    pub const IPV6: Families = Families {
        ipv4: false,
        ipv6: true,
    };

    /// Whether `family` is among these.
    pub fn has(self, family: Family) -> bool {
        match family {
            Family::Ipv4 => self.ipv4,
            Family::Ipv6 => self.ipv6,
        }
    }

    /// Both sets together.
    pub fn union(self, other: Families) -> Families {
        Families {
            ipv4: self.ipv4 || other.ipv4,
            ipv6: self.ipv6 || other.ipv6,
        }
    }

    /// The families in a stable order (IPv4 first).
    pub fn iter(self) -> impl Iterator<Item = Family> {
        [(self.ipv4, Family::Ipv4), (self.ipv6, Family::Ipv6)]
            .into_iter()
            .filter_map(|(on, f)| on.then_some(f))
    }
}

impl fmt::Display for Families {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Family::as_str).collect();
        f.write_str(&names.join("+"))
    }
}

/// At most one address per family: what a record points at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Addresses {
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

impl Addresses {
    /// No address at all.
    pub fn is_empty(&self) -> bool {
        self.ipv4.is_none() && self.ipv6.is_none()
    }

    /// The address of `family`, if any.
    pub fn get(&self, family: Family) -> Option<IpAddr> {
        match family {
            Family::Ipv4 => self.ipv4.map(IpAddr::V4),
            Family::Ipv6 => self.ipv6.map(IpAddr::V6),
        }
    }

    /// Sets the address of its own family.
    pub fn set(&mut self, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => self.ipv4 = Some(a),
            IpAddr::V6(a) => self.ipv6 = Some(a),
        }
    }

    /// Only the families in `families`; the others become `None`.
    pub fn restricted_to(self, families: Families) -> Addresses {
        Addresses {
            ipv4: self.ipv4.filter(|_| families.ipv4),
            ipv6: self.ipv6.filter(|_| families.ipv6),
        }
    }

    /// The families that have an address.
    pub fn families(&self) -> Families {
        Families {
            ipv4: self.ipv4.is_some(),
            ipv6: self.ipv6.is_some(),
        }
    }
}

impl fmt::Display for Addresses {
    /// `198.51.100.7, 2001:db8::7`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.ipv4, self.ipv6) {
            (Some(a), Some(b)) => write!(f, "{a}, {b}"),
            (Some(a), None) => write!(f, "{a}"),
            (None, Some(b)) => write!(f, "{b}"),
            (None, None) => f.write_str("none"),
        }
    }
}

/// How the core reacts to a failure (STYLE.md §3). Every provider and source error maps to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Not delivered, or 5xx: retry with backoff.
    Transient,
    /// The provider asked us to slow down: wait at least `retry_after` (backoff when `None`).
    RateLimited { retry_after: Option<Duration> },
    /// Sent, outcome unknown (e.g. timeout after sending): retry; updates are idempotent.
    Unconfirmed,
    /// Bad credentials, no such host, abuse: park the record until the operator acts.
    Rejected,
    /// A reply we cannot parse: retry with backoff, never counted as success.
    Protocol,
}

impl ErrorClass {
    /// The word used in logs, the state file and `status --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::RateLimited { .. } => "rate-limited",
            ErrorClass::Unconfirmed => "unconfirmed",
            ErrorClass::Rejected => "rejected",
            ErrorClass::Protocol => "protocol",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified failure as the core sees it: the class decides, the message is for the operator
/// (already redacted: no secret may be in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
}

/// The outcome of detecting one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detected<A> {
    /// A good address.
    Found(A),
    /// Could not detect (timeout, garbage, no qualifying address, quorum disagreement).
    /// This is **not** absence: the family keeps its published value (DESIGN.md).
    Failed(String),
    /// The family was not asked for.
    NotAsked,
}

/// One detection round of one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    pub ipv4: Detected<Ipv4Addr>,
    pub ipv6: Detected<Ipv6Addr>,
}

/// A record's name (its FQDN, unique in the config).
pub type RecordId = String;
/// A source's table name (`[sources.NAME]`).
pub type SourceId = String;
/// A provider's table name (`[providers.NAME]`).
pub type ProviderId = String;

/// What the core must know about a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSpec {
    pub name: RecordId,
    pub source: SourceId,
    pub provider: ProviderId,
    pub families: Families,
    /// Publish the detected IPv6 prefix with this interface id instead of the detected
    /// address itself (`ipv6-host-id`); applied to what is sent and compared, never to what
    /// the source detected.
    pub ipv6_host_id: Option<host_id::HostId>,
    /// Hash of everything in the config that shapes this record's update (record, provider and
    /// secrets). A change un-parks the record and resets its backoff (DESIGN.md "Parking").
    pub fingerprint: u64,
}

/// What the core must know about a provider: its abuse-guard cap (`max-requests-per-hour`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSpec {
    pub name: ProviderId,
    /// At most this many records sent per sliding hour (`abuse::RequestWindow`).
    pub max_requests_per_hour: u32,
}

/// Per provider, what survives a restart: the times of its recent requests, so a restart (or a
/// crash loop) does not reset the abuse guard. See: #9.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistedProvider {
    /// Times of the requests within the last hour, oldest first.
    pub requests: Vec<SystemTime>,
}

/// What the core must know about a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSpec {
    pub name: SourceId,
    /// The families to detect: the union over the records that use this source.
    pub families: Families,
}

/// The `[daemon]` timings the core applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub check_interval: Duration,
    pub settle: Duration,
    /// `None` = never republish unchanged addresses.
    pub refresh_interval: Option<Duration>,
    pub retry_min: Duration,
    pub retry_max: Duration,
}

/// Per record, what survives a restart (the state file's content, minus its envelope).
/// `published` only ever holds addresses a provider confirmed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistedRecord {
    pub published: Addresses,
    /// Time of the last confirmed publish; `None` = unknown.
    pub published_at: Option<SystemTime>,
    /// Failed attempts since the last success.
    pub attempts: u32,
    /// Earliest time of the next attempt (backoff / rate limit); `None` = no wait.
    pub next_attempt: Option<SystemTime>,
    /// Why the record is parked (`None` = not parked).
    pub parked: Option<String>,
    /// The last failure, for `status`.
    pub last_error: Option<Failure>,
    /// Fingerprint of the config the state above was earned with.
    pub fingerprint: u64,
    /// Provider-owned cache (e.g. Dynu domain id). The core keeps it and never reads it.
    pub provider_cache: BTreeMap<String, String>,
}

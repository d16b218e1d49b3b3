//! Address selection for the interface source: a verdict and a reason for every candidate.
//! Does not read interfaces; that is `source::interface`.
//! STUB: the core helper replaces this body.

use std::net::IpAddr;
use std::time::Duration;

use super::{Detection, Families};

/// Which IPv6 addresses an interface source may choose (`ipv6 = "stable"|"temporary"|"any"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ipv6Policy {
    /// Reject temporary (privacy) addresses.
    #[default]
    Stable,
    /// Prefer temporary addresses.
    Temporary,
    /// Take both.
    Any,
}

/// Kernel address flags (rtnetlink IFA_F_*). `None` in [`Candidate::flags`] = not known
/// (e.g. from getifaddrs, which has no flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddressFlags {
    pub temporary: bool,
    pub deprecated: bool,
    pub tentative: bool,
    pub dad_failed: bool,
    pub permanent: bool,
}

/// One address found on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub interface: String,
    pub address: IpAddr,
    pub prefix_len: u8,
    pub flags: Option<AddressFlags>,
    /// `None` = forever or unknown.
    pub preferred_lifetime: Option<Duration>,
    pub valid_lifetime: Option<Duration>,
}

/// The selection policy of one interface source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SelectPolicy {
    pub ipv6: Ipv6Policy,
    pub allow_private: bool,
}

/// What became of a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Published for its family.
    Chosen,
    /// Acceptable, but another candidate won.
    Accepted,
    /// Not publishable.
    Rejected,
}

/// A candidate with its verdict and the reason, for `dynipd detect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    pub candidate: Candidate,
    pub verdict: Verdict,
    pub reason: String,
}

/// Judges every candidate and picks at most one address per family in `families`.
/// A family with no acceptable candidate is `Detected::Failed` (never "absent").
pub fn select(
    candidates: &[Candidate],
    policy: SelectPolicy,
    families: Families,
) -> (Vec<Judged>, Detection) {
    let _ = (policy, families);
    let judged = candidates
        .iter()
        .map(|c| Judged {
            candidate: c.clone(),
            verdict: Verdict::Rejected,
            reason: "stub".into(),
        })
        .collect();
    (
        judged,
        Detection {
            ipv4: super::Detected::NotAsked,
            ipv6: super::Detected::NotAsked,
        },
    )
}

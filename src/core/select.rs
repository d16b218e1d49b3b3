//! Address selection for the interface source: a verdict and a reason for every candidate.
//! Does not read interfaces (that is `source::interface`) and does not define the scope rules
//! themselves (that is `core::scope`).
//!
//! See: DESIGN.md "Address selection (interface source)".

use std::cmp::Reverse;
use std::net::IpAddr;
use std::time::Duration;

use super::{Detected, Detection, Families, Family, scope};

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

impl Candidate {
    /// Known to be a temporary (RFC 8981 privacy) address. Unknown flags count as stable: without
    /// flags there is no way to tell, and rejecting every address would publish nothing.
    fn is_temporary(&self) -> bool {
        self.flags.is_some_and(|f| f.temporary)
    }
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
/// A family with no acceptable candidate is `Detected::Failed` (never "absent"); a family not in
/// `families` is `Detected::NotAsked`.
///
/// The failure message names the interface when every candidate came from one interface, else
/// "any interface"; use [`select_on`] when the configured interface is known.
pub fn select(
    candidates: &[Candidate],
    policy: SelectPolicy,
    families: Families,
) -> (Vec<Judged>, Detection) {
    let first = candidates.first().map(|c| c.interface.as_str());
    let one_interface = first.filter(|i| candidates.iter().all(|c| c.interface == *i));
    select_on(one_interface, candidates, policy, families)
}

/// [`select`] for a source configured with `interface` (`None` = all interfaces): the failure
/// message reads `no qualifying ipv6 address on eth0` or `… on any interface`.
///
/// The verdicts, in order of precedence:
/// 1. family not in `families` → rejected, "family not used by any record";
/// 2. scope (`core::scope::check`): loopback, link-local, multicast, unspecified,
///    documentation, and private unless `allow_private` → rejected with the scope's reason;
/// 3. known flags: tentative, DAD-failed, deprecated (or a preferred lifetime of zero) →
///    rejected;
/// 4. IPv6 policy: `Stable` rejects temporary addresses; `Temporary` keeps stable ones only as
///    "accepted" while a temporary one qualifies;
/// 5. among the rest per family, the longest preferred lifetime (`None` = forever) is chosen,
///    ties go to the lowest address; the others are "accepted" with the reason they lost.
///
/// Judged candidates keep the input order.
pub fn select_on(
    interface: Option<&str>,
    candidates: &[Candidate],
    policy: SelectPolicy,
    families: Families,
) -> (Vec<Judged>, Detection) {
    let mut judged: Vec<Judged> = candidates
        .iter()
        .map(|c| {
            let (verdict, reason) = match rejection(c, policy, families) {
                Some(why) => (Verdict::Rejected, why),
                None => (Verdict::Accepted, String::new()),
            };
            Judged {
                candidate: c.clone(),
                verdict,
                reason,
            }
        })
        .collect();

    let on = interface.unwrap_or("any interface");
    let ipv4 = if families.ipv4 {
        match rank_family(&mut judged, Family::Ipv4, policy) {
            Some(IpAddr::V4(a)) => Detected::Found(a),
            _ => Detected::Failed(format!("no qualifying ipv4 address on {on}")),
        }
    } else {
        Detected::NotAsked
    };
    let ipv6 = if families.ipv6 {
        match rank_family(&mut judged, Family::Ipv6, policy) {
            Some(IpAddr::V6(a)) => Detected::Found(a),
            _ => Detected::Failed(format!("no qualifying ipv6 address on {on}")),
        }
    } else {
        Detected::NotAsked
    };
    (judged, Detection { ipv4, ipv6 })
}

/// Why a candidate can never be chosen, or `None` when it is acceptable on its own.
fn rejection(c: &Candidate, policy: SelectPolicy, families: Families) -> Option<String> {
    let family = Family::of(&c.address);
    if !families.has(family) {
        return Some("family not used by any record".into());
    }
    if let Err(why) = scope::check(c.address, policy.allow_private) {
        return Some(why.into());
    }
    if let Some(flags) = c.flags {
        // RFC 4862 §5.4: a tentative address is not yet ours; a DAD failure means another host
        // holds it. §5.5.4: a deprecated address should not be used for new communication.
        if flags.dad_failed {
            return Some("duplicate address detection failed".into());
        }
        if flags.tentative {
            return Some("tentative (duplicate address detection not finished)".into());
        }
        if flags.deprecated {
            return Some("deprecated (preferred lifetime over)".into());
        }
    }
    if c.preferred_lifetime == Some(Duration::ZERO) {
        return Some("deprecated (preferred lifetime over)".into());
    }
    if family == Family::Ipv6 && policy.ipv6 == Ipv6Policy::Stable && c.is_temporary() {
        return Some("temporary address; ipv6 = \"stable\"".into());
    }
    None
}

/// Picks the winner among the acceptable candidates of `family`, writes every verdict and
/// reason, and returns the chosen address.
fn rank_family(judged: &mut [Judged], family: Family, policy: SelectPolicy) -> Option<IpAddr> {
    let mut pool: Vec<usize> = (0..judged.len())
        .filter(|&i| {
            judged[i].verdict == Verdict::Accepted
                && Family::of(&judged[i].candidate.address) == family
        })
        .collect();

    // RFC 8981 addresses are preferred for outgoing traffic; with ipv6 = "temporary" a stable
    // address is only a fallback.
    if family == Family::Ipv6 && policy.ipv6 == Ipv6Policy::Temporary {
        let has_temporary = pool.iter().any(|&i| judged[i].candidate.is_temporary());
        if has_temporary {
            pool.retain(|&i| {
                let keep = judged[i].candidate.is_temporary();
                if !keep {
                    judged[i].reason =
                        "stable address; ipv6 = \"temporary\" prefers a temporary one".into();
                }
                keep
            });
        }
    }

    // Longest preferred lifetime first (None = forever), then the lowest address.
    let key = |c: &Candidate| (Reverse(lifetime_rank(c.preferred_lifetime)), c.address);
    pool.sort_by_key(|&i| key(&judged[i].candidate));
    let (&winner, rest) = pool.split_first()?;
    let winning = judged[winner].candidate.clone();

    judged[winner].verdict = Verdict::Chosen;
    judged[winner].reason = match rest.first() {
        None => "the only qualifying address".into(),
        Some(&second) => {
            if lifetime_rank(judged[second].candidate.preferred_lifetime)
                < lifetime_rank(winning.preferred_lifetime)
            {
                "longest preferred lifetime".into()
            } else {
                "lowest address among equal preferred lifetimes".into()
            }
        }
    };
    for &i in rest {
        let c = &judged[i].candidate;
        judged[i].reason = if c.address == winning.address {
            "same address as the chosen one".into()
        } else if lifetime_rank(c.preferred_lifetime) < lifetime_rank(winning.preferred_lifetime) {
            "another address has a longer preferred lifetime".into()
        } else {
            "lower address wins the tie".into()
        };
    }
    Some(winning.address)
}

/// Orders lifetimes with `None` (forever) above every finite one.
fn lifetime_rank(lifetime: Option<Duration>) -> (bool, Duration) {
    match lifetime {
        None => (true, Duration::ZERO),
        Some(d) => (false, d),
    }
}

#[cfg(test)]
mod tests;

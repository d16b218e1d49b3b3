//! The interface source: the addresses on this host's own interfaces. Owns the
//! `interface = "..."` filter and the per-OS choice of lister (`source::netlink` on Linux,
//! `source::getifaddrs` elsewhere).
//! Does not judge or choose addresses; that is `core::select`. Does not watch for changes; that
//! is `source::netlink_events`, driven by the daemon.

use std::io;

use crate::config::InterfaceSourceConfig;
use crate::core::select::{self, AddressFlags, Candidate, Judged};
use crate::core::{Detected, Detection, Families, Family};

use super::Explanation;
use super::outcome::all_failed;

/// An interface source.
#[derive(Debug)]
pub struct InterfaceSource {
    name: String,
    config: InterfaceSourceConfig,
}

impl InterfaceSource {
    /// An interface source named `name`.
    pub fn new(name: &str, config: InterfaceSourceConfig) -> Self {
        InterfaceSource {
            name: name.to_string(),
            config,
        }
    }

    /// One detection round: lists the addresses, keeps the configured interface's, and lets
    /// `core::select` judge them. A family with no acceptable address is `Failed`.
    pub async fn explain(&self, families: Families) -> (Vec<Explanation>, Detection) {
        if !families.ipv4 && !families.ipv6 {
            return (Vec::new(), not_asked());
        }
        // The kernel answers a dump at once; no need for a blocking thread.
        match list_addresses() {
            Ok(candidates) => explain_candidates(&self.name, &self.config, candidates, families),
            Err(e) => (
                Vec::new(),
                all_failed(families, &format!("cannot list interface addresses: {e}")),
            ),
        }
    }
}

/// Every address on every interface, as selection candidates: with kernel flags and
/// lifetimes on Linux (rtnetlink), without them elsewhere (getifaddrs(3)).
///
/// Errors: the system could not list them; the detection fails (never "no addresses").
pub fn list_addresses() -> io::Result<Vec<Candidate>> {
    #[cfg(target_os = "linux")]
    return super::netlink::list_addresses();
    #[cfg(not(target_os = "linux"))]
    return super::getifaddrs::list_addresses();
}

/// Judges `candidates` (from any lister) for the source `source`: keeps those of the configured
/// interface, then runs `core::select`. A configured interface with no address at all fails
/// every requested family, naming the interface.
pub fn explain_candidates(
    source: &str,
    config: &InterfaceSourceConfig,
    mut candidates: Vec<Candidate>,
    families: Families,
) -> (Vec<Explanation>, Detection) {
    if let Some(wanted) = &config.interface {
        candidates.retain(|c| &c.interface == wanted);
        if candidates.is_empty() {
            // getifaddrs lists no interface without an IP address, so the two look alike.
            let message = format!("interface {wanted} not found or has no addresses");
            return (Vec::new(), all_failed(families, &message));
        }
    }
    let (judged, detection) = select::select_on(
        config.interface.as_deref(),
        &candidates,
        config.policy,
        families,
    );
    let explanations = judged
        .into_iter()
        .map(|j| to_explanation(source, j))
        .collect();
    (explanations, detection)
}

fn to_explanation(source: &str, judged: Judged) -> Explanation {
    let Judged {
        candidate,
        verdict,
        reason,
    } = judged;
    Explanation {
        source: source.to_string(),
        family: Some(Family::of(&candidate.address)),
        address: Some(candidate.address),
        interface: Some(candidate.interface),
        origin: None,
        flags: candidate.flags.map(flag_names).unwrap_or_default(),
        preferred_lifetime: candidate.preferred_lifetime,
        valid_lifetime: candidate.valid_lifetime,
        verdict,
        reason,
    }
}

/// The set flags as the words `dynipd detect` prints.
fn flag_names(flags: AddressFlags) -> Vec<String> {
    [
        (flags.temporary, "temporary"),
        (flags.deprecated, "deprecated"),
        (flags.tentative, "tentative"),
        (flags.dad_failed, "dad-failed"),
        (flags.permanent, "permanent"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name.to_string())
    .collect()
}

fn not_asked() -> Detection {
    Detection {
        ipv4: Detected::NotAsked,
        ipv6: Detected::NotAsked,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use super::*;
    use crate::core::select::{SelectPolicy, Verdict};

    fn config(interface: Option<&str>) -> InterfaceSourceConfig {
        InterfaceSourceConfig {
            interface: interface.map(str::to_string),
            policy: SelectPolicy::default(),
        }
    }

    fn candidate(interface: &str, address: &str, prefix_len: u8) -> Candidate {
        Candidate {
            interface: interface.into(),
            address: address.parse().unwrap(),
            prefix_len,
            flags: None,
            preferred_lifetime: None,
            valid_lifetime: None,
        }
    }

    #[test]
    fn lists_loopback_with_its_prefix() {
        let all = list_addresses().unwrap();
        let lo = all
            .iter()
            .find(|c| c.address == IpAddr::from([127, 0, 0, 1]))
            .expect("127.0.0.1 on some interface");
        assert_eq!(lo.prefix_len, 8);
        // Flags are known exactly where the lister can read them.
        assert_eq!(lo.flags.is_some(), cfg!(target_os = "linux"));
    }

    #[tokio::test]
    async fn a_missing_interface_fails_every_requested_family() {
        let source = InterfaceSource::new("lan", config(Some("nonexistent0")));
        let (explanations, d) = source.explain(Families::BOTH).await;
        assert!(explanations.is_empty());
        let want = "interface nonexistent0 not found or has no addresses";
        assert_eq!(d.ipv4, Detected::Failed(want.into()));
        assert_eq!(d.ipv6, Detected::Failed(want.into()));
        let (_, d) = source.explain(Families::IPV6).await;
        assert_eq!(d.ipv4, Detected::NotAsked);
    }

    #[test]
    fn only_the_configured_interface_is_judged() {
        let candidates = vec![
            candidate("eth0", "81.2.69.160", 24),
            candidate("eth1", "81.2.69.161", 24),
            candidate("eth1", "2a02:898:1::7", 64),
        ];
        let (explanations, _) =
            explain_candidates("lan", &config(Some("eth1")), candidates, Families::BOTH);
        assert_eq!(explanations.len(), 2, "{explanations:?}");
        for e in &explanations {
            assert_eq!(e.interface.as_deref(), Some("eth1"));
            assert_eq!(e.source, "lan");
            assert_eq!(e.origin, None);
            assert!(e.flags.is_empty());
        }
        assert_eq!(explanations[1].family, Some(Family::Ipv6));
    }

    #[test]
    fn flags_and_lifetimes_are_shown() {
        let mut c = candidate("eth0", "2a02:898:1::7", 64);
        c.flags = Some(AddressFlags {
            temporary: true,
            dad_failed: true,
            ..AddressFlags::default()
        });
        c.preferred_lifetime = Some(Duration::from_secs(600));
        let e = to_explanation(
            "lan",
            Judged {
                candidate: c,
                verdict: Verdict::Rejected,
                reason: "r".into(),
            },
        );
        assert_eq!(e.flags, ["temporary", "dad-failed"]);
        assert_eq!(e.preferred_lifetime, Some(Duration::from_secs(600)));
        assert_eq!(e.valid_lifetime, None);
    }

    /// Depends on the real `core::select::select` (the stub judges nothing).
    #[test]
    fn select_picks_public_addresses() {
        let candidates = vec![
            candidate("eth0", "10.0.0.2", 8),
            candidate("eth0", "81.2.69.160", 24),
            candidate("eth0", "fe80::1", 64),
            candidate("eth0", "2a02:898:1::7", 64),
        ];
        let (explanations, d) =
            explain_candidates("lan", &config(Some("eth0")), candidates, Families::BOTH);
        assert_eq!(d.ipv4, Detected::Found("81.2.69.160".parse().unwrap()));
        assert_eq!(d.ipv6, Detected::Found("2a02:898:1::7".parse().unwrap()));
        let verdict = |a: &str| {
            let a: IpAddr = a.parse().unwrap();
            explanations
                .iter()
                .find(|e| e.address == Some(a))
                .unwrap()
                .verdict
        };
        assert_eq!(verdict("10.0.0.2"), Verdict::Rejected);
        assert_eq!(verdict("81.2.69.160"), Verdict::Chosen);
        assert_eq!(verdict("fe80::1"), Verdict::Rejected);
        assert_eq!(verdict("2a02:898:1::7"), Verdict::Chosen);
    }

    /// Depends on the real `core::select::select` (the stub returns `NotAsked`).
    #[tokio::test]
    async fn loopback_alone_is_not_detected() {
        let source = InterfaceSource::new("lan", config(Some("lo")));
        let (explanations, d) = source.explain(Families::IPV4).await;
        assert!(matches!(d.ipv4, Detected::Failed(_)), "{d:?}");
        assert_eq!(d.ipv6, Detected::NotAsked);
        assert!(
            explanations.iter().all(|e| e.verdict == Verdict::Rejected),
            "{explanations:?}"
        );
    }
}

// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.
use super::*;

/// A candidate: `flags` is a list of words ("temporary", "deprecated", "tentative",
/// "dad-failed", "permanent") or `None` for unknown flags; `pref` in seconds, `None` = forever.
fn cand(iface: &str, addr: &str, flags: Option<&[&str]>, pref: Option<u64>) -> Candidate {
    let flags = flags.map(|words| {
        let mut f = AddressFlags::default();
        for w in words {
            match *w {
                "temporary" => f.temporary = true,
                "deprecated" => f.deprecated = true,
                "tentative" => f.tentative = true,
                "dad-failed" => f.dad_failed = true,
                "permanent" => f.permanent = true,
                other => panic!("unknown flag {other}"),
            }
        }
        f
    });
    Candidate {
        interface: iface.into(),
        address: addr.parse().unwrap(),
        prefix_len: if addr.contains(':') { 64 } else { 24 },
        flags,
        preferred_lifetime: pref.map(Duration::from_secs),
        valid_lifetime: None,
    }
}

const NONE: Option<&[&str]> = Some(&[]);
const TEMP: Option<&[&str]> = Some(&["temporary"]);

struct Case {
    name: &'static str,
    candidates: Vec<Candidate>,
    policy: SelectPolicy,
    families: Families,
    /// (verdict, reason) per candidate, in order.
    verdicts: &'static [(Verdict, &'static str)],
    ipv4: Detected<&'static str>,
    ipv6: Detected<&'static str>,
}

fn policy(ipv6: Ipv6Policy, allow_private: bool) -> SelectPolicy {
    SelectPolicy {
        ipv6,
        allow_private,
    }
}

use Detected::{Failed, Found, NotAsked};
use Verdict::{Accepted, Chosen, Rejected};

fn failed(s: &'static str) -> Detected<&'static str> {
    Failed(s.to_string())
}

#[test]
fn select_table() {
    let stable = policy(Ipv6Policy::Stable, false);
    let cases = vec![
        Case {
            name: "one public address per family",
            candidates: vec![
                cand("eth0", "81.2.69.160", NONE, None),
                cand("eth0", "2a02:898:1::7", NONE, None),
            ],
            policy: stable,
            families: Families::BOTH,
            verdicts: &[
                (Chosen, "the only qualifying address"),
                (Chosen, "the only qualifying address"),
            ],
            ipv4: Found("81.2.69.160"),
            ipv6: Found("2a02:898:1::7"),
        },
        Case {
            name: "never-publishable scopes are rejected even with allow-private",
            candidates: vec![
                cand("lo", "127.0.0.1", NONE, None),
                cand("lo", "::1", NONE, None),
                cand("eth0", "fe80::1", NONE, None),
                cand("eth0", "169.254.3.4", NONE, None),
                cand("eth0", "192.0.2.7", NONE, None),
                cand("eth0", "2001:db8::7", NONE, None),
                cand("eth0", "0.0.0.0", NONE, None),
                cand("eth0", "ff02::1", NONE, None),
            ],
            policy: policy(Ipv6Policy::Any, true),
            families: Families::BOTH,
            verdicts: &[
                (Rejected, "loopback address"),
                (Rejected, "loopback address"),
                (Rejected, "link-local address"),
                (Rejected, "link-local address"),
                (Rejected, "documentation range"),
                (Rejected, "documentation range"),
                (Rejected, "unspecified address"),
                (Rejected, "multicast address"),
            ],
            ipv4: failed("no qualifying ipv4 address on any interface"),
            ipv6: failed("no qualifying ipv6 address on any interface"),
        },
        Case {
            name: "private rejected unless allow-private",
            candidates: vec![
                cand("eth0", "192.168.1.10", NONE, None),
                cand("eth0", "100.64.0.9", NONE, None),
                cand("eth0", "fd00::9", NONE, None),
            ],
            policy: stable,
            families: Families::BOTH,
            verdicts: &[
                (
                    Rejected,
                    "private address (RFC 1918); set allow-private to publish it",
                ),
                (
                    Rejected,
                    "shared address space (CGNAT, RFC 6598); set allow-private to publish it",
                ),
                (
                    Rejected,
                    "unique local address (ULA, fc00::/7); set allow-private to publish it",
                ),
            ],
            ipv4: failed("no qualifying ipv4 address on eth0"),
            ipv6: failed("no qualifying ipv6 address on eth0"),
        },
        Case {
            name: "private allowed: lowest address wins the tie",
            candidates: vec![
                cand("eth0", "192.168.1.10", NONE, None),
                cand("eth0", "10.0.0.5", NONE, None),
                cand("eth0", "fd00::9", NONE, None),
            ],
            policy: policy(Ipv6Policy::Stable, true),
            families: Families::BOTH,
            verdicts: &[
                (Accepted, "lower address wins the tie"),
                (Chosen, "lowest address among equal preferred lifetimes"),
                (Chosen, "the only qualifying address"),
            ],
            ipv4: Found("10.0.0.5"),
            ipv6: Found("fd00::9"),
        },
        Case {
            name: "kernel flags reject tentative, dad-failed, deprecated",
            candidates: vec![
                cand("eth0", "2a02:898:1::1", Some(&["tentative"]), None),
                cand(
                    "eth0",
                    "2a02:898:1::2",
                    Some(&["dad-failed", "tentative"]),
                    None,
                ),
                cand("eth0", "2a02:898:1::3", Some(&["deprecated"]), Some(0)),
                cand("eth0", "2a02:898:1::4", NONE, Some(0)),
                cand("eth0", "2a02:898:1::5", Some(&["permanent"]), None),
            ],
            policy: stable,
            families: Families::IPV6,
            verdicts: &[
                (
                    Rejected,
                    "tentative (duplicate address detection not finished)",
                ),
                (Rejected, "duplicate address detection failed"),
                (Rejected, "deprecated (preferred lifetime over)"),
                (Rejected, "deprecated (preferred lifetime over)"),
                (Chosen, "the only qualifying address"),
            ],
            ipv4: NotAsked,
            ipv6: Found("2a02:898:1::5"),
        },
        Case {
            name: "stable rejects temporary",
            candidates: vec![
                cand("eth0", "2a02:898:1::1", TEMP, Some(3600)),
                cand("eth0", "2a02:898:1::9", NONE, Some(600)),
            ],
            policy: stable,
            families: Families::IPV6,
            verdicts: &[
                (Rejected, "temporary address; ipv6 = \"stable\""),
                (Chosen, "the only qualifying address"),
            ],
            ipv4: NotAsked,
            ipv6: Found("2a02:898:1::9"),
        },
        Case {
            name: "stable with only temporary fails",
            candidates: vec![cand("wlan0", "2a02:898:1::1", TEMP, Some(3600))],
            policy: stable,
            families: Families::IPV6,
            verdicts: &[(Rejected, "temporary address; ipv6 = \"stable\"")],
            ipv4: NotAsked,
            ipv6: failed("no qualifying ipv6 address on wlan0"),
        },
        Case {
            name: "temporary prefers temporary even with a shorter lifetime",
            candidates: vec![
                cand("eth0", "2a02:898:1::9", NONE, None),
                cand("eth0", "2a02:898:1::a", TEMP, Some(600)),
                cand("eth0", "2a02:898:1::b", TEMP, Some(3600)),
            ],
            policy: policy(Ipv6Policy::Temporary, false),
            families: Families::IPV6,
            verdicts: &[
                (
                    Accepted,
                    "stable address; ipv6 = \"temporary\" prefers a temporary one",
                ),
                (Accepted, "another address has a longer preferred lifetime"),
                (Chosen, "longest preferred lifetime"),
            ],
            ipv4: NotAsked,
            ipv6: Found("2a02:898:1::b"),
        },
        Case {
            name: "temporary falls back to stable",
            candidates: vec![
                cand("eth0", "2a02:898:1::9", NONE, None),
                cand(
                    "eth0",
                    "2a02:898:1::a",
                    Some(&["temporary", "deprecated"]),
                    Some(0),
                ),
            ],
            policy: policy(Ipv6Policy::Temporary, false),
            families: Families::IPV6,
            verdicts: &[
                (Chosen, "the only qualifying address"),
                (Rejected, "deprecated (preferred lifetime over)"),
            ],
            ipv4: NotAsked,
            ipv6: Found("2a02:898:1::9"),
        },
        Case {
            name: "any: forever beats a finite lifetime",
            candidates: vec![
                cand("eth0", "2a02:898:1::a", TEMP, Some(86_400)),
                cand("eth0", "2a02:898:1::f", NONE, None),
            ],
            policy: policy(Ipv6Policy::Any, false),
            families: Families::IPV6,
            verdicts: &[
                (Accepted, "another address has a longer preferred lifetime"),
                (Chosen, "longest preferred lifetime"),
            ],
            ipv4: NotAsked,
            ipv6: Found("2a02:898:1::f"),
        },
        Case {
            name: "unknown flags: accepted, temporary-ness unknown",
            candidates: vec![
                cand("eth0", "81.2.69.161", None, None),
                cand("eth0", "81.2.69.160", None, None),
                cand("eth1", "81.2.69.160", None, None),
            ],
            policy: stable,
            families: Families::IPV4,
            verdicts: &[
                (Accepted, "lower address wins the tie"),
                (Chosen, "lowest address among equal preferred lifetimes"),
                (Accepted, "same address as the chosen one"),
            ],
            ipv4: Found("81.2.69.160"),
            ipv6: NotAsked,
        },
        Case {
            name: "family not used by any record",
            candidates: vec![
                cand("eth0", "81.2.69.160", NONE, None),
                cand("eth0", "2a02:898:1::7", NONE, None),
            ],
            policy: stable,
            families: Families::IPV4,
            verdicts: &[
                (Chosen, "the only qualifying address"),
                (Rejected, "family not used by any record"),
            ],
            ipv4: Found("81.2.69.160"),
            ipv6: NotAsked,
        },
        Case {
            name: "no candidates at all",
            candidates: vec![],
            policy: stable,
            families: Families::BOTH,
            verdicts: &[],
            ipv4: failed("no qualifying ipv4 address on any interface"),
            ipv6: failed("no qualifying ipv6 address on any interface"),
        },
    ];

    for case in cases {
        let (judged, detection) = select(&case.candidates, case.policy, case.families);
        let got: Vec<(Verdict, &str)> = judged
            .iter()
            .map(|j| (j.verdict, j.reason.as_str()))
            .collect();
        assert_eq!(got, case.verdicts, "{}", case.name);
        for (j, c) in judged.iter().zip(&case.candidates) {
            assert_eq!(&j.candidate, c, "{}: order kept", case.name);
        }
        let want = Detection {
            ipv4: match case.ipv4 {
                Found(a) => Found(a.parse().unwrap()),
                Failed(m) => Failed(m),
                NotAsked => NotAsked,
            },
            ipv6: match case.ipv6 {
                Found(a) => Found(a.parse().unwrap()),
                Failed(m) => Failed(m),
                NotAsked => NotAsked,
            },
        };
        assert_eq!(detection, want, "{}", case.name);
        for family in [Family::Ipv4, Family::Ipv6] {
            let chosen = judged
                .iter()
                .filter(|j| j.verdict == Chosen && Family::of(&j.candidate.address) == family)
                .count();
            let expect = usize::from(case.families.has(family) && chosen > 0);
            assert_eq!(chosen, expect, "{}: one chosen per {family}", case.name);
        }
    }
}

#[test]
fn select_on_names_the_configured_interface() {
    let (_, d) = select_on(Some("eth0"), &[], SelectPolicy::default(), Families::IPV6);
    assert_eq!(
        d.ipv6,
        Failed("no qualifying ipv6 address on eth0".to_string())
    );
    assert_eq!(d.ipv4, NotAsked);
}

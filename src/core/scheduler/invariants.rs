//! Property-style test without a proptest dependency: random event scripts from a seeded PRNG,
//! acting like a plausible shell, and invariants checked after every `handle` call.
// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::core::{
    Confirmed, Detected, Detection, ErrorClass, Failure, Families, PublishReason, SourceId,
};

/// xorshift64*: the script generator (the scheduler has its own SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

fn timing() -> Timing {
    Timing {
        check_interval: Duration::from_secs(300),
        settle: Duration::from_secs(2),
        refresh_interval: Some(Duration::from_secs(2000)),
        retry_min: Duration::from_secs(30),
        retry_max: Duration::from_secs(600),
    }
}

fn sources() -> Vec<SourceSpec> {
    vec![
        SourceSpec {
            name: "lan".into(),
            families: Families::BOTH,
        },
        SourceSpec {
            name: "web".into(),
            families: Families::IPV4,
        },
    ]
}

fn records() -> Vec<RecordSpec> {
    let rec = |name: &str, provider: &str, source: &str, families| RecordSpec {
        name: name.into(),
        source: source.into(),
        provider: provider.into(),
        families,
        ipv6_host_id: None,
        fingerprint: 1,
    };
    vec![
        rec("home", "bind", "lan", Families::BOTH),
        rec("www", "duck", "web", Families::IPV4),
        rec("v6", "bind", "lan", Families::IPV6),
        rec("mail", "bind", "web", Families::IPV4),
    ]
}

/// A plausible shell around one scheduler, checking invariants as it goes.
struct Harness {
    seed: u64,
    rng: Rng,
    s: Scheduler,
    now: SystemTime,
    detecting: BTreeSet<SourceId>,
    /// Record → what was sent.
    publishing: BTreeMap<RecordId, Addresses>,
    /// Record → time of its last retryable failure, while no operator request intervened.
    failed_at: BTreeMap<RecordId, SystemTime>,
    specs: Vec<RecordSpec>,
    /// How often each kind of thing happened, to prove the scripts reach the interesting paths.
    seen: BTreeMap<&'static str, usize>,
}

fn detected_v4(rng: &mut Rng) -> Detected<Ipv4Addr> {
    match rng.below(10) {
        0 => Detected::Failed("timeout".into()),
        1 => Detected::Failed(format!("garbage {}", rng.below(2))),
        n => Detected::Found(Ipv4Addr::new(81, 2, 69, 160 + u8::try_from(n % 3).unwrap())),
    }
}

fn detected_v6(rng: &mut Rng) -> Detected<Ipv6Addr> {
    match rng.below(10) {
        0 | 1 => Detected::Failed("no qualifying ipv6 address on eth0".into()),
        n => Detected::Found(Ipv6Addr::new(
            0x2a02,
            0x898,
            1,
            0,
            0,
            0,
            0,
            1 + (n % 2) as u16,
        )),
    }
}

impl Harness {
    fn new(seed: u64) -> Harness {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Harness {
            seed,
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            s: Scheduler::new(timing(), sources(), records(), BTreeMap::new(), now, seed),
            now,
            detecting: BTreeSet::new(),
            publishing: BTreeMap::new(),
            failed_at: BTreeMap::new(),
            specs: records(),
            seen: BTreeMap::new(),
        }
    }

    fn random_event(&mut self) -> Event {
        let rng = &mut self.rng;
        loop {
            match rng.below(100) {
                0..=29 => {
                    if let Some(source) = self.detecting.iter().next().cloned() {
                        return Event::Detected {
                            detection: Detection {
                                ipv4: detected_v4(rng),
                                ipv6: if source == "lan" {
                                    detected_v6(rng)
                                } else {
                                    Detected::NotAsked
                                },
                            },
                            source,
                        };
                    }
                }
                30..=59 => {
                    let names: Vec<RecordId> = self.publishing.keys().cloned().collect();
                    if names.is_empty() {
                        continue;
                    }
                    let record = rng.pick(&names).clone();
                    let sent = self.publishing[&record];
                    let result = match rng.below(10) {
                        0..=3 => Ok(Confirmed {
                            addresses: sent,
                            provider_cache: BTreeMap::new(),
                        }),
                        // a provider that confirms less than it was sent
                        4 => Ok(Confirmed {
                            addresses: Addresses { ipv6: None, ..sent },
                            provider_cache: BTreeMap::new(),
                        }),
                        n => {
                            let class = match n {
                                5 => ErrorClass::Transient,
                                6 => ErrorClass::Unconfirmed,
                                7 => ErrorClass::Protocol,
                                8 => ErrorClass::RateLimited {
                                    retry_after: rng
                                        .chance(50)
                                        .then(|| Duration::from_secs(rng.below(3000))),
                                },
                                _ => {
                                    if rng.chance(30) {
                                        ErrorClass::Rejected
                                    } else {
                                        ErrorClass::Transient
                                    }
                                }
                            };
                            Err(Failure {
                                class,
                                message: format!("error {}", rng.below(3)),
                            })
                        }
                    };
                    return Event::Published { record, result };
                }
                60..=79 => return Event::Tick,
                80..=89 => {
                    return Event::InterfaceChanged {
                        source: rng.pick(&["lan", "web"]).to_string(),
                    };
                }
                90..=92 => return Event::ForceRefresh,
                93..=95 => {
                    return Event::Retry {
                        record: rng
                            .chance(50)
                            .then(|| rng.pick(&["home", "www", "v6", "mail"]).to_string()),
                    };
                }
                _ => return Event::Start,
            }
        }
    }

    fn advance_clock(&mut self) {
        let step = match self.rng.below(20) {
            // sometimes exactly at the requested wake-up
            0..=7 => self
                .s
                .next_wake()
                .and_then(|t| t.duration_since(self.now).ok())
                .unwrap_or(Duration::ZERO),
            8..=15 => Duration::from_secs(self.rng.below(40)),
            16..=18 => Duration::from_secs(self.rng.below(3000)),
            _ => Duration::ZERO,
        };
        self.now += step;
        if self.rng.chance(1) {
            // the wall clock steps back (a Pi without RTC)
            self.now -= Duration::from_secs(self.rng.below(100_000));
            *self.seen.entry("clock stepped back").or_default() += 1;
            for t in self.failed_at.values_mut() {
                *t = (*t).min(self.now);
            }
        }
    }

    fn restart(&mut self) {
        let restored = self.s.snapshot();
        self.s = Scheduler::new(
            timing(),
            sources(),
            records(),
            restored,
            self.now,
            self.rng.next(),
        );
        // The old shell's in-flight work is abandoned with it.
        self.detecting.clear();
        self.publishing.clear();
    }

    fn step(&mut self, i: usize) {
        self.advance_clock();
        if self.rng.chance(1) {
            self.restart();
        }
        let event = self.random_event();
        let ctx = format!("seed {} step {i} {event:?}", self.seed);
        let before = self.s.snapshot();
        let actions = self.s.handle(self.now, event.clone());
        let after = self.s.snapshot();

        match &event {
            Event::ForceRefresh | Event::Retry { record: None } => self.failed_at.clear(),
            Event::Retry { record: Some(r) } => {
                self.failed_at.remove(r);
            }
            Event::Detected { source, .. } => {
                self.detecting.remove(source);
            }
            Event::Published { record, result } => {
                self.publishing.remove(record);
                match result {
                    Err(f) if f.class != ErrorClass::Rejected => {
                        self.failed_at.insert(record.clone(), self.now);
                    }
                    _ => {
                        self.failed_at.remove(record);
                    }
                }
            }
            _ => {}
        }

        // Published only changes on a confirmation of that record.
        for (name, b) in &before {
            let a = &after[name];
            if a.published != b.published {
                let confirmed = matches!(&event,
                    Event::Published { record, result: Ok(_) } if record == name);
                assert!(confirmed, "{ctx}: {name} published changed without Ok");
            }
        }

        let wakes = actions
            .iter()
            .filter(|a| matches!(a, Action::WakeAt(_)))
            .count();
        assert!(wakes <= 1, "{ctx}: {wakes} WakeAt");
        if let Some(Action::WakeAt(t)) = actions.iter().find(|a| matches!(a, Action::WakeAt(_))) {
            assert!(
                matches!(actions.last(), Some(Action::WakeAt(_))),
                "{ctx}: WakeAt last"
            );
            assert!(*t > self.now, "{ctx}: WakeAt in the past: {actions:?}");
        }
        let saves = actions
            .iter()
            .filter(|a| matches!(a, Action::SaveState))
            .count();
        assert!(saves <= 1, "{ctx}: {saves} SaveState");

        for action in &actions {
            match action {
                Action::Detect { source } => {
                    assert!(
                        self.detecting.insert(source.clone()),
                        "{ctx}: {source} detected twice at once"
                    );
                }
                Action::Publish { provider, items } => {
                    assert!(!items.is_empty(), "{ctx}: empty Publish");
                    for item in items {
                        let spec = self.specs.iter().find(|r| r.name == item.record).unwrap();
                        assert_eq!(&spec.provider, provider, "{ctx}");
                        assert!(!item.addresses.is_empty(), "{ctx}: empty payload");
                        assert_eq!(
                            item.addresses.restricted_to(spec.families),
                            item.addresses,
                            "{ctx}: family not carried"
                        );
                        assert!(
                            after[&item.record].parked.is_none(),
                            "{ctx}: parked record published"
                        );
                        if let Some(failed) = self.failed_at.get(&item.record) {
                            assert!(
                                self.now >= *failed + timing().retry_min,
                                "{ctx}: {} published within retry-min of a failure",
                                item.record
                            );
                        }
                        if item.reason == PublishReason::Refresh {
                            assert_eq!(
                                Some(item.addresses),
                                Some(after[&item.record].published),
                                "{ctx}: a refresh republishes what is published"
                            );
                        }
                        let reason = match item.reason {
                            PublishReason::Changed => "publish: changed",
                            PublishReason::Refresh => "publish: refresh",
                            PublishReason::Forced => "publish: forced",
                        };
                        *self.seen.entry(reason).or_default() += 1;
                        let fresh = self.publishing.insert(item.record.clone(), item.addresses);
                        assert!(
                            fresh.is_none(),
                            "{ctx}: {} published twice at once",
                            item.record
                        );
                    }
                }
                Action::Report(r) => {
                    let kind = match r {
                        Report::AddressChanged { .. } => "address changed",
                        Report::DetectionFailed { .. } => "detection failed",
                        Report::Published {
                            recovered: Some(_), ..
                        } => "recovered",
                        Report::Published { .. } => "published",
                        Report::RetryScheduled { .. } => "retry scheduled",
                        Report::Parked { .. } => "parked",
                        Report::Unparked { .. } => "unparked",
                        Report::RequestCapReached { .. } => "request cap reached",
                    };
                    *self.seen.entry(kind).or_default() += 1;
                }
                Action::SaveState | Action::WakeAt(_) => {}
            }
        }

        if self.s.is_idle() {
            assert!(
                self.detecting.is_empty() && self.publishing.is_empty(),
                "{ctx}: idle with work in flight"
            );
        }
    }
}

#[test]
fn random_scripts_keep_invariants() {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in 1..=150 {
        let mut h = Harness::new(seed);
        for i in 0..400 {
            h.step(i);
        }
        for (kind, n) in h.seen {
            *seen.entry(kind).or_default() += n;
        }
    }
    for kind in [
        "address changed",
        "detection failed",
        "published",
        "recovered",
        "retry scheduled",
        "parked",
        "unparked",
        "publish: changed",
        "publish: refresh",
        "publish: forced",
        "clock stepped back",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 10,
            "{kind} too rare: {seen:?}"
        );
    }
}

//! Property tests (proptest, #9): random scripts of events, shrunk to a minimal failing one,
//! against the invariants that make dynipd "never a nuisance, never wrong":
//!
//! - a `Publish` is never empty, and no item carries an empty or uncarried address set;
//! - a record is never published while its previous publish is in flight;
//! - after a failed attempt, the record's next request comes no sooner than `retry-min`
//!   (a *new* address after a confirmed publish goes out at once, by design: DESIGN.md "react
//!   in under a second"; the abuse guard bounds that case);
//! - no provider gets more than its `max-requests-per-hour` in any hour, across restarts;
//! - `WakeAt` is always in the future.
//!
//! `invariants.rs` runs a longer seeded random walk (clock steps back, more event kinds).
// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;
use crate::core::{
    Confirmed, Detected, Detection, ErrorClass, Failure, Families, PersistedProvider, ProviderSpec,
};

const CAP: u32 = 3;
const WINDOW: Duration = Duration::from_secs(3600);

fn timing() -> Timing {
    Timing {
        check_interval: Duration::from_secs(300),
        settle: Duration::from_secs(2),
        refresh_interval: Some(Duration::from_secs(7200)),
        retry_min: Duration::from_secs(30),
        retry_max: Duration::from_secs(600),
    }
}

fn records() -> Vec<RecordSpec> {
    let rec = |name: &str, provider: &str, families| RecordSpec {
        name: name.into(),
        source: "lan".into(),
        provider: provider.into(),
        families,
        fingerprint: 1,
        ipv6_host_id: None,
    };
    vec![
        rec("a", "bind", Families::BOTH),
        rec("b", "bind", Families::IPV4),
        rec("c", "duck", Families::IPV6),
        rec("d", "bind", Families::IPV6),
    ]
}

fn scheduler(
    restored: BTreeMap<RecordId, PersistedRecord>,
    providers: &BTreeMap<ProviderId, PersistedProvider>,
    now: SystemTime,
    seed: u64,
) -> Scheduler {
    let sources = vec![SourceSpec {
        name: "lan".into(),
        families: Families::BOTH,
    }];
    let caps = vec![ProviderSpec {
        name: "bind".into(),
        max_requests_per_hour: CAP,
    }];
    Scheduler::new(timing(), sources, records(), restored, now, seed)
        .with_providers(caps, providers, now)
}

/// One step of a script.
#[derive(Clone, Debug)]
enum Op {
    /// The clock moves forward this many seconds.
    Advance(u16),
    /// A detection result: per family `None` = failed, `Some(n)` = the n-th address.
    Detected(Option<u8>, Option<u8>),
    /// The k-th in-flight publish (modulo their number) completes: `None` = confirmed as sent,
    /// `Some(class)` = failed.
    Complete(u8, Option<u8>),
    Tick,
    Force,
    Retry,
    InterfaceChanged,
    /// The daemon restarts from its snapshot; in-flight work is lost.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u16..4000).prop_map(Op::Advance),
        4 => (proptest::option::weighted(0.8, 0u8..3), proptest::option::weighted(0.8, 0u8..2))
            .prop_map(|(a, b)| Op::Detected(a, b)),
        5 => (any::<u8>(), proptest::option::weighted(0.5, 0u8..5))
            .prop_map(|(k, c)| Op::Complete(k, c)),
        2 => Just(Op::Tick),
        1 => Just(Op::Force),
        1 => Just(Op::Retry),
        1 => Just(Op::InterfaceChanged),
        1 => Just(Op::Restart),
    ]
}

fn class(n: u8) -> ErrorClass {
    match n {
        0 => ErrorClass::Transient,
        1 => ErrorClass::Unconfirmed,
        2 => ErrorClass::Protocol,
        3 => ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(90)),
        },
        _ => ErrorClass::Rejected,
    }
}

/// The shell's side, and what the properties need to remember.
struct World {
    s: Scheduler,
    now: SystemTime,
    in_flight: Vec<(RecordId, Addresses)>,
    /// Record → time of its last failed (not rejected) attempt, until an operator clears it.
    failed_at: BTreeMap<RecordId, SystemTime>,
    /// Provider → times of every request sent, across restarts.
    sent: BTreeMap<ProviderId, VecDeque<SystemTime>>,
    publishes: usize,
}

impl World {
    fn apply(&mut self, op: &Op, seed: u64) -> Result<(), TestCaseError> {
        let event = match op {
            Op::Advance(s) => {
                self.now += Duration::from_secs(u64::from(*s));
                return Ok(());
            }
            Op::Restart => {
                let providers = self.s.provider_snapshot();
                self.s = scheduler(self.s.snapshot(), &providers, self.now, seed);
                self.in_flight.clear();
                return Ok(());
            }
            Op::Detected(v4, v6) => Event::Detected {
                source: "lan".into(),
                detection: Detection {
                    ipv4: match v4 {
                        Some(n) => Detected::Found(Ipv4Addr::new(81, 2, 69, 160 + n)),
                        None => Detected::Failed("timeout".into()),
                    },
                    ipv6: match v6 {
                        Some(n) => Detected::Found(Ipv6Addr::new(
                            0x2a02,
                            0x898,
                            1,
                            0,
                            0,
                            0,
                            0,
                            7 + u16::from(*n),
                        )),
                        None => Detected::Failed("no address".into()),
                    },
                },
            },
            Op::Complete(k, outcome) => {
                if self.in_flight.is_empty() {
                    return Ok(());
                }
                let (record, sent) = self
                    .in_flight
                    .remove(usize::from(*k) % self.in_flight.len());
                let result = match outcome {
                    None => {
                        self.failed_at.remove(&record);
                        Ok(Confirmed {
                            addresses: sent,
                            provider_cache: BTreeMap::new(),
                        })
                    }
                    Some(n) => {
                        let class = class(*n);
                        if class == ErrorClass::Rejected {
                            self.failed_at.remove(&record);
                        } else {
                            self.failed_at.insert(record.clone(), self.now);
                        }
                        Err(Failure {
                            class,
                            message: "failed".into(),
                        })
                    }
                };
                Event::Published { record, result }
            }
            Op::Tick => Event::Tick,
            Op::Force => {
                self.failed_at.clear();
                Event::ForceRefresh
            }
            Op::Retry => {
                self.failed_at.clear();
                Event::Retry { record: None }
            }
            Op::InterfaceChanged => Event::InterfaceChanged {
                source: "lan".into(),
            },
        };
        let actions = self.s.handle(self.now, event);
        self.check(&actions)
    }

    fn check(&mut self, actions: &[Action]) -> Result<(), TestCaseError> {
        let specs = records();
        for action in actions {
            match action {
                Action::Publish { provider, items } => {
                    prop_assert!(!items.is_empty(), "empty Publish");
                    for item in items {
                        let spec = specs.iter().find(|r| r.name == item.record).unwrap();
                        prop_assert_eq!(&spec.provider, provider);
                        prop_assert!(!item.addresses.is_empty(), "empty payload {:?}", item);
                        prop_assert_eq!(
                            item.addresses.restricted_to(spec.families),
                            item.addresses,
                            "uncarried family"
                        );
                        prop_assert!(
                            self.in_flight.iter().all(|(r, _)| *r != item.record),
                            "{} published while in flight",
                            item.record
                        );
                        if let Some(failed) = self.failed_at.get(&item.record) {
                            prop_assert!(
                                self.now >= *failed + timing().retry_min,
                                "{} sent {:?} after a failure, within retry-min",
                                item.record,
                                self.now.duration_since(*failed)
                            );
                        }
                        self.in_flight.push((item.record.clone(), item.addresses));
                        self.publishes += 1;
                    }
                    // One Publish is one round to the provider: the cap counts rounds.
                    let times = self.sent.entry(provider.clone()).or_default();
                    times.push_back(self.now);
                    while times.front().is_some_and(|t| *t + WINDOW <= self.now) {
                        times.pop_front();
                    }
                    let cap = if provider == "bind" { CAP } else { 60 };
                    prop_assert!(
                        times.len() <= cap as usize,
                        "{} rounds to {} within an hour",
                        times.len(),
                        provider
                    );
                }
                Action::WakeAt(t) => prop_assert!(*t > self.now, "WakeAt in the past"),
                _ => {}
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn scheduler_invariants_hold_for_any_script(
        seed in any::<u64>(),
        script in proptest::collection::vec(op(), 1..120),
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut world = World {
            s: scheduler(BTreeMap::new(), &BTreeMap::new(), now, seed),
            now,
            in_flight: Vec::new(),
            failed_at: BTreeMap::new(),
            sent: BTreeMap::new(),
            publishes: 0,
        };
        let first = world.s.handle(now, Event::Start);
        world.check(&first)?;
        for op in &script {
            world.apply(op, seed)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Backoff bounds

fn any_class() -> impl Strategy<Value = ErrorClass> {
    prop_oneof![
        Just(ErrorClass::Transient),
        Just(ErrorClass::Unconfirmed),
        Just(ErrorClass::Protocol),
        Just(ErrorClass::RateLimited { retry_after: None }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Every delay lies in [retry-min, max(retry-min, retry-max)], whatever the attempt count
    /// and the random draw.
    #[test]
    fn backoff_stays_within_retry_min_and_retry_max(
        min_ms in 1u64..7_200_000,
        max_ms in 0u64..172_800_000,
        attempt in any::<u32>(),
        random in any::<u64>(),
        class in any_class(),
    ) {
        let t = Timing {
            retry_min: Duration::from_millis(min_ms),
            retry_max: Duration::from_millis(max_ms),
            ..timing()
        };
        let d = crate::core::backoff::delay_after_failure(class, attempt, &t, random);
        prop_assert!(d >= t.retry_min, "{:?} below retry-min", d);
        prop_assert!(d <= t.retry_max.max(t.retry_min), "{:?} above retry-max", d);
    }

    /// The worst case (the top of the jitter range) never shrinks as failures go on.
    #[test]
    fn backoff_ceiling_never_shrinks(
        min_ms in 1u64..600_000,
        max_ms in 1u64..86_400_000,
        attempt in 0u32..200,
    ) {
        let t = Timing {
            retry_min: Duration::from_millis(min_ms),
            retry_max: Duration::from_millis(max_ms),
            ..timing()
        };
        let delay = |a| crate::core::backoff::delay_after_failure(
            ErrorClass::Transient, a, &t, u64::MAX);
        prop_assert!(delay(attempt + 1) >= delay(attempt));
    }

    /// A provider's Retry-After is honoured (no jitter) within [retry-min, max(retry-max, 1 day)].
    #[test]
    fn retry_after_is_honoured_within_bounds(
        min_s in 1u64..3600,
        max_s in 1u64..86_400,
        stated in any::<u64>(),
        random in any::<u64>(),
    ) {
        let t = Timing {
            retry_min: Duration::from_secs(min_s),
            retry_max: Duration::from_secs(max_s),
            ..timing()
        };
        let class = ErrorClass::RateLimited { retry_after: Some(Duration::from_secs(stated)) };
        let d = crate::core::backoff::delay_after_failure(class, 1, &t, random);
        let ceiling = t.retry_max.max(t.retry_min).max(crate::core::backoff::RATE_LIMIT_CEILING);
        prop_assert!(d >= t.retry_min && d <= ceiling, "{:?}", d);
        if Duration::from_secs(stated) >= t.retry_min && Duration::from_secs(stated) <= ceiling {
            prop_assert_eq!(d, Duration::from_secs(stated));
        }
    }
}

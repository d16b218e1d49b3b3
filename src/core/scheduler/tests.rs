//! Table-driven scheduler tests: an event script and the actions expected back (STYLE.md §7).
// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::core::{
    Confirmed, Detected, Detection, ErrorClass, Failure, Families, Family, PersistedProvider,
    ProviderSpec, PublishReason,
};

// ---------------------------------------------------------------------------------------------
// Vocabulary of the tables

const V4A: &str = "81.2.69.160";
const V4B: &str = "81.2.69.161";
const V6A: &str = "2a02:898:1::7";
const DAY: i64 = 86_400;

/// Seconds relative to the script's epoch (negative = before it).
fn at(s: i64) -> SystemTime {
    let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if s >= 0 {
        base + Duration::from_secs(s.unsigned_abs())
    } else {
        base - Duration::from_secs(s.unsigned_abs())
    }
}

fn timing() -> Timing {
    Timing {
        check_interval: Duration::from_secs(300),
        settle: Duration::from_secs(2),
        refresh_interval: Some(Duration::from_secs(25 * 86_400)),
        retry_min: Duration::from_secs(30),
        retry_max: Duration::from_secs(3600),
    }
}

/// Long check-interval and a small retry cap, so backoff scripts are not interleaved with
/// periodic detections.
fn slow_checks() -> Timing {
    Timing {
        check_interval: Duration::from_secs(10 * 3600),
        retry_max: Duration::from_secs(120),
        ..timing()
    }
}

fn source(name: &str, families: Families) -> SourceSpec {
    SourceSpec {
        name: name.into(),
        families,
    }
}

fn rec(name: &str, provider: &str, src: &str, families: Families) -> RecordSpec {
    RecordSpec {
        name: name.into(),
        source: src.into(),
        provider: provider.into(),
        families,
        ipv6_host_id: None,
        fingerprint: 1,
    }
}

fn addrs(v4: &str, v6: &str) -> Addresses {
    Addresses {
        ipv4: (!v4.is_empty()).then(|| v4.parse().unwrap()),
        ipv6: (!v6.is_empty()).then(|| v6.parse().unwrap()),
    }
}

fn detected_one<A: std::str::FromStr>(s: &str) -> Detected<A>
where
    A::Err: std::fmt::Debug,
{
    if s.is_empty() {
        Detected::NotAsked
    } else if let Some(msg) = s.strip_prefix('!') {
        Detected::Failed(msg.into())
    } else {
        Detected::Found(s.parse().unwrap())
    }
}

// Events. In `detected`, "" = not asked, "!msg" = failed with msg, else the address found.

fn detected(src: &str, v4: &str, v6: &str) -> Event {
    Event::Detected {
        source: src.into(),
        detection: Detection {
            ipv4: detected_one(v4),
            ipv6: detected_one(v6),
        },
    }
}

fn ok(record: &str, v4: &str, v6: &str) -> Event {
    Event::Published {
        record: record.into(),
        result: Ok(Confirmed {
            addresses: addrs(v4, v6),
            provider_cache: BTreeMap::new(),
        }),
    }
}

fn failure(class: ErrorClass, msg: &str) -> Failure {
    Failure {
        class,
        message: msg.into(),
    }
}

fn err(record: &str, class: ErrorClass, msg: &str) -> Event {
    Event::Published {
        record: record.into(),
        result: Err(failure(class, msg)),
    }
}

fn rate_limited(secs: u64) -> ErrorClass {
    ErrorClass::RateLimited {
        retry_after: Some(Duration::from_secs(secs)),
    }
}

const TRANSIENT: ErrorClass = ErrorClass::Transient;
const UNCONFIRMED: ErrorClass = ErrorClass::Unconfirmed;
const REJECTED: ErrorClass = ErrorClass::Rejected;

fn tick() -> Event {
    Event::Tick
}

fn iface(src: &str) -> Event {
    Event::InterfaceChanged { source: src.into() }
}

fn retry(record: Option<&str>) -> Event {
    Event::Retry {
        record: record.map(str::to_string),
    }
}

/// An expected action: exact, or with a time known only within bounds (jittered backoff).
#[derive(Debug)]
enum Want {
    Is(Action),
    /// `Report::RetryScheduled` with `next_attempt` in `[lo, hi]` (script seconds).
    Retry {
        record: &'static str,
        failure: Failure,
        attempt: u32,
        lo: i64,
        hi: i64,
        repeated: bool,
    },
    /// `WakeAt` within `[lo, hi]`.
    WakeIn(i64, i64),
}

impl Want {
    fn matches(&self, got: &Action) -> bool {
        match (self, got) {
            (Want::Is(a), b) => a == b,
            (
                Want::Retry {
                    record,
                    failure,
                    attempt,
                    lo,
                    hi,
                    repeated,
                },
                Action::Report(Report::RetryScheduled {
                    record: r,
                    failure: f,
                    attempt: a,
                    next_attempt,
                    repeated: rep,
                }),
            ) => {
                r == record
                    && f == failure
                    && a == attempt
                    && rep == repeated
                    && *next_attempt >= at(*lo)
                    && *next_attempt <= at(*hi)
            }
            (Want::WakeIn(lo, hi), Action::WakeAt(t)) => *t >= at(*lo) && *t <= at(*hi),
            _ => false,
        }
    }
}

fn detect(src: &str) -> Want {
    Want::Is(Action::Detect { source: src.into() })
}

fn wake(s: i64) -> Want {
    Want::Is(Action::WakeAt(at(s)))
}

fn save() -> Want {
    Want::Is(Action::SaveState)
}

fn item(record: &str, v4: &str, v6: &str, reason: PublishReason) -> PublishItem {
    PublishItem {
        record: record.into(),
        addresses: addrs(v4, v6),
        reason,
    }
}

fn publish(provider: &str, items: Vec<PublishItem>) -> Want {
    Want::Is(Action::Publish {
        provider: provider.into(),
        items,
    })
}

fn report(r: Report) -> Want {
    Want::Is(Action::Report(r))
}

fn changed(src: &str, family: Family, old: &str, new: &str) -> Want {
    report(Report::AddressChanged {
        source: src.into(),
        family,
        old: (!old.is_empty()).then(|| old.parse::<IpAddr>().unwrap()),
        new: new.parse().unwrap(),
    })
}

fn detection_failed(src: &str, family: Family, message: &str, repeated: bool) -> Want {
    report(Report::DetectionFailed {
        source: src.into(),
        family,
        message: message.into(),
        repeated,
    })
}

fn published(
    record: &str,
    v4: &str,
    v6: &str,
    reason: PublishReason,
    recovered: Option<(u32, u64)>,
) -> Want {
    report(Report::Published {
        record: record.into(),
        addresses: addrs(v4, v6),
        reason,
        recovered: recovered.map(|(n, s)| (n, Duration::from_secs(s))),
    })
}

fn retry_at(
    record: &'static str,
    failure: Failure,
    attempt: u32,
    (lo, hi): (i64, i64),
    repeated: bool,
) -> Want {
    Want::Retry {
        record,
        failure,
        attempt,
        lo,
        hi,
        repeated,
    }
}

fn parked(record: &str, failure: Failure) -> Want {
    report(Report::Parked {
        record: record.into(),
        failure,
    })
}

fn unparked(record: &str, why: &str) -> Want {
    report(Report::Unparked {
        record: record.into(),
        why: why.into(),
    })
}

use Family::{Ipv4 as V4, Ipv6 as V6};
use PublishReason::{Changed, Forced, Refresh};

enum Step {
    /// At script second `t`, feed the event and expect exactly these actions.
    At(i64, Event, Vec<Want>),
    /// Restart (or HUP): a new scheduler from the current snapshot, at script second `t`, with
    /// every record's fingerprint set to `fingerprint`.
    Restart(i64, u64),
    /// Look at the scheduler between events.
    Check(fn(&Scheduler)),
}
use Step::{At, Check, Restart};

struct Case {
    name: &'static str,
    timing: Timing,
    sources: Vec<SourceSpec>,
    records: Vec<RecordSpec>,
    restored: BTreeMap<RecordId, PersistedRecord>,
    script: Vec<Step>,
}

/// One dual-stack source `lan`, one record `home` on provider `bind`.
fn home(name: &'static str, timing: Timing, script: Vec<Step>) -> Case {
    Case {
        name,
        timing,
        sources: vec![source("lan", Families::BOTH)],
        records: vec![rec("home", "bind", "lan", Families::BOTH)],
        restored: BTreeMap::new(),
        script,
    }
}

fn run(case: Case) {
    let Case {
        name,
        timing,
        sources,
        mut records,
        restored,
        script,
    } = case;
    let mut s = Scheduler::new(
        timing,
        sources.clone(),
        records.clone(),
        restored,
        at(0),
        42,
    );
    for (i, step) in script.into_iter().enumerate() {
        match step {
            At(t, event, want) => {
                let label = format!("{name}: step {i} at {t}s: {event:?}");
                let got = s.handle(at(t), event);
                let ok =
                    got.len() == want.len() && want.iter().zip(&got).all(|(w, g)| w.matches(g));
                assert!(ok, "{label}\n got: {got:#?}\nwant: {want:#?}");
                assert_eq!(
                    s.next_wake(),
                    got.iter().find_map(|a| match a {
                        Action::WakeAt(t) => Some(*t),
                        _ => None,
                    }),
                    "{label}: next_wake matches WakeAt"
                );
            }
            Restart(t, fingerprint) => {
                for r in &mut records {
                    r.fingerprint = fingerprint;
                }
                s = Scheduler::new(
                    timing,
                    sources.clone(),
                    records.clone(),
                    s.snapshot(),
                    at(t),
                    43,
                );
            }
            Check(check) => check(&s),
        }
    }
}

fn stored(published: Addresses, published_at: i64) -> PersistedRecord {
    PersistedRecord {
        published,
        published_at: Some(at(published_at)),
        fingerprint: 1,
        ..PersistedRecord::default()
    }
}

fn home_state(s: &Scheduler) -> PersistedRecord {
    s.snapshot().remove("home").unwrap()
}

// ---------------------------------------------------------------------------------------------
// The tables

#[test]
fn change_publishes() {
    run(home(
        "change publishes",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            Check(|s| {
                assert!(!s.is_idle());
                assert_eq!(s.record_status("home"), RecordStatus::Unknown);
            }),
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    publish("bind", vec![item("home", V4A, V6A, Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            Check(|s| {
                assert_eq!(s.record_status("home"), RecordStatus::Pending);
                assert!(!s.is_idle());
            }),
            At(
                2,
                ok("home", V4A, V6A),
                vec![
                    published("home", V4A, V6A, Changed, None),
                    save(),
                    wake(300),
                ],
            ),
            Check(|s| {
                assert_eq!(s.record_status("home"), RecordStatus::UpToDate);
                assert!(s.is_idle());
                let p = home_state(s);
                assert_eq!(p.published, addrs(V4A, V6A));
                assert_eq!(p.published_at, Some(at(2)));
            }),
            At(300, tick(), vec![detect("lan"), wake(600)]),
            At(
                301,
                detected("lan", V4B, V6A),
                vec![
                    changed("lan", V4, V4A, V4B),
                    publish("bind", vec![item("home", V4B, V6A, Changed)]),
                    save(),
                    wake(600),
                ],
            ),
            At(
                302,
                ok("home", V4B, V6A),
                vec![
                    published("home", V4B, V6A, Changed, None),
                    save(),
                    wake(600),
                ],
            ),
        ],
    ));
}

#[test]
fn no_op_sends_nothing() {
    run(home(
        "no-op sends nothing",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    publish("bind", vec![item("home", V4A, V6A, Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("home", V4A, V6A),
                vec![
                    published("home", V4A, V6A, Changed, None),
                    save(),
                    wake(300),
                ],
            ),
            At(300, tick(), vec![detect("lan"), wake(600)]),
            At(301, detected("lan", V4A, V6A), vec![wake(600)]),
            At(450, tick(), vec![wake(600)]),
            At(600, tick(), vec![detect("lan"), wake(900)]),
            At(601, detected("lan", V4A, V6A), vec![wake(900)]),
        ],
    ));
}

#[test]
fn detection_failure_is_not_absence() {
    run(home(
        "detection failure keeps the published value",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            // IPv6 never detected nor published: the payload carries IPv4 only.
            At(
                1,
                detected("lan", V4A, "!no qualifying ipv6 address on eth0"),
                vec![
                    changed("lan", V4, "", V4A),
                    detection_failed("lan", V6, "no qualifying ipv6 address on eth0", false),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("home", V4A, ""),
                vec![published("home", V4A, "", Changed, None), save(), wake(300)],
            ),
            At(300, tick(), vec![detect("lan"), wake(600)]),
            At(
                301,
                detected("lan", "!timeout", "!no qualifying ipv6 address on eth0"),
                vec![
                    detection_failed("lan", V4, "timeout", false),
                    detection_failed("lan", V6, "no qualifying ipv6 address on eth0", true),
                    wake(600),
                ],
            ),
            // IPv4 failed: the record keeps 81.2.69.160, and the new IPv6 goes out with it.
            At(302, iface("lan"), vec![wake(304)]),
            At(304, tick(), vec![detect("lan"), wake(604)]),
            At(
                305,
                detected("lan", "!timeout", V6A),
                vec![
                    detection_failed("lan", V4, "timeout", true),
                    changed("lan", V6, "", V6A),
                    publish("bind", vec![item("home", V4A, V6A, Changed)]),
                    save(),
                    wake(604),
                ],
            ),
            // The provider confirmed IPv6 only: IPv4 keeps its published value (merge).
            At(
                306,
                ok("home", "", V6A),
                vec![
                    published("home", V4A, V6A, Changed, None),
                    save(),
                    wake(604),
                ],
            ),
            Check(|s| assert_eq!(home_state(s).published, addrs(V4A, V6A))),
        ],
    ));
}

#[test]
fn failure_growth_cap() {
    let f = || failure(TRANSIENT, "server said 503");
    run(home(
        "failure → growth → cap",
        slow_checks(), // retry 30s..120s
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(36_000)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // attempt 1: exactly retry-min
            At(
                2,
                err("home", TRANSIENT, "server said 503"),
                vec![retry_at("home", f(), 1, (32, 32), false), save(), wake(32)],
            ),
            Check(|s| {
                assert_eq!(
                    s.record_status("home"),
                    RecordStatus::Waiting {
                        next_attempt: at(32)
                    }
                );
                assert_eq!(
                    s.summary(),
                    Summary {
                        failing: 1,
                        ..Summary::default()
                    }
                );
                assert!(s.is_idle());
            }),
            At(31, tick(), vec![wake(32)]),
            At(
                32,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // attempt 2: [30, 60]
            At(
                33,
                err("home", TRANSIENT, "server said 503"),
                vec![
                    retry_at("home", f(), 2, (63, 93), true),
                    save(),
                    Want::WakeIn(63, 93),
                ],
            ),
            At(62, tick(), vec![Want::WakeIn(63, 93)]),
            At(
                93,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // attempt 3: [60, 120]
            At(
                94,
                err("home", TRANSIENT, "server said 503"),
                vec![
                    retry_at("home", f(), 3, (154, 214), true),
                    save(),
                    Want::WakeIn(154, 214),
                ],
            ),
            At(153, tick(), vec![Want::WakeIn(154, 214)]),
            At(
                214,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // attempt 4: capped at retry-max 120 → [60, 120]; a new message is news again
            At(
                215,
                err("home", TRANSIENT, "connection refused"),
                vec![
                    retry_at(
                        "home",
                        failure(TRANSIENT, "connection refused"),
                        4,
                        (275, 335),
                        false,
                    ),
                    save(),
                    Want::WakeIn(275, 335),
                ],
            ),
            At(
                335,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // attempt 5 (still capped), then success reports the recovery
            At(
                336,
                err("home", TRANSIENT, "connection refused"),
                vec![
                    retry_at(
                        "home",
                        failure(TRANSIENT, "connection refused"),
                        5,
                        (396, 456),
                        true,
                    ),
                    save(),
                    Want::WakeIn(396, 456),
                ],
            ),
            At(
                456,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            At(
                460,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Changed, Some((5, 458))),
                    save(),
                    wake(36_000),
                ],
            ),
            Check(|s| {
                let p = home_state(s);
                assert_eq!((p.attempts, p.next_attempt, p.last_error), (0, None, None));
            }),
        ],
    ));
}

#[test]
fn retry_after_honoured() {
    run(home(
        "Retry-After honoured",
        slow_checks(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(36_000)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // 600 s stated, beyond retry-max (120 s): honoured exactly.
            At(
                2,
                err("home", rate_limited(600), "429 too many requests"),
                vec![
                    retry_at(
                        "home",
                        failure(rate_limited(600), "429 too many requests"),
                        1,
                        (602, 602),
                        false,
                    ),
                    save(),
                    wake(602),
                ],
            ),
            At(601, tick(), vec![wake(602)]),
            At(
                602,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // 5 s stated: at least retry-min. Another Retry-After value is not news.
            At(
                603,
                err("home", rate_limited(5), "429 too many requests"),
                vec![
                    retry_at(
                        "home",
                        failure(rate_limited(5), "429 too many requests"),
                        2,
                        (633, 633),
                        true,
                    ),
                    save(),
                    wake(633),
                ],
            ),
            // no stated time: normal backoff (attempt 3: [60, 120])
            At(
                633,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            At(
                634,
                err(
                    "home",
                    ErrorClass::RateLimited { retry_after: None },
                    "slow down",
                ),
                vec![
                    retry_at(
                        "home",
                        failure(ErrorClass::RateLimited { retry_after: None }, "slow down"),
                        3,
                        (694, 754),
                        false,
                    ),
                    save(),
                    Want::WakeIn(694, 754),
                ],
            ),
        ],
    ));
}

#[test]
fn rejected_parked_config_change_unparks() {
    let bad_auth = || failure(REJECTED, "dyndns2 said badauth");
    run(home(
        "rejected → parked → config change un-parks",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    publish("bind", vec![item("home", V4A, V6A, Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                err("home", REJECTED, "dyndns2 said badauth"),
                vec![parked("home", bad_auth()), save(), wake(300)],
            ),
            Check(|s| {
                let reason = "dyndns2 said badauth".to_string();
                assert_eq!(s.record_status("home"), RecordStatus::Parked { reason });
                assert_eq!(s.summary().parked, 1);
                assert!(s.is_idle());
            }),
            // Parked: new addresses, ticks and time do not publish.
            At(300, tick(), vec![detect("lan"), wake(600)]),
            At(
                301,
                detected("lan", V4B, V6A),
                vec![changed("lan", V4, V4A, V4B), wake(600)],
            ),
            // Restart with the same config: still parked, nothing to report or save.
            Restart(400, 1),
            At(400, Event::Start, vec![detect("lan"), wake(700)]),
            At(
                401,
                detected("lan", V4B, V6A),
                vec![
                    changed("lan", V4, "", V4B),
                    changed("lan", V6, "", V6A),
                    wake(700),
                ],
            ),
            Check(|s| assert!(home_state(s).parked.is_some())),
            // The operator fixes the password: a new fingerprint un-parks, resets the backoff.
            Restart(500, 2),
            Check(|s| {
                let p = home_state(s);
                assert_eq!((p.parked, p.attempts, p.fingerprint), (None, 0, 2));
            }),
            At(
                500,
                Event::Start,
                vec![
                    detect("lan"),
                    unparked("home", "config changed"),
                    save(),
                    wake(800),
                ],
            ),
            At(
                501,
                detected("lan", V4B, V6A),
                vec![
                    changed("lan", V4, "", V4B),
                    changed("lan", V6, "", V6A),
                    publish("bind", vec![item("home", V4B, V6A, Changed)]),
                    save(),
                    wake(800),
                ],
            ),
            At(
                502,
                ok("home", V4B, V6A),
                vec![
                    published("home", V4B, V6A, Changed, None),
                    save(),
                    wake(800),
                ],
            ),
        ],
    ));
}

#[test]
fn parked_then_retry_and_force() {
    let bad_auth = || failure(REJECTED, "badauth");
    run(home(
        "parked → retry requested / USR1",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                err("home", REJECTED, "badauth"),
                vec![parked("home", bad_auth()), save(), wake(300)],
            ),
            // `dynipd retry home`: un-parked and published at once.
            At(
                10,
                retry(Some("home")),
                vec![
                    unparked("home", "retry requested"),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            // Rejected again: parked again, reported again (it is a new parking).
            At(
                11,
                err("home", REJECTED, "badauth"),
                vec![parked("home", bad_auth()), save(), wake(300)],
            ),
            // retry of another record changes nothing
            At(12, retry(Some("other")), vec![wake(300)]),
            // USR1: un-park, re-detect, and publish once the detection is back.
            At(
                20,
                Event::ForceRefresh,
                vec![
                    detect("lan"),
                    unparked("home", "USR1/force"),
                    save(),
                    wake(320),
                ],
            ),
            At(
                21,
                detected("lan", V4A, ""),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(320),
                ],
            ),
            At(
                22,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Changed, Some((2, 20))),
                    save(),
                    wake(320),
                ],
            ),
        ],
    ));
}

#[test]
fn force_refresh_republishes_unchanged() {
    run(home(
        "USR1 republishes unchanged addresses",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    publish("bind", vec![item("home", V4A, V6A, Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("home", V4A, V6A),
                vec![
                    published("home", V4A, V6A, Changed, None),
                    save(),
                    wake(300),
                ],
            ),
            At(100, Event::ForceRefresh, vec![detect("lan"), wake(400)]),
            Check(|s| assert_eq!(s.record_status("home"), RecordStatus::Pending)),
            // A second USR1 while detecting does not detect twice.
            At(100, Event::ForceRefresh, vec![wake(400)]),
            At(
                101,
                detected("lan", V4A, V6A),
                vec![
                    publish("bind", vec![item("home", V4A, V6A, Forced)]),
                    save(),
                    wake(400),
                ],
            ),
            At(
                102,
                ok("home", V4A, V6A),
                vec![published("home", V4A, V6A, Forced, None), save(), wake(400)],
            ),
            // Done: the next detection sends nothing.
            At(400, tick(), vec![detect("lan"), wake(700)]),
            At(401, detected("lan", V4A, V6A), vec![wake(700)]),
        ],
    ));
}

#[test]
fn unconfirmed_retried_published_unchanged() {
    run(home(
        "unconfirmed → retried, published unchanged",
        slow_checks(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(36_000)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            At(
                2,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Changed, None),
                    save(),
                    wake(36_000),
                ],
            ),
            At(10, iface("lan"), vec![wake(12)]),
            At(12, tick(), vec![detect("lan"), wake(36_012)]),
            At(
                13,
                detected("lan", V4B, ""),
                vec![
                    changed("lan", V4, V4A, V4B),
                    publish("bind", vec![item("home", V4B, "", Changed)]),
                    save(),
                    wake(36_012),
                ],
            ),
            At(
                14,
                err("home", UNCONFIRMED, "timed out after sending"),
                vec![
                    retry_at(
                        "home",
                        failure(UNCONFIRMED, "timed out after sending"),
                        1,
                        (44, 44),
                        false,
                    ),
                    save(),
                    wake(44),
                ],
            ),
            Check(|s| {
                let p = home_state(s);
                assert_eq!(p.published, addrs(V4A, ""), "unconfirmed is not published");
                assert_eq!(p.published_at, Some(at(2)));
                assert_eq!(p.attempts, 1);
            }),
            At(
                44,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4B, "", Changed)]),
                    save(),
                    wake(36_012),
                ],
            ),
            At(
                45,
                ok("home", V4B, ""),
                vec![
                    published("home", V4B, "", Changed, Some((1, 31))),
                    save(),
                    wake(36_012),
                ],
            ),
            Check(|s| assert_eq!(home_state(s).published, addrs(V4B, ""))),
        ],
    ));
}

#[test]
fn restart_with_state_sends_nothing() {
    let mut case = home(
        "restart with state sends nothing when desired == published",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            Check(|s| assert_eq!(s.record_status("home"), RecordStatus::UpToDate)),
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    wake(300),
                ],
            ),
            Check(|s| {
                assert!(s.is_idle());
                assert_eq!(
                    s.summary(),
                    Summary {
                        published: 1,
                        ..Summary::default()
                    }
                );
            }),
        ],
    );
    case.restored
        .insert("home".into(), stored(addrs(V4A, V6A), -1000));
    run(case);
}

#[test]
fn restored_deadlines_are_clamped() {
    let mut case = home(
        "restored deadlines: next attempt clamped, future publish time unknown",
        timing(),
        vec![
            Check(|s| {
                let p = home_state(s);
                assert_eq!(p.next_attempt, Some(at(3600)), "clamped to now + retry-max");
                assert_eq!(p.published_at, None, "a future publish time is unknown");
            }),
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            // Unchanged, in backoff: the wake includes the next attempt only if there is work.
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    wake(300),
                ],
            ),
            // The refresh is due one interval after start, not at once.
            At(25 * DAY - 1, tick(), vec![detect("lan"), wake(25 * DAY)]),
            At(
                25 * DAY,
                detected("lan", V4A, V6A),
                vec![
                    publish("bind", vec![item("home", V4A, V6A, Refresh)]),
                    save(),
                    wake(25 * DAY - 1 + 300),
                ],
            ),
        ],
    );
    let mut p = stored(addrs(V4A, V6A), 10 * DAY);
    p.attempts = 3;
    p.next_attempt = Some(at(400 * DAY));
    p.last_error = Some(failure(TRANSIENT, "503"));
    case.restored.insert("home".into(), p);
    run(case);
}

#[test]
fn wall_clock_jump_backwards() {
    run(home(
        "wall-clock jump backwards re-clamps deadlines",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("home", V4A, ""),
                vec![published("home", V4A, "", Changed, None), save(), wake(300)],
            ),
            At(
                3,
                detected("lan", V4B, ""),
                vec![
                    changed("lan", V4, V4A, V4B),
                    publish("bind", vec![item("home", V4B, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            // Rate limited for 20 hours (under the one-day ceiling).
            At(
                4,
                err("home", rate_limited(20 * 3600), "wait 20h"),
                vec![
                    retry_at(
                        "home",
                        failure(rate_limited(20 * 3600), "wait 20h"),
                        1,
                        (4 + 20 * 3600, 4 + 20 * 3600),
                        false,
                    ),
                    save(),
                    wake(300),
                ],
            ),
            // The clock steps back a day (a Pi without RTC after NTP). The published time is now
            // in the future (unknown), the rate limit is capped at retry-max, detection at
            // check-interval: nothing waits longer than its natural maximum.
            At(-DAY, tick(), vec![save(), wake(-DAY + 300)]),
            Check(|s| {
                let p = home_state(s);
                assert_eq!(p.published_at, None);
                assert_eq!(p.next_attempt, Some(at(-DAY + 3600)));
            }),
            At(-DAY + 300, tick(), vec![detect("lan"), wake(-DAY + 600)]),
            At(-DAY + 301, detected("lan", V4B, ""), vec![wake(-DAY + 600)]),
            At(-DAY + 3599, tick(), vec![detect("lan"), wake(-DAY + 3600)]),
            At(
                -DAY + 3599,
                detected("lan", V4B, ""),
                vec![wake(-DAY + 3600)],
            ),
            At(
                -DAY + 3600,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4B, "", Changed)]),
                    save(),
                    wake(-DAY + 3599 + 300),
                ],
            ),
            // A small step back (NTP slew) changes nothing.
            At(-DAY + 3599, tick(), vec![wake(-DAY + 3599 + 300)]),
        ],
    ));
}

#[test]
fn wall_clock_jump_forwards() {
    run(home(
        "wall-clock jump forwards makes things due",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("home", V4A, ""),
                vec![published("home", V4A, "", Changed, None), save(), wake(300)],
            ),
            // 40 days later: detection and refresh overdue; the refresh waits for the detection.
            At(40 * DAY, tick(), vec![detect("lan"), wake(40 * DAY + 300)]),
            At(
                40 * DAY + 1,
                detected("lan", V4A, ""),
                vec![
                    publish("bind", vec![item("home", V4A, "", Refresh)]),
                    save(),
                    wake(40 * DAY + 300),
                ],
            ),
            At(
                40 * DAY + 2,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Refresh, None),
                    save(),
                    wake(40 * DAY + 300),
                ],
            ),
        ],
    ));
}

#[test]
fn refresh_interval() {
    let t = Timing {
        refresh_interval: Some(Duration::from_secs(1000)),
        ..slow_checks()
    };
    run(home(
        "refresh after refresh-interval; never when none",
        t,
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(36_000)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            At(
                2,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Changed, None),
                    save(),
                    wake(1002),
                ],
            ),
            At(1001, tick(), vec![wake(1002)]),
            At(
                1002,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Refresh)]),
                    save(),
                    wake(36_000),
                ],
            ),
            At(
                1003,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Refresh, None),
                    save(),
                    wake(2003),
                ],
            ),
        ],
    ));
    let never = Timing {
        refresh_interval: None,
        ..slow_checks()
    };
    run(home(
        "refresh-interval 0s: never",
        never,
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(36_000)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            At(
                2,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Changed, None),
                    save(),
                    wake(36_000),
                ],
            ),
        ],
    ));
}

#[test]
fn settle_coalesces_interface_events() {
    run(home(
        "interface events coalesce for settle",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", "!none", "!none"),
                vec![
                    detection_failed("lan", V4, "none", false),
                    detection_failed("lan", V6, "none", false),
                    wake(300),
                ],
            ),
            At(10, iface("lan"), vec![wake(12)]),
            At(11, iface("lan"), vec![wake(12)]),
            At(12, tick(), vec![detect("lan"), wake(312)]),
            // An event during the detection asks for another one after it.
            At(13, iface("lan"), vec![wake(15)]),
            At(15, tick(), vec![wake(312)]),
            At(
                16,
                detected("lan", V4A, "!none"),
                vec![
                    detect("lan"),
                    changed("lan", V4, "", V4A),
                    detection_failed("lan", V6, "none", true),
                    wake(316),
                ],
            ),
            At(
                17,
                detected("lan", V4A, "!none"),
                vec![
                    detection_failed("lan", V6, "none", true),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(316),
                ],
            ),
            // unknown source: ignored
            At(18, iface("nope"), vec![wake(316)]),
        ],
    ));
}

#[test]
fn publishes_grouped_per_provider() {
    let case = Case {
        name: "one Publish per provider, items in record order",
        timing: timing(),
        sources: vec![source("lan", Families::BOTH), source("web", Families::IPV4)],
        records: vec![
            rec("home", "bind", "lan", Families::BOTH),
            rec("www", "duck", "web", Families::IPV4),
            rec("mail", "bind", "lan", Families::IPV4),
            rec("v6", "bind", "lan", Families::IPV6),
        ],
        restored: BTreeMap::new(),
        script: vec![
            At(
                0,
                Event::Start,
                vec![detect("lan"), detect("web"), wake(300)],
            ),
            // Nothing is sent while web is still detecting... for web's records only.
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    publish(
                        "bind",
                        vec![
                            item("home", V4A, V6A, Changed),
                            item("mail", V4A, "", Changed),
                            item("v6", "", V6A, Changed),
                        ],
                    ),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                detected("web", V4B, ""),
                vec![
                    changed("web", V4, "", V4B),
                    publish("duck", vec![item("www", V4B, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
            Check(|s| {
                assert_eq!(
                    s.summary(),
                    Summary {
                        pending: 4,
                        ..Summary::default()
                    }
                );
            }),
            At(
                3,
                ok("mail", V4A, ""),
                vec![published("mail", V4A, "", Changed, None), save(), wake(300)],
            ),
            At(
                3,
                err("www", TRANSIENT, "503"),
                vec![
                    retry_at("www", failure(TRANSIENT, "503"), 1, (33, 33), false),
                    save(),
                    wake(33),
                ],
            ),
            At(
                3,
                ok("home", V4A, V6A),
                vec![published("home", V4A, V6A, Changed, None), save(), wake(33)],
            ),
            Check(|s| {
                assert_eq!(
                    s.summary(),
                    Summary {
                        published: 2,
                        pending: 1,
                        failing: 1,
                        parked: 0
                    }
                );
                assert!(!s.is_idle(), "v6 still in flight");
            }),
            // `dynipd retry` (all): www's backoff cleared, published at once.
            At(
                4,
                retry(None),
                vec![
                    publish("duck", vec![item("www", V4B, "", Changed)]),
                    save(),
                    wake(300),
                ],
            ),
        ],
    };
    run(case);
}

#[test]
fn removed_records_are_dropped() {
    let mut case = home(
        "restored records no longer configured are dropped",
        timing(),
        vec![
            Check(|s| assert_eq!(s.snapshot().keys().collect::<Vec<_>>(), ["home"])),
            At(0, Event::Start, vec![detect("lan"), save(), wake(300)]),
            At(0, tick(), vec![wake(300)]),
        ],
    );
    case.restored
        .insert("gone".into(), stored(addrs(V4A, ""), -5));
    run(case);
}

#[test]
fn config_change_republishes_unchanged() {
    let mut case = home(
        "a changed fingerprint republishes even when unchanged",
        timing(),
        vec![
            Check(|s| {
                assert_eq!(
                    home_state(s).published,
                    addrs(V4A, ""),
                    "ipv6 no longer carried"
                )
            }),
            At(0, Event::Start, vec![detect("lan"), save(), wake(300)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Forced)]),
                    save(),
                    wake(300),
                ],
            ),
        ],
    );
    case.sources = vec![source("lan", Families::IPV4)];
    case.records = vec![RecordSpec {
        fingerprint: 9,
        ..rec("home", "bind", "lan", Families::IPV4)
    }];
    case.restored
        .insert("home".into(), stored(addrs(V4A, V6A), -5));
    run(case);
}

#[test]
fn provider_cache_kept_and_mismatch_held() {
    run(home(
        "provider cache kept; a confirmation unlike the request does not loop",
        slow_checks(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(36_000)]),
            At(
                1,
                detected("lan", V4A, ""),
                vec![
                    changed("lan", V4, "", V4A),
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            Check(|_| {}),
            // The provider says it set another address: recorded as published, and the record
            // waits at least retry-min before trying again instead of looping.
            At(
                2,
                Event::Published {
                    record: "home".into(),
                    result: Ok(Confirmed {
                        addresses: addrs(V4B, ""),
                        provider_cache: [("domain-id".to_string(), "42".to_string())].into(),
                    }),
                },
                vec![published("home", V4B, "", Changed, None), save(), wake(32)],
            ),
            Check(|s| {
                let p = home_state(s);
                assert_eq!(p.published, addrs(V4B, ""));
                assert_eq!(
                    p.provider_cache.get("domain-id").map(String::as_str),
                    Some("42")
                );
            }),
            At(
                32,
                tick(),
                vec![
                    publish("bind", vec![item("home", V4A, "", Changed)]),
                    save(),
                    wake(36_000),
                ],
            ),
            // An empty cache in a confirmation keeps the old one.
            At(
                33,
                ok("home", V4A, ""),
                vec![
                    published("home", V4A, "", Changed, None),
                    save(),
                    wake(36_000),
                ],
            ),
            Check(|s| assert_eq!(home_state(s).provider_cache.len(), 1)),
        ],
    ));
}

#[test]
fn record_with_unknown_family_never_sends_empty() {
    run(home(
        "nothing detected, nothing published: never an empty payload, even forced",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", "!timeout", "!timeout"),
                vec![
                    detection_failed("lan", V4, "timeout", false),
                    detection_failed("lan", V6, "timeout", false),
                    wake(300),
                ],
            ),
            At(2, Event::ForceRefresh, vec![detect("lan"), wake(302)]),
            At(
                3,
                detected("lan", "!timeout", "!timeout"),
                vec![
                    detection_failed("lan", V4, "timeout", true),
                    detection_failed("lan", V6, "timeout", true),
                    wake(302),
                ],
            ),
            Check(|s| {
                assert_eq!(s.record_status("home"), RecordStatus::Unknown);
                assert!(s.is_idle());
            }),
        ],
    ));
}

// See: #7
#[test]
fn issue_7_host_id_publishes_the_detected_prefix_with_a_fixed_interface_id() {
    use crate::core::host_id::HostId;
    let nas_id = HostId::new("::1:2:3:4".parse().unwrap(), 64).unwrap();
    let mut case = home(
        "a host-id record follows the prefix, not the address",
        timing(),
        vec![
            At(0, Event::Start, vec![detect("lan"), wake(300)]),
            At(
                1,
                detected("lan", V4A, V6A),
                vec![
                    changed("lan", V4, "", V4A),
                    changed("lan", V6, "", V6A),
                    publish(
                        "bind",
                        vec![
                            item("home", V4A, V6A, Changed),
                            item("nas", "", "2a02:898:1:0:1:2:3:4", Changed),
                        ],
                    ),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("home", V4A, V6A),
                vec![
                    published("home", V4A, V6A, Changed, None),
                    save(),
                    wake(300),
                ],
            ),
            At(
                2,
                ok("nas", "", "2a02:898:1:0:1:2:3:4"),
                vec![
                    published("nas", "", "2a02:898:1:0:1:2:3:4", Changed, None),
                    save(),
                    wake(300),
                ],
            ),
            Check(|s| assert_eq!(s.record_status("nas"), RecordStatus::UpToDate)),
            // Another address in the same /64 (e.g. a new temporary one): the host's record
            // changes, the device's does not.
            At(3, iface("lan"), vec![wake(5)]),
            At(5, tick(), vec![detect("lan"), wake(305)]),
            At(
                6,
                detected("lan", V4A, "2a02:898:1::99"),
                vec![
                    changed("lan", V6, V6A, "2a02:898:1::99"),
                    publish("bind", vec![item("home", V4A, "2a02:898:1::99", Changed)]),
                    save(),
                    wake(305),
                ],
            ),
            At(
                7,
                ok("home", V4A, "2a02:898:1::99"),
                vec![
                    published("home", V4A, "2a02:898:1::99", Changed, None),
                    save(),
                    wake(305),
                ],
            ),
            Check(|s| assert_eq!(s.record_status("nas"), RecordStatus::UpToDate)),
            // Renumbering: a new prefix moves both.
            At(8, iface("lan"), vec![wake(10)]),
            At(10, tick(), vec![detect("lan"), wake(310)]),
            At(
                11,
                detected("lan", V4A, "2a02:898:2::7"),
                vec![
                    changed("lan", V6, "2a02:898:1::99", "2a02:898:2::7"),
                    publish(
                        "bind",
                        vec![
                            item("home", V4A, "2a02:898:2::7", Changed),
                            item("nas", "", "2a02:898:2:0:1:2:3:4", Changed),
                        ],
                    ),
                    save(),
                    wake(310),
                ],
            ),
        ],
    );
    case.records.push(RecordSpec {
        ipv6_host_id: Some(nas_id),
        ..rec("nas", "bind", "lan", Families::IPV6)
    });
    run(case);
}

// ---------------------------------------------------------------------------------------------
// The abuse guard (`max-requests-per-hour`). See: #9.

/// Feeds `event` at script second `t` and asserts exactly `want` comes back.
#[expect(
    clippy::needless_pass_by_value,
    reason = "reads like the table steps above"
)]
fn expect(s: &mut Scheduler, t: i64, event: Event, want: Vec<Want>) {
    let label = format!("at {t}s: {event:?}");
    let got = s.handle(at(t), event);
    let ok = got.len() == want.len() && want.iter().zip(&got).all(|(w, g)| w.matches(g));
    assert!(ok, "{label}\n got: {got:#?}\nwant: {want:#?}");
}

fn capped(provider: &str, limit: u32, held: &[&str], until: i64) -> Want {
    report(Report::RequestCapReached {
        provider: provider.into(),
        limit,
        held: held.iter().map(|h| h.to_string()).collect(),
        until: at(until),
    })
}

fn hourly(provider: &str, n: u32) -> ProviderSpec {
    ProviderSpec {
        name: provider.into(),
        max_requests_per_hour: n,
    }
}

/// Checks only every 10 h, so the scripts below feed detections themselves.
fn rare_checks() -> Timing {
    Timing {
        check_interval: Duration::from_secs(36_000),
        ..timing()
    }
}

#[test]
fn request_cap_holds_back_reports_once_and_wakes_when_a_slot_frees() {
    let mut s = Scheduler::new(
        rare_checks(),
        vec![source("lan", Families::BOTH)],
        vec![rec("home", "bind", "lan", Families::BOTH)],
        BTreeMap::new(),
        at(0),
        42,
    )
    .with_providers(vec![hourly("bind", 2)], &BTreeMap::new(), at(0));
    expect(&mut s, 0, Event::Start, vec![detect("lan"), wake(36_000)]);
    expect(
        &mut s,
        1,
        detected("lan", V4A, V6A),
        vec![
            changed("lan", V4, "", V4A),
            changed("lan", V6, "", V6A),
            publish("bind", vec![item("home", V4A, V6A, Changed)]),
            save(),
            wake(36_000),
        ],
    );
    expect(
        &mut s,
        2,
        ok("home", V4A, V6A),
        vec![
            published("home", V4A, V6A, Changed, None),
            save(),
            wake(36_000),
        ],
    );
    // A flapping address: the second change goes out (2 per hour)...
    expect(
        &mut s,
        10,
        detected("lan", V4B, V6A),
        vec![
            changed("lan", V4, V4A, V4B),
            publish("bind", vec![item("home", V4B, V6A, Changed)]),
            save(),
            wake(36_000),
        ],
    );
    expect(
        &mut s,
        11,
        ok("home", V4B, V6A),
        vec![
            published("home", V4B, V6A, Changed, None),
            save(),
            wake(36_000),
        ],
    );
    // ...the third is held until the first request leaves the window (1 + 3600), reported once.
    expect(
        &mut s,
        20,
        detected("lan", V4A, V6A),
        vec![
            changed("lan", V4, V4B, V4A),
            capped("bind", 2, &["home"], 3601),
            wake(3601),
        ],
    );
    assert_eq!(
        s.record_status("home"),
        RecordStatus::Waiting {
            next_attempt: at(3601)
        }
    );
    assert!(s.is_idle(), "a capped record waits like a backed-off one");
    // Flapping back to what is published: nothing to send, nothing waits.
    expect(
        &mut s,
        30,
        detected("lan", V4B, V6A),
        vec![changed("lan", V4, V4A, V4B), wake(36_000)],
    );
    // Neither USR1 nor `retry` lifts the cap (and the cap is not reported again).
    expect(
        &mut s,
        40,
        Event::ForceRefresh,
        vec![detect("lan"), wake(36_040)],
    );
    expect(&mut s, 41, detected("lan", V4B, V6A), vec![wake(3601)]);
    expect(&mut s, 42, retry(None), vec![wake(3601)]);
    // A stray tick before the slot frees changes nothing.
    expect(&mut s, 3600, tick(), vec![wake(3601)]);
    // The slot frees: the latest address goes out, once.
    expect(
        &mut s,
        3601,
        tick(),
        vec![
            publish("bind", vec![item("home", V4B, V6A, Forced)]),
            save(),
            wake(36_040),
        ],
    );
    assert_eq!(
        s.provider_snapshot()["bind"].requests,
        vec![at(10), at(3601)]
    );
}

#[test]
fn request_cap_shares_the_window_between_records_and_survives_a_restart() {
    let records = vec![
        rec("a", "bind", "lan", Families::IPV4),
        rec("b", "bind", "lan", Families::IPV4),
        rec("c", "bind", "lan", Families::IPV4),
        rec("d", "duck", "lan", Families::IPV4),
    ];
    let new = |restored: BTreeMap<RecordId, PersistedRecord>,
               providers: &BTreeMap<ProviderId, PersistedProvider>,
               t: i64| {
        Scheduler::new(
            rare_checks(),
            vec![source("lan", Families::IPV4)],
            records.clone(),
            restored,
            at(t),
            42,
        )
        .with_providers(vec![hourly("bind", 2)], providers, at(t))
    };
    let mut s = new(BTreeMap::new(), &BTreeMap::new(), 0);
    expect(&mut s, 0, Event::Start, vec![detect("lan"), wake(36_000)]);
    // Three records due at once on a provider with room for two rounds: they go out together
    // as one round, one slot; "duck" has its own window (the default cap).
    let round = || {
        vec![
            item("a", V4A, "", Changed),
            item("b", V4A, "", Changed),
            item("c", V4A, "", Changed),
        ]
    };
    expect(
        &mut s,
        1,
        detected("lan", V4A, ""),
        vec![
            changed("lan", V4, "", V4A),
            publish("bind", round()),
            publish("duck", vec![item("d", V4A, "", Changed)]),
            save(),
            wake(36_000),
        ],
    );
    // The daemon is killed here, before any reply: the round was saved with the publish.
    let providers = s.provider_snapshot();
    assert_eq!(providers["bind"].requests, vec![at(1)]);
    assert_eq!(providers["duck"].requests, vec![at(1)]);
    let mut s = new(s.snapshot(), &providers, 100);
    expect(&mut s, 100, Event::Start, vec![detect("lan"), wake(36_100)]);
    expect(
        &mut s,
        101,
        detected("lan", V4A, ""),
        vec![
            changed("lan", V4, "", V4A),
            publish("bind", round()),
            publish("duck", vec![item("d", V4A, "", Changed)]),
            save(),
            wake(36_100),
        ],
    );
    // Killed again: the window now holds two rounds, the cap; a third start waits.
    let providers = s.provider_snapshot();
    assert_eq!(providers["bind"].requests, vec![at(1), at(101)]);
    let mut s = new(s.snapshot(), &providers, 150);
    expect(&mut s, 150, Event::Start, vec![detect("lan"), wake(36_150)]);
    expect(
        &mut s,
        151,
        detected("lan", V4A, ""),
        vec![
            changed("lan", V4, "", V4A),
            capped("bind", 2, &["a", "b", "c"], 3601),
            publish("duck", vec![item("d", V4A, "", Changed)]),
            save(),
            wake(3601),
        ],
    );
    // A restored window with times in the future (the clock was ahead): counted as now, so
    // the wait is one hour, not years.
    let future = BTreeMap::from([(
        "bind".to_string(),
        PersistedProvider {
            requests: vec![at(10 * 365 * DAY), at(10 * 365 * DAY)],
        },
    )]);
    let mut s = new(BTreeMap::new(), &future, 200);
    expect(&mut s, 200, Event::Start, vec![detect("lan"), wake(36_200)]);
    expect(
        &mut s,
        201,
        detected("lan", V4A, ""),
        vec![
            changed("lan", V4, "", V4A),
            capped("bind", 2, &["a", "b", "c"], 3800),
            publish("duck", vec![item("d", V4A, "", Changed)]),
            save(),
            wake(3800),
        ],
    );
}

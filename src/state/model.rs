//! The state file's versioned serde form and its conversion to and from the core's
//! [`PersistedRecord`]. Does not read or write files; that is `state::file`.
//!
//! Format, version 1 (keys kebab-case; absent values are omitted; unknown keys are ignored so
//! a later compatible release can add fields without a version bump):
//!
//! ```json
//! {
//!   "version": 1,
//!   "records": {
//!     "home.example.org": {
//!       "published": { "ipv4": "81.2.69.160", "ipv6": "2a02:898:1::7" },
//!       "published-at": 1767225600,
//!       "attempts": 2,
//!       "next-attempt": 1767225690,
//!       "parked": "dyndns2 said badauth",
//!       "last-error": { "class": "rate-limited", "message": "...", "retry-after": 600 },
//!       "fingerprint": "00c0ffee00c0ffee",
//!       "provider-cache": { "domain-id": "12345" }
//!     }
//!   },
//!   "providers": {
//!     "mydyndns": { "requests": [1767225600, 1767225690] }
//!   }
//! }
//! ```
//!
//! `providers` (the abuse guard's recent request times, #9) was added without a version bump:
//! it is optional, and an older dynipd ignores it as an unknown key (it then merely forgets the
//! recent requests).
//!
//! Times are whole seconds since the Unix epoch (UTC, fractions truncated, negative before
//! 1970): a plain integer survives any JSON tool and needs no date parser. The fingerprint is a
//! 16-digit hex string because JSON tools built on doubles lose precision above 2^53.
//! Clamping stored deadlines to sane ranges is the core's job, not this module's.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::core::{
    Addresses, ErrorClass, Failure, PersistedProvider, PersistedRecord, ProviderId, RecordId,
};

/// The only state file version this build reads and writes.
pub const VERSION: u64 = 1;

/// Just the `version` key, read before the rest so an unknown version is reported as such
/// instead of as a confusing schema error.
#[derive(Deserialize)]
struct Envelope {
    version: u64,
}

/// The whole file, version 1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct StateFileV1 {
    version: u64,
    #[serde(default)]
    records: BTreeMap<String, RecordV1>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    providers: BTreeMap<String, ProviderV1>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ProviderV1 {
    #[serde(default)]
    requests: Vec<i64>,
}

/// Everything the state file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateContent {
    pub records: BTreeMap<RecordId, PersistedRecord>,
    pub providers: BTreeMap<ProviderId, PersistedProvider>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RecordV1 {
    #[serde(default, skip_serializing_if = "PublishedV1::is_empty")]
    published: PublishedV1,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    published_at: Option<i64>,
    #[serde(default)]
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_attempt: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<ErrorV1>,
    #[serde(default, with = "hex_u64")]
    fingerprint: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    provider_cache: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PublishedV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipv4: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipv6: Option<Ipv6Addr>,
}

impl PublishedV1 {
    fn is_empty(&self) -> bool {
        self.ipv4.is_none() && self.ipv6.is_none()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ErrorV1 {
    class: String,
    message: String,
    /// Only for `rate-limited` with a stated delay, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

/// The file content for `state`, as pretty-printed JSON (operators read it; it is small).
pub fn encode(state: &StateContent) -> Result<Vec<u8>, String> {
    let file = StateFileV1 {
        version: VERSION,
        records: state
            .records
            .iter()
            .map(|(name, r)| (name.clone(), record_to_file(r)))
            .collect(),
        providers: state
            .providers
            .iter()
            .map(|(name, p)| {
                let requests = p.requests.iter().map(|t| to_unix(*t)).collect();
                (name.clone(), ProviderV1 { requests })
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&file).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok(out)
}

/// Parses a state file. The error says what is wrong, for the quarantine warning. Never
/// panics, whatever the bytes (fuzzed: `fuzz/fuzz_targets/state_file.rs`).
pub fn decode(bytes: &[u8]) -> Result<StateContent, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("not valid UTF-8 at byte {}", e.valid_up_to()))?;
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|e| format!("no readable version: {e}"))?;
    if envelope.version != VERSION {
        return Err(format!(
            "unknown version {} (this dynipd reads version {VERSION})",
            envelope.version
        ));
    }
    let file: StateFileV1 = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let records = file
        .records
        .into_iter()
        .map(|(name, r)| {
            let record = record_from_file(r).map_err(|e| format!("record {name:?}: {e}"))?;
            Ok((name, record))
        })
        .collect::<Result<_, String>>()?;
    let providers = file
        .providers
        .into_iter()
        .map(|(name, p)| {
            let requests = p
                .requests
                .into_iter()
                .map(|s| from_unix(s).ok_or("a request time is out of range"))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("provider {name:?}: {e}"))?;
            Ok((name, PersistedProvider { requests }))
        })
        .collect::<Result<_, String>>()?;
    Ok(StateContent { records, providers })
}

fn record_to_file(r: &PersistedRecord) -> RecordV1 {
    RecordV1 {
        published: PublishedV1 {
            ipv4: r.published.ipv4,
            ipv6: r.published.ipv6,
        },
        published_at: r.published_at.map(to_unix),
        attempts: r.attempts,
        next_attempt: r.next_attempt.map(to_unix),
        parked: r.parked.clone(),
        last_error: r.last_error.as_ref().map(|f| ErrorV1 {
            class: f.class.as_str().to_string(),
            message: f.message.clone(),
            retry_after: match f.class {
                ErrorClass::RateLimited { retry_after } => retry_after.map(|d| d.as_secs()),
                _ => None,
            },
        }),
        fingerprint: r.fingerprint,
        provider_cache: r.provider_cache.clone(),
    }
}

fn record_from_file(r: RecordV1) -> Result<PersistedRecord, String> {
    let last_error = match r.last_error {
        None => None,
        Some(e) => Some(Failure {
            class: parse_class(&e.class, e.retry_after)?,
            message: e.message,
        }),
    };
    Ok(PersistedRecord {
        published: Addresses {
            ipv4: r.published.ipv4,
            ipv6: r.published.ipv6,
        },
        published_at: r
            .published_at
            .map(|s| from_unix(s).ok_or("published-at is out of range"))
            .transpose()?,
        attempts: r.attempts,
        next_attempt: r
            .next_attempt
            .map(|s| from_unix(s).ok_or("next-attempt is out of range"))
            .transpose()?,
        parked: r.parked,
        last_error,
        fingerprint: r.fingerprint,
        provider_cache: r.provider_cache,
    })
}

fn parse_class(word: &str, retry_after: Option<u64>) -> Result<ErrorClass, String> {
    Ok(match word {
        "transient" => ErrorClass::Transient,
        "rate-limited" => ErrorClass::RateLimited {
            retry_after: retry_after.map(Duration::from_secs),
        },
        "unconfirmed" => ErrorClass::Unconfirmed,
        "rejected" => ErrorClass::Rejected,
        "protocol" => ErrorClass::Protocol,
        other => return Err(format!("unknown error class {other:?}")),
    })
}

/// Whole seconds since the epoch, truncated; negative before 1970.
fn to_unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// `None` when the platform's `SystemTime` cannot hold it.
fn from_unix(secs: i64) -> Option<SystemTime> {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

/// A `u64` as a 16-digit lowercase hex string.
mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() || text.len() > 16 {
            return Err(serde::de::Error::custom(format!(
                "fingerprint {text:?} is not 1 to 16 hex digits"
            )));
        }
        u64::from_str_radix(&text, 16).map_err(|_| {
            serde::de::Error::custom(format!("fingerprint {text:?} is not hexadecimal"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn only(records: BTreeMap<RecordId, PersistedRecord>) -> StateContent {
        StateContent {
            records,
            providers: BTreeMap::new(),
        }
    }

    /// A version-1 file written before the provider section existed still loads (#9).
    #[test]
    fn files_without_providers_load() {
        let bytes = br#"{"version": 1, "records": {"a": {"attempts": 2}}}"#;
        let state = decode(bytes).unwrap();
        assert_eq!(state.records["a"].attempts, 2);
        assert!(state.providers.is_empty());
        let bad = br#"{"version": 1, "providers": {"p": {"requests": ["x"]}}}"#;
        assert!(decode(bad).unwrap_err().contains("invalid type"));
    }

    fn full_record() -> PersistedRecord {
        PersistedRecord {
            published: Addresses {
                ipv4: Some("81.2.69.160".parse().unwrap()),
                ipv6: Some("2a02:898:1::7".parse().unwrap()),
            },
            published_at: Some(at(1_767_225_600)),
            attempts: 3,
            next_attempt: Some(at(1_767_225_690)),
            parked: Some("provider said badauth".into()),
            last_error: Some(Failure {
                class: ErrorClass::RateLimited {
                    retry_after: Some(Duration::from_secs(600)),
                },
                message: "slow down".into(),
            }),
            fingerprint: u64::MAX - 7,
            provider_cache: BTreeMap::from([("domain-id".into(), "12345".into())]),
        }
    }

    #[test]
    fn roundtrip_keeps_every_field() {
        let records = BTreeMap::from([
            ("home.example.org".to_string(), full_record()),
            ("empty.example.org".to_string(), PersistedRecord::default()),
        ]);
        let state = StateContent {
            records,
            providers: BTreeMap::from([(
                "mydyndns".to_string(),
                PersistedProvider {
                    requests: vec![at(1_767_225_600), at(1_767_225_690)],
                },
            )]),
        };
        let bytes = encode(&state).unwrap();
        assert_eq!(decode(&bytes).unwrap(), state);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\"providers\""), "{text}");
    }

    #[test]
    fn encoding_is_kebab_case_and_omits_absent_values() {
        let records = BTreeMap::from([("a.example.org".to_string(), full_record())]);
        let text = String::from_utf8(encode(&only(records)).unwrap()).unwrap();
        for key in [
            "\"published-at\": 1767225600",
            "\"next-attempt\": 1767225690",
            "\"last-error\"",
            "\"class\": \"rate-limited\"",
            "\"retry-after\": 600",
            "\"fingerprint\": \"fffffffffffffff8\"",
            "\"provider-cache\"",
            "\"version\": 1",
        ] {
            assert!(text.contains(key), "{key} missing in {text}");
        }
        let empty = BTreeMap::from([("b.example.org".to_string(), PersistedRecord::default())]);
        let text = String::from_utf8(encode(&only(empty)).unwrap()).unwrap();
        for absent in [
            "providers",
            "published",
            "next-attempt",
            "parked",
            "last-error",
            "provider-cache",
        ] {
            assert!(!text.contains(absent), "{absent} present in {text}");
        }
    }

    #[test]
    fn times_before_1970_roundtrip() {
        let t = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(to_unix(t), -86_400);
        assert_eq!(from_unix(-86_400), Some(t));
    }

    #[test]
    fn unreadable_content_is_an_error() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"\xff\xfe{}", "UTF-8"),
            (b"garbage", "version"),
            (b"[]", "version"),
            (b"{\"records\": {}}", "version"),
            (b"{\"version\": \"1\"}", "version"),
            (b"{\"version\": 2, \"records\": {}}", "unknown version 2"),
            (b"{\"version\": 1, \"records\": []}", "invalid type"),
            (
                b"{\"version\": 1, \"records\": {\"a\": {\"attempts\": -1}}}",
                "invalid value",
            ),
            (
                b"{\"version\": 1, \"records\": {\"a\": {\"published\": {\"ipv4\": \"2a02:898:1::7\"}}}}",
                "invalid IPv4",
            ),
            (
                b"{\"version\": 1, \"records\": {\"a\": {\"fingerprint\": \"xyz\"}}}",
                "hexadecimal",
            ),
            (
                b"{\"version\": 1, \"records\": {\"a\": {\"last-error\": {\"class\": \"odd\", \"message\": \"m\"}}}}",
                "unknown error class",
            ),
            (
                b"{\"version\": 1, \"records\": {\"a\": {\"next-attempt\": 9223372036854775808}}}",
                "invalid value",
            ),
        ];
        for (bytes, want) in cases {
            let err = decode(bytes).unwrap_err();
            assert!(
                err.contains(want),
                "{:?}: {err:?} lacks {want:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let bytes =
            br#"{"version": 1, "future": true, "records": {"a": {"attempts": 1, "new-key": 5}}}"#;
        let records = decode(bytes).unwrap().records;
        assert_eq!(records["a"].attempts, 1);
    }
}

//! The file as written: one serde struct per table kind, spans kept where checks need them.
//! Never leaves the config module. Does not validate values; that is `build` and friends.
//!
//! Values that need checking (durations, URLs, words, names) stay `Spanned<String>` here so
//! the build step can report every bad value of an entry, each at its own position; serde
//! would stop at the first. No struct derives `Debug`: several hold inline secrets.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

type Text = Spanned<String>;
type DurationText = Spanned<Humantime>;

/// A duration as written (`"90s"`); parsed by the build step. Its own type only so that a
/// number (`check-interval = 300`) is reported as "expected a duration such as ...".
pub(super) struct Humantime(pub String);

impl<'de> Deserialize<'de> for Humantime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HumantimeVisitor;
        impl Visitor<'_> for HumantimeVisitor {
            type Value = Humantime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"90s\", \"5m\" or \"25d\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Humantime, E> {
                Ok(Humantime(v.to_string()))
            }
        }
        deserializer.deserialize_str(HumantimeVisitor)
    }
}

/// `[daemon]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDaemon {
    pub state_dir: Option<Text>,
    pub check_interval: Option<DurationText>,
    pub settle: Option<DurationText>,
    pub refresh_interval: Option<DurationText>,
    pub retry_min: Option<DurationText>,
    pub retry_max: Option<DurationText>,
    pub request_timeout: Option<DurationText>,
}

/// `[sources.NAME]` with `kind = "interface"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawInterfaceSource {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    pub interface: Option<Text>,
    pub ipv6: Option<Text>,
    #[serde(default)]
    pub allow_private: bool,
}

/// `[sources.NAME]` with `kind = "web"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawWebSource {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    #[serde(default)]
    pub ipv4_urls: Vec<Text>,
    #[serde(default)]
    pub ipv6_urls: Vec<Text>,
    pub quorum: Option<Spanned<i64>>,
    #[serde(default)]
    pub allow_private: bool,
}

/// `[sources.NAME]` with `kind = "command"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawCommandSource {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    pub command: Spanned<Vec<Text>>,
    #[serde(default)]
    pub allow_private: bool,
}

/// `[providers.NAME]` with `kind = "http"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawHttpProvider {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    pub method: Option<Text>,
    pub url: Text,
    pub body: Option<Text>,
    pub content_type: Option<Text>,
    #[serde(default)]
    pub headers: BTreeMap<Text, Text>,
    pub username: Option<Text>,
    pub password: Option<Text>,
    pub password_file: Option<Text>,
    pub password_credential: Option<Text>,
    pub token: Option<Text>,
    pub token_file: Option<Text>,
    pub token_credential: Option<Text>,
    pub success: Option<Text>,
    pub nochg: Option<Text>,
    pub zone: Option<Text>,
}

/// `[providers.NAME]` with `kind = "dyndns2"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDyndns2Provider {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    pub url: Text,
    pub username: Text,
    pub password: Option<Text>,
    pub password_file: Option<Text>,
    pub password_credential: Option<Text>,
    pub dual_stack: Option<Text>,
}

/// One `[[records]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawRecord {
    pub name: Text,
    pub provider: Text,
    pub source: Text,
    pub families: Option<Spanned<Vec<Text>>>,
    pub ttl: Option<DurationText>,
    pub ipv6_host_id: Option<Text>,
    pub ipv6_prefix_length: Option<Spanned<i64>>,
}

//! The configuration: the typed, validated, immutable `Config` every other module reads.
//!
//! Loading is two-stage (DESIGN.md "Configuration"): `raw` deserializes the file as written
//! (spans kept), `build` validates, resolves references and reads secrets, collecting **every**
//! error; `diagnostic` renders each as `path:line:col: key: message` + source line + caret.
//! Nothing here touches state.

pub mod build;
pub mod diagnostic;
mod document;
mod duckdns_provider;
mod dyndns_server_provider;
mod dynu_provider;
mod http_provider;
mod providers;
mod raw;
mod records;
mod rfc2136_provider;
mod secrets;
mod sources;
pub mod template;
mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::core::host_id::HostId;
use crate::core::select::SelectPolicy;
use crate::core::{Families, ProviderSpec, RecordSpec, SourceSpec, Timing};
use crate::secret::Secret;

pub use build::{load, load_str};
pub use diagnostic::ConfigErrors;
pub use duckdns_provider::{DuckdnsProviderConfig, duckdns_domain};
pub use dyndns_server_provider::{DyndnsServerMethod, DyndnsServerProviderConfig};
pub use dynu_provider::{DynuAccess, DynuAuth, DynuProviderConfig};

/// The default config path.
pub const DEFAULT_PATH: &str = "/etc/dynipd/dynipd.toml";

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was loaded from.
    pub path: PathBuf,
    pub daemon: DaemonConfig,
    pub sources: BTreeMap<String, SourceConfig>,
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Per provider (same keys as `providers`), the limits every kind shares.
    pub provider_limits: BTreeMap<String, ProviderLimits>,
    /// In file order. Names are unique.
    pub records: Vec<RecordConfig>,
    /// Odd but legal settings (e.g. inline secrets in a world-readable file), logged at WARN
    /// once logging is up.
    pub warnings: Vec<String>,
}

/// `[daemon]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonConfig {
    pub state_dir: PathBuf,
    pub check_interval: Duration,
    pub settle: Duration,
    /// `None` when `refresh-interval = "0s"` (never).
    pub refresh_interval: Option<Duration>,
    pub retry_min: Duration,
    pub retry_max: Duration,
    pub request_timeout: Duration,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            state_dir: PathBuf::from("/var/lib/dynipd"),
            check_interval: Duration::from_secs(300),
            settle: Duration::from_millis(300),
            refresh_interval: Some(Duration::from_secs(25 * 86_400)),
            retry_min: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// `[sources.NAME]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceConfig {
    Interface(InterfaceSourceConfig),
    Web(WebSourceConfig),
    Command(CommandSourceConfig),
}

impl SourceConfig {
    /// The `kind` word.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::Interface(_) => "interface",
            SourceConfig::Web(_) => "web",
            SourceConfig::Command(_) => "command",
        }
    }
}

/// `kind = "interface"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceSourceConfig {
    /// `None` = all interfaces.
    pub interface: Option<String>,
    pub policy: SelectPolicy,
}

/// `kind = "web"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSourceConfig {
    pub ipv4_urls: Vec<Url>,
    pub ipv6_urls: Vec<Url>,
    /// How many URLs must agree (≥ 1, ≤ the number of URLs of each family used).
    pub quorum: usize,
    pub allow_private: bool,
}

/// `kind = "command"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSourceConfig {
    /// argv; no shell.
    pub command: Vec<String>,
    pub allow_private: bool,
}

/// `[providers.NAME]`.
#[derive(Clone, Debug)]
pub enum ProviderConfig {
    Http(HttpProviderConfig),
    Dyndns2(Dyndns2ProviderConfig),
    Rfc2136(crate::provider::rfc2136::Rfc2136ProviderConfig),
    Dynu(DynuProviderConfig),
    DyndnsServer(DyndnsServerProviderConfig),
    Duckdns(DuckdnsProviderConfig),
}

impl ProviderConfig {
    /// The `kind` word.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderConfig::Http(_) => "http",
            ProviderConfig::Dyndns2(_) => "dyndns2",
            ProviderConfig::Rfc2136(_) => "rfc2136",
            ProviderConfig::Dynu(_) => "dynu",
            ProviderConfig::DyndnsServer(_) => "dyndns-server",
            ProviderConfig::Duckdns(_) => "duckdns",
        }
    }
}

/// What every provider kind takes besides its own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderLimits {
    /// `max-requests-per-hour`: the abuse guard's cap (`core::abuse`). See: #9.
    pub max_requests_per_hour: u32,
}

impl Default for ProviderLimits {
    fn default() -> Self {
        ProviderLimits {
            max_requests_per_hour: crate::core::abuse::DEFAULT_MAX_REQUESTS_PER_HOUR,
        }
    }
}

/// `GET` or `POST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

/// `kind = "http"`: a user's own URL template.
#[derive(Clone, Debug)]
pub struct HttpProviderConfig {
    pub method: HttpMethod,
    /// URL template; placeholders (`config::template::PLACEHOLDERS`) are URL-encoded. `{ip}`
    /// or `{type}` in any template means one request per family.
    pub url: String,
    /// Body template (POST), same placeholders; form-encoded when `content_type` is
    /// `application/x-www-form-urlencoded`, else inserted as they are.
    pub body: Option<String>,
    pub content_type: Option<String>,
    /// Extra headers (values may use the placeholders).
    pub headers: Vec<(String, String)>,
    /// Basic auth user; with `password`.
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
    /// Substituted for `{token}`; redacted wherever it would be shown.
    pub token: Option<Secret<String>>,
    /// The body must match this or `nochg` (and the status be 2xx).
    pub success: regex_lite::Regex,
    /// A reply meaning "already set": counts as published too.
    pub nochg: Option<regex_lite::Regex>,
    /// The zone for `{zone}` and `{host}`; `None`: the name minus its first label.
    pub zone: Option<String>,
}

/// How a dyndns2 provider sends a dual-stack record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DualStack {
    /// One request, `myip=v4,v6`.
    #[default]
    Combined,
    /// One request per family.
    Separate,
}

/// `kind = "dyndns2"`.
#[derive(Clone, Debug)]
pub struct Dyndns2ProviderConfig {
    pub url: Url,
    pub username: String,
    pub password: Secret<String>,
    pub dual_stack: DualStack,
}

/// `[[records]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordConfig {
    /// The FQDN, without a trailing dot.
    pub name: String,
    pub provider: String,
    pub source: String,
    pub families: Families,
    pub ttl: Duration,
    /// `ipv6-host-id` with `ipv6-prefix-length`: see [`RecordSpec::ipv6_host_id`].
    pub ipv6_host_id: Option<HostId>,
    /// See [`RecordSpec::fingerprint`].
    pub fingerprint: u64,
}

impl Config {
    /// The core's view of the timings.
    pub fn timing(&self) -> Timing {
        Timing {
            check_interval: self.daemon.check_interval,
            settle: self.daemon.settle,
            refresh_interval: self.daemon.refresh_interval,
            retry_min: self.daemon.retry_min,
            retry_max: self.daemon.retry_max,
        }
    }

    /// The core's view of the records.
    pub fn record_specs(&self) -> Vec<RecordSpec> {
        self.records
            .iter()
            .map(|r| RecordSpec {
                name: r.name.clone(),
                source: r.source.clone(),
                provider: r.provider.clone(),
                families: r.families,
                ipv6_host_id: r.ipv6_host_id,
                fingerprint: r.fingerprint,
            })
            .collect()
    }

    /// The core's view of the providers: each one's abuse-guard cap.
    pub fn provider_specs(&self) -> Vec<ProviderSpec> {
        self.providers
            .keys()
            .map(|name| ProviderSpec {
                name: name.clone(),
                max_requests_per_hour: self
                    .provider_limits
                    .get(name)
                    .copied()
                    .unwrap_or_default()
                    .max_requests_per_hour,
            })
            .collect()
    }

    /// The core's view of the sources that some record uses, each asked for the union of the
    /// families of its records.
    pub fn source_specs(&self) -> Vec<SourceSpec> {
        let mut wanted: BTreeMap<&str, Families> = BTreeMap::new();
        for r in &self.records {
            let f = wanted.entry(r.source.as_str()).or_default();
            *f = f.union(r.families);
        }
        wanted
            .into_iter()
            .map(|(name, families)| SourceSpec {
                name: name.to_string(),
                families,
            })
            .collect()
    }

    /// The record named `name`.
    pub fn record(&self, name: &str) -> Option<&RecordConfig> {
        self.records.iter().find(|r| r.name == name)
    }
}

//! `[providers.NAME]` → `ProviderConfig`: kind dispatch, the checks of each kind, secrets, and
//! what of a provider goes into its records' fingerprints.
//! Does not talk to any provider; that is `crate::provider`.

use std::ops::Range;

use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::raw::RawDyndns2Provider;
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use super::values::{http_url, is_loopback, word};
use super::{DualStack, Dyndns2ProviderConfig, HttpMethod, ProviderConfig, ProviderLimits};
use super::{
    duckdns_provider, dyndns_server_provider, dynu_provider, http_provider, rfc2136_provider,
};
use crate::core::Families;
use crate::core::fingerprint::Fingerprint;

/// The kinds this build can publish to.
const KINDS: &[&str] = &[
    "duckdns",
    "dyndns-server",
    "dyndns2",
    "dynu",
    "http",
    "rfc2136",
];
/// Kinds DESIGN.md names that are not built yet.
const UNBUILT: &[&str] = &[];

/// The key every provider kind takes for its abuse-guard cap (#9).
const MAX_REQUESTS_KEY: &str = "max-requests-per-hour";
/// The highest cap accepted: a request every second for the whole hour is already a flood.
const MAX_REQUESTS_CEILING: i64 = 3600;

/// Builds one provider, reading its secrets; every problem is reported, `None` when any.
/// `warnings` gets odd but legal settings (a password sent over plain http).
pub(super) fn build(
    entry: &Entry<'_>,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<(ProviderConfig, ProviderLimits)> {
    // Shared by every kind, so taken out here rather than repeated in each kind's raw struct.
    let (entry, cap) = entry.take(MAX_REQUESTS_KEY);
    let limits = limits(&entry, cap, diags);
    let config = build_kind(&entry, secrets, diags, warnings);
    Some((config?, limits?))
}

fn build_kind(
    entry: &Entry<'_>,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    match entry.kind("provider", KINDS, UNBUILT, diags)?.as_str() {
        "http" => http_provider::build(entry, entry.deserialize(diags)?, secrets, diags, warnings),
        "rfc2136" => rfc2136_provider::build(entry, &entry.deserialize(diags)?, secrets, diags),
        "dynu" => dynu_provider::build(entry, secrets, diags, warnings),
        "dyndns-server" => dyndns_server_provider::build(
            entry,
            &entry.deserialize(diags)?,
            secrets,
            diags,
            warnings,
        ),
        "duckdns" => duckdns_provider::build(entry, &entry.deserialize(diags)?, secrets, diags),
        _ => dyndns2(entry, entry.deserialize(diags)?, secrets, diags, warnings),
    }
}

/// A record as a provider's own rules see it (`records[2]` using `[providers.NAME]`).
pub(super) struct RecordUse<'a> {
    /// The record's key path (`records[2]`).
    pub path: &'a str,
    pub name: &'a str,
    pub name_span: Range<usize>,
    pub families: Families,
    /// The provider's table name.
    pub provider: &'a str,
}

/// The rules a provider kind sets for the records that use it: errors for records it cannot
/// serve, warnings for odd but legal ones.
pub(super) fn check_record(
    record: &RecordUse<'_>,
    provider: &ProviderConfig,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) {
    match provider {
        ProviderConfig::Http(h) => http_provider::check_record(record, h, diags),
        ProviderConfig::DyndnsServer(_) => dyndns_server_provider::check_record(record, warnings),
        ProviderConfig::Duckdns(_) => duckdns_provider::check_record(record, diags),
        ProviderConfig::Rfc2136(c) => rfc2136_provider::check_record(record, c, diags),
        ProviderConfig::Dyndns2(_) | ProviderConfig::Dynu(_) => {}
    }
}

/// `max-requests-per-hour`: an integer from 1 to [`MAX_REQUESTS_CEILING`]; the default when
/// absent. There is no "off": the cap is what stops a bug from becoming a flood.
fn limits(
    entry: &Entry<'_>,
    cap: Option<toml::Spanned<toml::de::DeValue<'_>>>,
    diags: &mut Diagnostics,
) -> Option<ProviderLimits> {
    let Some(cap) = cap else {
        return Some(ProviderLimits::default());
    };
    let span = cap.span();
    let key = entry.key(MAX_REQUESTS_KEY);
    let range = format!("a whole number of requests from 1 to {MAX_REQUESTS_CEILING}");
    let found = cap.get_ref().type_str();
    let parsed = <i64 as serde::Deserialize>::deserialize(toml::de::ValueDeserializer::from(cap));
    match parsed {
        Ok(n) if (1..=MAX_REQUESTS_CEILING).contains(&n) => Some(ProviderLimits {
            max_requests_per_hour: u32::try_from(n).ok()?,
        }),
        Ok(n) => {
            diags.error(span, key, format!("expected {range}, found {n}"));
            None
        }
        Err(_) => {
            diags.error(span, key, format!("expected {range}, found {found}"));
            None
        }
    }
}

fn dyndns2(
    entry: &Entry<'_>,
    raw: RawDyndns2Provider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    let url = http_url(raw.url.get_ref())
        .map_err(|message| diags.error(raw.url.span(), entry.key("url"), message))
        .ok();
    let mut ok = true;
    if raw.username.get_ref().is_empty() {
        diags.error(
            raw.username.span(),
            entry.key("username"),
            "username is empty",
        );
        ok = false;
    }
    let dual_stack = match &raw.dual_stack {
        None => Some(DualStack::default()),
        Some(text) => match word(text.get_ref(), &["combined", "separate"]) {
            Ok(0) => Some(DualStack::Combined),
            Ok(_) => Some(DualStack::Separate),
            Err(message) => {
                diags.error(text.span(), entry.key("dual-stack"), message);
                None
            }
        },
    };
    let password = secrets.read(
        entry,
        &SecretKeys {
            name: "password",
            inline: raw.password.as_ref(),
            file: raw.password_file.as_ref(),
            credential: raw.password_credential.as_ref(),
        },
        true,
        diags,
    );
    let (true, Some(url), Some(dual_stack), SecretValue::Present(password)) =
        (ok, url, dual_stack, password)
    else {
        return None;
    };
    if url.scheme() == "http" && !is_loopback(&url) {
        warnings.push(format!(
            "{}: the password is sent over plain http; use an https:// url",
            entry.key("url")
        ));
    }
    Some(ProviderConfig::Dyndns2(Dyndns2ProviderConfig {
        url,
        username: raw.username.into_inner(),
        password,
        dual_stack,
    }))
}

/// Feeds everything of `provider` that shapes an update, secrets included (a new password
/// un-parks the records that use it), into `fp`.
pub(super) fn fingerprint(fp: &mut Fingerprint, provider: &ProviderConfig) {
    fp.field(provider.kind().as_bytes());
    match provider {
        ProviderConfig::Http(h) => {
            fp.field(match h.method {
                HttpMethod::Get => "GET".as_bytes(),
                HttpMethod::Post => "POST".as_bytes(),
            });
            fp.field(h.url.as_bytes());
            optional(fp, h.body.as_deref());
            optional(fp, h.content_type.as_deref());
            fp.field(&(h.headers.len() as u64).to_le_bytes());
            for (name, value) in &h.headers {
                fp.field(name.as_bytes()).field(value.as_bytes());
            }
            optional(fp, h.username.as_deref());
            optional(fp, h.password.as_ref().map(|s| s.expose().as_str()));
            optional(fp, h.token.as_ref().map(|s| s.expose().as_str()));
            fp.field(h.success.as_str().as_bytes());
            optional(fp, h.nochg.as_ref().map(regex_lite::Regex::as_str));
            optional(fp, h.zone.as_deref());
        }
        ProviderConfig::Rfc2136(r) => {
            fp.field(r.server.to_string().as_bytes());
            fp.field(r.zone.as_bytes());
            fp.field(r.key_name.as_bytes());
            fp.field(r.key_algorithm.as_str().as_bytes());
            fp.field(r.key_secret.expose());
            fp.field(&[u8::from(r.verify)]);
        }
        ProviderConfig::Dyndns2(d) => {
            fp.field(d.url.as_str().as_bytes());
            fp.field(d.username.as_bytes());
            fp.field(d.password.expose().as_bytes());
            fp.field(match d.dual_stack {
                DualStack::Combined => "combined".as_bytes(),
                DualStack::Separate => "separate".as_bytes(),
            });
        }
        ProviderConfig::Dynu(d) => dynu_provider::fingerprint(fp, d),
        ProviderConfig::DyndnsServer(d) => dyndns_server_provider::fingerprint(fp, d),
        ProviderConfig::Duckdns(d) => duckdns_provider::fingerprint(fp, d),
    }
}

fn optional(fp: &mut Fingerprint, value: Option<&str>) {
    match value {
        None => fp.field(b"\0none"),
        Some(v) => fp.field(b"\0some").field(v.as_bytes()),
    };
}

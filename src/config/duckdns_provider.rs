//! `kind = "duckdns"` providers: a `token` and an overridable update `url`
//! (protocols/dyndns2.md §3). Also the rule for records on such a provider: DuckDNS serves only
//! `NAME.duckdns.org`, and its API takes `NAME`.
//! Does not send anything; that is `provider::duckdns`.

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use url::Url;

use super::ProviderConfig;
use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::providers::RecordUse;
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use super::values::http_url;
use crate::core::fingerprint::Fingerprint;
use crate::secret::Secret;

/// DuckDNS's update endpoint.
pub const DEFAULT_URL: &str = "https://www.duckdns.org/update";
/// The domain DuckDNS serves; a record's `domains=` value is its name without it.
pub const DOMAIN: &str = "duckdns.org";

/// `kind = "duckdns"`.
#[derive(Clone, Debug)]
pub struct DuckdnsProviderConfig {
    /// The update URL ([`DEFAULT_URL`] unless overridden, e.g. by tests).
    pub url: Url,
    pub token: Secret<String>,
}

/// `[providers.NAME]` with `kind = "duckdns"`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDuckdnsProvider {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    url: Option<Spanned<String>>,
    token: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    token_credential: Option<Spanned<String>>,
}

/// Builds one duckdns provider; every problem is reported, `None` when any.
pub(super) fn build(
    entry: &Entry<'_>,
    raw: &RawDuckdnsProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
) -> Option<ProviderConfig> {
    let url = match &raw.url {
        None => Url::parse(DEFAULT_URL).ok(),
        Some(text) => http_url(text.get_ref())
            .map_err(|message| diags.error(text.span(), entry.key("url"), message))
            .ok(),
    };
    let keys = SecretKeys {
        name: "token",
        inline: raw.token.as_ref(),
        file: raw.token_file.as_ref(),
        credential: raw.token_credential.as_ref(),
    };
    let token = secrets.read(entry, &keys, true, diags);
    let (Some(url), SecretValue::Present(token)) = (url, token) else {
        return None;
    };
    Some(ProviderConfig::Duckdns(DuckdnsProviderConfig {
        url,
        token,
    }))
}

/// The `domains=` value for a record name: `myhome` for `myhome.duckdns.org` (any case), or
/// `None` when the name is not exactly one label under duckdns.org.
pub fn duckdns_domain(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(DOMAIN.len() + 1)?;
    let (label, suffix) = (name.get(..cut)?, name.get(cut..)?);
    let is_ours = suffix
        .strip_prefix('.')
        .is_some_and(|d| d.eq_ignore_ascii_case(DOMAIN));
    (is_ours && !label.is_empty() && !label.contains('.')).then_some(label)
}

/// A record on a duckdns provider must be `NAME.duckdns.org`.
pub(super) fn check_record(record: &RecordUse<'_>, diags: &mut Diagnostics) {
    if duckdns_domain(record.name).is_some() {
        return;
    }
    diags.error(
        record.name_span.clone(),
        format!("{}.name", record.path),
        format!(
            "record \"{}\" uses duckdns provider \"{}\", which serves only names of the form \
             NAME.duckdns.org (e.g. \"myhome.duckdns.org\"; deeper names follow NAME on their \
             own); use the name DuckDNS gave you",
            record.name, record.provider
        ),
    );
}

/// Everything that shapes an update, token included.
pub(super) fn fingerprint(fp: &mut Fingerprint, config: &DuckdnsProviderConfig) {
    fp.field(config.url.as_str().as_bytes())
        .field(config.token.expose().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(duckdns_domain("myhome.duckdns.org"), Some("myhome"));
        assert_eq!(duckdns_domain("my-home.DuckDNS.org"), Some("my-home"));
        assert_eq!(duckdns_domain("duckdns.org"), None);
        assert_eq!(duckdns_domain(".duckdns.org"), None);
        assert_eq!(duckdns_domain("a.b.duckdns.org"), None);
        assert_eq!(duckdns_domain("home.example.org"), None);
        assert_eq!(duckdns_domain("xduckdns.org"), None);
        assert_eq!(duckdns_domain("é.duckdns.org"), Some("é"));
    }
}

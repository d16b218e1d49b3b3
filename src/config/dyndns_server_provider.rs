//! `kind = "dyndns-server"` providers: the HTTP API of the Python `dyndns` 2.0.0 server
//! (protocols/python-dyndns.md): a base `url`, a shared `secret`, and whether the secret and
//! name go in the path or the query. Also the rule for records on such a provider: one that
//! carries a single family has the other family's record deleted by every update (trap 1).
//! Does not send anything; that is `provider::dyndns_server`.

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use url::Url;

use super::ProviderConfig;
use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::providers::RecordUse;
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use super::values::{http_url, is_loopback, word};
use crate::core::Family;
use crate::core::fingerprint::Fingerprint;
use crate::secret::Secret;

/// How the secret and the name are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DyndnsServerMethod {
    /// `/update-by-path/SECRET/FQDN/IP[/IP]`; the server always sets TTL 300.
    #[default]
    Path,
    /// `/update-by-query?secret=…&fqdn=…&ipv4=…&ipv6=…&ttl=…`.
    Query,
}

impl DyndnsServerMethod {
    /// The word used in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            DyndnsServerMethod::Path => "path",
            DyndnsServerMethod::Query => "query",
        }
    }
}

/// `kind = "dyndns-server"`.
#[derive(Clone, Debug)]
pub struct DyndnsServerProviderConfig {
    /// The server's base URL (routes are appended to its path); no query, no fragment.
    pub url: Url,
    /// The shared secret: at least 8 ASCII letters or digits (the server's own rule).
    pub secret: Secret<String>,
    pub method: DyndnsServerMethod,
}

/// `[providers.NAME]` with `kind = "dyndns-server"`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawDyndnsServerProvider {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    url: Spanned<String>,
    secret: Option<Spanned<String>>,
    secret_file: Option<Spanned<String>>,
    secret_credential: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
}

/// Builds one dyndns-server provider; every problem is reported, `None` when any.
/// `warnings` gets a secret sent over plain http.
pub(super) fn build(
    entry: &Entry<'_>,
    raw: &RawDyndnsServerProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    let url = base_url(raw.url.get_ref())
        .map_err(|message| diags.error(raw.url.span(), entry.key("url"), message))
        .ok();
    let method = match &raw.method {
        None => Some(DyndnsServerMethod::default()),
        Some(text) => match word(text.get_ref(), &["path", "query"]) {
            Ok(0) => Some(DyndnsServerMethod::Path),
            Ok(_) => Some(DyndnsServerMethod::Query),
            Err(message) => {
                diags.error(text.span(), entry.key("method"), message);
                None
            }
        },
    };
    let keys = SecretKeys {
        name: "secret",
        inline: raw.secret.as_ref(),
        file: raw.secret_file.as_ref(),
        credential: raw.secret_credential.as_ref(),
    };
    let secret = match secrets.read(entry, &keys, true, diags) {
        SecretValue::Present(secret) if is_server_secret(secret.expose()) => Some(secret),
        SecretValue::Present(_) => {
            let (key, span) = [
                ("secret", &raw.secret),
                ("secret-file", &raw.secret_file),
                ("secret-credential", &raw.secret_credential),
            ]
            .into_iter()
            .find_map(|(key, value)| value.as_ref().map(|v| (key, v.span())))
            .unwrap_or_else(|| ("secret", entry.span()));
            diags.error(
                span,
                entry.key(key),
                "the dyndns server only accepts a secret of at least 8 ASCII letters and \
                 digits ([a-zA-Z0-9]); use the secret from the server's configuration",
            );
            None
        }
        SecretValue::Absent | SecretValue::Invalid => None,
    };
    let (Some(url), Some(method), Some(secret)) = (url, method, secret) else {
        return None;
    };
    if url.scheme() == "http" && !is_loopback(&url) {
        warnings.push(format!(
            "{}: the secret is sent over plain http in every request; use an https:// url",
            entry.key("url")
        ));
    }
    Some(ProviderConfig::DyndnsServer(DyndnsServerProviderConfig {
        url,
        secret,
        method,
    }))
}

/// The server's base URL: http(s), and neither a query (the server rejects any parameter it
/// does not know) nor a fragment.
fn base_url(text: &str) -> Result<Url, String> {
    let url = http_url(text)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "URL \"{text}\" has a query or fragment; give the server's base URL, e.g. \
             \"https://dyndns.example.org\" (the server rejects parameters it does not know)"
        ));
    }
    Ok(url)
}

/// The server's rule for its secret (`dyndns/config.py`, `validate_secret`).
fn is_server_secret(secret: &str) -> bool {
    secret.len() >= 8 && secret.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Trap 1 of protocols/python-dyndns.md: the server deletes the family a request leaves out,
/// so a single-family record wipes the other family's record at its name. Legal, but the
/// operator should know.
pub(super) fn check_record(record: &RecordUse<'_>, warnings: &mut Vec<String>) {
    let carried: Vec<Family> = record.families.iter().collect();
    let [family] = carried.as_slice() else {
        return;
    };
    let (other, rtype) = match family {
        Family::Ipv4 => (Family::Ipv6, "AAAA"),
        Family::Ipv6 => (Family::Ipv4, "A"),
    };
    warnings.push(format!(
        "{}.families: record \"{}\" carries only {family}, and dyndns-server provider \"{}\" \
         deletes the {rtype} record of \"{}\" with every update (the server removes the family \
         a request leaves out); add \"{other}\" to families unless that is intended",
        record.path, record.name, record.provider, record.name
    ));
}

/// Everything that shapes an update, secret included.
pub(super) fn fingerprint(fp: &mut Fingerprint, config: &DyndnsServerProviderConfig) {
    fp.field(config.url.as_str().as_bytes())
        .field(config.secret.expose().as_bytes())
        .field(config.method.as_str().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_secret_rule() {
        assert!(is_server_secret("Sup3rSecret"));
        assert!(is_server_secret("12345678"));
        assert!(!is_server_secret("short7x"));
        assert!(!is_server_secret("with space1"));
        assert!(!is_server_secret("ümlaut123"));
    }

    #[test]
    fn base_urls() {
        assert!(base_url("https://dyndns.example.org").is_ok());
        assert!(base_url("https://example.org/dyndns/").is_ok());
        assert!(base_url("https://example.org/?x=1").is_err());
        assert!(base_url("https://example.org/#top").is_err());
        assert!(base_url("ftp://example.org/").is_err());
    }
}

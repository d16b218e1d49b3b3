//! `kind = "dynu"` providers: the protocol (`rest` or `ip-update`), the base URL, and exactly
//! one way to log in: `api-key`, or `client-id` + `client-secret` (REST), or `username` +
//! `password` (ip-update). Secrets take the three forms of `config::secrets`.
//! Does not talk to Dynu; that is `provider::dynu`.

use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use url::Url;

use super::ProviderConfig;
use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use super::values::{http_url, is_loopback, word};
use crate::core::fingerprint::Fingerprint;
use crate::secret::Secret;

/// Dynu's API host, for both protocols (protocols/dynu-rest.md, dyndns2.md §4).
pub const DEFAULT_BASE_URL: &str = "https://api.dynu.com";

/// `kind = "dynu"`.
#[derive(Clone, Debug)]
pub struct DynuProviderConfig {
    /// `https://api.dynu.com` unless overridden (tests); no query, no fragment.
    pub base_url: Url,
    pub access: DynuAccess,
}

/// The protocol and its login.
#[derive(Clone, Debug)]
pub enum DynuAccess {
    /// `protocol = "rest"`: the v2 JSON API.
    Rest(DynuAuth),
    /// `protocol = "ip-update"`: `/nic/update` with Basic auth. The password may be given as
    /// its MD5 or SHA-256 hex digest, which Dynu accepts in its place (dyndns2.md §4).
    IpUpdate {
        username: String,
        password: Secret<String>,
    },
}

/// How the REST API is logged in to.
#[derive(Clone, Debug)]
pub enum DynuAuth {
    /// `API-Key: <key>`.
    ApiKey(Secret<String>),
    /// OAuth2 client credentials, exchanged for a bearer token.
    OAuth {
        client_id: String,
        client_secret: Secret<String>,
    },
}

type Text = Spanned<String>;

/// `[providers.NAME]` with `kind = "dynu"`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDynuProvider {
    #[serde(rename = "kind")]
    _kind: IgnoredAny,
    protocol: Option<Text>,
    base_url: Option<Text>,
    api_key: Option<Text>,
    api_key_file: Option<Text>,
    api_key_credential: Option<Text>,
    client_id: Option<Text>,
    client_secret: Option<Text>,
    client_secret_file: Option<Text>,
    client_secret_credential: Option<Text>,
    username: Option<Text>,
    password: Option<Text>,
    password_file: Option<Text>,
    password_credential: Option<Text>,
}

impl RawDynuProvider {
    fn api_key(&self) -> SecretKeys<'_> {
        SecretKeys {
            name: "api-key",
            inline: self.api_key.as_ref(),
            file: self.api_key_file.as_ref(),
            credential: self.api_key_credential.as_ref(),
        }
    }

    fn client_secret(&self) -> SecretKeys<'_> {
        SecretKeys {
            name: "client-secret",
            inline: self.client_secret.as_ref(),
            file: self.client_secret_file.as_ref(),
            credential: self.client_secret_credential.as_ref(),
        }
    }

    fn password(&self) -> SecretKeys<'_> {
        SecretKeys {
            name: "password",
            inline: self.password.as_ref(),
            file: self.password_file.as_ref(),
            credential: self.password_credential.as_ref(),
        }
    }
}

/// The first key given of a secret's three forms, with its span.
fn first_given(keys: &SecretKeys<'_>) -> Option<(String, std::ops::Range<usize>)> {
    let name = keys.name;
    [
        (name.to_string(), keys.inline),
        (format!("{name}-file"), keys.file),
        (format!("{name}-credential"), keys.credential),
    ]
    .into_iter()
    .find_map(|(key, value)| value.map(|v| (key, v.span())))
}

/// Builds one dynu provider; every problem is reported, `None` when any.
pub(super) fn build(
    entry: &Entry<'_>,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    let raw: RawDynuProvider = entry.deserialize(diags)?;
    let before = diags.len();
    let is_rest = match &raw.protocol {
        None => true,
        Some(text) => match word(text.get_ref(), &["rest", "ip-update"]) {
            Ok(i) => i == 0,
            Err(message) => {
                diags.error(text.span(), entry.key("protocol"), message);
                return None;
            }
        },
    };
    let base_url = match &raw.base_url {
        None => Url::parse(DEFAULT_BASE_URL).ok(),
        Some(text) => base_url(text.get_ref())
            .map_err(|message| diags.error(text.span(), entry.key("base-url"), message))
            .ok(),
    };
    let access = if is_rest {
        rest(entry, &raw, secrets, diags)
    } else {
        ip_update(entry, &raw, secrets, diags)
    };
    let (Some(base_url), Some(access)) = (base_url, access) else {
        return None;
    };
    if diags.len() != before {
        return None;
    }
    if base_url.scheme() == "http" && !is_loopback(&base_url) {
        warnings.push(format!(
            "{}: credentials are sent over plain http; use an https:// url",
            entry.key("base-url")
        ));
    }
    Some(ProviderConfig::Dynu(DynuProviderConfig {
        base_url,
        access,
    }))
}

/// An http(s) URL the API paths are appended to: no query or fragment.
fn base_url(text: &str) -> Result<Url, String> {
    let url = http_url(text)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "base URL \"{text}\" has a query or fragment; give only scheme, host, port and path"
        ));
    }
    Ok(url)
}

/// Reports each key of `protocol`'s other login that is set.
fn reject_keys(
    entry: &Entry<'_>,
    keys: &[(&str, Option<&Text>)],
    protocol: &str,
    diags: &mut Diagnostics,
) {
    for (key, value) in keys {
        if let Some(value) = value {
            diags.error(
                value.span(),
                entry.key(key),
                format!("{key} is only used with protocol = \"{protocol}\"; remove it"),
            );
        }
    }
}

/// `protocol = "rest"`: exactly one of api-key and client-id + client-secret.
fn rest(
    entry: &Entry<'_>,
    raw: &RawDynuProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
) -> Option<DynuAccess> {
    let pw = raw.password();
    reject_keys(
        entry,
        &[
            ("username", raw.username.as_ref()),
            ("password", pw.inline),
            ("password-file", pw.file),
            ("password-credential", pw.credential),
        ],
        "ip-update",
        diags,
    );
    let api_key = secrets.read(entry, &raw.api_key(), false, diags);
    let client_secret = secrets.read(entry, &raw.client_secret(), false, diags);
    let oauth_given = raw.client_id.is_some() || first_given(&raw.client_secret()).is_some();
    if let (Some((key, span)), true) = (first_given(&raw.api_key()), oauth_given) {
        diags.error(
            span,
            entry.key(&key),
            "give either api-key or client-id + client-secret, not both; remove one",
        );
        return None;
    }
    match (&raw.client_id, api_key, client_secret) {
        (_, SecretValue::Invalid, _) | (_, _, SecretValue::Invalid) => None,
        (None, SecretValue::Present(key), SecretValue::Absent) => {
            Some(DynuAccess::Rest(DynuAuth::ApiKey(key)))
        }
        (None, SecretValue::Absent, SecretValue::Absent) => {
            diags.error(
                entry.span(),
                &entry.path,
                "missing credentials: set api-key-file = \"/path\" (or client-id + \
                 client-secret-file for OAuth2)",
            );
            None
        }
        (Some(id), SecretValue::Absent, SecretValue::Absent) => {
            diags.error(
                id.span(),
                entry.key("client-id"),
                "client-id is set but no client-secret; add client-secret-file (or \
                 client-secret, client-secret-credential)",
            );
            None
        }
        (None, _, SecretValue::Present(_)) => {
            let (key, span) = first_given(&raw.client_secret())
                .unwrap_or_else(|| (entry.path.clone(), entry.span()));
            diags.error(
                span,
                entry.key(&key),
                "a client-secret is set but no client-id; add client-id (OAuth2 needs both)",
            );
            None
        }
        (Some(id), _, SecretValue::Present(secret)) => {
            if id.get_ref().is_empty() {
                diags.error(id.span(), entry.key("client-id"), "client-id is empty");
                return None;
            }
            Some(DynuAccess::Rest(DynuAuth::OAuth {
                client_id: id.get_ref().clone(),
                client_secret: secret,
            }))
        }
        // Both given was reported above.
        (Some(_), SecretValue::Present(_), SecretValue::Absent) => None,
    }
}

/// `protocol = "ip-update"`: username + password.
fn ip_update(
    entry: &Entry<'_>,
    raw: &RawDynuProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
) -> Option<DynuAccess> {
    let (key, secret) = (raw.api_key(), raw.client_secret());
    reject_keys(
        entry,
        &[
            ("api-key", key.inline),
            ("api-key-file", key.file),
            ("api-key-credential", key.credential),
            ("client-id", raw.client_id.as_ref()),
            ("client-secret", secret.inline),
            ("client-secret-file", secret.file),
            ("client-secret-credential", secret.credential),
        ],
        "rest",
        diags,
    );
    let password = secrets.read(entry, &raw.password(), true, diags);
    let username = match &raw.username {
        None => {
            diags.error(
                entry.span(),
                &entry.path,
                "missing username: protocol = \"ip-update\" logs in with username and password",
            );
            None
        }
        Some(u) if u.get_ref().is_empty() => {
            diags.error(u.span(), entry.key("username"), "username is empty");
            None
        }
        Some(u) => Some(u.get_ref().clone()),
    };
    let (Some(username), SecretValue::Present(password)) = (username, password) else {
        return None;
    };
    Some(DynuAccess::IpUpdate { username, password })
}

/// Feeds everything of `config` that shapes an update, secrets included, into `fp`.
pub(super) fn fingerprint(fp: &mut Fingerprint, config: &DynuProviderConfig) {
    fp.field(config.base_url.as_str().as_bytes());
    match &config.access {
        DynuAccess::Rest(DynuAuth::ApiKey(key)) => {
            fp.field(b"rest-api-key").field(key.expose().as_bytes());
        }
        DynuAccess::Rest(DynuAuth::OAuth {
            client_id,
            client_secret,
        }) => {
            fp.field(b"rest-oauth")
                .field(client_id.as_bytes())
                .field(client_secret.expose().as_bytes());
        }
        DynuAccess::IpUpdate { username, password } => {
            fp.field(b"ip-update")
                .field(username.as_bytes())
                .field(password.expose().as_bytes());
        }
    }
}

//! `kind = "http"` providers: method, templates (`url`, `body`, header values), headers,
//! basic auth, token, `success` and `nochg` regexes, `zone`. Template syntax is
//! `config::template`. Also the rule for records on such a provider: inside its `zone`.
//! Does not send anything; that is `provider::http`.

use crate::http::{is_header_name, is_header_value};
use toml::Spanned;
use url::Url;

use super::diagnostic::Diagnostics;
use super::document::{Entry, key_segment};
use super::providers::RecordUse;
use super::raw::RawHttpProvider;
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use super::template::{PLACEHOLDERS, unknown_placeholders, uses, with_examples};
use super::values::{fqdn, http_url, is_loopback, word};
use super::{HttpMethod, HttpProviderConfig, ProviderConfig};
use crate::secret::Secret;

/// The dyndns2 replies: `good 192.0.2.1`, `nochg 192.0.2.1`.
const DEFAULT_SUCCESS: &str = "^(good|nochg)";

/// Builds one http provider; every problem is reported, `None` when any.
pub(super) fn build(
    entry: &Entry<'_>,
    raw: RawHttpProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    let before = diags.len();
    let method = method(entry, &raw, diags);
    let url = templates(entry, &raw, diags);
    request_shape(entry, &raw, method, diags);
    let success = regex(entry, "success", raw.success.as_ref(), diags);
    let nochg = match &raw.nochg {
        None => Some(None),
        Some(text) => regex(entry, "nochg", Some(text), diags).map(Some),
    };
    let zone = zone(entry, &raw, diags);
    let auth = auth(entry, &raw, secrets, diags);
    let (Some(url), Some(success), Some(nochg), Some(zone), Some((password, token))) =
        (url, success, nochg, zone, auth)
    else {
        return None;
    };
    if diags.len() != before {
        return None;
    }
    if password.is_some() && url.scheme() == "http" && !is_loopback(&url) {
        warnings.push(format!(
            "{}: the password is sent over plain http; use an https:// url",
            entry.key("url")
        ));
    }
    Some(ProviderConfig::Http(HttpProviderConfig {
        method,
        url: raw.url.into_inner(),
        body: raw.body.map(Spanned::into_inner),
        content_type: raw.content_type.map(Spanned::into_inner),
        headers: raw
            .headers
            .into_iter()
            .map(|(k, v)| (k.into_inner(), v.into_inner()))
            .collect(),
        username: raw.username.map(Spanned::into_inner),
        password,
        token,
        success,
        nochg,
        zone,
    }))
}

fn method(entry: &Entry<'_>, raw: &RawHttpProvider, diags: &mut Diagnostics) -> HttpMethod {
    let Some(text) = &raw.method else {
        return HttpMethod::Get;
    };
    match word(&text.get_ref().to_ascii_uppercase(), &["GET", "POST"]) {
        Ok(0) => HttpMethod::Get,
        Ok(_) => HttpMethod::Post,
        Err(_) => {
            diags.error(
                text.span(),
                entry.key("method"),
                format!(
                    "unknown method \"{}\" (expected \"GET\" or \"POST\")",
                    text.get_ref()
                ),
            );
            HttpMethod::Get
        }
    }
}

/// Key path of a header: `providers.x.headers.X-Auth`.
fn header_key(entry: &Entry<'_>, name: &str) -> String {
    format!("{}.{}", entry.key("headers"), key_segment(name))
}

/// Every template with its key path: url, body, header values.
fn template_list<'r>(
    entry: &Entry<'_>,
    raw: &'r RawHttpProvider,
) -> Vec<(String, &'r Spanned<String>)> {
    let mut list = vec![(entry.key("url"), &raw.url)];
    if let Some(body) = &raw.body {
        list.push((entry.key("body"), body));
    }
    for (name, value) in &raw.headers {
        list.push((header_key(entry, name.get_ref()), value));
    }
    list
}

/// Checks every template's placeholders, and that the url template makes an http(s) URL.
fn templates(entry: &Entry<'_>, raw: &RawHttpProvider, diags: &mut Diagnostics) -> Option<Url> {
    let mut ok = true;
    for (key, text) in template_list(entry, raw) {
        let unknown = unknown_placeholders(text.get_ref());
        if !unknown.is_empty() {
            let braced = |words: &[&str]| -> String {
                let list: Vec<String> = words.iter().map(|w| format!("{{{w}}}")).collect();
                list.join(", ")
            };
            diags.error(
                text.span(),
                key,
                format!(
                    "unknown placeholder {} (known: {})",
                    braced(&unknown),
                    braced(PLACEHOLDERS)
                ),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    http_url(&with_examples(raw.url.get_ref()))
        .map_err(|message| {
            diags.error(
                raw.url.span(),
                entry.key("url"),
                format!("with its placeholders filled in, the url is not valid: {message}"),
            );
        })
        .ok()
}

/// Body only with POST, content-type only with a body, headers well-formed.
fn request_shape(
    entry: &Entry<'_>,
    raw: &RawHttpProvider,
    method: HttpMethod,
    diags: &mut Diagnostics,
) {
    if let (Some(body), HttpMethod::Get) = (&raw.body, method) {
        diags.error(
            body.span(),
            entry.key("body"),
            "a body is only sent with method = \"POST\"; set method = \"POST\" or remove body",
        );
    }
    if let Some(ct) = &raw.content_type {
        if raw.body.is_none() {
            diags.error(
                ct.span(),
                entry.key("content-type"),
                "content-type is set but there is no body; add body or remove content-type",
            );
        } else if !is_header_value(ct.get_ref()) {
            diags.error(
                ct.span(),
                entry.key("content-type"),
                "content-type contains a control character",
            );
        }
    }
    for (name, value) in &raw.headers {
        let key = header_key(entry, name.get_ref());
        if !is_header_name(name.get_ref()) {
            diags.error(
                name.span(),
                key,
                format!("\"{}\" is not a valid HTTP header name", name.get_ref()),
            );
        } else if !is_header_value(value.get_ref()) {
            diags.error(
                value.span(),
                key,
                "header value contains a control character (e.g. a line break)",
            );
        }
    }
}

/// The regex at `key` (`success` defaults to [`DEFAULT_SUCCESS`]).
fn regex(
    entry: &Entry<'_>,
    key: &str,
    written: Option<&Spanned<String>>,
    diags: &mut Diagnostics,
) -> Option<regex_lite::Regex> {
    let text = written.map_or(DEFAULT_SUCCESS, |s| s.get_ref().as_str());
    regex_lite::Regex::new(text)
        .map_err(|e| {
            let span = written.map_or_else(|| entry.span(), Spanned::span);
            diags.error(
                span,
                entry.key(key),
                format!("invalid regex \"{text}\": {e}"),
            );
        })
        .ok()
}

/// `zone`: a DNS name, lowercased; `Some(None)` when absent.
fn zone(
    entry: &Entry<'_>,
    raw: &RawHttpProvider,
    diags: &mut Diagnostics,
) -> Option<Option<String>> {
    let Some(text) = &raw.zone else {
        return Some(None);
    };
    match fqdn(text.get_ref()) {
        Ok(zone) => Some(Some(zone.to_ascii_lowercase())),
        Err(message) => {
            diags.error(text.span(), entry.key("zone"), message);
            None
        }
    }
}

/// With `zone` set, a record must be the zone itself or a name inside it.
pub(super) fn check_record(
    record: &RecordUse<'_>,
    config: &super::HttpProviderConfig,
    diags: &mut Diagnostics,
) {
    let Some(zone) = &config.zone else {
        return;
    };
    let name = record.name.to_ascii_lowercase();
    let inside = name == *zone
        || name
            .strip_suffix(zone.as_str())
            .is_some_and(|host| host.ends_with('.'));
    if !inside {
        diags.error(
            record.name_span.clone(),
            format!("{}.name", record.path),
            format!(
                "record \"{}\" is not in zone \"{zone}\" of http provider \"{}\" (its {{host}} \
                 and {{zone}} come from that zone); fix the name or providers.{}.zone",
                record.name,
                record.provider,
                key_segment(record.provider)
            ),
        );
    }
}

/// Password (with username: both or neither) and token.
type Auth = (Option<Secret<String>>, Option<Secret<String>>);

fn auth(
    entry: &Entry<'_>,
    raw: &RawHttpProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
) -> Option<Auth> {
    let password_keys = SecretKeys {
        name: "password",
        inline: raw.password.as_ref(),
        file: raw.password_file.as_ref(),
        credential: raw.password_credential.as_ref(),
    };
    let password = secrets.read(entry, &password_keys, false, diags);
    let token_keys = SecretKeys {
        name: "token",
        inline: raw.token.as_ref(),
        file: raw.token_file.as_ref(),
        credential: raw.token_credential.as_ref(),
    };
    let token = secrets.read(entry, &token_keys, false, diags);
    let mut ok = true;
    match (&raw.username, &password) {
        (Some(user), SecretValue::Absent) => {
            diags.error(
                user.span(),
                entry.key("username"),
                "username is set but no password; add password-file (or password, password-credential)",
            );
            ok = false;
        }
        (None, SecretValue::Present(_) | SecretValue::Invalid) => {
            let (key, span) = [
                ("password", &raw.password),
                ("password-file", &raw.password_file),
                ("password-credential", &raw.password_credential),
            ]
            .iter()
            .find_map(|(k, v)| v.as_ref().map(|v| (entry.key(k), v.span())))
            .unwrap_or_else(|| (entry.path.clone(), entry.span()));
            diags.error(
                span,
                key,
                "a password is set but no username; add username (basic auth needs both)",
            );
            ok = false;
        }
        _ => {}
    }
    // An invalid token was reported already; only a missing one makes `{token}` an error.
    if matches!(token, SecretValue::Absent) {
        ok &= token_is_needed(entry, raw, diags);
    }
    let (Ok(password), Ok(token)) = (password.optional(), token.optional()) else {
        return None;
    };
    ok.then_some((password, token))
}

/// `{token}` in a template needs a token: reports each use; `true` when there is none.
fn token_is_needed(entry: &Entry<'_>, raw: &RawHttpProvider, diags: &mut Diagnostics) -> bool {
    let mut ok = true;
    for (key, text) in template_list(entry, raw) {
        if uses(text.get_ref(), "token") {
            ok = false;
            diags.error(
                text.span(),
                key,
                "{token} is used but no token is set; add token-file (or token, token-credential)",
            );
        }
    }
    ok
}

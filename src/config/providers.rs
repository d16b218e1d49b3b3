//! `[providers.NAME]` → `ProviderConfig`: kind dispatch, the checks of each kind, secrets, and
//! what of a provider goes into its records' fingerprints.
//! Does not talk to any provider; that is `crate::provider`.

use toml::Spanned;

use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::raw::{RawDyndns2Provider, RawHttpProvider};
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use super::template::{unknown_placeholders, uses, with_examples};
use super::values::{http_url, is_loopback, word};
use super::{DualStack, Dyndns2ProviderConfig, HttpMethod, HttpProviderConfig, ProviderConfig};
use crate::core::fingerprint::Fingerprint;

/// The kinds this build can publish to.
const KINDS: &[&str] = &["dyndns2", "http"];
/// Kinds DESIGN.md names that are not built yet.
const UNBUILT: &[&str] = &["rfc2136", "dynu", "duckdns", "dyndns-server"];
const DEFAULT_SUCCESS: &str = "^(good|nochg)";

/// Builds one provider, reading its secrets; every problem is reported, `None` when any.
/// `warnings` gets odd but legal settings (a password sent over plain http).
pub(super) fn build(
    entry: &Entry<'_>,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    match entry.kind("provider", KINDS, UNBUILT, diags)?.as_str() {
        "http" => http(entry, entry.deserialize(diags)?, secrets, diags, warnings),
        _ => dyndns2(entry, entry.deserialize(diags)?, secrets, diags, warnings),
    }
}

fn http(
    entry: &Entry<'_>,
    raw: RawHttpProvider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Option<ProviderConfig> {
    let mut ok = true;
    let mut fail = |span, key: String, message: String| {
        diags.error(span, key, message);
        ok = false;
    };

    let method = match &raw.method {
        None => HttpMethod::Get,
        Some(m) => match word(&m.get_ref().to_ascii_uppercase(), &["GET", "POST"]) {
            Ok(0) => HttpMethod::Get,
            Ok(_) => HttpMethod::Post,
            Err(_) => {
                let message = format!(
                    "unknown method \"{}\" (expected \"GET\" or \"POST\")",
                    m.get_ref()
                );
                fail(m.span(), entry.key("method"), message);
                HttpMethod::Get
            }
        },
    };

    // Every template: its key path, span and text.
    let mut templates: Vec<(String, &Spanned<String>)> = vec![(entry.key("url"), &raw.url)];
    if let Some(body) = &raw.body {
        templates.push((entry.key("body"), body));
    }
    for (name, value) in &raw.headers {
        templates.push((
            format!(
                "{}.{}",
                entry.key("headers"),
                header_segment(name.get_ref())
            ),
            value,
        ));
    }
    for (key, text) in &templates {
        let unknown = unknown_placeholders(text.get_ref());
        if !unknown.is_empty() {
            let list: Vec<String> = unknown.iter().map(|w| format!("{{{w}}}")).collect();
            fail(
                text.span(),
                key.clone(),
                format!(
                    "unknown placeholder {} (known: {{name}}, {{ipv4}}, {{ipv6}}, {{ttl}}, {{token}})",
                    list.join(", ")
                ),
            );
        }
    }
    let url = match http_url(&with_examples(raw.url.get_ref())) {
        Ok(url) => Some(url),
        Err(_) if !unknown_placeholders(raw.url.get_ref()).is_empty() => None,
        Err(message) => {
            let message =
                format!("with its placeholders filled in, the url is not valid: {message}");
            fail(raw.url.span(), entry.key("url"), message);
            None
        }
    };
    if let (Some(body), HttpMethod::Get) = (&raw.body, method) {
        fail(
            body.span(),
            entry.key("body"),
            "a body is only sent with method = \"POST\"; set method = \"POST\" or remove body"
                .into(),
        );
    }
    if let Some(ct) = &raw.content_type {
        if raw.body.is_none() {
            fail(
                ct.span(),
                entry.key("content-type"),
                "content-type is set but there is no body; add body or remove content-type".into(),
            );
        } else if !is_header_value(ct.get_ref()) {
            fail(
                ct.span(),
                entry.key("content-type"),
                "content-type contains a control character".into(),
            );
        }
    }
    for (name, value) in &raw.headers {
        let key = format!(
            "{}.{}",
            entry.key("headers"),
            header_segment(name.get_ref())
        );
        if !is_header_name(name.get_ref()) {
            fail(
                name.span(),
                key,
                format!("\"{}\" is not a valid HTTP header name", name.get_ref()),
            );
        } else if !is_header_value(value.get_ref()) {
            fail(
                value.span(),
                key,
                "header value contains a control character (e.g. a line break)".into(),
            );
        }
    }
    let success_text = raw
        .success
        .as_ref()
        .map_or(DEFAULT_SUCCESS, |s| s.get_ref().as_str());
    let success = match regex_lite::Regex::new(success_text) {
        Ok(re) => Some(re),
        Err(e) => {
            let span = raw
                .success
                .as_ref()
                .map_or_else(|| entry.span(), Spanned::span);
            fail(
                span,
                entry.key("success"),
                format!("invalid regex \"{success_text}\": {e}"),
            );
            None
        }
    };

    let password = secrets.read(
        entry,
        &SecretKeys {
            name: "password",
            inline: raw.password.as_ref(),
            file: raw.password_file.as_ref(),
            credential: raw.password_credential.as_ref(),
        },
        false,
        diags,
    );
    let token = secrets.read(
        entry,
        &SecretKeys {
            name: "token",
            inline: raw.token.as_ref(),
            file: raw.token_file.as_ref(),
            credential: raw.token_credential.as_ref(),
        },
        false,
        diags,
    );
    let has_password = !matches!(password, SecretValue::Absent);
    let has_token = !matches!(token, SecretValue::Absent);
    match (&raw.username, has_password) {
        (Some(user), false) => {
            diags.error(user.span(), entry.key("username"), "username is set but no password; add password-file (or password, password-credential)");
            ok = false;
        }
        (None, true) => {
            let given = [
                ("password", &raw.password),
                ("password-file", &raw.password_file),
                ("password-credential", &raw.password_credential),
            ];
            let (key, span) = given
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
    if !has_token {
        for (key, text) in &templates {
            if uses(text.get_ref(), "token") {
                diags.error(text.span(), key.clone(), "{token} is used but no token is set; add token-file (or token, token-credential)");
                ok = false;
            }
        }
    }
    let (Ok(password), Ok(token)) = (password.optional(), token.optional()) else {
        return None;
    };
    let (true, Some(url), Some(success)) = (ok, url, success) else {
        return None;
    };
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
    }))
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

/// A header name in a key path (`headers.X-Auth`, or quoted when odd).
fn header_segment(name: &str) -> String {
    super::document::key_segment(name)
}

/// RFC 9110 §5.1: a header name is a token.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 9110 §5.5: no control characters except tab.
fn is_header_value(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && c != '\t')
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
    }
}

fn optional(fp: &mut Fingerprint, value: Option<&str>) {
    match value {
        None => fp.field(b"\0none"),
        Some(v) => fp.field(b"\0some").field(v.as_bytes()),
    };
}

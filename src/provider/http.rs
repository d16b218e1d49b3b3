//! The generic `http` provider: the operator's own request template (method, URL, body,
//! headers, Basic auth) with `{name} {ipv4} {ipv6} {ttl} {token}` filled in, one request per
//! record, and a reply judged by status and the `success` regex.
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use crate::http::{is_header_name, is_header_value};
use std::time::Duration;

use url::Url;

use crate::config::HttpProviderConfig;
use crate::core::{Confirmed, ErrorClass, Failure, RecordId};
use crate::http::{HeaderValue, HttpClients, Request};
use crate::secret::Secret;

use super::Target;
use super::message::{Fix, ProviderLabel, answered, excerpt, next_step};

/// The most reply bytes read: enough for a JSON status, not for a web page.
const BODY_CAP: usize = 4096;

/// The values a template's placeholders stand for. A family without an address is empty.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    pub name: &'a str,
    pub ipv4: Option<std::net::Ipv4Addr>,
    pub ipv6: Option<std::net::Ipv6Addr>,
    pub ttl: Duration,
    /// The secret itself (render output that holds it must be masked before it is shown).
    pub token: Option<&'a Secret<String>>,
}

/// Where a rendered template goes, which decides how values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The URL: every value percent-encoded (an IPv6 address's colons become `%3A`), in the
    /// same form `redact::mask_secrets` looks for.
    Url,
    /// A body or header: values inserted as they are.
    Raw,
}

/// Fills `{name} {ipv4} {ipv6} {ttl} {token}` into `template` (`{ttl}` in whole seconds).
/// Any other `{...}` is left as written; config validation reports unknown placeholders.
pub fn render(template: &str, values: &Values<'_>, place: Place) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let value = match &after[..close] {
                "name" => values.name.to_string(),
                "ipv4" => values.ipv4.map(|a| a.to_string()).unwrap_or_default(),
                "ipv6" => values.ipv6.map(|a| a.to_string()).unwrap_or_default(),
                "ttl" => values.ttl.as_secs().to_string(),
                "token" => values.token.map(|t| t.expose().clone()).unwrap_or_default(),
                _ => return None,
            };
            Some((value, close))
        });
        match value {
            Some((value, close)) => {
                match place {
                    // `byte_serialize` writes a space as `+`, a space only in form bodies.
                    Place::Url => out.push_str(
                        &url::form_urlencoded::byte_serialize(value.as_bytes())
                            .collect::<String>()
                            .replace('+', "%20"),
                    ),
                    Place::Raw => out.push_str(&value),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The class of a reply, and what it means; `Ok` when the record is published.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    is_success_body: bool,
) -> Result<(), (ErrorClass, &'static str, Fix)> {
    match status {
        200..=299 if is_success_body => Ok(()),
        200..=299 => Err((
            ErrorClass::Protocol,
            "the body does not match the success pattern",
            Fix::Key("success"),
        )),
        429 => Err((
            ErrorClass::RateLimited { retry_after },
            "too many requests",
            Fix::Nothing,
        )),
        401 | 403 => Err((
            ErrorClass::Rejected,
            "the credentials were refused",
            Fix::Key("username, password(-file) or token(-file)"),
        )),
        400..=499 => Err((
            ErrorClass::Rejected,
            "the provider does not accept the request",
            Fix::Key("url, body or headers"),
        )),
        500..=599 => Err((ErrorClass::Transient, "server error", Fix::Nothing)),
        _ => Err((
            ErrorClass::Protocol,
            "an unexpected status (redirects are not followed)",
            Fix::Key("url"),
        )),
    }
}

/// A provider built from the operator's template.
#[derive(Debug)]
pub struct HttpProvider {
    config: HttpProviderConfig,
    clients: HttpClients,
    timeout: Duration,
    label: ProviderLabel,
}

impl HttpProvider {
    /// A provider for `config`; every request is bounded by `timeout`.
    pub fn new(config: HttpProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        HttpProvider {
            config,
            clients,
            timeout,
            label: ProviderLabel::new("http"),
        }
    }

    /// Names the provider (`[providers.NAME]`) in its messages.
    pub fn with_name(mut self, name: &str) -> Self {
        self.label = self.label.named(name);
        self
    }

    /// The requests `publish` would send, one per target, the token and password masked. A
    /// template that cannot be rendered shows the error instead.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .map(|t| match self.request(t) {
                Ok(request) => request.describe(),
                Err(failure) => format!("error: {}", failure.message),
            })
            .collect()
    }

    /// Sends one request per target, one after another.
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        let mut out = Vec::with_capacity(targets.len());
        for target in targets {
            out.push((target.name.clone(), self.publish_one(target).await));
        }
        out
    }

    async fn publish_one(&self, target: &Target) -> Result<Confirmed, Failure> {
        let request = self.request(target)?;
        let reply = self
            .clients
            .send(None, &request, self.timeout, BODY_CAP)
            .await
            .map_err(|e| {
                let class = e.class();
                Failure {
                    class,
                    message: format!(
                        "{} could not update {}: {e}; {}",
                        self.label,
                        target.name,
                        next_step(class, "")
                    ),
                }
            })?;
        let body = reply.text();
        let is_success_body = self.config.success.is_match(&body);
        match classify(reply.status, reply.retry_after, is_success_body) {
            Ok(()) => Ok(Confirmed {
                addresses: target.addresses,
                provider_cache: target.cache.clone(),
            }),
            Err((class, meaning, fix)) => {
                let mut said = format!("HTTP {}", reply.status);
                if !body.trim().is_empty() {
                    said = format!("{said} {}", excerpt(&body, &self.secrets()));
                }
                let message = answered(&self.label, &said, &target.name, meaning, class, fix);
                Err(Failure { class, message })
            }
        }
    }

    /// The request for `target`, or a rejection when the template gives no valid request.
    fn request(&self, target: &Target) -> Result<Request, Failure> {
        let values = Values {
            name: &target.name,
            ipv4: target.addresses.ipv4,
            ipv6: target.addresses.ipv6,
            ttl: target.ttl,
            token: self.config.token.as_ref(),
        };
        let unusable = |what: &str, key: &'static str| Failure {
            class: ErrorClass::Rejected,
            message: format!(
                "{} cannot build the request for {}: {what}; {}",
                self.label,
                target.name,
                next_step(
                    ErrorClass::Rejected,
                    &format!("fix {}", self.label.key(key))
                )
            ),
        };
        // The parse error is quoted, never the rendered URL: it may hold the token.
        let url = Url::parse(&render(&self.config.url, &values, Place::Url))
            .map_err(|e| unusable(&format!("the url template gives no valid URL ({e})"), "url"))?;
        let mut request = Request::get(url);
        request.method = self.config.method;
        request.secrets_in_text = self.secrets();
        if let Some(content_type) = &self.config.content_type {
            request = request.header("Content-Type", content_type);
        }
        for (name, template) in &self.config.headers {
            let value = render(template, &values, Place::Raw);
            if !is_header_name(name) || !is_header_value(&value) {
                return Err(unusable(
                    &format!("header {name:?} is not a valid HTTP header"),
                    "headers",
                ));
            }
            request
                .headers
                .push((name.clone(), HeaderValue::Plain(value)));
        }
        if let (Some(user), Some(password)) = (&self.config.username, &self.config.password) {
            request = request.basic_auth(user, password);
        }
        request.body = self
            .config
            .body
            .as_ref()
            .map(|body| render(body, &values, Place::Raw));
        Ok(request)
    }

    /// What must never appear in a message or the plan: the token, the password and the Basic
    /// credentials (a server may echo the Authorization header back; found by #9's leak check).
    fn secrets(&self) -> Vec<Secret<String>> {
        let mut secrets: Vec<Secret<String>> = self
            .config
            .token
            .iter()
            .chain(self.config.password.iter())
            .cloned()
            .collect();
        if let (Some(user), Some(password)) = (&self.config.username, &self.config.password) {
            secrets.push(crate::http::basic_credentials(user, password));
        }
        secrets
    }
}

#[cfg(test)]
mod tests;

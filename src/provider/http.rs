//! The generic `http` provider: the operator's own request template (method, URL, body,
//! headers, Basic auth) with its placeholders filled in (`http::render`), one request per
//! record — or per family the record carries, when a template uses `{ip}` or `{type}` — and a
//! reply judged by status and the `success` / `nochg` regexes.
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use crate::http::{is_header_name, is_header_value};
use std::time::Duration;

use url::Url;

use crate::config::HttpProviderConfig;
use crate::config::template::is_per_family;
use crate::core::{Confirmed, ErrorClass, Failure, Families, RecordId};
use crate::http::{HeaderValue, HttpClients, Request};
use crate::secret::Secret;

use super::Target;
use super::message::{Fix, ProviderLabel, answered, excerpt, next_step, send_failure, worst};

pub mod render;

pub use render::{Place, Values, host_and_zone, render};

/// The most reply bytes read: enough for a JSON status, not for a web page.
const BODY_CAP: usize = 4096;

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
    /// A template uses `{ip}` or `{type}`: one request per family.
    is_per_family: bool,
    /// How body values are encoded.
    body_place: Place,
}

impl HttpProvider {
    /// A provider for `config`; every request is bounded by `timeout`.
    pub fn new(config: HttpProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        let templates = std::iter::once(config.url.as_str())
            .chain(config.body.as_deref())
            .chain(config.headers.iter().map(|(_, v)| v.as_str()));
        let is_per_family = is_per_family(templates);
        let is_form = config.content_type.as_deref().is_some_and(|ct| {
            ct.split(';').next().is_some_and(|media| {
                media
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
        HttpProvider {
            config,
            clients,
            timeout,
            label: ProviderLabel::new("http"),
            is_per_family,
            body_place: if is_form { Place::Form } else { Place::Raw },
        }
    }

    /// Names the provider (`[providers.NAME]`) in its messages.
    pub fn with_name(mut self, name: &str) -> Self {
        self.label = self.label.named(name);
        self
    }

    /// The requests `publish` would send, one per target (or per family), the token and
    /// password masked. A template that cannot be rendered shows the error instead.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .flat_map(|t| match self.requests(t) {
                Ok(requests) => requests.iter().map(Request::describe).collect(),
                Err(failure) => vec![format!("error: {}", failure.message)],
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

    /// Sends the target's requests; confirmed only when every one succeeded. After a
    /// rejection or a rate limit the record's other family is not sent.
    async fn publish_one(&self, target: &Target) -> Result<Confirmed, Failure> {
        let mut failures = Vec::new();
        for request in self.requests(target)? {
            if let Err(failure) = self.send(target, &request).await {
                let is_final = matches!(
                    failure.class,
                    ErrorClass::Rejected | ErrorClass::RateLimited { .. }
                );
                failures.push(failure);
                if is_final {
                    break;
                }
            }
        }
        match worst(failures) {
            Some(failure) => Err(failure),
            None => Ok(Confirmed {
                addresses: target.addresses,
                provider_cache: target.cache.clone(),
            }),
        }
    }

    async fn send(&self, target: &Target, request: &Request) -> Result<(), Failure> {
        let reply = self
            .clients
            .send(None, request, self.timeout, BODY_CAP)
            .await
            .map_err(|e| send_failure(&self.label, "update", &target.name, &e))?;
        let body = reply.text();
        let is_success_body = self.config.success.is_match(&body)
            || self
                .config
                .nochg
                .as_ref()
                .is_some_and(|r| r.is_match(&body));
        match classify(reply.status, reply.retry_after, is_success_body) {
            Ok(()) => Ok(()),
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

    /// The requests for `target`: one, or one per family with an address in per-family mode.
    fn requests(&self, target: &Target) -> Result<Vec<Request>, Failure> {
        let (host, zone) = host_and_zone(&target.name, self.config.zone.as_deref());
        let all = Values {
            name: &target.name,
            host,
            zone,
            ipv4: target.addresses.ipv4,
            ipv6: target.addresses.ipv6,
            ip: None,
            ttl: target.ttl,
            token: self.config.token.as_ref(),
        };
        if !self.is_per_family {
            return Ok(vec![self.request(target, &all)?]);
        }
        Families::BOTH
            .iter()
            .filter_map(|family| target.addresses.get(family))
            .map(|ip| {
                let mut only = all;
                only.ip = Some(ip);
                only.ipv4 = all.ipv4.filter(|_| ip.is_ipv4());
                only.ipv6 = all.ipv6.filter(|_| ip.is_ipv6());
                self.request(target, &only)
            })
            .collect()
    }

    /// The request for `values`, or a rejection when the template gives no valid request.
    fn request(&self, target: &Target, values: &Values<'_>) -> Result<Request, Failure> {
        let values = *values;
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
            .map(|body| render(body, &values, self.body_place));
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

//! The `dyndns-server` provider: a client for the HTTP API of the Python `dyndns` 2.0.0
//! server, a TSIG gateway in front of BIND (protocols/python-dyndns.md). One GET per record,
//! carrying every family the record has in that one request, because the server deletes the
//! family a request leaves out (trap 1); replies classified in `reply`. Also deletes a record
//! through `/delete-by-path/…`.
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use std::time::Duration;

use url::Url;

use crate::config::{DyndnsServerMethod, DyndnsServerProviderConfig};
use crate::core::{Addresses, Confirmed, ErrorClass, Failure, Families, RecordId};
use crate::http::{HttpClients, Reply, Request};
use crate::secret::Secret;

use super::message::{ProviderLabel, answered, excerpt, next_step, send_failure};
use super::{Deleted, Target};

pub mod reply;

pub use reply::{Refusal, classify_delete, classify_update, record_type};

/// The most reply bytes read: two short lines, or one error line.
const BODY_CAP: usize = 4096;

/// A dyndns-server provider.
#[derive(Debug)]
pub struct DyndnsServerProvider {
    config: DyndnsServerProviderConfig,
    clients: HttpClients,
    timeout: Duration,
    label: ProviderLabel,
}

impl DyndnsServerProvider {
    /// A provider for `config`; every request is bounded by `timeout`.
    pub fn new(
        config: DyndnsServerProviderConfig,
        clients: HttpClients,
        timeout: Duration,
    ) -> Self {
        DyndnsServerProvider {
            config,
            clients,
            timeout,
            label: ProviderLabel::new("dyndns-server"),
        }
    }

    /// Names the provider (`[providers.NAME]`) in its messages.
    pub fn with_name(mut self, name: &str) -> Self {
        self.label = self.label.named(name);
        self
    }

    /// The requests `publish` would send, one per target, the secret masked. A target that
    /// would not be sent shows why instead.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .map(|t| match self.check_sendable(t) {
                Ok(()) => self.update_request(t).describe(),
                Err(failure) => format!("not sent: {}", failure.message),
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

    /// The request `delete` would send, the secret masked.
    pub fn plan_delete(&self, target: &Target) -> Vec<String> {
        vec![self.delete_request(target).describe()]
    }

    /// `GET …/delete-by-path/SECRET/NAME`: the server deletes the A and the AAAA record.
    ///
    /// Errors: a failure classified like an update's (`reply::error_status`).
    pub async fn delete(&self, target: &Target) -> Result<Deleted, Failure> {
        let reply = self.send(target, &self.delete_request(target)).await?;
        let body = reply.text();
        classify_delete(reply.status, reply.retry_after, &body)
            .map_err(|refusal| self.failure(target, reply.status, &body, &refusal))
    }

    async fn publish_one(&self, target: &Target) -> Result<Confirmed, Failure> {
        self.check_sendable(target)?;
        let reply = self.send(target, &self.update_request(target)).await?;
        let body = reply.text();
        classify_update(
            reply.status,
            reply.retry_after,
            &body,
            &target.name,
            target.addresses,
        )
        .map_err(|refusal| self.failure(target, reply.status, &body, &refusal))?;
        Ok(Confirmed {
            addresses: target.addresses,
            provider_cache: target.cache.clone(),
        })
    }

    /// Trap 1: a request without a family deletes that family's record, so a record is only
    /// sent with an address for every family it carries (a dual-stack record whose IPv6 was
    /// never detected waits rather than wipe a AAAA record it knows nothing about). A request
    /// without any address would make the server publish the connection's source address.
    fn check_sendable(&self, target: &Target) -> Result<(), Failure> {
        let missing: Vec<&str> = target
            .families
            .iter()
            .filter(|f| target.addresses.get(*f).is_none())
            .map(record_type)
            .collect();
        if missing.is_empty() && !target.addresses.is_empty() {
            return Ok(());
        }
        let class = ErrorClass::Transient;
        let carried: Vec<&str> = target.families.iter().map(|f| f.as_str()).collect();
        let mut message = format!(
            "{} holds back {}: no {} address is known yet, and this server deletes the record \
             of a family a request leaves out; {}",
            self.label,
            target.name,
            missing.join(" or "),
            next_step(class, "")
        );
        if let ([_, _], [_]) = (carried.as_slice(), missing.as_slice()) {
            let known: Vec<&str> = target
                .families
                .iter()
                .filter(|f| target.addresses.get(*f).is_some())
                .map(|f| f.as_str())
                .collect();
            message.push_str(&format!(
                " (if that family never comes, set families = [\"{}\"] on the record)",
                known.join("\", \"")
            ));
        }
        Err(Failure { class, message })
    }

    /// `…/update-by-path/SECRET/NAME/IPV4/IPV6` or
    /// `…/update-by-query?secret=…&fqdn=…&ipv4=…&ipv6=…&ttl=…`, with only the families the
    /// record carries (the server's own parameter names; no other parameter is allowed).
    fn update_request(&self, target: &Target) -> Request {
        let sent: Addresses = target.addresses.restricted_to(target.families);
        let addresses: Vec<String> = Families::BOTH
            .iter()
            .filter_map(|f| sent.get(f))
            .map(|a| a.to_string())
            .collect();
        let url = match self.config.method {
            DyndnsServerMethod::Path => {
                let mut segments = vec![
                    "update-by-path",
                    self.config.secret.expose().as_str(),
                    target.name.as_str(),
                ];
                segments.extend(addresses.iter().map(String::as_str));
                self.route(&segments)
            }
            DyndnsServerMethod::Query => {
                let mut url = self.route(&["update-by-query"]);
                {
                    let mut query = url.query_pairs_mut();
                    query
                        .append_pair("secret", self.config.secret.expose())
                        .append_pair("fqdn", &target.name);
                    if let Some(a) = sent.ipv4 {
                        query.append_pair("ipv4", &a.to_string());
                    }
                    if let Some(a) = sent.ipv6 {
                        query.append_pair("ipv6", &a.to_string());
                    }
                    query.append_pair("ttl", &target.ttl.as_secs().to_string());
                }
                url
            }
        };
        self.request(url)
    }

    fn delete_request(&self, target: &Target) -> Request {
        let secret = self.config.secret.expose().as_str();
        self.request(self.route(&["delete-by-path", secret, &target.name]))
    }

    /// The base URL with `segments` appended to its path (each percent-encoded as needed).
    fn route(&self, segments: &[&str]) -> Url {
        let mut url = self.config.url.clone();
        // An http(s) URL always has a path to extend; config validation ensures the scheme.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn request(&self, url: Url) -> Request {
        let mut request = Request::get(url);
        // The secret is in the path or the query: masked wherever the request is shown.
        request.secrets_in_text = self.secrets();
        request
    }

    fn secrets(&self) -> Vec<Secret<String>> {
        vec![self.config.secret.clone()]
    }

    async fn send(&self, target: &Target, request: &Request) -> Result<Reply, Failure> {
        self.clients
            .send(None, request, self.timeout, BODY_CAP)
            .await
            .map_err(|e| send_failure(&self.label, "reach the server for", &target.name, &e))
    }

    /// `dyndns-server provider "x" answered HTTP 456 "PARAMETER_ERROR: …" for NAME: …`.
    fn failure(&self, target: &Target, status: u16, body: &str, refusal: &Refusal) -> Failure {
        let mut said = format!("HTTP {status}");
        if !body.trim().is_empty() {
            said = format!("{said} {}", excerpt(body.trim_end(), &self.secrets()));
        }
        Failure {
            class: refusal.class,
            message: answered(
                &self.label,
                &said,
                &target.name,
                &refusal.meaning,
                refusal.class,
                refusal.fix,
            ),
        }
    }
}

#[cfg(test)]
mod tests;

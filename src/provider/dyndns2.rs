//! The dyndns2 provider (Dyn, No-IP and the many servers that copy them): batches records
//! into `GET <url>?hostname=a,b&myip=v4[,v6]` requests with pre-emptive Basic auth, and
//! classifies the one-word replies (protocols/dyndns2.md §1–2).
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use std::time::Duration;

use crate::config::{DualStack, Dyndns2ProviderConfig};
use crate::core::{Addresses, Confirmed, ErrorClass, Failure, Families, RecordId};
use crate::http::{HttpClients, Request};
use crate::secret::Secret;

use super::Target;
use super::message::{ProviderLabel, answered, excerpt, send_failure, worst};

pub mod reply;

pub use reply::{HostVerdict, Refusal, Said, WAIT_AFTER_911, classify};

/// The most hostnames one request may carry (`numhost` beyond that; dyndns2.md §1).
pub const MAX_HOSTS_PER_REQUEST: usize = 20;
/// The most reply bytes read: a dyndns2 reply is a few short lines.
const BODY_CAP: usize = 4096;

/// One request's worth of records: the targets (indices into the slice given to `plan` or
/// `publish`) that get the same `myip`, in target order, at most [`MAX_HOSTS_PER_REQUEST`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub targets: Vec<usize>,
    /// Exactly what `myip` carries.
    pub addresses: Addresses,
}

/// Groups `targets` into requests. `Combined`: a record's families go together, and records
/// share a request only when all their addresses are equal (a v4-only record never joins a
/// dual-stack one, which would set its AAAA). `Separate`: one request per family, records
/// sharing it when that family's address is equal. Targets without addresses are left out.
pub fn batches(targets: &[Target], dual_stack: DualStack) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    for (index, target) in targets.iter().enumerate() {
        let parts: Vec<Addresses> = match dual_stack {
            DualStack::Combined => vec![target.addresses],
            DualStack::Separate => Families::BOTH
                .iter()
                .filter_map(|f| target.addresses.get(f))
                .map(|addr| {
                    let mut only = Addresses::default();
                    only.set(addr);
                    only
                })
                .collect(),
        };
        for addresses in parts.into_iter().filter(|a| !a.is_empty()) {
            match out
                .iter_mut()
                .find(|b| b.addresses == addresses && b.targets.len() < MAX_HOSTS_PER_REQUEST)
            {
                Some(batch) => batch.targets.push(index),
                None => out.push(Batch {
                    targets: vec![index],
                    addresses,
                }),
            }
        }
    }
    out
}

/// A dyndns2 provider.
#[derive(Debug)]
pub struct Dyndns2Provider {
    config: Dyndns2ProviderConfig,
    clients: HttpClients,
    timeout: Duration,
    label: ProviderLabel,
}

impl Dyndns2Provider {
    /// A provider for `config`; every request is bounded by `timeout`.
    pub fn new(config: Dyndns2ProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        Dyndns2Provider {
            config,
            clients,
            timeout,
            label: ProviderLabel::new("dyndns2"),
        }
    }

    /// Names the provider (`[providers.NAME]`) in its messages.
    pub fn with_name(mut self, name: &str) -> Self {
        self.label = self.label.named(name);
        self
    }

    /// The requests `publish` would send, one string per request, secrets masked.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        batches(targets, self.config.dual_stack)
            .iter()
            .map(|b| self.request(&names(targets, b), b.addresses).describe())
            .collect()
    }

    /// Sends the batches one after another and returns one outcome per target. A record sent
    /// in several requests (`separate`) is confirmed only when every one succeeded. After an
    /// account-wide refusal (bad auth, rate limit) the rest of the round is not sent.
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        let mut failures: Vec<Vec<Failure>> = vec![Vec::new(); targets.len()];
        for (target, fails) in targets.iter().zip(failures.iter_mut()) {
            if target.addresses.is_empty() {
                fails.push(Failure {
                    class: ErrorClass::Protocol,
                    message: format!(
                        "{} has no address to publish for {}; will retry once one is detected",
                        self.label, target.name
                    ),
                });
            }
        }
        let mut stopped: Option<(String, Refusal)> = None;
        for batch in batches(targets, self.config.dual_stack) {
            let hosts = names(targets, &batch);
            if let Some((first, refusal)) = &stopped {
                for (&i, host) in batch.targets.iter().zip(&hosts) {
                    let about = format!("{first}, so {host} was not sent");
                    let message = self.refusal_message(refusal, &about, "");
                    failures[i].push(Failure {
                        class: refusal.class,
                        message,
                    });
                }
                continue;
            }
            let request = self.request(&hosts, batch.addresses);
            let reply = self
                .clients
                .send(None, &request, self.timeout, BODY_CAP)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => {
                    let failure = send_failure(&self.label, "update", &hosts.join(", "), &e);
                    for &i in &batch.targets {
                        failures[i].push(failure.clone());
                    }
                    continue;
                }
            };
            let body = reply.text();
            let verdicts = classify(reply.status, reply.retry_after, &body, hosts.len());
            for ((&i, host), verdict) in batch.targets.iter().zip(&hosts).zip(verdicts) {
                let Err(refusal) = verdict else { continue };
                let message = self.refusal_message(&refusal, host, &body);
                failures[i].push(Failure {
                    class: refusal.class,
                    message,
                });
                if stopped.is_none() && refusal.is_account_wide() {
                    stopped = Some((host.clone(), refusal));
                }
            }
        }
        targets
            .iter()
            .zip(failures)
            .map(|(target, fails)| {
                let outcome = match worst(fails) {
                    Some(failure) => Err(failure),
                    // `nochg` counts as published; what was sent is what is confirmed.
                    None => Ok(Confirmed {
                        addresses: target.addresses,
                        provider_cache: target.cache.clone(),
                    }),
                };
                (target.name.clone(), outcome)
            })
            .collect()
    }

    /// `GET <url>?[its own query&]hostname=a,b&myip=v4[,v6]` with Basic auth.
    fn request(&self, hosts: &[String], sent: Addresses) -> Request {
        let hostnames: Vec<String> = hosts
            .iter()
            .map(|h| {
                let encoded: String = url::form_urlencoded::byte_serialize(h.as_bytes()).collect();
                encoded.replace('+', "%20")
            })
            .collect();
        let myip: Vec<String> = Families::BOTH
            .iter()
            .filter_map(|f| sent.get(f))
            .map(|a| a.to_string())
            .collect();
        // Commas and colons stay raw, as ddclient and the protocol pages write them.
        let ours = format!("hostname={}&myip={}", hostnames.join(","), myip.join(","));
        let mut url = self.config.url.clone();
        let query = match url.query().filter(|q| !q.is_empty()) {
            Some(own) => format!("{own}&{ours}"),
            None => ours,
        };
        url.set_query(Some(&query));
        let mut request =
            Request::get(url).basic_auth(&self.config.username, &self.config.password);
        request.secrets_in_text = self.secrets();
        request
    }

    /// What must never appear in a message: the password and the Basic credentials.
    fn secrets(&self) -> Vec<Secret<String>> {
        vec![
            self.config.password.clone(),
            crate::http::basic_credentials(&self.config.username, &self.config.password),
        ]
    }

    /// `dyndns2 provider "x" answered "badauth" for host: meaning; next step`.
    fn refusal_message(&self, refusal: &Refusal, host: &str, body: &str) -> String {
        let said = match &refusal.said {
            Said::Code(code) => format!("\"{}\"", code.escape_debug()),
            Said::Status(status) => format!("HTTP {status}"),
            Said::Unreadable { status } => {
                format!("HTTP {status} {}", excerpt(body, &self.secrets()))
            }
        };
        answered(
            &self.label,
            &said,
            host,
            refusal.meaning,
            refusal.class,
            refusal.fix,
        )
    }
}

/// The hostnames of a batch, in order.
fn names(targets: &[Target], batch: &Batch) -> Vec<String> {
    batch
        .targets
        .iter()
        .map(|&i| targets[i].name.clone())
        .collect()
}

#[cfg(test)]
mod tests;

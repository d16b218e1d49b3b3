//! The dyndns2 provider (Dyn, No-IP and the many servers that copy them): batches records
//! into `GET <url>?hostname=a,b&myip=v4[,v6]` requests with pre-emptive Basic auth, and
//! classifies the one-word replies (protocols/dyndns2.md §1–2).
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use base64::Engine as _;

use crate::config::{DualStack, Dyndns2ProviderConfig};
use crate::core::{Addresses, Confirmed, ErrorClass, Failure, Families, RecordId};
use crate::http::{HttpClients, Request};
use crate::secret::Secret;

use super::Target;
use super::message::{Fix, ProviderLabel, answered, excerpt, next_step, worst};

/// The most hostnames one request may carry (`numhost` beyond that; dyndns2.md §1).
pub const MAX_HOSTS_PER_REQUEST: usize = 20;
/// The most reply bytes read: a dyndns2 reply is a few short lines.
const BODY_CAP: usize = 4096;
/// `911` means "come back later": No-IP asks for 30 minutes, Dynu for 10; a generic server
/// gets the larger (dyndns2.md §2).
pub const WAIT_AFTER_911: Duration = Duration::from_secs(30 * 60);

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

/// What the server said, as quoted in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Said {
    /// A reply line (its code, plus the address when that is the point: `good 127.0.0.1`).
    Code(String),
    /// Only the HTTP status speaks.
    Status(u16),
    /// A body that is no dyndns2 reply (the message quotes an excerpt).
    Unreadable { status: u16 },
}

/// Why one host was not published, as classified from the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub class: ErrorClass,
    pub said: Said,
    /// What it means, for the operator.
    pub meaning: &'static str,
    pub fix: Fix,
}

impl Refusal {
    /// A refusal about the account or the client rather than one host: the remaining requests
    /// of the round would get the same answer, so they are not sent.
    pub fn is_account_wide(&self) -> bool {
        matches!(self.class, ErrorClass::RateLimited { .. })
            || matches!(self.said, Said::Status(401 | 403))
            || matches!(&self.said, Said::Code(c) if ["badauth", "badagent", "!donator"].contains(&c.as_str()))
    }
}

/// One host's verdict: published (with the addresses the server echoed, if any) or refused.
pub type HostVerdict = Result<Vec<IpAddr>, Refusal>;

/// Classifies a reply to a request for `hosts` hostnames; returns exactly `hosts` verdicts in
/// request order. One line per host, or one line for all (ddclient's rule); `good`/`nochg` only
/// count under a 2xx status. A 401 is read too (No-IP's `badauth`); 429 waits `Retry-After`.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    hosts: usize,
) -> Vec<HostVerdict> {
    let hosts = hosts.max(1);
    let all = |v: HostVerdict| vec![v; hosts];
    if status == 429 {
        return all(Err(Refusal {
            class: ErrorClass::RateLimited { retry_after },
            said: Said::Status(status),
            meaning: "too many requests",
            fix: Fix::Nothing,
        }));
    }
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let unreadable = || Refusal {
        class: ErrorClass::Protocol,
        said: Said::Unreadable { status },
        meaning: "the reply is not a dyndns2 answer",
        fix: Fix::Key("url"),
    };
    let read = |line: &str| read_line(line, retry_after).unwrap_or_else(|| Err(unreadable()));
    let verdicts = match lines.len() {
        1 => all(read(lines[0])),
        n if n == hosts => lines.iter().map(|l| read(l)).collect(),
        _ => all(Err(unreadable())),
    };
    if (200..300).contains(&status) {
        return verdicts;
    }
    // Not 2xx: a known failure word still says more than the status (No-IP: 401 + badauth;
    // a 5xx may carry 911), but nothing under it counts as published.
    let words_only = verdicts
        .iter()
        .all(|v| matches!(v, Err(r) if matches!(r.said, Said::Code(_))));
    if words_only {
        return verdicts;
    }
    all(Err(status_refusal(status)))
}

/// The meaning of a non-2xx status whose body says nothing better.
fn status_refusal(status: u16) -> Refusal {
    let (class, meaning, fix) = match status {
        401 => (
            ErrorClass::Rejected,
            "the username or password is wrong",
            Fix::Key("username or password(-file)"),
        ),
        403 => (
            ErrorClass::Rejected,
            "the provider forbids this client or account",
            Fix::Do("check the account at the provider"),
        ),
        400..=499 => (
            ErrorClass::Rejected,
            "the provider does not accept this request here",
            Fix::Key("url"),
        ),
        500..=599 => (ErrorClass::Transient, "server error", Fix::Nothing),
        _ => (
            ErrorClass::Protocol,
            "the reply is not a dyndns2 answer (redirects are not followed)",
            Fix::Key("url"),
        ),
    };
    Refusal {
        class,
        said: Said::Status(status),
        meaning,
        fix,
    }
}

/// One reply line; `None` when its first token is no dyndns2 code.
fn read_line(line: &str, retry_after: Option<Duration>) -> Option<HostVerdict> {
    let mut tokens = line.split_whitespace();
    let code = tokens.next()?.to_ascii_lowercase();
    let tail: Vec<IpAddr> = tokens
        .flat_map(|t| t.split(','))
        .filter_map(|t| t.parse().ok())
        .collect();
    let refuse = |class, meaning, fix| {
        Some(Err(Refusal {
            class,
            said: Said::Code(code.clone()),
            meaning,
            fix,
        }))
    };
    let parked = ErrorClass::Rejected;
    match code.as_str() {
        "good" | "nochg" if tail.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)) => Some(Err(Refusal {
            class: parked,
            said: Said::Code(format!("{code} 127.0.0.1")),
            meaning: "the provider ignored the update, as it does for clients it considers \
                      broken (e.g. a blocked User-Agent)",
            fix: Fix::Do("check the account at the provider"),
        })),
        "good" | "nochg" => Some(Ok(tail)),
        "badauth" => refuse(
            parked,
            "the username or password is wrong",
            Fix::Key("username or password(-file)"),
        ),
        "!donator" => refuse(
            parked,
            "the update needs a paid account feature",
            Fix::Do("upgrade the account at the provider"),
        ),
        "notfqdn" => refuse(
            parked,
            "the name is not a fully qualified domain name",
            Fix::Do("fix the record's name"),
        ),
        "nohost" => refuse(
            parked,
            "the host is not in this account",
            Fix::Do("add the host at the provider or fix the record's name"),
        ),
        "numhost" => refuse(
            parked,
            "too many hosts in one request, or a round-robin host",
            Fix::Do("check the host at the provider"),
        ),
        "abuse" => refuse(
            parked,
            "the host is blocked for update abuse",
            Fix::Do("have it unblocked at the provider"),
        ),
        "badagent" => refuse(
            parked,
            "the provider blocked dynipd's User-Agent or request method",
            Fix::Key("url"),
        ),
        "!yours" => refuse(
            parked,
            "the host belongs to another account",
            Fix::Key("username"),
        ),
        "!active" => refuse(
            parked,
            "custom DNS is not active for the host",
            Fix::Do("activate it at the provider"),
        ),
        "badsys" => refuse(
            parked,
            "the provider rejects the system parameter",
            Fix::Key("url"),
        ),
        "dnserr" | "servererror" => refuse(
            ErrorClass::Transient,
            "the provider had a server-side error",
            Fix::Nothing,
        ),
        "911" => refuse(
            ErrorClass::RateLimited {
                retry_after: Some(retry_after.map_or(WAIT_AFTER_911, |r| r.max(WAIT_AFTER_911))),
            },
            "the provider is down for maintenance",
            Fix::Nothing,
        ),
        // ddclient honours `wNN[smh]`; no current page documents it (dyndns2.md §2).
        _ => wait_reply(&code).map(|wait| {
            Err(Refusal {
                class: ErrorClass::RateLimited {
                    retry_after: Some(retry_after.map_or(wait, |r| r.max(wait))),
                },
                said: Said::Code(code.clone()),
                meaning: "the provider asks to wait",
                fix: Fix::Nothing,
            })
        }),
    }
}

/// `w30s`, `w5m`, `w2h`.
fn wait_reply(code: &str) -> Option<Duration> {
    let rest = code.strip_prefix('w')?;
    let unit = rest.chars().last()?;
    let count: u64 = rest[..rest.len() - 1].parse().ok()?;
    let secs = match unit {
        's' => count,
        'm' => count.checked_mul(60)?,
        'h' => count.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
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
                    let class = e.class();
                    let message = format!(
                        "{} could not update {}: {e}; {}",
                        self.label,
                        hosts.join(", "),
                        next_step(class, "")
                    );
                    for &i in &batch.targets {
                        failures[i].push(Failure {
                            class,
                            message: message.clone(),
                        });
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
        let basic = format!("{}:{}", self.config.username, self.config.password.expose());
        vec![
            self.config.password.clone(),
            Secret::new(base64::engine::general_purpose::STANDARD.encode(basic)),
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

//! The `duckdns` provider (protocols/dyndns2.md §3): one
//! `GET <url>?domains=NAME&token=…&ip=V4&ipv6=V6&verbose=true` per record, the families the
//! record carries and no others (a missing `ip` would be filled from the connection's
//! address), and a reply judged by its body: `OK` / `KO`, or the four-line verbose form whose
//! echoed addresses must be the ones sent.
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{DuckdnsProviderConfig, duckdns_domain};
use crate::core::{Addresses, Confirmed, ErrorClass, Failure, Families, Family, RecordId};
use crate::http::{HttpClients, Request};
use crate::secret::Secret;

use super::Target;
use super::message::{Fix, ProviderLabel, answered, excerpt, next_step, send_failure};

/// The most reply bytes read: four short lines.
const BODY_CAP: usize = 1024;

/// Why a record was not published, as classified from the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub class: ErrorClass,
    pub meaning: String,
    pub fix: Fix,
}

fn refusal(class: ErrorClass, meaning: impl Into<String>, fix: Fix) -> Refusal {
    Refusal {
        class,
        meaning: meaning.into(),
        fix,
    }
}

/// Classifies a reply to an update that sent `sent`. `KO` (whatever the status: DuckDNS
/// documents none) is a rejection: a wrong token or a domain not in the account, it does not
/// say which. `OK`, or the verbose `OK / v4 / v6 / UPDATED|NOCHANGE`, under a 2xx status is
/// published; a verbose reply echoing another address than one sent is unconfirmed.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    sent: Addresses,
) -> Result<(), Refusal> {
    let lines: Vec<&str> = body.trim_end().lines().map(str::trim).collect();
    if lines.first() == Some(&"KO") {
        return Err(refusal(
            ErrorClass::Rejected,
            "DuckDNS refused the update: the token is wrong or the name is not one of the \
             account's domains (KO says no more)",
            Fix::Key("token(-file), or the record's name"),
        ));
    }
    match status {
        200..=299 => {}
        429 => {
            return Err(refusal(
                ErrorClass::RateLimited { retry_after },
                "too many requests",
                Fix::Nothing,
            ));
        }
        401 | 403 => {
            return Err(refusal(
                ErrorClass::Rejected,
                "access denied",
                Fix::Key("token(-file)"),
            ));
        }
        400..=499 => {
            return Err(refusal(
                ErrorClass::Rejected,
                "the server does not accept the request",
                Fix::Key("url"),
            ));
        }
        500..=599 => return Err(refusal(ErrorClass::Transient, "server error", Fix::Nothing)),
        _ => {
            return Err(refusal(
                ErrorClass::Protocol,
                "an unexpected status (redirects are not followed)",
                Fix::Key("url"),
            ));
        }
    }
    let not_understood = || {
        refusal(
            ErrorClass::Protocol,
            "the reply is not a DuckDNS answer",
            Fix::Key("url"),
        )
    };
    match lines.as_slice() {
        ["OK"] => Ok(()),
        ["OK", v4, v6, "UPDATED" | "NOCHANGE"] => {
            for (family, echoed) in [(Family::Ipv4, *v4), (Family::Ipv6, *v6)] {
                let Some(want) = sent.get(family) else {
                    continue;
                };
                if echoed.parse::<IpAddr>().ok() != Some(want) {
                    let shown = if echoed.is_empty() {
                        "no address"
                    } else {
                        echoed
                    };
                    return Err(refusal(
                        ErrorClass::Unconfirmed,
                        format!("DuckDNS reports {shown} for {family} although {want} was sent"),
                        Fix::Nothing,
                    ));
                }
            }
            Ok(())
        }
        _ => Err(not_understood()),
    }
}

/// A DuckDNS provider.
#[derive(Debug)]
pub struct DuckdnsProvider {
    config: DuckdnsProviderConfig,
    clients: HttpClients,
    timeout: Duration,
    label: ProviderLabel,
}

impl DuckdnsProvider {
    /// A provider for `config`; every request is bounded by `timeout`.
    pub fn new(config: DuckdnsProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        DuckdnsProvider {
            config,
            clients,
            timeout,
            label: ProviderLabel::new("duckdns"),
        }
    }

    /// Names the provider (`[providers.NAME]`) in its messages.
    pub fn with_name(mut self, name: &str) -> Self {
        self.label = self.label.named(name);
        self
    }

    /// The requests `publish` would send, one per target, the token masked.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .map(|t| match self.request(t) {
                Ok(request) => request.describe(),
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

    async fn publish_one(&self, target: &Target) -> Result<Confirmed, Failure> {
        let request = self.request(target)?;
        let reply = self
            .clients
            .send(None, &request, self.timeout, BODY_CAP)
            .await
            .map_err(|e| send_failure(&self.label, "update", &target.name, &e))?;
        let body = reply.text();
        let sent = target.addresses.restricted_to(target.families);
        match classify(reply.status, reply.retry_after, &body, sent) {
            Ok(()) => Ok(Confirmed {
                addresses: target.addresses,
                provider_cache: target.cache.clone(),
            }),
            Err(refusal) => {
                let mut said = format!("HTTP {}", reply.status);
                if !body.trim().is_empty() {
                    said = format!("{said} {}", excerpt(body.trim_end(), &self.secrets()));
                }
                Err(Failure {
                    class: refusal.class,
                    message: answered(
                        &self.label,
                        &said,
                        &target.name,
                        &refusal.meaning,
                        refusal.class,
                        refusal.fix,
                    ),
                })
            }
        }
    }

    /// `<url>?domains=NAME&token=…[&ip=V4][&ipv6=V6]&verbose=true`. Giving `ipv6` stops DuckDNS
    /// from filling a missing `ip` from the connection, and an IPv4-only record sends `ip`, so
    /// nothing is ever auto-detected.
    fn request(&self, target: &Target) -> Result<Request, Failure> {
        let sent = target.addresses.restricted_to(target.families);
        let Some(domain) = duckdns_domain(&target.name).filter(|_| !sent.is_empty()) else {
            let class = ErrorClass::Protocol;
            return Err(Failure {
                class,
                message: format!(
                    "{} has nothing to send for {} (no address, or not a NAME.duckdns.org \
                     name); {}",
                    self.label,
                    target.name,
                    next_step(class, "")
                ),
            });
        };
        let mut url = self.config.url.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("domains", domain)
                .append_pair("token", self.config.token.expose());
            for family in Families::BOTH.iter() {
                if let Some(addr) = sent.get(family) {
                    let key = match family {
                        Family::Ipv4 => "ip",
                        Family::Ipv6 => "ipv6",
                    };
                    query.append_pair(key, &addr.to_string());
                }
            }
            query.append_pair("verbose", "true");
        }
        let mut request = Request::get(url);
        request.secrets_in_text = self.secrets();
        Ok(request)
    }

    fn secrets(&self) -> Vec<Secret<String>> {
        vec![self.config.token.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(v4: Option<&str>, v6: Option<&str>) -> Addresses {
        Addresses {
            ipv4: v4.map(|a| a.parse().unwrap()),
            ipv6: v6.map(|a| a.parse().unwrap()),
        }
    }

    #[test]
    fn classify_table() {
        let both = sent(Some("198.51.100.7"), Some("2001:db8::7"));
        let v6 = sent(None, Some("2001:db8::7"));
        let rl = ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(9)),
        };
        // (status, body, sent, expected class or None for published)
        let table: &[(u16, &str, Addresses, Option<ErrorClass>)] = &[
            (200, "OK", both, None),
            (200, "OK\n", both, None),
            (200, "OK\n198.51.100.7\n2001:db8::7\nUPDATED", both, None),
            (200, "OK\n198.51.100.7\n2001:db8::7\nNOCHANGE", both, None),
            (200, "OK\n\n2001:db8::7\nUPDATED", v6, None),
            (
                200,
                "OK\n198.51.100.7\n2001:db8::8\nUPDATED",
                both,
                Some(ErrorClass::Unconfirmed),
            ),
            (
                200,
                "OK\n198.51.100.7\n\nUPDATED",
                both,
                Some(ErrorClass::Unconfirmed),
            ),
            (200, "KO", both, Some(ErrorClass::Rejected)),
            (400, "KO", both, Some(ErrorClass::Rejected)),
            (200, "", both, Some(ErrorClass::Protocol)),
            (
                200,
                "OK\n1.2.3.4\n\nMAYBE",
                both,
                Some(ErrorClass::Protocol),
            ),
            (200, "<html>OK</html>", both, Some(ErrorClass::Protocol)),
            (500, "OK", both, Some(ErrorClass::Transient)),
            (502, "", both, Some(ErrorClass::Transient)),
            (429, "", both, Some(rl)),
            (401, "", both, Some(ErrorClass::Rejected)),
            (404, "", both, Some(ErrorClass::Rejected)),
            (302, "", both, Some(ErrorClass::Protocol)),
        ];
        for (status, body, sent, expected) in table {
            let got = classify(*status, Some(Duration::from_secs(9)), body, *sent);
            assert_eq!(got.err().map(|r| r.class), *expected, "{status} {body:?}");
        }
    }
}

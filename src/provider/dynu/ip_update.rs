//! Dynu's IP Update Protocol (`protocol = "ip-update"`): one `GET /nic/update` per record with
//! pre-emptive Basic auth, `myip` / `myipv6` for the families it carries and `myip=no` /
//! `myipv6=no` for the others, which Dynu would otherwise fill in from the connection's source
//! address (protocols/dyndns2.md §4). Replies are read by the dyndns2 classifier where the
//! codes coincide, with Dynu's own rules on top: `911` waits 10 minutes, `unknown` is a
//! malformed request.
//! Does not decide when to publish (`core::scheduler`) nor send bytes (`crate::http`).

use std::time::Duration;

use base64::Engine as _;
use url::Url;

use crate::core::{Addresses, Confirmed, ErrorClass, Failure, Family, RecordId};
use crate::http::{HttpClients, Request};
use crate::provider::Target;
use crate::provider::dyndns2::{Refusal, Said, classify as classify_dyndns2};
use crate::provider::message::{Fix, ProviderLabel, answered, excerpt, send_failure};
use crate::secret::Secret;

/// The update path.
pub const UPDATE_PATH: &str = "/nic/update";
/// Dynu: "911: suspend updates for 10 minutes" (dyndns2.md §4).
pub const WAIT_AFTER_911: Duration = Duration::from_secs(10 * 60);
/// The most reply bytes read: a one-line reply.
const BODY_CAP: usize = 4096;

/// Classifies a `/nic/update` reply for one host: `Ok` for `good`/`nochg` under a 2xx.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> Result<(), Refusal> {
    let code = body
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let refusal = |class, meaning, fix| Refusal {
        class,
        said: Said::Code(code.clone()),
        meaning,
        fix,
    };
    match code.as_str() {
        "911" => {
            return Err(refusal(
                ErrorClass::RateLimited {
                    retry_after: Some(retry_after.unwrap_or_default().max(WAIT_AFTER_911)),
                },
                "Dynu is down for maintenance",
                Fix::Nothing,
            ));
        }
        "unknown" => {
            return Err(refusal(
                ErrorClass::Rejected,
                "Dynu could not read the request",
                Fix::Key("base-url"),
            ));
        }
        // Dynu: an unknown domain name can also give `badauth`.
        "badauth" => {
            return Err(refusal(
                ErrorClass::Rejected,
                "the username or password is wrong, or the host is not in this account",
                Fix::Key("username or password(-file)"),
            ));
        }
        _ => {}
    }
    let verdict = classify_dyndns2(status, retry_after, body, 1)
        .into_iter()
        .next()
        .unwrap_or(Err(Refusal {
            class: ErrorClass::Protocol,
            said: Said::Unreadable { status },
            meaning: "the reply is not an IP Update Protocol answer",
            fix: Fix::Key("base-url"),
        }));
    match verdict {
        Ok(_) => Ok(()),
        Err(mut refusal) => {
            if refusal.fix == Fix::Key("url") {
                refusal.fix = Fix::Key("base-url");
            }
            Err(refusal)
        }
    }
}

/// The ip-update side of a dynu provider.
#[derive(Debug)]
pub struct IpUpdate {
    url: Url,
    username: String,
    password: Secret<String>,
    clients: HttpClients,
    timeout: Duration,
    label: ProviderLabel,
}

impl IpUpdate {
    /// A client of `base_url`/nic/update; each request is bounded by `timeout`.
    pub fn new(
        base_url: &Url,
        username: &str,
        password: &Secret<String>,
        clients: HttpClients,
        timeout: Duration,
    ) -> IpUpdate {
        let base = base_url.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}{UPDATE_PATH}")).unwrap_or_else(|_| base_url.clone());
        IpUpdate {
            url,
            username: username.to_string(),
            password: password.clone(),
            clients,
            timeout,
            label: ProviderLabel::new("dynu"),
        }
    }

    /// Names the provider in messages.
    pub fn set_label(&mut self, label: ProviderLabel) {
        self.label = label;
    }

    /// The requests `publish` would send, one per target, secrets masked.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        targets
            .iter()
            .map(|t| self.request(&t.name, t.addresses).describe())
            .collect()
    }

    /// One request per target, in order; after an account-wide refusal (bad login, rate
    /// limit, maintenance) the rest of the round is not sent.
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        let mut stopped: Option<Failure> = None;
        let mut out = Vec::with_capacity(targets.len());
        for target in targets {
            let host = &target.name;
            let outcome = match &stopped {
                Some(first) => Err(Failure {
                    class: first.class,
                    message: format!("{} did not send {host}: {}", self.label, first.message),
                }),
                None => self
                    .publish_one(target)
                    .await
                    .map_err(|(failure, is_account_wide)| {
                        if is_account_wide {
                            stopped = Some(failure.clone());
                        }
                        failure
                    }),
            };
            out.push((host.clone(), outcome));
        }
        out
    }

    /// One record; the failure says whether it concerns the whole account.
    async fn publish_one(&self, target: &Target) -> Result<Confirmed, (Failure, bool)> {
        let host = &target.name;
        if target.addresses.is_empty() {
            let failure = Failure {
                class: ErrorClass::Protocol,
                message: format!(
                    "{} has no address to publish for {host}; will retry once one is detected",
                    self.label
                ),
            };
            return Err((failure, false));
        }
        let request = self.request(host, target.addresses);
        let reply = match self
            .clients
            .send(None, &request, self.timeout, BODY_CAP)
            .await
        {
            Ok(reply) => reply,
            Err(e) => return Err((send_failure(&self.label, "update", host, &e), false)),
        };
        let body = reply.text();
        match classify(reply.status, reply.retry_after, &body) {
            Ok(()) => Ok(Confirmed {
                addresses: target.addresses,
                provider_cache: target.cache.clone(),
            }),
            Err(refusal) => {
                let said = match &refusal.said {
                    Said::Code(code) => format!("\"{}\"", code.escape_debug()),
                    Said::Status(status) => format!("HTTP {status}"),
                    Said::Unreadable { status } => {
                        format!("HTTP {status} {}", excerpt(&body, &self.secrets()))
                    }
                };
                let message = answered(
                    &self.label,
                    &said,
                    host,
                    refusal.meaning,
                    refusal.class,
                    refusal.fix,
                );
                let is_account_wide = refusal.is_account_wide()
                    || matches!(&refusal.said, Said::Code(c) if c == "911");
                Err((
                    Failure {
                        class: refusal.class,
                        message,
                    },
                    is_account_wide,
                ))
            }
        }
    }

    /// `GET <base>/nic/update?hostname=H&myip=V4|no&myipv6=V6|no` with Basic auth.
    fn request(&self, host: &str, addresses: Addresses) -> Request {
        let value = |family| {
            addresses
                .get(family)
                .map_or_else(|| "no".to_string(), |a| a.to_string())
        };
        let hostname: String = url::form_urlencoded::byte_serialize(host.as_bytes()).collect();
        // Addresses stay raw (colons included), as the protocol pages and ddclient write them.
        let query = format!(
            "hostname={hostname}&myip={}&myipv6={}",
            value(Family::Ipv4),
            value(Family::Ipv6)
        );
        let mut url = self.url.clone();
        url.set_query(Some(&query));
        let mut request = Request::get(url).basic_auth(&self.username, &self.password);
        request.secrets_in_text = self.secrets();
        request
    }

    /// What must never appear in a message: the password and the Basic credentials.
    fn secrets(&self) -> Vec<Secret<String>> {
        let basic = format!("{}:{}", self.username, self.password.expose());
        vec![
            self.password.clone(),
            Secret::new(base64::engine::general_purpose::STANDARD.encode(basic)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::*;
    use std::collections::BTreeMap;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn every_dynu_code_has_its_class() {
        let rl = |d| Some(RateLimited { retry_after: d });
        let ten = secs(600);
        // (status, Retry-After, body, class; None = published)
        let table: &[(u16, Option<Duration>, &str, Option<ErrorClass>)] = &[
            (200, None, "good 81.2.69.160", None),
            (200, None, "nochg 81.2.69.160", None),
            (200, None, "good", None),
            (200, None, "badauth", Some(Rejected)),
            (401, None, "badauth", Some(Rejected)),
            (401, None, "", Some(Rejected)),
            (200, None, "notfqdn", Some(Rejected)),
            (200, None, "nohost", Some(Rejected)),
            (200, None, "numhost", Some(Rejected)),
            (200, None, "!donator", Some(Rejected)),
            (200, None, "abuse", Some(Rejected)),
            (200, None, "unknown", Some(Rejected)),
            (200, None, "servererror", Some(Transient)),
            (200, None, "dnserr", Some(Transient)),
            (200, None, "911", rl(ten)),
            (200, secs(60), "911", rl(ten)),
            (200, secs(3600), "911", rl(secs(3600))),
            (429, secs(30), "", rl(secs(30))),
            (500, None, "", Some(Transient)),
            (200, None, "", Some(Protocol)),
            (200, None, "<html>", Some(Protocol)),
        ];
        for (status, retry_after, body, expected) in table {
            let got = classify(*status, *retry_after, body).err().map(|r| r.class);
            assert_eq!(got, *expected, "{status} {retry_after:?} {body:?}");
        }
        let r = classify(200, None, "<html>").unwrap_err();
        assert_eq!(r.fix, Fix::Key("base-url"));
    }

    fn provider() -> IpUpdate {
        IpUpdate::new(
            &Url::parse("https://api.dynu.com").unwrap(),
            "me",
            &Secret::new("hunter2".into()),
            HttpClients::new(Duration::from_secs(1)).unwrap(),
            Duration::from_secs(1),
        )
    }

    fn target(v4: Option<&str>, v6: Option<&str>) -> Target {
        let addresses = Addresses {
            ipv4: v4.map(|a| a.parse().unwrap()),
            ipv6: v6.map(|a| a.parse().unwrap()),
        };
        Target {
            name: "home.example.org".into(),
            families: addresses.families(),
            ttl: Duration::from_secs(60),
            addresses,
            cache: BTreeMap::new(),
        }
    }

    #[test]
    fn a_family_not_carried_is_no() {
        let p = provider();
        let query = |t: Target| {
            p.request(&t.name, t.addresses)
                .url
                .query()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            query(target(Some("81.2.69.160"), None)),
            "hostname=home.example.org&myip=81.2.69.160&myipv6=no"
        );
        assert_eq!(
            query(target(None, Some("2a02:898:1::7"))),
            "hostname=home.example.org&myip=no&myipv6=2a02:898:1::7"
        );
        let plan = p.plan(&[target(Some("81.2.69.160"), Some("2a02:898:1::7"))]);
        assert!(plan[0].starts_with("GET https://api.dynu.com/nic/update?hostname="));
        assert!(plan[0].contains("Authorization: Basic ***"));
        assert!(!plan[0].contains("hunter2"));
    }
}

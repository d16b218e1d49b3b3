//! The Dynu REST protocol for a round of records: find each record's place (cached, or from
//! one `GET /v2/dns` per round), update it, and hand the place back as the provider cache so
//! the next change of an apex costs exactly one request (protocols/dynu-rest.md §3).
//! Does not authenticate or classify replies (`api`, `errors`) nor build bodies (`place`).

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::config::{DynuAuth, HttpMethod};
use crate::core::{Confirmed, ErrorClass, Failure, Family, RecordId};
use crate::http::HttpClients;
use crate::provider::Target;
use crate::provider::message::{ProviderLabel, next_step};

use super::api::{Api, CallFailure, Step};
use super::place::{self, NoDomain, Place, RecordSnapshot};

/// The domain list.
const DOMAINS_PATH: &str = "/v2/dns";
/// How many of the account's domains a message lists.
const LISTED_DOMAINS: usize = 20;

/// Why a record was not published.
#[derive(Clone, Debug)]
enum Problem {
    Call(CallFailure),
    /// No domain of the account holds the name.
    NoDomain(NoDomain),
    /// Nothing to publish yet (the core never asks for that; kept safe anyway).
    NoAddress,
}

impl From<CallFailure> for Problem {
    fn from(f: CallFailure) -> Problem {
        Problem::Call(f)
    }
}

/// What one round shares: the domain list (read at most once) and the failure that stopped
/// the round.
#[derive(Default)]
struct Round {
    domains: Option<Result<place::Listing, CallFailure>>,
    stopped: Option<Failure>,
}

/// The REST side of a dynu provider.
#[derive(Debug)]
pub struct Rest {
    api: Api,
    label: ProviderLabel,
}

impl Rest {
    /// A REST client for `base_url` with `auth`; each request is bounded by `timeout`.
    pub fn new(base_url: Url, auth: &DynuAuth, clients: HttpClients, timeout: Duration) -> Rest {
        Rest {
            api: Api::new(base_url, auth, clients, timeout),
            label: ProviderLabel::new("dynu"),
        }
    }

    /// Names the provider in messages.
    pub fn set_label(&mut self, label: ProviderLabel) {
        self.label = label;
    }

    /// The requests `publish` would send, secrets masked. Where the place is not cached yet,
    /// the update's target depends on the domain list, so it is described, not shown.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        let mut out = Vec::new();
        if self.api.needs_token()
            && let Some(request) = self.api.token_request()
        {
            out.push(request.describe());
        }
        let places: Vec<Option<Place>> = targets
            .iter()
            .map(|t| Place::from_cache(&t.cache, &t.name))
            .collect();
        if places.iter().any(Option::is_none) {
            let list = self.api.request(HttpMethod::Get, DOMAINS_PATH, None);
            out.push(list.describe());
        }
        for (target, place) in targets.iter().zip(places) {
            let ttl = target.ttl.as_secs();
            match place {
                Some(Place::Apex { domain_id, fields }) => {
                    let body = place::domain_body(&fields, target.addresses, ttl);
                    let path = format!("{DOMAINS_PATH}/{domain_id}");
                    let request = self.api.request(HttpMethod::Post, &path, Some(&body));
                    out.push(request.describe());
                }
                Some(Place::Node {
                    domain_id,
                    node,
                    a,
                    aaaa,
                }) => {
                    for (family, snapshot) in [(Family::Ipv4, a), (Family::Ipv6, aaaa)] {
                        let Some(address) = target.addresses.get(family) else {
                            continue;
                        };
                        let Some(snapshot) = snapshot else {
                            out.push(self.lookup_request(target, family).describe());
                            out.push(format!(
                                "then POST {} (update or create the {} record of {})",
                                self.api.url(&format!("{DOMAINS_PATH}/{domain_id}/record")),
                                place::record_type(family),
                                target.name
                            ));
                            continue;
                        };
                        let body = place::record_body(Some(&snapshot.fields), &node, address, ttl);
                        let path = format!("{DOMAINS_PATH}/{domain_id}/record/{}", snapshot.id);
                        out.push(
                            self.api
                                .request(HttpMethod::Post, &path, Some(&body))
                                .describe(),
                        );
                    }
                }
                None => out.push(format!(
                    "then POST {} for {} ({}): the domain found in the list, or its A/AAAA \
                     records when the name is below a domain",
                    self.api.url(&format!("{DOMAINS_PATH}/<domain id>")),
                    target.name,
                    target.addresses
                )),
            }
        }
        out
    }

    /// Publishes the targets one after another and returns one outcome per target. After an
    /// account-wide failure (credentials, rate limit, token) the rest is not sent.
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        let mut round = Round::default();
        let mut outcomes = Vec::with_capacity(targets.len());
        for target in targets {
            let host = &target.name;
            let outcome = if let Some(first) = &round.stopped {
                Err(Failure {
                    class: first.class,
                    message: format!("{} did not send {host}: {}", self.label, first.message),
                })
            } else {
                match self.publish_one(&mut round, target).await {
                    Ok(place) => Ok(Confirmed {
                        addresses: target.addresses,
                        provider_cache: place.to_cache(),
                    }),
                    Err(problem) => {
                        let failure = self.failure(&problem, host);
                        if matches!(&problem, Problem::Call(c) if c.is_account_wide()) {
                            round.stopped = Some(failure.clone());
                        }
                        Err(failure)
                    }
                }
            };
            outcomes.push((target.name.clone(), outcome));
        }
        outcomes
    }

    /// The cached place is tried first; a 404 or 403 there means it may be stale (the domain
    /// was deleted and added again, or the provider's account changed), and the name is
    /// looked up again.
    async fn publish_one(&self, round: &mut Round, target: &Target) -> Result<Place, Problem> {
        if target.addresses.is_empty() {
            return Err(Problem::NoAddress);
        }
        if let Some(cached) = Place::from_cache(&target.cache, &target.name) {
            match self.update(cached, target).await {
                Err(Problem::Call(f)) if f.may_be_stale() => {}
                done => return done,
            }
        }
        let found = self.locate(round, target).await?;
        self.update(found, target).await
    }

    /// The place of `target` in the account's domain list (fetched once per round).
    async fn locate(&self, round: &mut Round, target: &Target) -> Result<Place, Problem> {
        let listing = match &round.domains {
            Some(result) => result.clone(),
            None => {
                let result = self
                    .api
                    .call(Step::DomainList, HttpMethod::Get, DOMAINS_PATH, None)
                    .await
                    .and_then(|object| {
                        place::Listing::read(&object).map_err(|why| CallFailure::Unusable {
                            step: Step::DomainList,
                            why,
                        })
                    });
                round.domains = Some(result.clone());
                result
            }
        }?;
        listing.find(&target.name).map_err(Problem::NoDomain)
    }

    /// Sends the update(s) of `place` and returns the place as it now is.
    async fn update(&self, place: Place, target: &Target) -> Result<Place, Problem> {
        let ttl = target.ttl.as_secs();
        match place {
            Place::Apex { domain_id, fields } => {
                let body = place::domain_body(&fields, target.addresses, ttl);
                let path = format!("{DOMAINS_PATH}/{domain_id}");
                self.api
                    .call(Step::Update, HttpMethod::Post, &path, Some(&body))
                    .await?;
                Ok(Place::Apex {
                    domain_id,
                    fields: body,
                })
            }
            Place::Node {
                domain_id,
                node,
                mut a,
                mut aaaa,
            } => {
                for family in [Family::Ipv4, Family::Ipv6] {
                    let Some(address) = target.addresses.get(family) else {
                        continue;
                    };
                    let slot = match family {
                        Family::Ipv4 => &mut a,
                        Family::Ipv6 => &mut aaaa,
                    };
                    if slot.is_none() {
                        *slot = self.lookup(target, family).await?;
                    }
                    let written = self
                        .write_record(domain_id, &node, slot.as_ref(), address, ttl)
                        .await?;
                    *slot = Some(written);
                }
                Ok(Place::Node {
                    domain_id,
                    node,
                    a,
                    aaaa,
                })
            }
        }
    }

    fn lookup_request(&self, target: &Target, family: Family) -> crate::http::Request {
        let path = lookup_path(&target.name, family);
        self.api.request(HttpMethod::Get, &path, None)
    }

    /// The A or AAAA record of `target`'s name, if it has one.
    async fn lookup(
        &self,
        target: &Target,
        family: Family,
    ) -> Result<Option<RecordSnapshot>, Problem> {
        let path = lookup_path(&target.name, family);
        let step = Step::RecordLookup;
        let reply = self.api.call(step, HttpMethod::Get, &path, None).await?;
        place::find_record(&reply, &target.name, family)
            .map_err(|why| Problem::Call(CallFailure::Unusable { step, why }))
    }

    /// Updates the record `existing`, or creates it when there is none; returns it as written.
    async fn write_record(
        &self,
        domain_id: u64,
        node: &str,
        existing: Option<&RecordSnapshot>,
        address: IpAddr,
        ttl: u64,
    ) -> Result<RecordSnapshot, Problem> {
        let body = place::record_body(existing.map(|r| &r.fields), node, address, ttl);
        let step = Step::Update;
        match existing {
            Some(record) => {
                let path = format!("{DOMAINS_PATH}/{domain_id}/record/{}", record.id);
                self.api
                    .call(step, HttpMethod::Post, &path, Some(&body))
                    .await?;
                Ok(RecordSnapshot {
                    id: record.id,
                    fields: body,
                })
            }
            None => {
                let path = format!("{DOMAINS_PATH}/{domain_id}/record");
                let reply = self
                    .api
                    .call(step, HttpMethod::Post, &path, Some(&body))
                    .await?;
                place::snapshot(&reply)
                    .map_err(|why| Problem::Call(CallFailure::Unusable { step, why }))
            }
        }
    }

    /// The operator's message for `problem` about `host`.
    fn failure(&self, problem: &Problem, host: &str) -> Failure {
        match problem {
            Problem::Call(call) => Failure {
                class: call.class(),
                message: call.message(&self.label, host, &self.api.secrets()),
            },
            Problem::NoAddress => Failure {
                class: ErrorClass::Protocol,
                message: format!(
                    "{} has no address to publish for {host}; will retry once one is detected",
                    self.label
                ),
            },
            Problem::NoDomain(NoDomain { account_has }) => {
                let listed: Vec<String> = account_has
                    .iter()
                    .take(LISTED_DOMAINS)
                    .map(|d| format!("\"{}\"", d.escape_debug()))
                    .collect();
                let has = match account_has.len() {
                    0 => "the account has no domains".to_string(),
                    n if n > LISTED_DOMAINS => format!(
                        "the account has {} and {} more",
                        listed.join(", "),
                        n - LISTED_DOMAINS
                    ),
                    _ => format!("the account has {}", listed.join(", ")),
                };
                Failure {
                    class: ErrorClass::Rejected,
                    message: format!(
                        "{} found no Dynu domain for {host} ({has}); {}",
                        self.label,
                        next_step(
                            ErrorClass::Rejected,
                            "add the domain at Dynu or fix the record's name"
                        )
                    ),
                }
            }
        }
    }
}

/// `GET /v2/dns/record/{hostname}?recordType=A`.
fn lookup_path(hostname: &str, family: Family) -> String {
    format!(
        "{DOMAINS_PATH}/record/{hostname}?recordType={}",
        place::record_type(family)
    )
}

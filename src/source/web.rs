//! The web source: asks public-IP echo services over HTTP(S) and trusts none of them. Owns the
//! strict parsing of an echo reply ([`parse_echo_body`]) and of one address ([`parse_address`],
//! shared with the command source).
//! Does not decide agreement (that is `core::quorum`), nor which scopes are publishable
//! (`core::scope`), nor how requests are sent (`http`).
//!
//! See: DESIGN.md "Echo services are untrusted", protocols/echo-services.md "Strict parsing".

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::config::WebSourceConfig;
use crate::core::quorum::{self, QuorumState};
use crate::core::select::Verdict;
use crate::core::{Detected, Detection, Families, Family, scope};
use crate::http::{HttpClients, Request, SendError};
use crate::redact::redact_url;

use super::Explanation;
use super::outcome::into_detection;

/// Body cap for a plain echo reply (echo-services.md rule 2).
pub const BODY_CAP: usize = 1024;
/// Body cap for a Cloudflare trace reply (about 300 bytes in practice).
pub const TRACE_BODY_CAP: usize = 4096;
/// How much of an offending body an error message may quote.
const EXCERPT_BYTES: usize = 100;

/// A web source: echo URLs per family and a quorum.
#[derive(Debug)]
pub struct WebSource {
    name: String,
    config: WebSourceConfig,
    clients: HttpClients,
    timeout: Duration,
}

impl WebSource {
    /// A web source named `name`; `timeout` bounds each request.
    pub fn new(
        name: &str,
        config: WebSourceConfig,
        clients: HttpClients,
        timeout: Duration,
    ) -> Self {
        WebSource {
            name: name.to_string(),
            config,
            clients,
            timeout,
        }
    }

    /// One detection round: for each family in `families`, asks its URLs in order until the
    /// quorum agrees or cannot agree any more. The families run concurrently, so a slow IPv6
    /// path never delays IPv4. Every answer becomes an [`Explanation`].
    pub async fn explain(&self, families: Families) -> (Vec<Explanation>, Detection) {
        let (v4, v6) = tokio::join!(
            self.detect_family(Family::Ipv4, families.ipv4),
            self.detect_family(Family::Ipv6, families.ipv6),
        );
        let mut explanations = v4.0;
        explanations.extend(v6.0);
        (explanations, into_detection(v4.1, v6.1))
    }

    async fn detect_family(
        &self,
        family: Family,
        is_asked: bool,
    ) -> (Vec<Explanation>, Detected<IpAddr>) {
        if !is_asked {
            return (Vec::new(), Detected::NotAsked);
        }
        let urls = match family {
            Family::Ipv4 => &self.config.ipv4_urls,
            Family::Ipv6 => &self.config.ipv6_urls,
        };
        if urls.is_empty() {
            return (
                Vec::new(),
                Detected::Failed(format!("no {family}-urls configured")),
            );
        }
        let quorum = self.config.quorum;
        let mut answers: Vec<(String, Result<IpAddr, String>)> = Vec::new();
        let mut outcome = None;
        for url in urls {
            let answer = self.ask(family, url).await;
            answers.push((redact_url(url), answer));
            match quorum::tally(&answers, quorum, urls.len()) {
                QuorumState::NeedMore => {}
                QuorumState::Agreed(addr) => {
                    outcome = Some(Ok(addr));
                    break;
                }
                QuorumState::Failed(message) => {
                    outcome = Some(Err(message));
                    break;
                }
            }
        }
        // `tally` knows `total`, so it never asks for more than exist; this is a safety net.
        let outcome = outcome.unwrap_or_else(|| {
            Err(format!(
                "fewer than {quorum} of {} {family} URLs agreed",
                urls.len()
            ))
        });
        let explanations = answers
            .into_iter()
            .map(|(origin, answer)| {
                let (address, verdict, reason) = judge(answer, &outcome, quorum, urls.len());
                Explanation {
                    source: self.name.clone(),
                    interface: None,
                    origin: Some(origin),
                    address,
                    family: Some(family),
                    flags: Vec::new(),
                    preferred_lifetime: None,
                    valid_lifetime: None,
                    verdict,
                    reason,
                }
            })
            .collect();
        let detected = match outcome {
            Ok(addr) => Detected::Found(addr),
            Err(message) => Detected::Failed(message),
        };
        (explanations, detected)
    }

    /// Asks one URL. The error is short and names no URL: the caller pairs it with one.
    async fn ask(&self, family: Family, url: &Url) -> Result<IpAddr, String> {
        let is_trace = url.path().ends_with("/cdn-cgi/trace");
        let cap = if is_trace { TRACE_BODY_CAP } else { BODY_CAP };
        let reply = self
            .clients
            .send(Some(family), &Request::get(url.clone()), self.timeout, cap)
            .await
            .map_err(|e| describe_send_error(&e))?;
        if !(200..300).contains(&reply.status) {
            return Err(format!(
                "HTTP status {} (body {})",
                reply.status,
                excerpt(&reply.body)
            ));
        }
        parse_echo_body(&reply.body, family, self.config.allow_private, is_trace)
    }
}

/// The verdict on one answer, given the family's outcome.
fn judge(
    answer: Result<IpAddr, String>,
    outcome: &Result<IpAddr, String>,
    quorum: usize,
    total: usize,
) -> (Option<IpAddr>, Verdict, String) {
    match (answer, outcome) {
        (Err(why), _) => (None, Verdict::Rejected, why),
        (Ok(addr), Ok(agreed)) if addr == *agreed => {
            let reason = if quorum <= 1 {
                "first good answer".to_string()
            } else {
                format!("agreed by quorum ({quorum} of {total} URLs)")
            };
            (Some(addr), Verdict::Chosen, reason)
        }
        (Ok(addr), Ok(agreed)) => (
            Some(addr),
            Verdict::Rejected,
            format!("outvoted: the quorum agreed on {agreed}"),
        ),
        (Ok(addr), Err(_)) => (
            Some(addr),
            Verdict::Rejected,
            format!("well-formed, but fewer than {quorum} URLs agreed"),
        ),
    }
}

/// `SendError` without its URL (the caller names the URL once).
fn describe_send_error(e: &SendError) -> String {
    match e {
        SendError::Connect { reason, .. } => format!("could not connect: {reason}"),
        SendError::Timeout { timeout, .. } => {
            format!("no reply within {}", humantime::format_duration(*timeout))
        }
        SendError::TooLarge { cap, .. } => {
            format!("reply is larger than {cap} bytes (not an echo reply)")
        }
        SendError::Broken { reason, .. } => format!("request failed: {reason}"),
    }
}

/// Parses an echo service's reply body strictly (protocols/echo-services.md rules 3–6): valid
/// UTF-8; ASCII whitespace trimmed at both ends; the rest exactly one IP literal of `family`,
/// publishable under `allow_private`. With `is_trace`, the body is Cloudflare's `key=value`
/// lines: the `ip` value is parsed that way and `warp=on` is refused (a WARP egress address).
///
/// The error says why, quoting at most ~100 bytes of the body, escaped.
pub fn parse_echo_body(
    body: &[u8],
    family: Family,
    allow_private: bool,
    is_trace: bool,
) -> Result<IpAddr, String> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(format!("body is not valid UTF-8: {}", excerpt(body)));
    };
    if !is_trace {
        return parse_address(text, family, allow_private);
    }
    let mut ip = None;
    for line in text.lines() {
        let line = trim_ascii_space(line);
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "not a trace body (line without '='): {}",
                excerpt(body)
            ));
        };
        match key {
            "ip" if ip.is_some() => return Err("trace body has two ip= lines".into()),
            "ip" => ip = Some(value),
            "warp" if value == "on" => {
                return Err("trace says warp=on: the address is a WARP egress, not ours".into());
            }
            _ => {}
        }
    }
    match ip {
        Some(value) => parse_address(value, family, allow_private),
        None => Err(format!("trace body has no ip= line: {}", excerpt(body))),
    }
}

/// Parses one address as text: ASCII whitespace trimmed, then exactly one IP literal (no
/// brackets, port, `/len` or `%zone`) of `family` — `::ffff:a.b.c.d` is not IPv6 — that
/// `scope::check` allows.
pub fn parse_address(text: &str, family: Family, allow_private: bool) -> Result<IpAddr, String> {
    let text = trim_ascii_space(text);
    if text.is_empty() {
        return Err("empty answer".into());
    }
    let Ok(addr) = text.parse::<IpAddr>() else {
        return Err(format!(
            "not a single IP address: {}",
            excerpt(text.as_bytes())
        ));
    };
    if let IpAddr::V6(v6) = addr
        && v6.to_ipv4_mapped().is_some()
    {
        return Err(format!(
            "{addr} is an IPv4-mapped address, not an IPv6 address"
        ));
    }
    let got = Family::of(&addr);
    if got != family {
        return Err(format!(
            "got an {got} address ({addr}) for an {family} request"
        ));
    }
    scope::check(addr, allow_private).map_err(|why| format!("{addr}: {why}"))?;
    Ok(addr)
}

/// Space, tab, CR and LF: the whitespace rule 4 trims (not Unicode spaces, which are garbage).
fn trim_ascii_space(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

/// At most [`EXCERPT_BYTES`] of `bytes`, escaped and quoted, `…` marking a cut.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = bytes.len() > EXCERPT_BYTES;
    let head = &bytes[..bytes.len().min(EXCERPT_BYTES)];
    let text = String::from_utf8_lossy(head);
    format!("{text:?}{}", if cut { "…" } else { "" })
}

#[cfg(test)]
mod tests;

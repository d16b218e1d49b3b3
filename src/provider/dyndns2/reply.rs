//! The meaning of a dyndns2 reply: a pure classifier from status, `Retry-After` and body to
//! one verdict per host (protocols/dyndns2.md §2), table-tested in `dyndns2::tests`.
//! Does not word the messages; `dyndns2` adds the provider, host and next step.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::core::ErrorClass;
use crate::provider::message::Fix;

/// `911` means "come back later": No-IP asks for 30 minutes, Dynu for 10; a generic server
/// gets the larger (dyndns2.md §2).
pub const WAIT_AFTER_911: Duration = Duration::from_secs(30 * 60);

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

/// The wait of a `wNN[smh]` reply: `w30s`, `w5m`, `w2h`.
pub fn wait_reply(code: &str) -> Option<Duration> {
    let mut rest = code.strip_prefix('w')?.chars();
    // The unit may be any character of a garbage reply, not just one byte. See: #9 (fuzzing).
    let unit = rest.next_back()?;
    let count: u64 = rest.as_str().parse().ok()?;
    let secs = match unit {
        's' => count,
        'm' => count.checked_mul(60)?,
        'h' => count.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

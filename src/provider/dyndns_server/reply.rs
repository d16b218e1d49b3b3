//! The meaning of a reply from the Python `dyndns` 2.0.0 server (protocols/python-dyndns.md):
//! pure classifiers from status and body to published / deleted or a classified refusal,
//! table-tested in `dyndns_server::tests`.
//! Does not word the whole message; `dyndns_server` adds the provider, name and next step.

use std::net::IpAddr;
use std::time::Duration;

use crate::core::{Addresses, ErrorClass, Families, Family};
use crate::provider::Deleted;
use crate::provider::message::Fix;

/// Why a request did not publish (or delete), as classified from the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub class: ErrorClass,
    /// What it means, for the operator.
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

/// One line of a 200 update reply: `UPDATED: NAME. TYPE OLD -> NEW` or
/// `UNCHANGED: NAME. TYPE NOW`, `None` for no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Updated { new: Option<IpAddr> },
    Unchanged { now: Option<IpAddr> },
}

/// Classifies the reply to an update of `name` that sent `sent`. Published only when the
/// status is 200 and, for every family sent, the server's line shows the address sent (as
/// `UPDATED … -> ADDR` or `UNCHANGED … ADDR`). Lines about a family not sent (the server
/// deleting it) are not judged.
///
/// Trap 2 of the notes: a refused DNS update comes back as 200 `UNCHANGED` with the address
/// read back *after* the attempt. An `UNCHANGED` line showing another address than the one
/// sent therefore means "not applied, reason unknown": unconfirmed, never success.
pub fn classify_update(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    name: &str,
    sent: Addresses,
) -> Result<(), Refusal> {
    if status != 200 {
        return Err(error_status(status, retry_after, body));
    }
    let not_understood = || {
        refusal(
            ErrorClass::Protocol,
            "the reply is not a dyndns server update answer",
            Fix::Key("url"),
        )
    };
    let mut changes: Vec<(Family, Change)> = Vec::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (family, change) = read_line(line, name).ok_or_else(not_understood)?;
        changes.push((family, change));
    }
    for family in Families::BOTH.iter() {
        let Some(want) = sent.get(family) else {
            continue;
        };
        let rtype = record_type(family);
        let Some((_, change)) = changes.iter().find(|(f, _)| *f == family) else {
            return Err(refusal(
                ErrorClass::Protocol,
                format!("the reply has no {rtype} line"),
                Fix::Key("url"),
            ));
        };
        match *change {
            Change::Updated { new } | Change::Unchanged { now: new } if new == Some(want) => {}
            Change::Unchanged { now } => {
                return Err(refusal(
                    ErrorClass::Unconfirmed,
                    format!(
                        "the server reports {rtype} unchanged at {} although {want} was sent, \
                         so the change was not applied: this server answers UNCHANGED when the \
                         nameserver refuses an update (it never checks the update's result); \
                         check that the nameserver lets the zone-named hmac-sha512 key update \
                         this name (allow-update or update-policy)",
                        shown(now)
                    ),
                    Fix::Nothing,
                ));
            }
            Change::Updated { new } => {
                return Err(refusal(
                    ErrorClass::Unconfirmed,
                    format!(
                        "the server reports {rtype} updated to {} although {want} was sent",
                        shown(new)
                    ),
                    Fix::Nothing,
                ));
            }
        }
    }
    Ok(())
}

/// Classifies the reply to `/delete-by-path/…`: `UPDATED: The A and AAAA records … were
/// deleted.` or `UNCHANGED: The deletion … was not executed because there were no A or AAAA
/// records.` The server does not check the nameserver's answer here either, so a refused
/// delete also reads "were deleted"; nothing in the reply can tell.
pub fn classify_delete(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> Result<Deleted, Refusal> {
    if status != 200 {
        return Err(error_status(status, retry_after, body));
    }
    let line = body.trim();
    if line.starts_with("UPDATED: The A and AAAA records of the domain name ")
        && line.ends_with(" were deleted.")
    {
        Ok(Deleted::Removed)
    } else if line.starts_with("UNCHANGED: The deletion of the domain name ")
        && line.ends_with(" because there were no A or AAAA records.")
    {
        Ok(Deleted::Absent)
    } else {
        Err(refusal(
            ErrorClass::Protocol,
            "the reply is not a dyndns server delete answer",
            Fix::Key("url"),
        ))
    }
}

/// A non-200 reply. The server's statuses (452–457, 512, 500 with the exception's class name)
/// mix permanent and temporary failures, so the body decides where the notes say it must.
pub fn error_status(status: u16, retry_after: Option<Duration>, body: &str) -> Refusal {
    let level = body.split_once(':').map_or("", |(level, _)| level.trim());
    let fix_server = Fix::Do("fix the dyndns server's configuration");
    match status {
        452 => refusal(
            ErrorClass::Protocol,
            "the server found no address in the request (a dynipd bug; please report it)",
            Fix::Nothing,
        ),
        453 => refusal(
            ErrorClass::Rejected,
            "the server does not serve this name: it is in none of the server's zones, or it \
             is a zone apex (which this server cannot update)",
            Fix::Do("fix the record's name or add its zone to the dyndns server's configuration"),
        ),
        454 => refusal(
            ErrorClass::Protocol,
            "the server did not accept an address of the request",
            Fix::Nothing,
        ),
        455 => refusal(
            ErrorClass::Rejected,
            "the server's own configuration is broken",
            fix_server,
        ),
        456 if body.contains("wrong secret") => refusal(
            ErrorClass::Rejected,
            "the secret is wrong",
            Fix::Key("secret(-file)"),
        ),
        456 => refusal(
            ErrorClass::Protocol,
            "the server did not accept the request's parameters (is it dyndns 2.0.0?)",
            Fix::Key("url"),
        ),
        457 => refusal(
            ErrorClass::Protocol,
            "the server reported a failed self-check, which only /check should",
            Fix::Key("url"),
        ),
        512 if body.contains("timed out") => refusal(
            ErrorClass::Transient,
            "the nameserver behind the server did not answer in time",
            Fix::Nothing,
        ),
        512 => refusal(
            ErrorClass::Rejected,
            "the nameserver does not know the key the server signs with",
            Fix::Do(
                "give the nameserver an hmac-sha512 key named after the zone, with the secret \
                 in the dyndns server's configuration",
            ),
        ),
        500 if level == "LIFETIMETIMEOUT" => refusal(
            ErrorClass::Transient,
            "the nameserver behind the server is not answering",
            Fix::Nothing,
        ),
        500 if level == "PEERBADSIGNATURE" => refusal(
            ErrorClass::Rejected,
            "the nameserver refused the server's signature (its tsig_key does not match the \
             nameserver's key)",
            fix_server,
        ),
        500 if level == "NOTFOUND" || level == "METHODNOTALLOWED" => refusal(
            ErrorClass::Protocol,
            "the server has no such route (another server version, or a wrong url)",
            Fix::Key("url"),
        ),
        500 if is_level(level) => refusal(
            ErrorClass::Protocol,
            "the server failed on the request",
            Fix::Nothing,
        ),
        429 => refusal(
            ErrorClass::RateLimited { retry_after },
            "too many requests",
            Fix::Nothing,
        ),
        401 | 403 => refusal(
            ErrorClass::Rejected,
            "access denied (by a proxy in front of the server?)",
            Fix::Key("url"),
        ),
        400..=499 => refusal(
            ErrorClass::Rejected,
            "no dyndns server answers at this url",
            Fix::Key("url"),
        ),
        500..=599 => refusal(ErrorClass::Transient, "server error", Fix::Nothing),
        _ => refusal(
            ErrorClass::Protocol,
            "an unexpected status (redirects are not followed)",
            Fix::Key("url"),
        ),
    }
}

/// `A` or `AAAA`.
pub fn record_type(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "A",
        Family::Ipv6 => "AAAA",
    }
}

/// An upper-case word such as the server puts before its messages.
fn is_level(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

/// One line about `name`, or `None` when it is not a well-formed line about `name`.
fn read_line(line: &str, name: &str) -> Option<(Family, Change)> {
    let (level, rest) = line.split_once(": ")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (fqdn, rtype, values) = match words.as_slice() {
        [fqdn, rtype, values @ ..] => (*fqdn, *rtype, values),
        _ => return None,
    };
    if !fqdn.trim_end_matches('.').eq_ignore_ascii_case(name) {
        return None;
    }
    let family = match rtype {
        "A" => Family::Ipv4,
        "AAAA" => Family::Ipv6,
        _ => return None,
    };
    let change = match (level, values) {
        ("UPDATED", [old, "->", new]) => {
            address(old, family)?;
            Change::Updated {
                new: address(new, family)?,
            }
        }
        ("UNCHANGED", [now]) => Change::Unchanged {
            now: address(now, family)?,
        },
        _ => return None,
    };
    Some((family, change))
}

/// `None` → `Some(None)`; an address of `family` → `Some(Some(addr))`; else `None`.
fn address(text: &str, family: Family) -> Option<Option<IpAddr>> {
    if text == "None" {
        return Some(None);
    }
    let addr: IpAddr = text.parse().ok()?;
    (Family::of(&addr) == family).then_some(Some(addr))
}

fn shown(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "no address".to_string(), |a| a.to_string())
}

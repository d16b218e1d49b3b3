//! Where a record lives at Dynu and what an update sends there, as pure functions: matching a
//! name against the account's domains, the update bodies, and the provider cache kept in the
//! state file (protocols/dynu-rest.md §3).
//!
//! An apex is the domain object itself (`POST /dns/{id}`); a name below a domain is an A or
//! AAAA record under it (`POST /dns/{id}/record/{rid}`). Whether Dynu keeps or resets the
//! writable fields an update leaves out is unknown, so every update sends them all: the values
//! last read from Dynu or last written by dynipd, kept in the cache, with the record's
//! addresses and TTL put in. That makes a steady-state change one request; the price is that a
//! change made at Dynu between two updates (in its web UI, or by another client writing the
//! family this record does not carry) is written back over by the next update.
//! Does not send anything; `rest` does.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Value, json};

use crate::core::{Addresses, Family};

use super::errors::Object;

/// The domain fields an update writes back (dynu-rest.md §3, "POST /dns/{id}: update body").
pub const DOMAIN_FIELDS: &[&str] = &[
    "name",
    "group",
    "ipv4Address",
    "ipv6Address",
    "ttl",
    "ipv4",
    "ipv6",
    "ipv4WildcardAlias",
    "ipv6WildcardAlias",
    "allowZoneTransfer",
    "dnssec",
];
/// The record fields an update writes back ("Record object").
pub const RECORD_FIELDS: &[&str] = &[
    "nodeName",
    "recordType",
    "ttl",
    "state",
    "group",
    "ipv4Address",
    "ipv6Address",
];

/// Cache keys in the state file.
const KEY_DOMAIN_ID: &str = "domain-id";
const KEY_DOMAIN: &str = "domain";
const KEY_NODE: &str = "node";
const KEY_A: &str = "a-record";
const KEY_AAAA: &str = "aaaa-record";

/// One A or AAAA record below a domain: its id and its writable fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSnapshot {
    pub id: u64,
    pub fields: Object,
}

/// Where a record lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The record's name is a Dynu domain: the domain's writable fields.
    Apex { domain_id: u64, fields: Object },
    /// The name is `node` below a domain, with its A and AAAA records where known.
    Node {
        domain_id: u64,
        node: String,
        a: Option<RecordSnapshot>,
        aaaa: Option<RecordSnapshot>,
    },
}

impl Place {
    /// The place kept in `cache` for `name`; `None` when the cache holds none or something
    /// unusable (then the domain is looked up again).
    pub fn from_cache(cache: &BTreeMap<String, String>, name: &str) -> Option<Place> {
        let domain_id: u64 = cache.get(KEY_DOMAIN_ID)?.parse().ok()?;
        let object = |key: &str| -> Option<Object> { serde_json::from_str(cache.get(key)?).ok() };
        if let Some(fields) = object(KEY_DOMAIN) {
            let same = fields
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name));
            return same.then_some(Place::Apex { domain_id, fields });
        }
        let node = cache.get(KEY_NODE).filter(|n| !n.is_empty())?.clone();
        let snapshot = |key: &str| -> Option<RecordSnapshot> {
            let mut fields = object(key)?;
            let id = fields.remove("id")?.as_u64()?;
            Some(RecordSnapshot { id, fields })
        };
        Some(Place::Node {
            domain_id,
            node,
            a: snapshot(KEY_A),
            aaaa: snapshot(KEY_AAAA),
        })
    }

    /// The cache entries that bring this place back with [`Place::from_cache`].
    pub fn to_cache(&self) -> BTreeMap<String, String> {
        let mut cache = BTreeMap::new();
        match self {
            Place::Apex { domain_id, fields } => {
                cache.insert(KEY_DOMAIN_ID.into(), domain_id.to_string());
                cache.insert(KEY_DOMAIN.into(), Value::Object(fields.clone()).to_string());
            }
            Place::Node {
                domain_id,
                node,
                a,
                aaaa,
            } => {
                cache.insert(KEY_DOMAIN_ID.into(), domain_id.to_string());
                cache.insert(KEY_NODE.into(), node.clone());
                for (key, snapshot) in [(KEY_A, a), (KEY_AAAA, aaaa)] {
                    if let Some(s) = snapshot {
                        let mut fields = s.fields.clone();
                        fields.insert("id".into(), s.id.into());
                        cache.insert(key.into(), Value::Object(fields).to_string());
                    }
                }
            }
        }
        cache
    }

    /// The domain id.
    pub fn domain_id(&self) -> u64 {
        match self {
            Place::Apex { domain_id, .. } | Place::Node { domain_id, .. } => *domain_id,
        }
    }
}

/// Why no domain of the account holds a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoDomain {
    /// The account's domain names, in the order Dynu listed them.
    pub account_has: Vec<String>,
}

/// The account's domains, read from a `GET /dns` reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Name, id and writable fields of each domain, in Dynu's order.
    domains: Vec<(String, u64, Object)>,
}

impl Listing {
    /// Reads `{"statusCode":200,"domains":[…]}`. The error names what is wrong, never a value
    /// (domain entries hold Dynu's update tokens).
    pub fn read(reply: &Object) -> Result<Listing, &'static str> {
        let Some(entries) = reply.get("domains").and_then(Value::as_array) else {
            return Err("the domain list has no \"domains\" array");
        };
        let mut domains = Vec::with_capacity(entries.len());
        for entry in entries {
            let Some(object) = entry.as_object() else {
                return Err("a domain list entry is not an object");
            };
            let Some(name) = object.get("name").and_then(Value::as_str) else {
                return Err("a domain list entry has no name");
            };
            let Some(id) = object.get("id").and_then(Value::as_u64) else {
                return Err("a domain list entry has no numeric id");
            };
            domains.push((name.to_string(), id, pick(object, DOMAIN_FIELDS)));
        }
        Ok(Listing { domains })
    }

    /// The place of `name`: the domain of that exact name (an apex), else the longest domain
    /// it is below (a node). Names compare without regard to ASCII case.
    pub fn find(&self, name: &str) -> Result<Place, NoDomain> {
        let name = name.to_ascii_lowercase();
        let mut best: Option<(usize, String)> = None;
        for (index, (domain, _, _)) in self.domains.iter().enumerate() {
            let domain = domain.to_ascii_lowercase();
            if domain == name {
                best = Some((index, String::new()));
                break;
            }
            let Some(node) = name
                .strip_suffix(&domain)
                .and_then(|n| n.strip_suffix('.'))
                .filter(|n| !n.is_empty())
            else {
                continue;
            };
            let is_longer = best
                .as_ref()
                .is_none_or(|(b, _)| domain.len() > self.domains[*b].0.len());
            if is_longer {
                best = Some((index, node.to_string()));
            }
        }
        let Some((index, node)) = best else {
            return Err(NoDomain {
                account_has: self.domains.iter().map(|(n, _, _)| n.clone()).collect(),
            });
        };
        let (_, domain_id, fields) = &self.domains[index];
        Ok(if node.is_empty() {
            Place::Apex {
                domain_id: *domain_id,
                fields: fields.clone(),
            }
        } else {
            Place::Node {
                domain_id: *domain_id,
                node,
                a: None,
                aaaa: None,
            }
        })
    }
}

/// The `fields` of `object` that it has.
pub fn pick(object: &Object, fields: &[&str]) -> Object {
    fields
        .iter()
        .filter_map(|f| object.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

/// The body of `POST /dns/{id}`: the domain's writable fields with the carried families'
/// addresses put in (and their `ipv4`/`ipv6` switched on) and the TTL. A family without an
/// address in `addresses` keeps what the fields say.
pub fn domain_body(fields: &Object, addresses: Addresses, ttl_secs: u64) -> Object {
    let mut body = pick(fields, DOMAIN_FIELDS);
    for family in [Family::Ipv4, Family::Ipv6] {
        if let Some(address) = addresses.get(family) {
            let (key, switch) = match family {
                Family::Ipv4 => ("ipv4Address", "ipv4"),
                Family::Ipv6 => ("ipv6Address", "ipv6"),
            };
            body.insert(key.into(), address.to_string().into());
            body.insert(switch.into(), true.into());
        }
    }
    body.insert("ttl".into(), ttl_secs.into());
    body
}

/// The record type of a family: `A` / `AAAA`.
pub fn record_type(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "A",
        Family::Ipv6 => "AAAA",
    }
}

/// The body that creates or updates the A/AAAA record of `node`: `existing` fields (none for
/// a new record) with the address, the TTL and `state: true` put in.
pub fn record_body(
    existing: Option<&Object>,
    node: &str,
    address: IpAddr,
    ttl_secs: u64,
) -> Object {
    let family = Family::of(&address);
    let mut body = match existing {
        Some(fields) => pick(fields, RECORD_FIELDS),
        None => json!({"group": ""})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    let key = match family {
        Family::Ipv4 => "ipv4Address",
        Family::Ipv6 => "ipv6Address",
    };
    body.insert("nodeName".into(), node.into());
    body.insert("recordType".into(), record_type(family).into());
    body.insert("ttl".into(), ttl_secs.into());
    body.insert("state".into(), true.into());
    body.insert(key.into(), address.to_string().into());
    body
}

/// The one record of `family` named `hostname` in a `GET /dns/record/{hostname}` reply:
/// `Ok(None)` when there is none; an error when there are several (dynipd keeps exactly one
/// up to date) or the reply is not a record list.
pub fn find_record(
    reply: &Object,
    hostname: &str,
    family: Family,
) -> Result<Option<RecordSnapshot>, &'static str> {
    let Some(records) = reply.get("dnsRecords").and_then(Value::as_array) else {
        return Err("the record lookup reply has no \"dnsRecords\" array");
    };
    let wanted = record_type(family);
    let mut found = Vec::new();
    for record in records {
        let Some(object) = record.as_object() else {
            return Err("a record lookup entry is not an object");
        };
        let is_type = object.get("recordType").and_then(Value::as_str) == Some(wanted);
        let is_name = object
            .get("hostname")
            .and_then(Value::as_str)
            .is_none_or(|h| h.eq_ignore_ascii_case(hostname));
        if is_type && is_name {
            found.push(snapshot(object)?);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err("the name has several records of this type; dynipd keeps exactly one"),
    }
}

/// A record reply (lookup entry, or the reply to a create) as a snapshot.
pub fn snapshot(object: &Object) -> Result<RecordSnapshot, &'static str> {
    let Some(id) = object.get("id").and_then(Value::as_u64) else {
        return Err("a record in the reply has no numeric id");
    };
    Ok(RecordSnapshot {
        id,
        fields: pick(object, RECORD_FIELDS),
    })
}

#[cfg(test)]
mod tests;

//! Building UPDATE messages (RFC 2136 §2) from targets: name checks, batching by size, the
//! atomic replace shape, and the dry-run rendering in nsupdate syntax. No I/O.

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, Query, UpdateMessage};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use crate::core::{Addresses, RecordId};

use super::Rfc2136ProviderConfig;
use super::error::Rfc2136Error;
use crate::provider::Target;

/// The TTL used when a target's TTL is zero (unset).
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// Largest encoded UPDATE message we build; a bigger batch is split. TCP carries up to 65,535
/// bytes (RFC 1035 §4.2.2); the margin leaves room for the TSIG RR and our size estimate.
pub const MAX_MESSAGE_BYTES: usize = 60_000;

/// A message travels over UDP only up to this size (RFC 1035 §4.2.1; we send no EDNS).
pub(super) const MAX_UDP_BYTES: usize = 512;

/// One target, checked and ready to be put in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PreparedTarget {
    pub(super) record: RecordId,
    pub(super) name: Name,
    pub(super) ttl_secs: u32,
    /// Only the families the record carries and has an address for.
    pub(super) addresses: Addresses,
}

impl PreparedTarget {
    /// The update RRs of this target, in order: RFC 2136 §2.5.2 "delete an RRset" (class ANY,
    /// TTL 0, empty RDATA) then §2.5.1 "add to an RRset", per family. The server applies them
    /// in order and all-or-nothing (§3.4.2), so the name is never without an address.
    fn updates(&self) -> Vec<Record> {
        let mut records = Vec::with_capacity(4);
        let families = [
            (RecordType::A, self.addresses.ipv4.map(|a| RData::A(A(a)))),
            (
                RecordType::AAAA,
                self.addresses.ipv6.map(|a| RData::AAAA(AAAA(a))),
            ),
        ];
        for (rtype, rdata) in families {
            let Some(rdata) = rdata else { continue };
            let mut delete = Record::update0(self.name.clone(), 0, rtype);
            delete.dns_class = DNSClass::ANY;
            records.push(delete);
            records.push(Record::from_rdata(self.name.clone(), self.ttl_secs, rdata));
        }
        records
    }

    /// An upper bound of the encoded size of `updates()`: no name compression assumed.
    fn encoded_bound(&self) -> usize {
        let name = self.name.len() + 1;
        let per_family = |rdata_len: usize| (name + 10) + (name + 10 + rdata_len);
        self.addresses.ipv4.map_or(0, |_| per_family(4))
            + self.addresses.ipv6.map_or(0, |_| per_family(16))
    }
}

/// RFC 2136 §2.5.2 "delete an RRset" for each family the record carries (`dynipd delete`).
pub(super) fn deletes(name: &Name, families: crate::core::Families) -> Vec<Record> {
    families
        .iter()
        .map(|family| {
            let rtype = match family {
                crate::core::Family::Ipv4 => RecordType::A,
                crate::core::Family::Ipv6 => RecordType::AAAA,
            };
            let mut delete = Record::update0(name.clone(), 0, rtype);
            delete.dns_class = DNSClass::ANY;
            delete
        })
        .collect()
}

/// Targets that go in one UPDATE message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Batch {
    pub(super) targets: Vec<PreparedTarget>,
}

impl Batch {
    /// The record names, for messages.
    pub(super) fn names(&self) -> Vec<String> {
        self.targets.iter().map(|t| display_name(&t.name)).collect()
    }

    /// Splits into two non-empty halves (for a batch of at least two).
    pub(super) fn halves(mut self) -> (Batch, Batch) {
        let right = self.targets.split_off(self.targets.len() / 2);
        (self, Batch { targets: right })
    }
}

/// Parses the provider's zone.
pub(super) fn parse_zone(zone: &str) -> Result<Name, Rfc2136Error> {
    parse_name(zone).map_err(|reason| Rfc2136Error::InvalidZone {
        zone: zone.to_string(),
        reason,
    })
}

/// Parses the TSIG key name (compared as a DNS name, RFC 8945 §4.2).
pub(super) fn parse_key_name(key: &str) -> Result<Name, Rfc2136Error> {
    parse_name(key).map_err(|reason| Rfc2136Error::InvalidKeyName {
        key: key.to_string(),
        reason,
    })
}

fn parse_name(text: &str) -> Result<Name, String> {
    if text.trim_end_matches('.').is_empty() {
        return Err("empty".to_string());
    }
    let mut name = Name::from_utf8(text).map_err(|e| e.to_string())?;
    name.set_fqdn(true);
    Ok(name)
}

/// A name as messages show it: no trailing dot, as in the config.
fn display_name(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_string()
}

/// The name of `target`, checked to lie in `zone` (RFC 2136 §3.4.1.3).
pub(super) fn name_in_zone(zone: &Name, target: &Target) -> Result<Name, Rfc2136Error> {
    let name = parse_name(&target.name).map_err(|reason| Rfc2136Error::InvalidName {
        name: target.name.clone(),
        reason,
    })?;
    if !zone.zone_of(&name) {
        return Err(Rfc2136Error::OutsideZone {
            name: display_name(&name),
            zone: display_name(zone),
        });
    }
    Ok(name)
}

/// The unsigned UPDATE message deleting the carried families' RRsets at `name`.
pub(super) fn build_delete(zone: &Name, name: &Name, families: crate::core::Families) -> Message {
    let mut message = build(zone, &Batch::default());
    message.add_updates(deletes(name, families));
    message
}

/// The dry-run text of a delete, in nsupdate syntax.
pub(super) fn render_delete(
    config: &Rfc2136ProviderConfig,
    zone: &Name,
    name: &Name,
    families: crate::core::Families,
) -> String {
    let mut lines = vec![
        format!(
            "; dns update (rfc 2136), signed with TSIG key '{}' ({})",
            config.key_name, config.key_algorithm
        ),
        format!("server {} {}", config.server.ip(), config.server.port()),
        format!("zone {}", display_name(zone)),
    ];
    for family in families.iter() {
        let rtype = match family {
            crate::core::Family::Ipv4 => "A",
            crate::core::Family::Ipv6 => "AAAA",
        };
        lines.push(format!("update delete {} {rtype}", name.to_ascii()));
    }
    lines.push("send".to_string());
    lines.join("\n")
}

/// Checks every target against `zone` and packs the good ones into batches of at most
/// [`MAX_MESSAGE_BYTES`], in order. Targets outside the zone, with an invalid name, or with no
/// address to publish come back as failures.
pub(super) fn prepare(
    zone: &Name,
    targets: &[Target],
) -> (Vec<Batch>, Vec<(RecordId, Rfc2136Error)>) {
    let mut refused = Vec::new();
    let mut batches: Vec<Batch> = Vec::new();
    let mut current = Batch::default();
    let mut current_len = fixed_len(zone);
    for target in targets {
        let prepared = match prepare_one(zone, target) {
            Ok(p) => p,
            Err(e) => {
                refused.push((target.name.clone(), e));
                continue;
            }
        };
        let len = prepared.encoded_bound();
        if !current.targets.is_empty() && current_len + len > MAX_MESSAGE_BYTES {
            batches.push(std::mem::take(&mut current));
            current_len = fixed_len(zone);
        }
        current_len += len;
        current.targets.push(prepared);
    }
    if !current.targets.is_empty() {
        batches.push(current);
    }
    (batches, refused)
}

/// Header, zone section and a generous TSIG RR (RFC 8945 §4.2: two names of at most 255
/// bytes, a 64-byte MAC, fixed fields).
fn fixed_len(zone: &Name) -> usize {
    12 + (zone.len() + 1 + 4) + (255 + 10 + 255 + 16 + 64 + 6)
}

fn prepare_one(zone: &Name, target: &Target) -> Result<PreparedTarget, Rfc2136Error> {
    // RFC 2136 §3.4.1.3: every update RR must be in the zone; hickory's helpers would panic.
    let name = name_in_zone(zone, target)?;
    let addresses = target.addresses.restricted_to(target.families);
    if addresses.is_empty() {
        return Err(Rfc2136Error::Encode(format!(
            "record {} has no address to publish",
            target.name
        )));
    }
    let ttl = if target.ttl.is_zero() {
        DEFAULT_TTL
    } else {
        target.ttl
    };
    Ok(PreparedTarget {
        record: target.name.clone(),
        name,
        ttl_secs: u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX),
        addresses,
    })
}

/// The unsigned UPDATE message of `batch`: RFC 2136 §2.3 zone section (zone, SOA, IN), no
/// prerequisites, the updates of every target. A fresh random ID (RFC 5452 §9.2).
pub(super) fn build(zone: &Name, batch: &Batch) -> Message {
    let mut message = Message::query();
    message.metadata.op_code = OpCode::Update;
    message.metadata.recursion_desired = false;
    let mut zone_query = Query::new();
    zone_query
        .set_name(zone.clone())
        .set_query_class(DNSClass::IN)
        .set_query_type(RecordType::SOA);
    message.add_zone(zone_query);
    message.add_updates(batch.targets.iter().flat_map(PreparedTarget::updates));
    message
}

/// The exact size of `batch`'s message once signed with `key` (TSIG RR per RFC 8945 §4.2:
/// owner, type/class/TTL/RDLENGTH, algorithm name, time 6, fudge 2, MAC size 2, MAC, original
/// ID 2, error 2, other length 2). `None` if it cannot be encoded.
pub(super) fn signed_len(zone: &Name, batch: &Batch, key: &Name, mac_len: usize) -> Option<usize> {
    let unsigned = build(zone, batch).to_vec().ok()?.len();
    let algorithm_len = "hmac-sha256.".len() + 1;
    Some(unsigned + (key.len() + 1) + 10 + algorithm_len + 6 + 2 + 2 + mac_len + 2 + 2 + 2)
}

/// Which transport a message of `len` bytes takes (RFC 1035 §4.2.1: over 512 bytes, TCP).
pub(super) fn transport_for(len: usize) -> &'static str {
    if len > MAX_UDP_BYTES { "tcp" } else { "udp" }
}

/// The dry-run text of one message, in nsupdate syntax; the key appears by name only.
pub(super) fn render(
    config: &Rfc2136ProviderConfig,
    zone: &Name,
    batch: &Batch,
    signed_len: Option<usize>,
) -> String {
    let transport = match signed_len {
        Some(len) => format!("over {}, {len} bytes", transport_for(len)),
        None => "over udp or tcp".to_string(),
    };
    let mut lines = vec![
        format!(
            "; dns update (rfc 2136) {transport}, signed with TSIG key '{}' ({})",
            config.key_name, config.key_algorithm
        ),
        format!("server {} {}", config.server.ip(), config.server.port()),
        format!("zone {}", display_name(zone)),
    ];
    for target in &batch.targets {
        let name = target.name.to_ascii();
        let ttl = target.ttl_secs;
        let families = [
            ("A", target.addresses.ipv4.map(IpAddr::V4)),
            ("AAAA", target.addresses.ipv6.map(IpAddr::V6)),
        ];
        for (rtype, addr) in families {
            let Some(addr) = addr else { continue };
            lines.push(format!("update delete {name} {rtype}"));
            lines.push(format!("update add {name} {ttl} {rtype} {addr}"));
        }
    }
    lines.push("send".to_string());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::core::Families;

    fn target(name: &str, addresses: Addresses) -> Target {
        Target {
            name: name.to_string(),
            families: Families::BOTH,
            ttl: Duration::from_secs(120),
            addresses,
            cache: BTreeMap::new(),
        }
    }

    fn both() -> Addresses {
        Addresses {
            ipv4: Some("198.51.100.7".parse().unwrap()),
            ipv6: Some("2001:db8::7".parse().unwrap()),
        }
    }

    #[test]
    fn replace_is_delete_then_add_per_family() {
        let zone = parse_zone("example.test").unwrap();
        let (batches, refused) = prepare(&zone, &[target("Host.Example.Test.", both())]);
        assert!(refused.is_empty());
        let msg = build(&zone, &batches[0]);
        let updates = msg.updates();
        let shape: Vec<(DNSClass, RecordType, u32)> = updates
            .iter()
            .map(|r| (r.dns_class, r.record_type(), r.ttl))
            .collect();
        assert_eq!(
            shape,
            [
                (DNSClass::ANY, RecordType::A, 0),
                (DNSClass::IN, RecordType::A, 120),
                (DNSClass::ANY, RecordType::AAAA, 0),
                (DNSClass::IN, RecordType::AAAA, 120),
            ]
        );
        assert_eq!(msg.metadata.op_code, OpCode::Update);
        assert_eq!(msg.queries[0].query_type(), RecordType::SOA);
    }

    #[test]
    fn family_not_carried_is_untouched() {
        let zone = parse_zone("example.test").unwrap();
        let mut t = target("host.example.test", both());
        t.families = Families::IPV6;
        let (batches, _) = prepare(&zone, &[t]);
        let types: Vec<RecordType> = build(&zone, &batches[0])
            .updates()
            .iter()
            .map(|r| r.record_type())
            .collect();
        assert_eq!(types, [RecordType::AAAA, RecordType::AAAA]);
    }

    #[test]
    fn names_outside_the_zone_are_refused_by_name() {
        let zone = parse_zone("example.test").unwrap();
        let targets = [
            target("host.example.test", both()),
            target("host.other.test", both()),
            target("example.test.evil", both()),
            target("bad..name", both()),
        ];
        let (batches, refused) = prepare(&zone, &targets);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].targets.len(), 1);
        let messages: Vec<String> = refused.iter().map(|(_, e)| e.to_string()).collect();
        assert_eq!(
            messages[0],
            "record host.other.test is outside zone example.test; use a provider whose zone \
             contains it, or fix the record name"
        );
        assert!(messages[1].contains("example.test.evil"));
        assert!(messages[2].contains("bad..name"));
    }

    #[test]
    fn zero_ttl_means_default() {
        let zone = parse_zone("example.test").unwrap();
        let mut t = target("h.example.test", both());
        t.ttl = Duration::ZERO;
        let (batches, _) = prepare(&zone, &[t]);
        assert_eq!(batches[0].targets[0].ttl_secs, 60);
    }

    #[test]
    fn big_batches_split_below_the_limit_and_estimates_hold() {
        let zone = parse_zone("example.test").unwrap();
        let targets: Vec<Target> = (0..2000)
            .map(|i| target(&format!("host-number-{i}.example.test"), both()))
            .collect();
        let (batches, refused) = prepare(&zone, &targets);
        assert!(refused.is_empty());
        assert!(batches.len() > 1);
        assert_eq!(batches.iter().map(|b| b.targets.len()).sum::<usize>(), 2000);
        let key = parse_key_name("dynipd-sha512").unwrap();
        for batch in &batches {
            let len = signed_len(&zone, batch, &key, 64).unwrap();
            assert!(len <= MAX_MESSAGE_BYTES, "{len}");
        }
    }

    #[test]
    fn signed_len_is_exact() {
        use hickory_proto::rr::TSigner;
        use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
        let zone = parse_zone("example.test").unwrap();
        let (batches, _) = prepare(&zone, &[target("host.example.test", both())]);
        for (alg, mac) in [
            (TsigAlgorithm::HmacSha256, 32),
            (TsigAlgorithm::HmacSha512, 64),
        ] {
            let key = parse_key_name("dynipd-key").unwrap();
            let signer = TSigner::new(vec![7; 32], alg, key.clone(), 300).unwrap();
            let mut msg = build(&zone, &batches[0]);
            msg.finalize(&signer, 1_700_000_000).unwrap();
            let len = msg.to_vec().unwrap().len();
            assert_eq!(signed_len(&zone, &batches[0], &key, mac), Some(len));
        }
    }
}

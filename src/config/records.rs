//! `[[records]]` → `RecordConfig`: names, references to providers and sources, families the
//! source can give, TTL, IPv6 host id, and the record's config fingerprint.
//! Does not decide when to publish; that is `core::scheduler`.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;
use std::time::Duration;

use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::raw::RawRecord;
use super::values::{duration, fqdn, quoted_list, show, word};
use super::{ProviderConfig, RecordConfig, SourceConfig, providers, sources};
use crate::core::fingerprint::Fingerprint;
use crate::core::host_id::{DEFAULT_PREFIX_LEN, HostId};
use crate::core::{Families, Family};

/// RFC 2181 §8: a TTL is at most 2^31 - 1 seconds.
const MAX_TTL_SECS: u64 = (1 << 31) - 1;
const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// What records may refer to. `*_names` are every table defined, built or not, so a record
/// naming a broken provider gets no second error; the maps hold the ones that built.
pub(super) struct Targets<'c> {
    pub source_names: &'c [String],
    pub provider_names: &'c [String],
    pub sources: &'c BTreeMap<String, SourceConfig>,
    pub providers: &'c BTreeMap<String, ProviderConfig>,
}

/// Builds every record, in file order; problems are reported and those records skipped.
/// `warnings` gets odd but legal records (see `providers::check_record`).
pub(super) fn build(
    entries: &[Entry<'_>],
    targets: &Targets<'_>,
    diags: &mut Diagnostics,
    warnings: &mut Vec<String>,
) -> Vec<RecordConfig> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for entry in entries {
        let Some(raw) = entry.deserialize::<RawRecord>(diags) else {
            continue;
        };
        let before = diags.len();
        let name = match fqdn(raw.name.get_ref()) {
            Ok(name) => {
                if let Some(first) = seen.get(&name.to_ascii_lowercase()) {
                    diags.error(
                        raw.name.span(),
                        entry.key("name"),
                        format!("record \"{name}\" is defined twice (first at {first}); remove or rename one"),
                    );
                } else {
                    seen.insert(name.to_ascii_lowercase(), entry.path.clone());
                }
                name
            }
            Err(message) => {
                diags.error(raw.name.span(), entry.key("name"), message);
                raw.name.get_ref().clone()
            }
        };
        for (key, value, names, what) in [
            (
                "provider",
                &raw.provider,
                targets.provider_names,
                "provider",
            ),
            ("source", &raw.source, targets.source_names, "source"),
        ] {
            if !names.iter().any(|n| n == value.get_ref()) {
                let defined: Vec<&str> = names.iter().map(String::as_str).collect();
                let hint = if defined.is_empty() {
                    format!(
                        "none are defined; add a [{what}s.{}] table",
                        value.get_ref()
                    )
                } else {
                    format!("defined: {}", quoted_list(&defined))
                };
                diags.error(
                    value.span(),
                    entry.key(key),
                    format!("no {what} named \"{}\" ({hint})", value.get_ref()),
                );
            }
        }
        let families = families(entry, &raw, diags);
        let ttl = ttl(entry, &raw, diags);
        let host_id = host_id(entry, &raw, &name, families, diags);
        if let (Some(families), Some(source)) =
            (families, targets.sources.get(raw.source.get_ref()))
        {
            check_families(entry, &raw, &name, families, source, diags);
        }
        if diags.len() != before {
            continue;
        }
        let (Some(families), Some(ttl), Ok(ipv6_host_id), Some(provider)) = (
            families,
            ttl,
            host_id,
            targets.providers.get(raw.provider.get_ref()),
        ) else {
            continue;
        };
        let record_use = providers::RecordUse {
            path: &entry.path,
            name: &name,
            name_span: raw.name.span(),
            families,
            provider: raw.provider.get_ref(),
        };
        providers::check_record(&record_use, provider, diags, warnings);
        if diags.len() != before {
            continue;
        }
        let mut fp = Fingerprint::default();
        fp.field(name.as_bytes())
            .field(families.to_string().as_bytes())
            .field(&ttl.as_secs().to_le_bytes())
            .field(raw.source.get_ref().as_bytes())
            .field(raw.provider.get_ref().as_bytes());
        if let Some(host) = ipv6_host_id {
            // Only a record with a host id hashes one, so existing fingerprints stay put.
            fp.field(&host.id().octets()).field(&[host.prefix_len()]);
        }
        providers::fingerprint(&mut fp, provider);
        out.push(RecordConfig {
            name,
            provider: raw.provider.into_inner(),
            source: raw.source.into_inner(),
            families,
            ttl,
            ipv6_host_id,
            fingerprint: std::hash::Hasher::finish(&fp),
        });
    }
    out
}

fn families(entry: &Entry<'_>, raw: &RawRecord, diags: &mut Diagnostics) -> Option<Families> {
    let Some(list) = &raw.families else {
        return Some(Families::BOTH);
    };
    if list.get_ref().is_empty() {
        diags.error(
            list.span(),
            entry.key("families"),
            "families is empty; list \"ipv4\", \"ipv6\" or both (or remove the key for both)",
        );
        return None;
    }
    let mut families = Families::default();
    let mut ok = true;
    for (i, item) in list.get_ref().iter().enumerate() {
        let key = format!("{}[{i}]", entry.key("families"));
        let family = match word(item.get_ref(), &["ipv4", "ipv6"]) {
            Ok(0) => Family::Ipv4,
            Ok(_) => Family::Ipv6,
            Err(message) => {
                diags.error(item.span(), key, message);
                ok = false;
                continue;
            }
        };
        if families.has(family) {
            diags.error(item.span(), key, format!("\"{family}\" is listed twice"));
            ok = false;
        }
        families = families.union(match family {
            Family::Ipv4 => Families::IPV4,
            Family::Ipv6 => Families::IPV6,
        });
    }
    ok.then_some(families)
}

fn ttl(entry: &Entry<'_>, raw: &RawRecord, diags: &mut Diagnostics) -> Option<Duration> {
    let Some(text) = &raw.ttl else {
        return Some(DEFAULT_TTL);
    };
    let checked = duration(&text.get_ref().0).and_then(|ttl| {
        if ttl < Duration::from_secs(1) {
            Err(format!("ttl is {}; it must be at least 1s", show(ttl)))
        } else if ttl.subsec_nanos() != 0 {
            Err(format!("ttl is {}; DNS counts whole seconds", show(ttl)))
        } else if ttl.as_secs() > MAX_TTL_SECS {
            Err(format!(
                "ttl is {}; it must be at most {MAX_TTL_SECS}s",
                show(ttl)
            ))
        } else {
            Ok(ttl)
        }
    });
    checked
        .map_err(|message| diags.error(text.span(), entry.key("ttl"), message))
        .ok()
}

/// `ipv6-host-id` and `ipv6-prefix-length` (DESIGN.md records; see: #7). `Err` when either is
/// wrong (reported), `Ok(None)` when absent.
fn host_id(
    entry: &Entry<'_>,
    raw: &RawRecord,
    name: &str,
    families: Option<Families>,
    diags: &mut Diagnostics,
) -> Result<Option<HostId>, ()> {
    let prefix_len = match &raw.ipv6_prefix_length {
        None => Some(DEFAULT_PREFIX_LEN),
        Some(n) => {
            let checked = u8::try_from(*n.get_ref())
                .ok()
                .filter(|len| (1..=127).contains(len));
            if checked.is_none() {
                diags.error(
                    n.span(),
                    entry.key("ipv6-prefix-length"),
                    format!("ipv6-prefix-length is {}; it must be 1 to 127", n.get_ref()),
                );
            }
            checked
        }
    };
    let Some(text) = &raw.ipv6_host_id else {
        if let Some(n) = &raw.ipv6_prefix_length {
            diags.error(
                n.span(),
                entry.key("ipv6-prefix-length"),
                "ipv6-prefix-length applies only with ipv6-host-id; add ipv6-host-id or remove this key",
            );
            return Err(());
        }
        return Ok(None);
    };
    let key = entry.key("ipv6-host-id");
    let Ok(id) = text.get_ref().trim().parse::<Ipv6Addr>() else {
        diags.error(
            text.span(),
            key,
            format!(
                "\"{}\" is not an IPv6 interface id; write it like an IPv6 address, e.g. \"::1:2:3:4\"",
                text.get_ref()
            ),
        );
        return Err(());
    };
    if families.is_some_and(|f| !f.ipv6) {
        diags.error(
            text.span(),
            key,
            format!("record \"{name}\" has ipv6-host-id but does not carry ipv6; add \"ipv6\" to families or remove ipv6-host-id"),
        );
        return Err(());
    }
    let prefix_len = prefix_len.ok_or(())?;
    HostId::new(id, prefix_len)
        .map(Some)
        .map_err(|e| diags.error(text.span(), key, e.to_string()))
}

/// Every family of the record must be one its source can give.
fn check_families(
    entry: &Entry<'_>,
    raw: &RawRecord,
    name: &str,
    families: Families,
    source: &SourceConfig,
    diags: &mut Diagnostics,
) {
    let available = sources::families_available(source);
    let source_name = raw.source.get_ref();
    for family in families.iter().filter(|f| !available.has(*f)) {
        let why = match source {
            SourceConfig::Web(_) => format!("has no {family}-urls"),
            _ => format!("cannot give {family}"),
        };
        let others: Vec<&str> = families
            .iter()
            .filter(|f| available.has(*f))
            .map(Family::as_str)
            .collect();
        let fix = if others.is_empty() {
            format!("use another source, or add {family}-urls to [sources.{source_name}]")
        } else {
            format!(
                "set families = [{}] or add {family}-urls to [sources.{source_name}]",
                quoted_list(&others)
            )
        };
        let (span, key, wants) = match &raw.families {
            Some(list) => (list.span(), entry.key("families"), "wants"),
            None => (
                raw.source.span(),
                entry.key("source"),
                "carries (by default)",
            ),
        };
        diags.error(
            span,
            key,
            format!("record \"{name}\" {wants} {family} but source \"{source_name}\" {why}; {fix}"),
        );
    }
}

//! `[sources.NAME]` → `SourceConfig`: kind dispatch and the checks of each kind.
//! Does not detect anything; that is `crate::source`.

use toml::Spanned;
use url::Url;

use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::raw::{RawCommandSource, RawInterfaceSource, RawWebSource};
use super::values::{http_url, word};
use super::{CommandSourceConfig, InterfaceSourceConfig, SourceConfig, WebSourceConfig};
use crate::core::Families;
use crate::core::select::{Ipv6Policy, SelectPolicy};

const KINDS: &[&str] = &["interface", "web", "command"];
const IPV6_POLICIES: &[&str] = &["stable", "temporary", "any"];

/// Builds one source; every problem is reported, `None` when there was any.
pub(super) fn build(entry: &Entry<'_>, diags: &mut Diagnostics) -> Option<SourceConfig> {
    match entry.kind("source", KINDS, &[], diags)?.as_str() {
        "interface" => interface(entry, entry.deserialize(diags)?, diags),
        "web" => web(entry, &entry.deserialize(diags)?, diags),
        _ => command(entry, &entry.deserialize(diags)?, diags),
    }
}

/// The families a source can ever give: a web source only those it has URLs for.
pub(super) fn families_available(source: &SourceConfig) -> Families {
    match source {
        SourceConfig::Web(web) => Families {
            ipv4: !web.ipv4_urls.is_empty(),
            ipv6: !web.ipv6_urls.is_empty(),
        },
        SourceConfig::Interface(_) | SourceConfig::Command(_) => Families::BOTH,
    }
}

fn interface(
    entry: &Entry<'_>,
    raw: RawInterfaceSource,
    diags: &mut Diagnostics,
) -> Option<SourceConfig> {
    let mut ok = true;
    if let Some(name) = &raw.interface
        && name.get_ref().trim().is_empty()
    {
        diags.error(
            name.span(),
            entry.key("interface"),
            "interface name is empty; remove the key to use all interfaces",
        );
        ok = false;
    }
    let ipv6 = match &raw.ipv6 {
        None => Ipv6Policy::default(),
        Some(text) => match word(text.get_ref(), IPV6_POLICIES) {
            Ok(0) => Ipv6Policy::Stable,
            Ok(1) => Ipv6Policy::Temporary,
            Ok(_) => Ipv6Policy::Any,
            Err(message) => {
                diags.error(text.span(), entry.key("ipv6"), message);
                ok = false;
                Ipv6Policy::default()
            }
        },
    };
    ok.then(|| {
        SourceConfig::Interface(InterfaceSourceConfig {
            interface: raw.interface.map(Spanned::into_inner),
            policy: SelectPolicy {
                ipv6,
                allow_private: raw.allow_private,
            },
        })
    })
}

fn web(entry: &Entry<'_>, raw: &RawWebSource, diags: &mut Diagnostics) -> Option<SourceConfig> {
    let ipv4_urls = urls(entry, "ipv4-urls", &raw.ipv4_urls, diags);
    let ipv6_urls = urls(entry, "ipv6-urls", &raw.ipv6_urls, diags);
    let mut ok = ipv4_urls.is_some() && ipv6_urls.is_some();
    if raw.ipv4_urls.is_empty() && raw.ipv6_urls.is_empty() {
        diags.error(
            entry.span(),
            &entry.path,
            "a web source needs ipv4-urls, ipv6-urls or both (e.g. ipv4-urls = [\"https://api.ipify.org\"])",
        );
        ok = false;
    }
    let quorum = match &raw.quorum {
        None => 1,
        Some(q) => {
            let n = *q.get_ref();
            let too_big = [
                ("ipv4-urls", raw.ipv4_urls.len()),
                ("ipv6-urls", raw.ipv6_urls.len()),
            ]
            .into_iter()
            .find(|(_, len)| *len > 0 && usize::try_from(n).is_ok_and(|n| n > *len));
            if n < 1 {
                diags.error(
                    q.span(),
                    entry.key("quorum"),
                    format!("quorum is {n}; it must be at least 1"),
                );
                ok = false;
            } else if let Some((key, len)) = too_big {
                diags.error(
                    q.span(),
                    entry.key("quorum"),
                    format!(
                        "quorum is {n} but {key} has only {len} URL(s); lower quorum or add URLs"
                    ),
                );
                ok = false;
            }
            usize::try_from(n).unwrap_or(1)
        }
    };
    let (true, Some(ipv4_urls), Some(ipv6_urls)) = (ok, ipv4_urls, ipv6_urls) else {
        return None;
    };
    Some(SourceConfig::Web(WebSourceConfig {
        ipv4_urls,
        ipv6_urls,
        quorum,
        allow_private: raw.allow_private,
    }))
}

fn urls(
    entry: &Entry<'_>,
    key: &str,
    raw: &[Spanned<String>],
    diags: &mut Diagnostics,
) -> Option<Vec<Url>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, text) in raw.iter().enumerate() {
        match http_url(text.get_ref()) {
            Ok(url) => out.push(url),
            Err(message) => {
                diags.error(text.span(), format!("{}[{i}]", entry.key(key)), message);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn command(
    entry: &Entry<'_>,
    raw: &RawCommandSource,
    diags: &mut Diagnostics,
) -> Option<SourceConfig> {
    let argv = raw.command.get_ref();
    let Some(program) = argv.first() else {
        diags.error(
            raw.command.span(),
            entry.key("command"),
            "command is empty; give the program and its arguments, e.g. [\"/usr/local/bin/my-ip\"]",
        );
        return None;
    };
    if program.get_ref().trim().is_empty() {
        diags.error(
            program.span(),
            format!("{}[0]", entry.key("command")),
            "the program name is empty",
        );
        return None;
    }
    Some(SourceConfig::Command(CommandSourceConfig {
        command: argv.iter().map(|a| a.get_ref().clone()).collect(),
        allow_private: raw.allow_private,
    }))
}

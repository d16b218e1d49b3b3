//! `[providers.NAME]` with `kind = "rfc2136"`: server address, zone, TSIG key (DESIGN.md
//! "Configuration"; protocols/rfc2136-tsig.md). Does not talk DNS; that is
//! `provider::rfc2136`.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use base64::Engine as _;
use serde::Deserialize;
use toml::Spanned;

use super::ProviderConfig;
use super::diagnostic::Diagnostics;
use super::document::Entry;
use super::secrets::{SecretKeys, SecretReader, SecretValue};
use crate::provider::rfc2136::{Rfc2136ProviderConfig, TsigAlgorithm};
use crate::secret::Secret;

type Text = Spanned<String>;

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawRfc2136Provider {
    #[serde(rename = "kind")]
    _kind: serde::de::IgnoredAny,
    pub server: Text,
    pub zone: Text,
    pub key_name: Text,
    pub key_algorithm: Option<Text>,
    pub key_secret: Option<Text>,
    pub key_secret_file: Option<Text>,
    pub key_secret_credential: Option<Text>,
    pub verify: Option<bool>,
}

/// Builds the provider; every problem is reported, `None` when any.
pub(super) fn build(
    entry: &Entry<'_>,
    raw: &RawRfc2136Provider,
    secrets: &mut SecretReader,
    diags: &mut Diagnostics,
) -> Option<ProviderConfig> {
    let server = server_address(raw.server.get_ref())
        .map_err(|m| diags.error(raw.server.span(), entry.key("server"), m))
        .ok();
    let key_algorithm = match &raw.key_algorithm {
        None => Some(TsigAlgorithm::HmacSha256),
        Some(text) => text
            .get_ref()
            .parse::<TsigAlgorithm>()
            .map_err(|m| diags.error(text.span(), entry.key("key-algorithm"), m))
            .ok(),
    };
    let keys = SecretKeys {
        name: "key-secret",
        inline: raw.key_secret.as_ref(),
        file: raw.key_secret_file.as_ref(),
        credential: raw.key_secret_credential.as_ref(),
    };
    let secret_span = [keys.inline, keys.file, keys.credential]
        .into_iter()
        .flatten()
        .map(Spanned::span)
        .next()
        .unwrap_or_else(|| entry.span());
    let key_secret = match secrets.read(entry, &keys, true, diags) {
        SecretValue::Present(text) => {
            match base64::engine::general_purpose::STANDARD.decode(text.expose().trim()) {
                Ok(bytes) if !bytes.is_empty() => Some(Secret::new(bytes)),
                // The message names the key, never the value.
                _ => {
                    diags.error(
                        secret_span.clone(),
                        entry.key("key-secret"),
                        "the TSIG secret is not valid base64; copy the secret \"...\" value from tsig-keygen's output",
                    );
                    None
                }
            }
        }
        _ => None,
    };
    let (Some(server), Some(key_algorithm), Some(key_secret)) = (server, key_algorithm, key_secret)
    else {
        return None;
    };
    let config = Rfc2136ProviderConfig {
        server,
        zone: raw
            .zone
            .get_ref()
            .trim_end_matches('.')
            .to_ascii_lowercase(),
        key_name: raw.key_name.get_ref().clone(),
        key_algorithm,
        key_secret,
        verify: raw.verify.unwrap_or(true),
    };
    let mut ok = true;
    for (key, message) in config.problems() {
        let span = match key {
            "zone" => raw.zone.span(),
            "key-name" => raw.key_name.span(),
            _ => secret_span.clone(),
        };
        diags.error(span, entry.key(key), message);
        ok = false;
    }
    ok.then_some(ProviderConfig::Rfc2136(config))
}

/// `IP:port`, a bare IP (port 53), `[v6]:port`, or `host:port` / `host` resolved now
/// (DESIGN.md: "a host name is resolved at start").
fn server_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    let with_port = if text
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        text.to_string()
    } else {
        format!("{text}:53")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| {
            format!("cannot resolve server \"{text}\" ({e}); give the primary's address as IP:port")
        })?
        .next()
        .ok_or_else(|| {
            format!("server \"{text}\" has no address; give the primary's address as IP:port")
        })
}

/// The record must lie inside the provider's zone (RFC 2136 §2.3: every update RR is in the
/// zone of the Zone section).
pub(super) fn check_record(config: &Rfc2136ProviderConfig, name: &str) -> Result<(), String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let zone = &config.zone;
    if name == *zone || name.ends_with(&format!(".{zone}")) {
        Ok(())
    } else {
        Err(format!(
            "record \"{name}\" is outside zone \"{zone}\" of its rfc2136 provider; use a provider whose zone contains it"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_forms() {
        assert_eq!(
            server_address("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            server_address("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            server_address("[::1]:53").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert_eq!(server_address("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(server_address("localhost:5300").unwrap().port(), 5300);
    }
}

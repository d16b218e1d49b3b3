//! Filling the `http` provider's templates: what each placeholder stands for, how a record
//! name splits into `{host}` and `{zone}`, and how values are encoded for where they go.
//! Does not parse or validate templates; that is `config::template`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::config::template::{Piece, pieces};
use crate::secret::Secret;

/// The values a template's placeholders stand for. A value that is absent renders empty.
#[derive(Clone, Copy, Debug)]
pub struct Values<'a> {
    /// `{name}`: the record's FQDN.
    pub name: &'a str,
    /// `{host}`: the name relative to its zone (`@` for the zone itself).
    pub host: &'a str,
    /// `{zone}`.
    pub zone: &'a str,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    /// `{ip}`: the address of the one family a per-family request carries.
    pub ip: Option<IpAddr>,
    pub ttl: Duration,
    /// The secret itself (render output that holds it must be masked before it is shown).
    pub token: Option<&'a Secret<String>>,
}

impl Values<'_> {
    /// `{type}`: `A` or `AAAA` in a per-family request.
    fn record_type(&self) -> &'static str {
        match self.ip {
            Some(IpAddr::V4(_)) => "A",
            Some(IpAddr::V6(_)) => "AAAA",
            None => "",
        }
    }
}

/// Where a rendered template goes, which decides how values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The URL: every value percent-encoded (an IPv6 address's colons become `%3A`, a space
    /// `%20`), in a form `redact::mask_secrets` looks for.
    Url,
    /// An `application/x-www-form-urlencoded` body: values form-encoded (a space is `+`).
    Form,
    /// Any other body, or a header: values inserted as they are.
    Raw,
}

/// `(host, zone)` of `name`. With `zone` (from the provider's config, lowercase) and `name`
/// inside it: the part before the zone, or `@` for the zone itself. Otherwise the first label
/// and the rest: `home.example.org` → `home`, `example.org`.
pub fn host_and_zone<'n>(name: &'n str, zone: Option<&str>) -> (&'n str, &'n str) {
    if let Some(zone) = zone {
        if name.eq_ignore_ascii_case(zone) {
            return ("@", name);
        }
        if let Some(cut) = name.len().checked_sub(zone.len() + 1)
            && let (Some(host), Some(rest)) = (name.get(..cut), name.get(cut..))
            && rest
                .strip_prefix('.')
                .is_some_and(|z| z.eq_ignore_ascii_case(zone))
        {
            return (host, &rest[1..]);
        }
    }
    name.split_once('.').unwrap_or((name, ""))
}

/// Fills every known placeholder of `template` (`{ttl}` in whole seconds), encoded for
/// `place`. Unknown `{...}` words stay as written; config validation reports them.
pub fn render(template: &str, values: &Values<'_>, place: Place) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    for piece in pieces(template) {
        let word = match piece {
            Piece::Text(text) => {
                out.push_str(text);
                continue;
            }
            Piece::Placeholder(word) => word,
        };
        let value = match word {
            "name" => values.name.to_string(),
            "host" => values.host.to_string(),
            "zone" => values.zone.to_string(),
            "ipv4" => values.ipv4.map(|a| a.to_string()).unwrap_or_default(),
            "ipv6" => values.ipv6.map(|a| a.to_string()).unwrap_or_default(),
            "ip" => values.ip.map(|a| a.to_string()).unwrap_or_default(),
            "type" => values.record_type().to_string(),
            "ttl" => values.ttl.as_secs().to_string(),
            "token" => values.token.map(|t| t.expose().clone()).unwrap_or_default(),
            _ => {
                out.push('{');
                out.push_str(word);
                out.push('}');
                continue;
            }
        };
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        match place {
            // `byte_serialize` writes a space as `+`, which means a space only in form bodies.
            Place::Url => out.push_str(&form.replace('+', "%20")),
            Place::Form => out.push_str(&form),
            Place::Raw => out.push_str(&value),
        }
    }
    out
}

//! The `http` provider's templates: `{name} {host} {zone} {ipv4} {ipv6} {ip} {type} {ttl}
//! {token}` in `url`, `body` and header values. A placeholder is `{` + letters, digits, `-` or
//! `_` + `}`; every other brace is literal text, so a JSON body like `{"ip": "{ipv4}"}` needs
//! no escaping. `{ip}` or `{type}` anywhere makes the provider send one request per family.
//! Does not substitute URL-encoded values for sending; that is `provider::http`, which may use
//! [`pieces`] to split a template the same way.

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "name", "host", "zone", "ipv4", "ipv6", "ip", "type", "ttl", "token",
];

/// Placeholders that stand for one family's address or record type: a template using any of
/// them is sent once per family the record carries.
pub const PER_FAMILY: &[&str] = &["ip", "type"];

/// A part of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'t> {
    /// Literal text, sent as written.
    Text(&'t str),
    /// `{word}`, without the braces. Known words only once the config validated.
    Placeholder(&'t str),
}

/// Splits `template` into literal text and placeholders.
pub fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut rest_start = 0;
    while let Some(open) = template[rest_start..].find('{').map(|i| rest_start + i) {
        let after = &template[open + 1..];
        let word_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        if word_len > 0 && after[word_len..].starts_with('}') {
            if text_start < open {
                out.push(Piece::Text(&template[text_start..open]));
            }
            out.push(Piece::Placeholder(&after[..word_len]));
            text_start = open + word_len + 2;
            rest_start = text_start;
        } else {
            rest_start = open + 1;
        }
    }
    if text_start < template.len() {
        out.push(Piece::Text(&template[text_start..]));
    }
    out
}

/// The unknown placeholders of `template`, as written (`{ip}`).
pub(super) fn unknown_placeholders(template: &str) -> Vec<&str> {
    pieces(template)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Placeholder(w) if !PLACEHOLDERS.contains(&w) => Some(w),
            _ => None,
        })
        .collect()
}

/// Whether `template` uses `{word}`.
pub fn uses(template: &str, word: &str) -> bool {
    pieces(template).contains(&Piece::Placeholder(word))
}

/// Whether any of `templates` uses a [`PER_FAMILY`] placeholder.
pub fn is_per_family<'t>(templates: impl IntoIterator<Item = &'t str>) -> bool {
    templates
        .into_iter()
        .any(|t| PER_FAMILY.iter().any(|word| uses(t, word)))
}

/// `template` with each placeholder replaced by a harmless example value, to check that the
/// result parses (e.g. as a URL).
pub(super) fn with_examples(template: &str) -> String {
    pieces(template)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t,
            Piece::Placeholder("name") => "home.example.org",
            Piece::Placeholder("host") => "home",
            Piece::Placeholder("zone") => "example.org",
            Piece::Placeholder("ipv4") => "192.0.2.1",
            // What a URL-encoding provider sends for 2001:db8::1.
            Piece::Placeholder("ipv6" | "ip") => "2001%3Adb8%3A%3A1",
            Piece::Placeholder("type") => "AAAA",
            Piece::Placeholder("ttl") => "60",
            Piece::Placeholder(_) => "example",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_placeholders_and_keeps_other_braces() {
        assert_eq!(
            pieces("{\"ip\": \"{ipv4}\"}"),
            vec![
                Piece::Text("{\"ip\": \""),
                Piece::Placeholder("ipv4"),
                Piece::Text("\"}")
            ]
        );
        assert_eq!(
            pieces("{name}{ttl}"),
            vec![Piece::Placeholder("name"), Piece::Placeholder("ttl")]
        );
        assert_eq!(pieces("a{}b{ c}"), vec![Piece::Text("a{}b{ c}")]);
        assert_eq!(pieces(""), vec![]);
    }

    #[test]
    fn finds_unknown_placeholders() {
        assert_eq!(
            unknown_placeholders("x?h={hostname}&ip={ipv4}&v={ip6}&h={host}"),
            vec!["hostname", "ip6"]
        );
        assert!(uses("a={token}", "token"));
        assert!(!uses("a={tokens}", "token"));
        assert!(is_per_family(["a={ipv4}", "{\"type\": \"{type}\"}"]));
        assert!(is_per_family(["a={ip}"]));
        assert!(!is_per_family(["a={ipv4}&b={ipv6}", "{ipx}"]));
        assert_eq!(
            with_examples("https://x/?h={name}&ip={ipv4}&6={ipv6}&t={ttl}&k={token}"),
            "https://x/?h=home.example.org&ip=192.0.2.1&6=2001%3Adb8%3A%3A1&t=60&k=example"
        );
    }
}

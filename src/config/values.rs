//! Checking single values as written: durations, words from a fixed set, http(s) URLs and
//! DNS names. Each check returns the error message; the caller knows the key and span.

use std::time::Duration;

use url::Url;

/// `"a", "b", "c"`.
pub(super) fn quoted_list(words: &[&str]) -> String {
    if words.is_empty() {
        return "none".to_string();
    }
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"x" (expected one of: "a", "b")`, the tail of a message about a word not in the set.
pub(super) fn one_of(word: &str, expected: &[&str]) -> String {
    format!("\"{word}\" (expected one of: {})", quoted_list(expected))
}

/// The position of `word` in `choices`, or the message for an unknown value.
pub(super) fn word(word: &str, choices: &[&str]) -> Result<usize, String> {
    choices
        .iter()
        .position(|c| *c == word)
        .ok_or_else(|| format!("unknown value {}", one_of(word, choices)))
}

/// A humantime duration (`"90s"`, `"5m"`, `"25d"`).
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("invalid duration \"{text}\": {e}; write e.g. \"90s\", \"5m\" or \"25d\"")
    })
}

/// A duration for messages: `1h`, `30s`.
pub(super) fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// An absolute http or https URL with a host.
pub(super) fn http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("invalid URL \"{text}\": {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "URL \"{text}\" must start with http:// or https://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL \"{text}\" has no host"));
    }
    Ok(url)
}

/// Whether an http URL stays on this machine (no clear-text warning needed).
pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// A record name: the FQDN without its trailing dot. Labels are 1–63 letters, digits, hyphens
/// or underscores (`_acme-challenge`), not starting or ending with a hyphen; at least two
/// labels; at most 253 characters.
pub(super) fn fqdn(text: &str) -> Result<String, String> {
    let name = text.strip_suffix('.').unwrap_or(text);
    let fail = |why: &str| Err(format!("\"{text}\" is not a valid DNS name: {why}"));
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > 253 {
        return fail("it is longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return fail("write the full name, e.g. \"home.example.org\"");
    }
    for label in labels {
        if label.is_empty() {
            return fail("it has an empty label (two dots in a row)");
        }
        if label.len() > 63 {
            return fail(&format!("label \"{label}\" is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return fail(&format!(
                "label \"{label}\" contains {c:?} (only ASCII letters, digits, '-' and '_'; write an international name in its xn-- form)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return fail(&format!("label \"{label}\" starts or ends with a hyphen"));
        }
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdns() {
        assert_eq!(fqdn("home.example.org.").unwrap(), "home.example.org");
        assert_eq!(fqdn("_acme.x-1.example").unwrap(), "_acme.x-1.example");
        for bad in [
            "",
            ".",
            "home",
            "a..b",
            "-a.b",
            "a-.b",
            "a b.c",
            "é.example",
            &format!("{}.org", "a".repeat(64)),
            &format!("{}org", "abcdefghi.".repeat(26)),
        ] {
            assert!(fqdn(bad).is_err(), "{bad:?} accepted");
        }
        assert!(fqdn(&format!("{}.org", "a".repeat(63))).is_ok());
    }

    #[test]
    fn durations_and_words() {
        assert_eq!(duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(duration("0s").unwrap(), Duration::ZERO);
        assert!(
            duration("5 parsecs")
                .unwrap_err()
                .starts_with("invalid duration \"5 parsecs\"")
        );
        assert_eq!(word("any", &["stable", "any"]), Ok(1));
        assert_eq!(
            word("x", &["a", "b"]).unwrap_err(),
            "unknown value \"x\" (expected one of: \"a\", \"b\")"
        );
    }

    #[test]
    fn urls() {
        assert!(http_url("https://api.ipify.org").is_ok());
        assert!(http_url("ftp://x.org").is_err());
        assert!(http_url("not a url").is_err());
        assert!(is_loopback(&http_url("http://127.0.0.1:8245/x").unwrap()));
        assert!(!is_loopback(&http_url("http://example.org/").unwrap()));
    }
}

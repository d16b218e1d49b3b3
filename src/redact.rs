//! Redaction of URLs and text bound for a log line, an error or the dry run (STYLE.md §4).

use url::Url;

use crate::secret::Secret;

/// The shortest secret `mask_secrets` looks for.
pub const MIN_MASKED_LEN: usize = 4;

/// The URL without userinfo, with every query value masked: `https://h/p?token=***`.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, _)| (k.into_owned(), "***".into()))
            .collect();
        shown.set_query(None);
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        shown.set_query(Some(&query.join("&")));
    }
    shown.to_string()
}

/// `text` with every occurrence of each secret — raw, URL-encoded (both `%20` and `+` forms)
/// — replaced by `***`. Secrets shorter than [`MIN_MASKED_LEN`] are not searched for: masking
/// every `p` of a message would destroy it while hiding nothing (such a secret is guessable).
/// URLs are redacted structurally by [`redact_url`] before this runs, so a short secret in a
/// query is still hidden.
pub fn mask_secrets(text: &str, secrets: &[Secret<String>]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let raw = secret.expose();
        if raw.chars().count() < MIN_MASKED_LEN {
            continue;
        }
        let encoded: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        let path_encoded = encoded.replace('+', "%20");
        for form in [raw.as_str(), encoded.as_str(), path_encoded.as_str()] {
            out = out.replace(form, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_loses_userinfo_and_query_values() {
        let url = Url::parse("https://user:pw@example.net/update?token=abc&host=x").unwrap();
        assert_eq!(
            redact_url(&url),
            "https://example.net/update?token=***&host=***"
        );
        let plain = Url::parse("https://example.net/a/b").unwrap();
        assert_eq!(redact_url(&plain), "https://example.net/a/b");
    }

    #[test]
    fn very_short_secrets_do_not_shred_messages() {
        let s = vec![Secret::new("p".to_string())];
        assert_eq!(mask_secrets("http://h/update", &s), "http://h/update");
    }

    #[test]
    fn secrets_masked_in_every_encoding() {
        let s = vec![Secret::new("p@ss w/rd".to_string())];
        assert_eq!(
            mask_secrets("a p@ss w/rd b p%40ss+w%2Frd c p%40ss%20w%2Frd", &s),
            "a *** b *** c ***"
        );
    }
}

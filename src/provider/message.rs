//! Wording shared by the HTTP providers' failure messages: who answered (`dyndns2 provider
//! "mydyndns"`), where the operator fixes it (`providers.mydyndns.password(-file)`), what the
//! core will do next, and a short, escaped, secret-free excerpt of a reply body.
//! Does not classify replies; each provider does that in its own pure `classify`.

use std::fmt;

use crate::core::{ErrorClass, Failure};
use crate::redact::mask_secrets;
use crate::secret::Secret;

/// The most bytes of a reply body an error message quotes (DESIGN.md: "log ≤ 200 bytes").
pub const EXCERPT_BYTES: usize = 200;

/// A provider as named in messages: its kind and, when known, its `[providers.NAME]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderLabel {
    kind: &'static str,
    name: Option<String>,
}

impl ProviderLabel {
    /// A provider of `kind` whose table name is not (yet) known.
    pub fn new(kind: &'static str) -> ProviderLabel {
        ProviderLabel { kind, name: None }
    }

    /// Gives the label its table name.
    pub fn named(mut self, name: &str) -> ProviderLabel {
        self.name = Some(name.to_string());
        self
    }

    /// Where the operator changes a key of this provider: `providers.NAME.KEY`, or
    /// `the provider's KEY` when the name is unknown.
    pub fn key(&self, key: &str) -> String {
        match &self.name {
            Some(name) => format!("providers.{name}.{key}"),
            None => format!("the {} provider's {key}", self.kind),
        }
    }
}

impl fmt::Display for ProviderLabel {
    /// `dyndns2 provider "mydyndns"` (or `dyndns2 provider`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} provider \"{name}\"", self.kind),
            None => write!(f, "{} provider", self.kind),
        }
    }
}

/// Where the operator acts on a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// A key of this provider's table (`password(-file)`).
    Key(&'static str),
    /// Something outside dynipd's config, in the operator's words.
    Do(&'static str),
    /// Nothing: the core retries on its own.
    Nothing,
}

/// A request that got no usable reply (`crate::http::SendError`), as the core sees it:
/// `LABEL could not VERB WHAT: ERROR; NEXT STEP`, the class from the transport error.
pub fn send_failure(
    label: &ProviderLabel,
    verb: &str,
    what: &str,
    error: &crate::http::SendError,
) -> Failure {
    let class = error.class();
    Failure {
        class,
        message: format!(
            "{label} could not {verb} {what}: {error}; {}",
            next_step(class, "")
        ),
    }
}

/// `LABEL answered SAID for HOST: MEANING; NEXT STEP`. A parked record names the fix; a retried
/// one still names the key to check when a wrong key can be the cause.
pub fn answered(
    label: &ProviderLabel,
    said: &str,
    host: &str,
    meaning: &str,
    class: ErrorClass,
    fix: Fix,
) -> String {
    let step = match fix {
        Fix::Key(key) => format!("fix {}", label.key(key)),
        Fix::Do(step) => step.to_string(),
        Fix::Nothing => String::new(),
    };
    let mut message = format!(
        "{label} answered {said} for {host}: {meaning}; {}",
        next_step(class, &step)
    );
    if let (false, Fix::Key(key)) = (class == ErrorClass::Rejected, fix) {
        message.push_str(&format!("; check {}", label.key(key)));
    }
    message
}

/// What the core does after a failure of `class`, as the tail of a message. A rejection gets
/// `fix` (the operator's step) followed by how to release the record.
pub fn next_step(class: ErrorClass, fix: &str) -> String {
    match class {
        ErrorClass::Rejected => {
            format!("record parked; {fix}, then reload or run dynipd retry")
        }
        ErrorClass::RateLimited {
            retry_after: Some(wait),
        } => format!(
            "waiting {} before the next attempt",
            humantime::format_duration(wait)
        ),
        ErrorClass::RateLimited { retry_after: None } => {
            "backing off before the next attempt".into()
        }
        ErrorClass::Transient | ErrorClass::Protocol => "will retry with backoff".into(),
        ErrorClass::Unconfirmed => "the update may have been applied; will retry".into(),
    }
}

/// At most [`EXCERPT_BYTES`] of `body`, secrets masked first (so a cut never splits one),
/// cut on a character boundary, then escaped so control bytes cannot forge log lines; quoted.
pub fn excerpt(body: &str, secrets: &[Secret<String>]) -> String {
    let masked = mask_secrets(body, secrets);
    let mut end = masked.len().min(EXCERPT_BYTES);
    while !masked.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < masked.len() { "…" } else { "" };
    // Inside double quotes a single quote needs no escape (the dyndns server quotes names so).
    let escaped = masked[..end].escape_debug().to_string().replace("\\'", "'");
    format!("\"{escaped}\"{cut}")
}

/// The failure of several outcomes that decides what the core does: a rejection parks, a rate
/// limit waits, an unknown outcome retries, and only then plain backoff.
pub fn worst(failures: impl IntoIterator<Item = Failure>) -> Option<Failure> {
    fn rank(class: ErrorClass) -> u8 {
        match class {
            ErrorClass::Rejected => 4,
            ErrorClass::RateLimited { .. } => 3,
            ErrorClass::Unconfirmed => 2,
            ErrorClass::Protocol => 1,
            ErrorClass::Transient => 0,
        }
    }
    let mut best: Option<Failure> = None;
    for f in failures {
        let replace = match &best {
            None => true,
            Some(b) => match (f.class, b.class) {
                (
                    ErrorClass::RateLimited { retry_after: a },
                    ErrorClass::RateLimited { retry_after: b },
                ) => a > b,
                (a, b) => rank(a) > rank(b),
            },
        };
        if replace {
            best = Some(f);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn label_and_key() {
        let named = ProviderLabel::new("dyndns2").named("mydyndns");
        assert_eq!(named.to_string(), "dyndns2 provider \"mydyndns\"");
        assert_eq!(named.key("url"), "providers.mydyndns.url");
        let anonymous = ProviderLabel::new("http");
        assert_eq!(anonymous.to_string(), "http provider");
        assert_eq!(anonymous.key("url"), "the http provider's url");
    }

    #[test]
    fn excerpt_is_short_escaped_and_masked() {
        let secrets = vec![Secret::new("hunter2".to_string())];
        assert_eq!(
            excerpt("oops hunter2\n\x1b[1m", &secrets),
            "\"oops ***\\n\\u{1b}[1m\""
        );
        assert_eq!(excerpt("name 'x.' \\'", &[]), "\"name 'x.' \\\\'\"");
        let long = "é".repeat(150); // 300 bytes
        let shown = excerpt(&long, &[]);
        assert!(shown.ends_with("\"…"));
        assert_eq!(shown.chars().filter(|c| *c == 'é').count(), 100);
        // The secret straddles the cut: it is masked before cutting.
        let straddle = format!("{}hunter2", "x".repeat(197));
        assert!(!excerpt(&straddle, &secrets).contains("hun"));
    }

    #[test]
    fn answered_reads_well() {
        let label = ProviderLabel::new("dyndns2").named("mydyndns");
        assert_eq!(
            answered(
                &label,
                "\"badauth\"",
                "home.example.org",
                "the username or password is wrong",
                ErrorClass::Rejected,
                Fix::Key("password(-file)")
            ),
            "dyndns2 provider \"mydyndns\" answered \"badauth\" for home.example.org: the \
             username or password is wrong; record parked; fix \
             providers.mydyndns.password(-file), then reload or run dynipd retry"
        );
        assert_eq!(
            answered(
                &label,
                "HTTP 200 \"?\"",
                "h",
                "not understood",
                ErrorClass::Protocol,
                Fix::Key("url")
            ),
            "dyndns2 provider \"mydyndns\" answered HTTP 200 \"?\" for h: not understood; \
             will retry with backoff; check providers.mydyndns.url"
        );
    }

    #[test]
    fn next_steps() {
        assert_eq!(
            next_step(ErrorClass::Rejected, "fix it"),
            "record parked; fix it, then reload or run dynipd retry"
        );
        assert_eq!(
            next_step(
                ErrorClass::RateLimited {
                    retry_after: Some(Duration::from_secs(1800))
                },
                ""
            ),
            "waiting 30m before the next attempt"
        );
    }

    #[test]
    fn worst_prefers_rejection_then_longest_rate_limit() {
        let f = |class| Failure {
            class,
            message: class.to_string(),
        };
        let rl = |s| ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
        };
        let all = [
            ErrorClass::Transient,
            rl(5),
            rl(60),
            ErrorClass::Unconfirmed,
        ];
        assert_eq!(worst(all.map(f)).unwrap().class, rl(60));
        let all = [ErrorClass::Protocol, ErrorClass::Rejected, rl(5)];
        assert_eq!(worst(all.map(f)).unwrap().class, ErrorClass::Rejected);
        assert_eq!(worst(Vec::new()), None);
    }
}

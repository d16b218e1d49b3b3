//! The one place HTTP requests go out: per-family clients, timeouts, capped body reads, and a
//! redacted description of every request (for `once --dry-run` and logs).
//! Does not decide what a reply means; each provider and `source::web` classify their own.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use url::Url;

use crate::config::HttpMethod;
use crate::core::{ErrorClass, Failure, Family};
use crate::redact::redact_url;
use crate::secret::Secret;

/// A header value that may be secret (then shown as `***`).
#[derive(Clone, Debug)]
pub enum HeaderValue {
    Plain(String),
    Secret(Secret<String>),
}

/// A request, fully built before it is sent, so the dry run shows exactly what would go out.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: HttpMethod,
    pub url: Url,
    pub headers: Vec<(String, HeaderValue)>,
    pub body: Option<String>,
    /// Secrets that may occur in the URL or body (tokens in templates): masked in `describe`.
    pub secrets_in_text: Vec<Secret<String>>,
}

impl Request {
    /// A GET without headers.
    pub fn get(url: Url) -> Request {
        Request {
            method: HttpMethod::Get,
            url,
            headers: Vec::new(),
            body: None,
            secrets_in_text: Vec::new(),
        }
    }

    /// Adds pre-emptive Basic auth (protocols/dyndns2.md §1: sent before any challenge).
    pub fn basic_auth(mut self, user: &str, password: &Secret<String>) -> Request {
        let encoded = basic_credentials(user, password);
        self.headers.push((
            "Authorization".into(),
            HeaderValue::Secret(Secret::new(format!("Basic {}", encoded.expose()))),
        ));
        self
    }

    /// Adds a plain header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.into(), HeaderValue::Plain(value.into())));
        self
    }

    /// The request as text with every secret masked: method, URL (query values of secret
    /// parameters masked), headers, body. This is what `once --dry-run` prints.
    pub fn describe(&self) -> String {
        let method = match self.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        };
        let mut out = format!("{method} {}", self.mask(self.url.as_str()));
        let _ = write!(out, "\n    User-Agent: {}", crate::USER_AGENT);
        for (name, value) in &self.headers {
            let shown = match value {
                HeaderValue::Plain(v) => self.mask(v),
                // The scheme (`Basic`, `Bearer`) is no secret; the credentials are.
                HeaderValue::Secret(s) if name.eq_ignore_ascii_case("authorization") => {
                    match s.expose().split_once(' ') {
                        Some((scheme, _)) => format!("{scheme} ***"),
                        None => "***".into(),
                    }
                }
                HeaderValue::Secret(_) => "***".into(),
            };
            let _ = write!(out, "\n    {name}: {shown}");
        }
        if let Some(body) = &self.body {
            let _ = write!(out, "\n    \n    {}", self.mask(body));
        }
        out
    }

    /// The URL for a log line: userinfo dropped, query values masked, secrets masked.
    pub fn url_for_log(&self) -> String {
        self.mask(&redact_url(&self.url))
    }

    fn mask(&self, text: &str) -> String {
        crate::redact::mask_secrets(text, &self.secrets_in_text)
    }
}

/// `base64(user:password)`, the Basic credentials as they go on the wire: itself a secret that
/// a server echoing the request back would otherwise put into an error message. See: #9.
pub fn basic_credentials(user: &str, password: &Secret<String>) -> Secret<String> {
    let raw = format!("{user}:{}", password.expose());
    Secret::new(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// RFC 9110 §5.1: a header name is a token.
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 9110 §5.5, visible ASCII, space and tab only: no CR/LF can split a header.
pub fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// A reply with its body read up to a cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// `Retry-After` in seconds (HTTP-date forms are ignored: a clock-free delay is safer).
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text, lossily (for classification and ≤ 200-byte excerpts).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request produced no reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Not delivered (connection refused, DNS failure, TLS failure): transient.
    #[error("could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// No complete reply in time. The request may have been applied: unconfirmed.
    #[error("no reply from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    /// The body exceeded the cap: a protocol error, never a prefix to parse.
    #[error("reply from {url} is larger than {cap} bytes")]
    TooLarge { url: String, cap: usize },
    /// Reset mid-reply, bad framing, redirect: the outcome is unknown.
    #[error("request to {url} failed: {reason}")]
    Broken { url: String, reason: String },
}

impl SendError {
    /// The class the core sees.
    pub fn class(&self) -> ErrorClass {
        match self {
            SendError::Connect { .. } => ErrorClass::Transient,
            SendError::Timeout { .. } | SendError::Broken { .. } => ErrorClass::Unconfirmed,
            SendError::TooLarge { .. } => ErrorClass::Protocol,
        }
    }

    /// As a core failure.
    pub fn into_failure(self) -> Failure {
        Failure {
            class: self.class(),
            message: self.to_string(),
        }
    }
}

/// One reqwest client per family constraint, built once: a request for an IPv4 URL binds
/// 0.0.0.0 and one for an IPv6 URL binds :: (DESIGN.md "Echo services are untrusted").
#[derive(Clone, Debug)]
pub struct HttpClients {
    inner: std::sync::Arc<LazyClients>,
}

/// The clients, each built on first use: a daemon that publishes over DNS only, or never asks
/// an echo service, never pays for a TLS stack it does not use (idle memory, bench/compare.sh).
#[derive(Debug)]
struct LazyClients {
    timeout: Duration,
    any: OnceLock<Result<reqwest::Client, String>>,
    ipv4: OnceLock<Result<reqwest::Client, String>>,
    ipv6: OnceLock<Result<reqwest::Client, String>>,
}

impl HttpClients {
    /// Prepares the clients (built on first use). Redirects are not followed (echo-services.md
    /// rule 1; a provider redirect is a protocol error) and no proxy from the environment is
    /// used.
    ///
    /// Errors: none today; the `Result` keeps callers ready for a setup that can fail.
    pub fn new(timeout: Duration) -> Result<HttpClients, String> {
        Ok(HttpClients {
            inner: std::sync::Arc::new(LazyClients {
                timeout,
                any: OnceLock::new(),
                ipv4: OnceLock::new(),
                ipv6: OnceLock::new(),
            }),
        })
    }

    /// The client for `family`, or the unconstrained one, built on first use.
    fn for_family(&self, family: Option<Family>) -> Result<&reqwest::Client, String> {
        let lazy = &self.inner;
        let (cell, local) = match family {
            None => (&lazy.any, None),
            Some(Family::Ipv4) => (&lazy.ipv4, Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
            Some(Family::Ipv6) => (&lazy.ipv6, Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED))),
        };
        cell.get_or_init(|| build_client(lazy.timeout, local))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Sends `request` and reads at most `cap` bytes of body; the whole exchange is bounded by
    /// `timeout`. Errors never carry the raw URL (it may hold a token).
    pub async fn send(
        &self,
        family: Option<Family>,
        request: &Request,
        timeout: Duration,
        cap: usize,
    ) -> Result<Reply, SendError> {
        let url = request.url_for_log();
        let exchange = async {
            let method = match request.method {
                HttpMethod::Get => reqwest::Method::GET,
                HttpMethod::Post => reqwest::Method::POST,
            };
            let client = self
                .for_family(family)
                .map_err(|reason| SendError::Connect {
                    url: url.clone(),
                    reason,
                })?;
            let mut builder = client.request(method, request.url.clone());
            for (name, value) in &request.headers {
                let v = match value {
                    HeaderValue::Plain(v) => v.as_str(),
                    HeaderValue::Secret(s) => s.expose().as_str(),
                };
                builder = builder.header(name.as_str(), v);
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            let mut response = builder
                .send()
                .await
                .map_err(|e| classify_reqwest(&e, &url, timeout))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| classify_reqwest(&e, &url, timeout))?
            {
                if body.len() + chunk.len() > cap {
                    return Err(SendError::TooLarge {
                        url: url.clone(),
                        cap,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Reply {
                status,
                retry_after,
                body,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Timeout { url, timeout }),
        }
    }
}

/// One client; `local` binds the family (DESIGN.md "Echo services are untrusted").
fn build_client(timeout: Duration, local: Option<IpAddr>) -> Result<reqwest::Client, String> {
    // rustls needs a process-wide crypto provider; installing it twice is harmless (Err).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .local_address(local)
        .build()
        .map_err(|e| format!("cannot set up HTTP client: {}", e.without_url()))
}

fn classify_reqwest(e: &reqwest::Error, url: &str, timeout: Duration) -> SendError {
    if e.is_timeout() {
        return SendError::Timeout {
            url: url.to_string(),
            timeout,
        };
    }
    // `without_url` so a token in the query never reaches a message (STYLE.md §4).
    let reason = error_chain(&e.without_url_ref());
    if e.is_connect() {
        SendError::Connect {
            url: url.to_string(),
            reason,
        }
    } else {
        SendError::Broken {
            url: url.to_string(),
            reason,
        }
    }
}

/// reqwest's own `Display` is terse ("error sending request"); the source chain says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// `reqwest::Error::without_url` takes `self`; this borrows.
trait WithoutUrlRef {
    fn without_url_ref(&self) -> ErrorWithoutUrl<'_>;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> ErrorWithoutUrl<'_> {
        ErrorWithoutUrl(self)
    }
}

/// Formats a reqwest error without its URL (reqwest appends ` for url (...)`).
struct ErrorWithoutUrl<'a>(&'a reqwest::Error);

impl std::fmt::Debug for ErrorWithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for ErrorWithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.to_string();
        let cut = text
            .find(" for url (")
            .map_or(text.as_str(), |i| &text[..i]);
        f.write_str(cut)
    }
}

impl std::error::Error for ErrorWithoutUrl<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.0)
    }
}

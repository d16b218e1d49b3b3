//! One authenticated call to the Dynu REST API: the request (`API-Key` or `Authorization:
//! Bearer`, JSON headers), the token request, and the 401 rule — a refused token is refreshed
//! exactly once and the call sent once more; a second refusal is final
//! (protocols/dynu-rest.md §1).
//! Does not know about records; `rest` does.

use std::time::{Duration, Instant};

use base64::Engine as _;
use url::Url;

use crate::config::{DynuAuth, HttpMethod};
use crate::core::ErrorClass;
use crate::http::{HeaderValue, HttpClients, Request, SendError};
use crate::provider::message::{Fix, ProviderLabel, answered, excerpt, next_step};
use crate::secret::Secret;

use super::errors::{ApiError, Object, classify};
use super::token::{Token, TokenCache, read_reply};

/// The most reply bytes read: a domain list of a large account stays far below this.
const BODY_CAP: usize = 1 << 20;
/// The token endpoint (v2: GET with Basic auth, snake_case reply).
pub const TOKEN_PATH: &str = "/v2/oauth2/token";

/// Which call failed, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Token,
    DomainList,
    RecordLookup,
    Update,
}

impl Step {
    /// `token request`, `update`: the call, as named in messages.
    fn words(self) -> &'static str {
        match self {
            Step::Token => "token request",
            Step::DomainList => "domain list request",
            Step::RecordLookup => "record lookup",
            Step::Update => "update",
        }
    }
}

/// Why a call brought no usable answer.
#[derive(Clone, Debug)]
pub enum CallFailure {
    /// No reply (refused, timed out, cut).
    NoReply {
        step: Step,
        class: ErrorClass,
        error: SendError,
    },
    /// A reply that is no success.
    Refused { step: Step, error: ApiError },
    /// A success reply dynipd cannot use (the reason names fields, never values).
    Unusable { step: Step, why: &'static str },
}

impl CallFailure {
    /// The class the core sees.
    pub fn class(&self) -> ErrorClass {
        match self {
            CallFailure::NoReply { class, .. } => *class,
            CallFailure::Refused { error, .. } => error.class,
            CallFailure::Unusable { .. } => ErrorClass::Protocol,
        }
    }

    /// About the account rather than one record (bad credentials, rate limit, any failed
    /// token request): the rest of the round is not sent.
    pub fn is_account_wide(&self) -> bool {
        match self {
            CallFailure::Refused { step, error } => {
                *step == Step::Token
                    || matches!(error.status, 401 | 403)
                    || matches!(error.class, ErrorClass::RateLimited { .. })
            }
            CallFailure::NoReply { step, .. } | CallFailure::Unusable { step, .. } => {
                *step == Step::Token
            }
        }
    }

    /// A 404, or a 403 (the id may belong to another account): a cached id may be stale.
    pub fn may_be_stale(&self) -> bool {
        matches!(self, CallFailure::Refused { error, .. } if error.is_not_found() || error.status == 403)
    }

    /// The operator's message about `host`, secrets masked.
    pub fn message(&self, label: &ProviderLabel, host: &str, secrets: &[Secret<String>]) -> String {
        match self {
            CallFailure::NoReply { step, class, error } => format!(
                "{label} got no answer to the {} for {host}: {error}; {}",
                step.words(),
                next_step(*class, "")
            ),
            CallFailure::Refused { step, error } => {
                let said = match &error.words {
                    Some(words) => format!("HTTP {} {}", error.status, excerpt(words, secrets)),
                    None => format!("HTTP {}", error.status),
                };
                let about = format!("{host} ({})", step.words());
                answered(label, &said, &about, error.meaning, error.class, error.fix)
            }
            CallFailure::Unusable { step, why } => format!(
                "{label} could not use the reply to the {} for {host}: {why}; {}; check {}",
                step.words(),
                next_step(ErrorClass::Protocol, ""),
                label.key("base-url")
            ),
        }
    }
}

/// How requests are authenticated.
#[derive(Debug)]
enum Auth {
    ApiKey(Secret<String>),
    OAuth {
        client_id: String,
        client_secret: Secret<String>,
        tokens: TokenCache,
    },
}

/// The credential one request carries.
enum Credential {
    ApiKey(Secret<String>),
    Bearer(Secret<String>),
}

/// A Dynu REST API client for one provider.
#[derive(Debug)]
pub struct Api {
    base_url: Url,
    auth: Auth,
    clients: HttpClients,
    timeout: Duration,
}

impl Api {
    /// A client for `base_url` logging in with `auth`; each request is bounded by `timeout`.
    pub fn new(base_url: Url, auth: &DynuAuth, clients: HttpClients, timeout: Duration) -> Api {
        let auth = match auth {
            DynuAuth::ApiKey(key) => Auth::ApiKey(key.clone()),
            DynuAuth::OAuth {
                client_id,
                client_secret,
            } => Auth::OAuth {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                tokens: TokenCache::default(),
            },
        };
        Api {
            base_url,
            auth,
            clients,
            timeout,
        }
    }

    /// `base-url` + `path` (the base's own path kept).
    pub fn url(&self, path: &str) -> Url {
        let base = self.base_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}")).unwrap_or_else(|_| self.base_url.clone())
    }

    /// What must never appear in a message: the key or client secret, the Basic credentials
    /// of the token request, and the current token.
    pub fn secrets(&self) -> Vec<Secret<String>> {
        match &self.auth {
            Auth::ApiKey(key) => vec![key.clone()],
            Auth::OAuth {
                client_id,
                client_secret,
                ..
            } => {
                let basic = format!("{client_id}:{}", client_secret.expose());
                vec![
                    client_secret.clone(),
                    Secret::new(base64::engine::general_purpose::STANDARD.encode(basic)),
                ]
            }
        }
    }

    /// The key name the operator fixes after a 401.
    fn auth_keys(&self) -> &'static str {
        match self.auth {
            Auth::ApiKey(_) => "api-key(-file)",
            Auth::OAuth { .. } => "client-id or client-secret(-file)",
        }
    }

    /// Whether a token request would come before the next call (for the dry run).
    pub fn needs_token(&self) -> bool {
        matches!(&self.auth, Auth::OAuth { tokens, .. } if !tokens.has_fresh())
    }

    /// The token request.
    pub fn token_request(&self) -> Option<Request> {
        let Auth::OAuth {
            client_id,
            client_secret,
            ..
        } = &self.auth
        else {
            return None;
        };
        let mut request = Request::get(self.url(TOKEN_PATH))
            .basic_auth(client_id, client_secret)
            .header("Accept", "application/json");
        request.secrets_in_text = self.secrets();
        Some(request)
    }

    /// A request to `path` as the dry run shows it: the API key, or a placeholder token
    /// (shown masked either way).
    pub fn request(&self, method: HttpMethod, path: &str, body: Option<&Object>) -> Request {
        let placeholder = match self.auth {
            Auth::ApiKey(ref key) => Credential::ApiKey(key.clone()),
            Auth::OAuth { .. } => Credential::Bearer(Secret::new(String::new())),
        };
        self.request_with(method, path, body, &placeholder)
    }

    fn request_with(
        &self,
        method: HttpMethod,
        path: &str,
        body: Option<&Object>,
        credential: &Credential,
    ) -> Request {
        let mut request = Request::get(self.url(path));
        request.method = method;
        request = request.header("Accept", "application/json");
        let (name, value) = match credential {
            Credential::ApiKey(key) => ("API-Key", key.expose().clone()),
            Credential::Bearer(token) => ("Authorization", format!("Bearer {}", token.expose())),
        };
        request
            .headers
            .push((name.into(), HeaderValue::Secret(Secret::new(value))));
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json");
            request.body = Some(serde_json::Value::Object(body.clone()).to_string());
        }
        request.secrets_in_text = self.secrets();
        if let Credential::Bearer(token) = credential {
            request.secrets_in_text.push(token.clone());
        }
        request
    }

    /// Sends one call and returns the success object. A 401 to a token is answered by one
    /// token refresh and one more try; a 401 to an API key, or a second 401, is final.
    pub async fn call(
        &self,
        step: Step,
        method: HttpMethod,
        path: &str,
        body: Option<&Object>,
    ) -> Result<Object, CallFailure> {
        let mut refused: Option<Secret<String>> = None;
        loop {
            let credential = match &self.auth {
                Auth::ApiKey(key) => Credential::ApiKey(key.clone()),
                Auth::OAuth { tokens, .. } => {
                    Credential::Bearer(tokens.get(refused.as_ref(), || self.fetch_token()).await?)
                }
            };
            let request = self.request_with(method, path, body, &credential);
            let reply = self.send(step, &request).await?;
            match classify(reply.status, reply.retry_after, &reply.text()) {
                Ok(object) => return Ok(object),
                Err(error) if error.is_unauthorized() && refused.is_none() => {
                    if let Credential::Bearer(token) = credential {
                        refused = Some(token);
                        continue;
                    }
                    return Err(self.unauthorized(step, error));
                }
                Err(error) if error.is_unauthorized() => {
                    return Err(self.unauthorized(step, error));
                }
                Err(error) => return Err(CallFailure::Refused { step, error }),
            }
        }
    }

    fn unauthorized(&self, step: Step, mut error: ApiError) -> CallFailure {
        error.fix = Fix::Key(self.auth_keys());
        CallFailure::Refused { step, error }
    }

    /// Sends `request`; a lost GET is transient (nothing was changed), a lost POST keeps the
    /// class `http` gives it (a timeout or cut after sending is unconfirmed).
    async fn send(&self, step: Step, request: &Request) -> Result<crate::http::Reply, CallFailure> {
        self.clients
            .send(None, request, self.timeout, BODY_CAP)
            .await
            .map_err(|error| {
                let class = match (request.method, error.class()) {
                    (HttpMethod::Get, ErrorClass::Unconfirmed) => ErrorClass::Transient,
                    (_, class) => class,
                };
                CallFailure::NoReply { step, class, error }
            })
    }

    /// `GET /v2/oauth2/token` with Basic auth. A 401 means the client id or secret is wrong.
    async fn fetch_token(&self) -> Result<Token, CallFailure> {
        let step = Step::Token;
        let Some(request) = self.token_request() else {
            return Err(CallFailure::Unusable {
                step,
                why: "no OAuth2 client is configured",
            });
        };
        let reply = self.send(step, &request).await?;
        match classify(reply.status, reply.retry_after, &reply.text()) {
            Ok(object) => {
                let (access, expires_in) =
                    read_reply(&object).map_err(|why| CallFailure::Unusable { step, why })?;
                Ok(Token::new(access, expires_in, Instant::now()))
            }
            Err(mut error) => {
                if error.is_unauthorized() {
                    error.meaning = "the client-id or client-secret was refused";
                    error.fix = Fix::Key(self.auth_keys());
                }
                Err(CallFailure::Refused { step, error })
            }
        }
    }
}

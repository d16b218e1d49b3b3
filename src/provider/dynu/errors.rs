//! The meaning of a Dynu REST reply: a pure classifier from status, `Retry-After` and body to
//! the JSON object of a success or a classified [`ApiError`] (protocols/dynu-rest.md §2, §4).
//! Accepts all three error shapes: flat, nested `exception`, and both at once.
//! Does not word whole messages nor decide on token refresh; `api` and `rest` do.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::core::ErrorClass;
use crate::provider::message::Fix;

/// A JSON object, as Dynu replies.
pub type Object = Map<String, Value>;

/// A reply that is no success, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub class: ErrorClass,
    /// The status that decided: the HTTP status, or the body's `statusCode` when a 2xx reply
    /// carries an error.
    pub status: u16,
    /// Dynu's words (`Authentication Exception: Failed.`), or the raw body of a non-JSON
    /// error reply; quoted through `message::excerpt`. Never set from a 2xx body, which may
    /// hold a token.
    pub words: Option<String>,
    /// What it means, for the operator.
    pub meaning: &'static str,
    pub fix: Fix,
}

impl ApiError {
    /// A 401: bad key or token (a token is refreshed once before this parks).
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// A 404: not found (a cached id may be stale).
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }
}

/// Dynu's error fields, from whichever shape they came in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub status_code: Option<u16>,
    /// `type`, e.g. `Authentication Exception`.
    pub kind: Option<String>,
    pub message: Option<String>,
}

impl ErrorBody {
    /// `type: message`, whichever are present.
    fn words(&self) -> Option<String> {
        match (&self.kind, &self.message) {
            (Some(k), Some(m)) => Some(format!("{k}: {m}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        }
    }

    fn kind_has(&self, word: &str) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.to_ascii_lowercase().contains(word))
    }
}

/// The error fields of a body: the `exception` object's (nested and combined shapes), else
/// the top level's (flat shape). `None` when the body carries no error: no `exception`, and
/// neither a `statusCode` of 400 or more nor a `type`.
pub fn error_body(value: &Value) -> Option<ErrorBody> {
    let top = value.as_object()?;
    let nested = top.get("exception").and_then(Value::as_object);
    let text = |o: &Object, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    let code = |o: &Object| {
        o.get("statusCode")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
    };
    let top_code = code(top);
    if nested.is_none() && top_code.is_none_or(|c| c < 400) && !top.contains_key("type") {
        return None;
    }
    let inner = nested.unwrap_or(top);
    Some(ErrorBody {
        status_code: code(inner).or(top_code),
        kind: text(inner, "type").or_else(|| text(top, "type")),
        message: text(inner, "message").or_else(|| text(top, "message")),
    })
}

/// Classifies a reply. A 2xx JSON object without an error is the success (`{"statusCode":200}`
/// for writes); a 2xx carrying an error counts as that error; anything unreadable under 2xx
/// is a protocol error. Statuses: 401/403/404 and other 4xx → rejected, 429 → rate-limited
/// (`Retry-After` honoured), 5xx → transient unless Dynu's own body says the request is at
/// fault (Argument / Quota exceptions, "requires membership" → rejected; Parse → protocol),
/// 3xx and the rest → protocol.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> Result<Object, ApiError> {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(error_body);
    if (200..300).contains(&status) {
        let failed = |meaning| ApiError {
            class: ErrorClass::Protocol,
            status,
            words: None,
            meaning,
            fix: Fix::Key("base-url"),
        };
        return match (parsed, error) {
            (_, Some(e)) => Err(by_status(
                e.status_code.filter(|c| *c >= 400).unwrap_or(500),
                retry_after,
                Some(&e),
                None,
            )),
            (Some(Value::Object(object)), None) => Ok(object),
            (Some(_), None) => Err(failed("the reply is JSON but not an object")),
            (None, None) => Err(failed("the reply is not JSON")),
        };
    }
    let raw = (parsed.is_none() && !body.trim().is_empty()).then(|| body.to_string());
    Err(by_status(status, retry_after, error.as_ref(), raw))
}

/// The meaning of an error status, refined by Dynu's error body where it has one.
fn by_status(
    status: u16,
    retry_after: Option<Duration>,
    body: Option<&ErrorBody>,
    raw: Option<String>,
) -> ApiError {
    use ErrorClass::{Protocol, Rejected, Transient};
    let is_dynu = body.is_some();
    let body = body.cloned().unwrap_or_default();
    let membership = body
        .message
        .as_deref()
        .is_some_and(|m| m.to_ascii_lowercase().contains("requires membership"));
    let check = Fix::Do("check the record and the account at Dynu");
    let (class, meaning, fix) = match status {
        _ if membership => (
            Rejected,
            "the request needs a paid Dynu membership",
            Fix::Do("upgrade the account at Dynu"),
        ),
        401 => (
            Rejected,
            "the credentials were refused",
            Fix::Do("check the credentials"),
        ),
        403 => (
            Rejected,
            "the account may not do this",
            Fix::Do("check the account at Dynu"),
        ),
        404 => (
            Rejected,
            "not found in this Dynu account",
            Fix::Do("check the record's name and the domains of the Dynu account"),
        ),
        429 => (
            ErrorClass::RateLimited { retry_after },
            "too many requests",
            Fix::Nothing,
        ),
        400..=499 => (Rejected, "Dynu does not accept this request", check),
        500..=599 if body.kind_has("argument") => (
            Rejected,
            "Dynu rejects the request's values (e.g. the ttl) or the record",
            check,
        ),
        500..=599 if body.kind_has("quota") => (
            Rejected,
            "the Dynu account is at its limit",
            Fix::Do("free an entry or upgrade the account at Dynu"),
        ),
        500..=599 if body.kind_has("parse") => (
            Protocol,
            "Dynu could not read the request",
            Fix::Key("base-url"),
        ),
        // DynuSharp: 504 with Dynu's own error body is "not a member" (dynu-rest.md §4).
        504 if is_dynu => (
            Rejected,
            "the request needs a paid Dynu membership",
            Fix::Do("upgrade the account at Dynu"),
        ),
        500..=599 => (Transient, "Dynu had a server error", Fix::Nothing),
        300..=399 => (
            Protocol,
            "Dynu redirected the request (redirects are not followed)",
            Fix::Key("base-url"),
        ),
        _ => (
            Protocol,
            "the reply is not a Dynu API answer",
            Fix::Key("base-url"),
        ),
    };
    ApiError {
        class,
        status,
        words: body.words().or(raw),
        meaning,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::*;

    const FLAT: &str = r#"{"statusCode":501,"type":"Argument Exception","message":"Invalid."}"#;
    const NESTED: &str =
        r#"{"exception":{"statusCode":401,"type":"Authentication Exception","message":"Failed."}}"#;
    const COMBINED: &str = r#"{"statusCode":401,"exception":{"statusCode":401,"type":"Authentication Exception","message":"invalid"}}"#;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn every_status_and_shape_has_its_class() {
        let rl = |d| Some(RateLimited { retry_after: d });
        // (status, Retry-After, body, class; None = success)
        let table: &[(u16, Option<Duration>, &str, Option<ErrorClass>)] = &[
            (200, None, r#"{"statusCode":200}"#, None),
            (200, None, r#"{"statusCode":200,"domains":[]}"#, None),
            (200, None, r#"{"statusCode":200,"message":"x"}"#, None),
            (401, None, NESTED, Some(Rejected)),
            (401, None, COMBINED, Some(Rejected)),
            (
                401,
                None,
                r#"{"statusCode":401,"type":"Authentication Exception","message":"Failed."}"#,
                Some(Rejected),
            ),
            (401, None, "", Some(Rejected)),
            (403, None, "", Some(Rejected)),
            (
                404,
                None,
                r#"{"statusCode":404,"type":"Request Exception","message":"Not found."}"#,
                Some(Rejected),
            ),
            (400, None, "bad request", Some(Rejected)),
            (429, secs(120), "", rl(secs(120))),
            (429, None, NESTED, rl(None)),
            (
                500,
                None,
                r#"{"statusCode":500,"type":"Server Exception","message":"Oops."}"#,
                Some(Transient),
            ),
            (500, None, "<html>500</html>", Some(Transient)),
            (502, None, "<html>bad gateway</html>", Some(Transient)),
            (503, None, "", Some(Transient)),
            (504, None, "", Some(Transient)),
            (501, None, FLAT, Some(Rejected)),
            (501, None, "", Some(Transient)),
            (
                502,
                None,
                r#"{"statusCode":502,"type":"Parse Exception","message":"Unreadable."}"#,
                Some(Protocol),
            ),
            (
                503,
                None,
                r#"{"statusCode":503,"type":"Quota Exception","message":"Too many entries, limit for free service is 4"}"#,
                Some(Rejected),
            ),
            (
                504,
                None,
                r#"{"statusCode":504,"type":"Exception","message":"x"}"#,
                Some(Rejected),
            ),
            (
                500,
                None,
                r#"{"statusCode":500,"message":"This requires membership."}"#,
                Some(Rejected),
            ),
            // A 2xx reply carrying an error is that error.
            (200, None, NESTED, Some(Rejected)),
            (200, None, COMBINED, Some(Rejected)),
            (200, None, FLAT, Some(Rejected)),
            (
                200,
                None,
                r#"{"exception":{"type":"Server Exception"}}"#,
                Some(Transient),
            ),
            // Unreadable success.
            (200, None, "", Some(Protocol)),
            (200, None, "OK", Some(Protocol)),
            (200, None, "[1,2]", Some(Protocol)),
            (200, None, r#"{"statusCode":200"#, Some(Protocol)),
            (301, None, "", Some(Protocol)),
            (100, None, "", Some(Protocol)),
        ];
        for (status, retry_after, body, expected) in table {
            let got = classify(*status, *retry_after, body).err().map(|e| e.class);
            assert_eq!(got, *expected, "{status} {retry_after:?} {body}");
        }
    }

    #[test]
    fn three_shapes_give_the_same_fields() {
        let read = |s: &str| error_body(&serde_json::from_str(s).unwrap()).unwrap();
        assert_eq!(
            read(NESTED),
            ErrorBody {
                status_code: Some(401),
                kind: Some("Authentication Exception".into()),
                message: Some("Failed.".into()),
            }
        );
        assert_eq!(read(COMBINED).status_code, Some(401));
        assert_eq!(read(COMBINED).message.as_deref(), Some("invalid"));
        assert_eq!(read(FLAT).status_code, Some(501));
        assert_eq!(read(FLAT).kind.as_deref(), Some("Argument Exception"));
        // A success envelope is no error.
        for ok in [
            r#"{"statusCode":200}"#,
            r#"{"statusCode":200,"message":"x"}"#,
            "[]",
        ] {
            assert_eq!(error_body(&serde_json::from_str(ok).unwrap()), None, "{ok}");
        }
    }

    #[test]
    fn errors_quote_dynus_words_never_a_success_body() {
        let e = classify(401, None, NESTED).unwrap_err();
        assert!(e.is_unauthorized());
        assert_eq!(
            e.words.as_deref(),
            Some("Authentication Exception: Failed.")
        );
        let e = classify(200, None, NESTED).unwrap_err();
        assert_eq!(e.status, 401);
        let e = classify(500, None, "<html>down</html>").unwrap_err();
        assert_eq!(e.words.as_deref(), Some("<html>down</html>"));
        let e = classify(200, None, r#"not json {"access_token":"tok"}"#).unwrap_err();
        assert_eq!(e.words, None);
        assert!(classify(404, None, "").unwrap_err().is_not_found());
    }

    #[test]
    fn success_is_the_object() {
        let o = classify(200, None, r#"{"statusCode":200,"domains":[{"id":1}]}"#).unwrap();
        assert_eq!(o["domains"][0]["id"], 1);
    }
}

//! The OAuth2 bearer token of a Dynu REST provider: reading the token reply (v2 snake_case or
//! v1 camelCase), how long a token is used, and the cache shared by every record and every
//! publish of one provider (protocols/dynu-rest.md §1).
//! Does not send the token request; `api` does, through the `fetch` it passes in.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::secret::Secret;

use super::errors::Object;

/// A token is refreshed this long before it expires (dynu-rest.md §1) — or, for a short-lived
/// one, halfway through its life.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// The lifetime assumed when the reply states none.
pub const ASSUMED_LIFETIME: Duration = Duration::from_secs(300);

/// A bearer token and until when it is used.
#[derive(Clone, Debug)]
pub struct Token {
    pub access: Secret<String>,
    /// Past this instant the token is fetched again before the next request.
    pub fresh_until: Instant,
}

impl Token {
    /// A token received at `now`, valid for `expires_in` (or [`ASSUMED_LIFETIME`]).
    pub fn new(access: Secret<String>, expires_in: Option<Duration>, now: Instant) -> Token {
        let life = expires_in.unwrap_or(ASSUMED_LIFETIME);
        let margin = REFRESH_MARGIN.min(life / 2);
        Token {
            access,
            fresh_until: now + (life - margin),
        }
    }

    /// Whether the token may still be sent at `now`.
    pub fn is_fresh(&self, now: Instant) -> bool {
        now < self.fresh_until
    }
}

/// What a token reply holds: the access token and its stated lifetime.
pub type TokenReply = (Secret<String>, Option<Duration>);

/// Reads a token reply: v2 `access_token`/`token_type`/`expires_in`, or v1 `accessToken`/
/// `tokenType`/`expiresIn`. The type must be bearer (any case) when given. The error names
/// what is wrong, never a value (the reply holds the token).
pub fn read_reply(object: &Object) -> Result<TokenReply, &'static str> {
    let field = |snake: &str, camel: &str| object.get(snake).or_else(|| object.get(camel));
    let access = match field("access_token", "accessToken") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err("the token reply has no access_token"),
    };
    match field("token_type", "tokenType") {
        None => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err("the token reply's token_type is not bearer"),
    }
    let expires_in = match field("expires_in", "expiresIn") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64().or_else(|| v.as_str()?.parse().ok()) {
            Some(secs) => Some(Duration::from_secs(secs)),
            None => return Err("the token reply's expires_in is not a number of seconds"),
        },
    };
    Ok((Secret::new(access), expires_in))
}

/// The provider's token, shared across records and publishes. The lock is held while a token
/// is fetched, so concurrent publishes wait for one request instead of sending several.
#[derive(Debug, Default)]
pub struct TokenCache {
    slot: Mutex<Option<Token>>,
}

impl TokenCache {
    /// A token to send: the cached one while it is fresh and is not `refused` (the token a
    /// 401 answered), else one from `fetch`, which is then cached. A failed fetch empties the
    /// cache. When another publish already replaced the refused token, that one is used.
    pub async fn get<E, F, Fut>(
        &self,
        refused: Option<&Secret<String>>,
        fetch: F,
    ) -> Result<Secret<String>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref() {
            let is_refused = refused.is_some_and(|r| r.expose() == token.access.expose());
            if token.is_fresh(Instant::now()) && !is_refused {
                return Ok(token.access.clone());
            }
        }
        *slot = None;
        let token = fetch().await?;
        let access = token.access.clone();
        *slot = Some(token);
        Ok(access)
    }

    /// Whether a fresh token is cached (without waiting for a fetch in progress): the dry run
    /// shows a token request only when one would be sent.
    pub fn has_fresh(&self) -> bool {
        self.slot
            .try_lock()
            .is_ok_and(|slot| slot.as_ref().is_some_and(|t| t.is_fresh(Instant::now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn object(json: &str) -> Object {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_v2_and_v1_replies() {
        let (access, expires) = read_reply(&object(
            r#"{"access_token":"b1946ac9","token_type":"bearer","expires_in":28800,"roles":["user"]}"#,
        ))
        .unwrap();
        assert_eq!(access.expose(), "b1946ac9");
        assert_eq!(expires, Some(Duration::from_secs(28800)));
        let (access, expires) = read_reply(&object(
            r#"{"scope":"x","accessToken":"7d5c0e1f","tokenType":"Bearer","expiresIn":60}"#,
        ))
        .unwrap();
        assert_eq!(access.expose(), "7d5c0e1f");
        assert_eq!(expires, Some(Duration::from_secs(60)));
        let (_, expires) = read_reply(&object(r#"{"access_token":"a"}"#)).unwrap();
        assert_eq!(expires, None);
    }

    #[test]
    fn bad_replies_name_the_field_not_the_value() {
        for (json, why) in [
            (r#"{"token_type":"bearer"}"#, "no access_token"),
            (r#"{"access_token":""}"#, "no access_token"),
            (r#"{"access_token":7}"#, "no access_token"),
            (
                r#"{"access_token":"sekrit","token_type":"mac"}"#,
                "not bearer",
            ),
            (
                r#"{"access_token":"sekrit","expires_in":"soon"}"#,
                "not a number",
            ),
            (
                r#"{"access_token":"sekrit","expires_in":-5}"#,
                "not a number",
            ),
        ] {
            let e = read_reply(&object(json)).unwrap_err();
            assert!(e.contains(why), "{json}: {e}");
            assert!(!e.contains("sekrit"));
        }
    }

    #[test]
    fn freshness_leaves_a_margin() {
        let now = Instant::now();
        let s = Duration::from_secs;
        // (expires_in, used for)
        for (expires, used_for) in [
            (Some(s(28800)), s(28500)),
            (Some(s(600)), s(300)),
            (Some(s(120)), s(60)),
            (Some(s(2)), s(1)),
            (Some(s(0)), s(0)),
            (None, ASSUMED_LIFETIME / 2),
        ] {
            let t = Token::new(Secret::new("t".into()), expires, now);
            assert_eq!(t.fresh_until - now, used_for, "{expires:?}");
            assert!(!t.is_fresh(now + used_for));
            if used_for > Duration::ZERO {
                assert!(t.is_fresh(now + used_for - Duration::from_millis(1)));
            }
        }
    }

    #[tokio::test]
    async fn cache_reuses_refreshes_and_forgets() {
        let cache = TokenCache::default();
        let fetches = Cell::new(0);
        let fetch = |name: &'static str, life: u64| {
            fetches.set(fetches.get() + 1);
            let token = Token::new(
                Secret::new(name.to_string()),
                Some(Duration::from_secs(life)),
                Instant::now(),
            );
            async move { Ok::<_, ()>(token) }
        };
        let a = cache.get(None, || fetch("a", 3600)).await.unwrap();
        assert_eq!(a.expose(), "a");
        assert!(cache.has_fresh());
        // Reused while fresh.
        let again = cache.get(None, || fetch("x", 3600)).await.unwrap();
        assert_eq!((again.expose().as_str(), fetches.get()), ("a", 1));
        // Refused: fetched again.
        let b = cache.get(Some(&a), || fetch("b", 0)).await.unwrap();
        assert_eq!((b.expose().as_str(), fetches.get()), ("b", 2));
        // "b" was stale at once (expires_in 0): the next get fetches.
        assert!(!cache.has_fresh());
        let c = cache.get(None, || fetch("c", 3600)).await.unwrap();
        assert_eq!((c.expose().as_str(), fetches.get()), ("c", 3));
        // Another publish refused "a" after "c" replaced it: "c" is used as is.
        let c2 = cache.get(Some(&a), || fetch("d", 3600)).await.unwrap();
        assert_eq!((c2.expose().as_str(), fetches.get()), ("c", 3));
        // A failed fetch empties the cache.
        let failed = cache
            .get(Some(&c), || async { Err::<Token, _>("down") })
            .await;
        assert_eq!(failed.unwrap_err(), "down");
        assert!(!cache.has_fresh());
    }
}

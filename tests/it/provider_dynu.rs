//! The dynu provider against a loopback Dynu server, through real HTTP: request counts (the
//! contract: first run token + lookup + update = 3, then one request per change), token
//! expiry and refresh, the 401 rule, unknown domains, families left alone, error shapes,
//! rate limits, names below a domain, the ip-update protocol and secrets.
//! See: #5

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use dynipd::config::{DynuAccess, DynuAuth, DynuProviderConfig, ProviderConfig};
use dynipd::core::{Addresses, Confirmed, ErrorClass, Failure};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, Target};
use dynipd::secret::Secret;

use crate::support::dynu_server::{DynuServer, ErrorShape, Logins, Mode};

const API_KEY: &str = "Ak-5ecret-KEY-0001";
const CLIENT_ID: &str = "0a1b2c3d-client";
const CLIENT_SECRET: &str = "Cl-5ecret-SECRET-0002";
const USER: &str = "me";
const PASSWORD: &str = "Pw-5ecret-PASS-0003";
const HOME: &str = "home.example.org";
const V4: &str = "81.2.69.160";
const V4B: &str = "81.2.69.161";
const V6: &str = "2a02:898:1::7";
const WAIT: Duration = Duration::from_secs(5);

fn logins() -> Logins {
    Logins {
        api_key: API_KEY.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        username: USER.into(),
        password: PASSWORD.into(),
    }
}

fn provider(server: &DynuServer, access: DynuAccess) -> AnyProvider {
    let config = ProviderConfig::Dynu(DynuProviderConfig {
        base_url: server.base_url().parse().unwrap(),
        access,
    });
    AnyProvider::new("dynu", &config, HttpClients::new(WAIT).unwrap(), WAIT)
}

fn oauth() -> DynuAccess {
    DynuAccess::Rest(DynuAuth::OAuth {
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET.into()),
    })
}

fn api_key() -> DynuAccess {
    DynuAccess::Rest(DynuAuth::ApiKey(Secret::new(API_KEY.into())))
}

fn ip_update() -> DynuAccess {
    DynuAccess::IpUpdate {
        username: USER.into(),
        password: Secret::new(PASSWORD.into()),
    }
}

fn target(name: &str, ipv4: Option<&str>, ipv6: Option<&str>) -> Target {
    let addresses = Addresses {
        ipv4: ipv4.map(|a| a.parse().unwrap()),
        ipv6: ipv6.map(|a| a.parse().unwrap()),
    };
    Target {
        name: name.into(),
        families: addresses.families(),
        ttl: Duration::from_secs(60),
        addresses,
        cache: BTreeMap::new(),
    }
}

/// `target` carrying the cache a confirmation returned.
fn cached(mut target: Target, confirmed: &Confirmed) -> Target {
    target.cache = confirmed.provider_cache.clone();
    target
}

/// Publishes and returns the outcomes by name; every failure is checked for secrets.
async fn publish(
    p: &AnyProvider,
    targets: &[Target],
) -> BTreeMap<String, Result<Confirmed, Failure>> {
    let outcomes: BTreeMap<_, _> = p.publish(targets).await.into_iter().collect();
    assert_eq!(outcomes.len(), targets.len());
    for outcome in outcomes.values() {
        match outcome {
            Err(f) => {
                assert_secret_free(&f.message);
                assert_secret_free(&format!("{f:?}"));
            }
            Ok(c) => assert_secret_free(&format!("{c:?}")),
        }
    }
    assert_secret_free(&format!("{p:?}"));
    outcomes
}

/// Publishes one target and returns its outcome.
async fn publish_one(p: &AnyProvider, t: Target) -> Result<Confirmed, Failure> {
    let name = t.name.clone();
    publish(p, &[t]).await.remove(&name).unwrap()
}

fn assert_secret_free(text: &str) {
    for secret in [
        API_KEY,
        CLIENT_SECRET,
        PASSWORD,
        "5ecret",
        "b1946ac92492d2347c6235b4d26111",
    ] {
        assert!(!text.contains(secret), "secret {secret} leaked: {text}");
    }
    for (user, password) in [(CLIENT_ID, CLIENT_SECRET), (USER, PASSWORD)] {
        let basic = DynuServer::basic(user, password);
        assert!(
            !text.contains(basic.trim_start_matches("Basic ")),
            "credentials leaked: {text}"
        );
    }
}

fn failure(outcome: &Result<Confirmed, Failure>) -> &Failure {
    outcome.as_ref().expect_err("expected a failure")
}

fn body(server: &DynuServer, index: usize) -> Value {
    serde_json::from_slice(&server.requests()[index].body).unwrap()
}

// See: #5 (the request counts are the contract)
#[tokio::test]
async fn issue_5_first_run_is_token_lookup_update_then_one_request_per_change() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, Some("192.0.2.1"), None);
    let p = provider(&server, oauth());

    let first = publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();
    assert_eq!(
        server.calls(),
        [
            "GET /v2/oauth2/token",
            "GET /v2/dns",
            &format!("POST /v2/dns/{id}")
        ]
    );
    assert_eq!(first.addresses.ipv4, Some(V4.parse().unwrap()));
    assert_eq!(first.provider_cache["domain-id"], id.to_string());
    let domain = server.domain(id);
    assert_eq!(domain["ipv4Address"], V4);
    assert_eq!(domain["ttl"], 60);
    assert_eq!(
        domain["group"], "Office",
        "settings are written back as they were"
    );

    let requests = server.requests();
    let token = &requests[0];
    assert_eq!(
        token.header("authorization"),
        Some(DynuServer::basic(CLIENT_ID, CLIENT_SECRET).as_str())
    );
    assert_eq!(token.header("accept"), Some("application/json"));
    let update = &requests[2];
    assert!(
        update
            .header("authorization")
            .unwrap()
            .starts_with("Bearer b1946ac9")
    );
    assert_eq!(update.header("content-type"), Some("application/json"));
    assert_eq!(update.header("accept"), Some("application/json"));
    assert_eq!(update.header("user-agent"), Some(dynipd::USER_AGENT));
    assert_eq!(
        body(&server, 2),
        json!({"name": HOME, "group": "Office", "ipv4Address": V4, "ttl": 60, "ipv4": true,
               "ipv6": false, "ipv4WildcardAlias": false, "ipv6WildcardAlias": false,
               "allowZoneTransfer": false, "dnssec": false})
    );

    // Steady state: the next change is one request, token and id reused.
    let second = publish_one(&p, cached(target(HOME, Some(V4B), None), &first))
        .await
        .unwrap();
    assert_eq!(server.count(), 4);
    assert_eq!(server.calls()[3], format!("POST /v2/dns/{id}"));
    assert_eq!(server.domain(id)["ipv4Address"], V4B);
    assert_eq!(server.tokens_issued(), 1);
    let third = publish_one(&p, cached(target(HOME, Some(V4), None), &second)).await;
    assert!(third.is_ok());
    assert_eq!(server.count(), 5);
}

#[tokio::test]
async fn api_key_needs_no_token() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, None, None);
    let p = provider(&server, api_key());
    let first = publish_one(&p, target(HOME, Some(V4), Some(V6)))
        .await
        .unwrap();
    assert_eq!(
        server.calls(),
        ["GET /v2/dns", &format!("POST /v2/dns/{id}")]
    );
    assert_eq!(server.requests()[1].header("API-Key"), Some(API_KEY));
    let domain = server.domain(id);
    assert_eq!(
        (&domain["ipv4Address"], &domain["ipv6Address"]),
        (&json!(V4), &json!(V6))
    );
    assert_eq!(
        (&domain["ipv4"], &domain["ipv6"]),
        (&json!(true), &json!(true))
    );
    publish_one(&p, cached(target(HOME, Some(V4B), Some(V6)), &first))
        .await
        .unwrap();
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_once_before_the_request() {
    let server = DynuServer::start(logins());
    // Used for half its life (0.5 s) by dynipd; valid for 1 s at the server.
    server.set_token_lifetime(1);
    server.add_domain(HOME, None, None);
    let p = provider(&server, oauth());
    let first = publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();
    assert_eq!(server.count(), 3);
    // Waiting for a real expiry, not synchronising.
    tokio::time::sleep(Duration::from_millis(600)).await;
    publish_one(&p, cached(target(HOME, Some(V4B), None), &first))
        .await
        .unwrap();
    let calls = server.calls();
    assert_eq!(
        calls[3..],
        ["GET /v2/oauth2/token", &calls[2]],
        "re-token, no 401 first"
    );
    assert_eq!(server.tokens_issued(), 2);
}

#[tokio::test]
async fn a_401_to_a_stale_token_refreshes_and_retries_once() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, None, None);
    let p = provider(&server, oauth());
    let first = publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();
    server.revoke_tokens();
    let second = publish_one(&p, cached(target(HOME, Some(V4B), None), &first)).await;
    assert!(second.is_ok(), "{second:?}");
    let update = format!("POST /v2/dns/{id}");
    assert_eq!(
        server.calls()[3..],
        [&update, "GET /v2/oauth2/token", &update]
    );
    assert_eq!(server.domain(id)["ipv4Address"], V4B);
}

#[tokio::test]
async fn a_401_with_bad_credentials_parks_after_one_refresh_and_sends_nothing_more() {
    let server = DynuServer::start(logins());
    let a = server.add_domain("a.example.org", None, None);
    server.add_domain("b.example.org", None, None);
    let p = provider(&server, oauth());
    let first = publish(
        &p,
        &[
            target("a.example.org", Some(V4), None),
            target("b.example.org", Some(V4), None),
        ],
    )
    .await;
    assert_eq!(server.count(), 4, "token, list, two updates");
    server.set_client_secret("rotated-at-dynu");
    server.revoke_tokens();
    let targets = [
        cached(
            target("a.example.org", Some(V4B), None),
            first["a.example.org"].as_ref().unwrap(),
        ),
        cached(
            target("b.example.org", Some(V4B), None),
            first["b.example.org"].as_ref().unwrap(),
        ),
    ];
    let outcomes = publish(&p, &targets).await;
    assert_eq!(
        server.calls()[4..],
        [format!("POST /v2/dns/{a}"), "GET /v2/oauth2/token".into()],
        "one refresh, then nothing"
    );
    let f = failure(&outcomes["a.example.org"]);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        "dynu provider \"dynu\" answered HTTP 401 \"Authentication Exception: Failed.\" for \
         a.example.org (token request): the client-id or client-secret was refused; \
         record parked; fix providers.dynu.client-id or client-secret(-file), then reload or \
         run dynipd retry"
    );
    let b = failure(&outcomes["b.example.org"]);
    assert_eq!(b.class, ErrorClass::Rejected);
    assert!(
        b.message
            .starts_with("dynu provider \"dynu\" did not send b.example.org: "),
        "{}",
        b.message
    );

    // A fresh provider with the wrong secret: one token request, parked.
    let wrong = provider(&server, oauth());
    let before = server.count();
    let f = publish_one(&wrong, target("a.example.org", Some(V4), None)).await;
    assert_eq!(failure(&f).class, ErrorClass::Rejected);
    assert_eq!(server.count(), before + 1);
}

#[tokio::test]
async fn a_401_to_an_api_key_parks_at_once_in_every_error_shape() {
    for shape in [ErrorShape::Flat, ErrorShape::Nested, ErrorShape::Combined] {
        let server = DynuServer::start(logins());
        server.set_shape(shape);
        server.add_domain(HOME, None, None);
        let p = provider(
            &server,
            DynuAccess::Rest(DynuAuth::ApiKey(Secret::new("Wrong-5ecret-key".into()))),
        );
        let f = publish_one(&p, target(HOME, Some(V4), None)).await;
        let f = failure(&f);
        assert_eq!(f.class, ErrorClass::Rejected, "{shape:?}");
        assert_eq!(server.count(), 1, "{shape:?}: no retry without a token");
        assert!(
            f.message.contains("answered HTTP 401 \"Authentication Exception: Failed.\" for home.example.org (domain list request)")
                && f.message.contains("fix providers.dynu.api-key(-file)"),
            "{shape:?}: {}",
            f.message
        );
    }
}

#[tokio::test]
async fn an_unknown_domain_is_parked_naming_it_and_the_accounts_domains() {
    let server = DynuServer::start(logins());
    server.add_domain("example.net", None, None);
    server.add_domain("other.dynu.net", None, None);
    let p = provider(&server, api_key());
    let f = publish_one(&p, target(HOME, Some(V4), None)).await;
    let f = failure(&f);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        "dynu provider \"dynu\" found no Dynu domain for home.example.org (the account has \
         \"example.net\", \"other.dynu.net\"); record parked; add the domain at Dynu or fix the \
         record's name, then reload or run dynipd retry"
    );
    assert_eq!(server.calls(), ["GET /v2/dns"]);
}

#[tokio::test]
async fn an_ipv6_only_record_leaves_ipv4_untouched() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, Some(V4), Some("2a02:898:1::1"));
    let p = provider(&server, api_key());
    let first = publish_one(&p, target(HOME, None, Some(V6))).await.unwrap();
    assert_eq!(
        first.addresses,
        Addresses {
            ipv4: None,
            ipv6: Some(V6.parse().unwrap())
        }
    );
    let domain = server.domain(id);
    assert_eq!(domain["ipv6Address"], V6);
    // This server resets what an update leaves out: IPv4 survived because it was sent back.
    assert_eq!(
        (&domain["ipv4Address"], &domain["ipv4"]),
        (&json!(V4), &json!(true))
    );
    let sent = body(&server, 1);
    assert_eq!(
        (&sent["ipv4Address"], &sent["ipv6Address"]),
        (&json!(V4), &json!(V6))
    );
}

#[tokio::test]
async fn a_stale_cached_id_is_looked_up_again() {
    let server = DynuServer::start(logins());
    let old = server.add_domain(HOME, None, None);
    let p = provider(&server, api_key());
    let first = publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();
    server.remove_domain(old);
    let new = server.add_domain(HOME, None, None);
    let second = publish_one(&p, cached(target(HOME, Some(V4B), None), &first))
        .await
        .unwrap();
    assert_eq!(
        server.calls()[2..],
        [
            format!("POST /v2/dns/{old}"),
            "GET /v2/dns".into(),
            format!("POST /v2/dns/{new}")
        ]
    );
    assert_eq!(second.provider_cache["domain-id"], new.to_string());
}

#[tokio::test]
async fn rate_limits_wait_retry_after_and_stop_the_round() {
    let server = DynuServer::start(logins());
    server.add_domain("a.example.org", None, None);
    server.add_domain("b.example.org", None, None);
    server.set_mode(Mode::TooManyRequests {
        retry_after_secs: 120,
    });
    let p = provider(&server, api_key());
    let outcomes = publish(
        &p,
        &[
            target("a.example.org", Some(V4), None),
            target("b.example.org", Some(V4), None),
        ],
    )
    .await;
    let limited = ErrorClass::RateLimited {
        retry_after: Some(Duration::from_secs(120)),
    };
    assert_eq!(failure(&outcomes["a.example.org"]).class, limited);
    assert_eq!(failure(&outcomes["b.example.org"]).class, limited);
    assert_eq!(server.count(), 1);
    assert!(
        failure(&outcomes["a.example.org"])
            .message
            .contains("waiting 2m before the next attempt")
    );
}

#[tokio::test]
async fn server_errors_and_drops_are_retried() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, None, None);
    let p = provider(&server, api_key());
    let first = publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();

    server.set_mode(Mode::ServerError);
    let f = publish_one(&p, target(HOME, Some(V4B), None)).await;
    assert_eq!(failure(&f).class, ErrorClass::Transient, "{f:?}");

    // A lookup lost without reply changed nothing; a lost update may have been applied.
    server.set_mode(Mode::Drop);
    let f = publish_one(&p, target(HOME, Some(V4B), None)).await;
    assert_eq!(failure(&f).class, ErrorClass::Transient, "{f:?}");
    let f = publish_one(&p, cached(target(HOME, Some(V4B), None), &first)).await;
    let f = failure(&f);
    assert_eq!(f.class, ErrorClass::Unconfirmed, "{}", f.message);
    assert!(
        f.message.starts_with(
            "dynu provider \"dynu\" got no answer to the update for home.example.org: "
        ),
        "{}",
        f.message
    );
    assert_eq!(server.domain(id)["ipv4Address"], V4);
}

#[tokio::test]
async fn a_name_below_a_domain_updates_its_records() {
    let server = DynuServer::start(logins());
    let id = server.add_domain("example.org", Some("192.0.2.1"), None);
    let a = server.add_record(id, "home", "192.0.2.2");
    let p = provider(&server, api_key());
    let first = publish_one(&p, target(HOME, Some(V4), Some(V6)))
        .await
        .unwrap();
    assert_eq!(
        server.calls(),
        [
            "GET /v2/dns".to_string(),
            "GET /v2/dns/record/home.example.org".into(),
            format!("POST /v2/dns/{id}/record/{a}"),
            "GET /v2/dns/record/home.example.org".into(),
            format!("POST /v2/dns/{id}/record"),
        ]
    );
    assert_eq!(server.requests()[1].query.as_deref(), Some("recordType=A"));
    assert_eq!(
        server.requests()[3].query.as_deref(),
        Some("recordType=AAAA")
    );
    assert_eq!(server.record(a).unwrap()["ipv4Address"], V4);
    let aaaa = server
        .records()
        .into_iter()
        .find(|r| r["recordType"] == "AAAA")
        .unwrap();
    assert_eq!(
        (&aaaa["ipv6Address"], &aaaa["nodeName"]),
        (&json!(V6), &json!("home"))
    );
    assert_eq!(
        server.domain(id)["ipv4Address"],
        "192.0.2.1",
        "the apex is not touched"
    );

    // Steady state: one request per record.
    publish_one(&p, cached(target(HOME, Some(V4B), Some(V6)), &first))
        .await
        .unwrap();
    assert_eq!(server.count(), 7);
    assert_eq!(server.record(a).unwrap()["ipv4Address"], V4B);
}

#[tokio::test]
async fn concurrent_publishes_share_one_token() {
    let server = DynuServer::start(logins());
    server.add_domain("a.example.org", None, None);
    server.add_domain("b.example.org", None, None);
    let p = provider(&server, oauth());
    let (a, b) = tokio::join!(
        publish_one(&p, target("a.example.org", Some(V4), None)),
        publish_one(&p, target("b.example.org", Some(V4), None)),
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(server.tokens_issued(), 1);
}

#[tokio::test]
async fn dry_run_plan_masks_every_credential() {
    let server = DynuServer::start(logins());
    server.add_domain(HOME, None, None);
    let p = provider(&server, oauth());
    let plan = p.plan(&[target(HOME, Some(V4), None)]).join("\n");
    assert!(
        plan.starts_with(&format!("GET {}/v2/oauth2/token", server.base_url())),
        "{plan}"
    );
    assert!(plan.contains("Authorization: Basic ***"), "{plan}");
    assert!(plan.contains("Authorization: Bearer ***"), "{plan}");
    assert!(plan.contains("POST "), "{plan}");
    assert_secret_free(&plan);
    let first = publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();
    let plan = p
        .plan(&[cached(target(HOME, Some(V4B), None), &first)])
        .join("\n");
    assert!(!plan.contains("oauth2"), "token cached: {plan}");
    assert!(plan.contains("\"ipv4Address\":\"81.2.69.161\""), "{plan}");
    assert_secret_free(&plan);
    let keyed = provider(&server, api_key());
    let plan = keyed.plan(&[target(HOME, Some(V4), None)]).join("\n");
    assert!(plan.contains("API-Key: ***"), "{plan}");
    assert_secret_free(&plan);
}

#[tokio::test]
async fn ip_update_single_stack_says_no_for_the_other_family() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, Some("192.0.2.1"), Some("2a02:898:1::1"));
    let p = provider(&server, ip_update());
    publish_one(&p, target(HOME, Some(V4), None)).await.unwrap();
    let r = &server.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/nic/update"));
    assert_eq!(
        r.query.as_deref(),
        Some("hostname=home.example.org&myip=81.2.69.160&myipv6=no")
    );
    assert_eq!(
        r.header("authorization"),
        Some(DynuServer::basic(USER, PASSWORD).as_str())
    );
    let domain = server.domain(id);
    assert_eq!(
        (&domain["ipv4Address"], &domain["ipv6Address"]),
        (&json!(V4), &json!("2a02:898:1::1"))
    );

    publish_one(&p, target(HOME, None, Some(V6))).await.unwrap();
    assert_eq!(
        server.requests()[1].query.as_deref(),
        Some("hostname=home.example.org&myip=no&myipv6=2a02:898:1::7")
    );
    assert_eq!(server.domain(id)["ipv4Address"], V4);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn ip_update_refusals() {
    let server = DynuServer::start(logins());
    server.add_domain(HOME, None, None);
    let wrong = provider(
        &server,
        DynuAccess::IpUpdate {
            username: USER.into(),
            password: Secret::new("Wrong-5ecret".into()),
        },
    );
    let outcomes = publish(
        &wrong,
        &[
            target(HOME, Some(V4), None),
            target("b.example.org", Some(V4), None),
        ],
    )
    .await;
    assert_eq!(failure(&outcomes[HOME]).class, ErrorClass::Rejected);
    assert!(
        failure(&outcomes[HOME])
            .message
            .contains("answered \"badauth\"")
    );
    assert_eq!(
        failure(&outcomes["b.example.org"]).class,
        ErrorClass::Rejected
    );
    assert_eq!(server.count(), 1, "badauth stops the round");

    let p = provider(&server, ip_update());
    let f = publish_one(&p, target("nothere.example.org", Some(V4), None)).await;
    assert_eq!(failure(&f).class, ErrorClass::Rejected);

    server.set_mode(Mode::Maintenance);
    let f = publish_one(&p, target(HOME, Some(V4), None)).await;
    let f = failure(&f);
    assert_eq!(
        f.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(600))
        }
    );
    assert!(f.message.contains("waiting 10m"), "{}", f.message);
}

/// The test server itself: the parts of protocols/dynu-rest.md the provider does not use.
#[test]
fn server_follows_the_notes() {
    use crate::support::http_server::raw_get;
    let server = DynuServer::start(logins());
    let id = server.add_domain("example.org", None, None);
    let get = |target: &str, headers: &[(&str, &str)]| {
        let reply = String::from_utf8(raw_get(server.addr(), target, headers)).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, serde_json::from_str::<Value>(body).unwrap())
    };
    assert_eq!(
        get("/v2/ping?message=x", &[]),
        (200, json!({"statusCode":200,"message":"x"}))
    );
    let key = [("api-key", API_KEY)];
    assert_eq!(
        get("/v2/dns/getroot/secure.example.org", &key),
        (
            200,
            json!({"statusCode":200,"id":id,"hostname":"secure.example.org",
                   "domainName":"example.org","node":"secure"})
        )
    );
    assert_eq!(get("/v2/dns/getroot/example.org", &key).1["node"], "");
    let (status, body) = get("/v2/dns/record/a.example.org", &key);
    assert_eq!(
        (status, &body["exception"]["type"]),
        (501, &json!("Argument Exception"))
    );
    assert_eq!(
        get("/v2/dns/record/a.example.org?recordType=A", &key).1,
        json!({"statusCode":200,"dnsRecords":[]})
    );
    let basic = DynuServer::basic(CLIENT_ID, CLIENT_SECRET);
    let (status, v1) = get("/v1/oauth2/token", &[("Authorization", &basic)]);
    assert_eq!(
        (status, &v1["tokenType"], &v1["expiresIn"]),
        (200, &json!("Bearer"), &json!(28800))
    );
    let (_, v2) = get("/v2/oauth2/token", &[("Authorization", &basic)]);
    assert_eq!(v2["token_type"], "bearer");
    let bearer = format!("Bearer {}", v2["access_token"].as_str().unwrap());
    let (status, domain) = get(&format!("/v2/dns/{id}"), &[("Authorization", &bearer)]);
    assert_eq!((status, &domain["name"]), (200, &json!("example.org")));
    assert!(
        domain.get("ipv4Address").is_none(),
        "absent fields are omitted, not null"
    );
    assert_eq!(get("/v2/dns", &[]).0, 401);
    server.set_shape(ErrorShape::Combined);
    assert_eq!(get("/v2/dns", &[]).1["statusCode"], 401);
}

//! The generic `http` provider against a loopback server, through real HTTP: the rendered
//! request (URL encoding, body, headers, Basic auth), one request per record, every reply
//! class, timeouts, refused connections, and the token never shown.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dynipd::config::{HttpMethod, HttpProviderConfig, ProviderConfig};
use dynipd::core::{Addresses, Confirmed, ErrorClass, Failure};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, Target};
use dynipd::secret::Secret;

use crate::support::free_port;
use crate::support::http_server::{HttpServer, Response};

const TOKEN: &str = "tok/en s3cret";
const TOKEN_IN_URL: &str = "tok%2Fen%20s3cret";
const PASSWORD: &str = "pa55word";
const WAIT: Duration = Duration::from_secs(5);

fn get_config(url: String) -> HttpProviderConfig {
    HttpProviderConfig {
        method: HttpMethod::Get,
        url,
        body: None,
        content_type: None,
        headers: Vec::new(),
        username: None,
        password: None,
        token: Some(Secret::new(TOKEN.into())),
        success: regex_lite::Regex::new("^(good|nochg|ok)").unwrap(),
        nochg: None,
        zone: None,
    }
}

fn provider(config: HttpProviderConfig, timeout: Duration) -> AnyProvider {
    AnyProvider::new(
        "custom",
        &ProviderConfig::Http(config),
        HttpClients::new(timeout).unwrap(),
        timeout,
    )
}

fn target(name: &str, ipv4: Option<&str>, ipv6: Option<&str>) -> Target {
    let addresses = Addresses {
        ipv4: ipv4.map(|a| a.parse().unwrap()),
        ipv6: ipv6.map(|a| a.parse().unwrap()),
    };
    Target {
        name: name.into(),
        families: addresses.families(),
        ttl: Duration::from_secs(300),
        addresses,
        cache: BTreeMap::new(),
    }
}

fn assert_secret_free(text: &str) {
    for secret in [TOKEN, TOKEN_IN_URL, "s3cret", PASSWORD] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
}

async fn publish(
    provider: &AnyProvider,
    targets: &[Target],
) -> BTreeMap<String, Result<Confirmed, Failure>> {
    let outcomes: BTreeMap<_, _> = provider.publish(targets).await.into_iter().collect();
    assert_eq!(outcomes.len(), targets.len());
    for outcome in outcomes.values() {
        if let Err(failure) = outcome {
            assert_secret_free(&failure.message);
            assert_secret_free(&format!("{failure:?}"));
        }
    }
    assert_secret_free(&format!("{provider:?}"));
    outcomes
}

fn failure(outcome: &Result<Confirmed, Failure>) -> &Failure {
    outcome.as_ref().expect_err("expected a failure")
}

#[tokio::test]
async fn get_template_is_rendered_and_url_encoded() {
    let server = HttpServer::start(|_| Response::text(200, "ok"));
    let p = provider(
        get_config(server.url("/update/{token}?host={name}&ip={ipv4}&ip6={ipv6}&ttl={ttl}")),
        WAIT,
    );
    let targets = [target(
        "home.example.org",
        Some("81.2.69.160"),
        Some("2a02:898:1::7"),
    )];
    let plan = p.plan(&targets);
    let outcomes = publish(&p, &targets).await;
    assert_eq!(
        outcomes["home.example.org"].as_ref().unwrap().addresses,
        targets[0].addresses
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, format!("/update/{TOKEN_IN_URL}"));
    assert_eq!(
        r.query.as_deref(),
        Some("host=home.example.org&ip=81.2.69.160&ip6=2a02%3A898%3A1%3A%3A7&ttl=300")
    );
    assert_eq!(r.header("user-agent"), Some(dynipd::USER_AGENT));
    assert_eq!(r.header("authorization"), None);
    // The plan is the same request with the token masked.
    assert_eq!(
        plan[0].lines().next().unwrap(),
        format!("GET {}", server.url(&r.target)).replace(TOKEN_IN_URL, "***")
    );
    assert_secret_free(&plan.join("\n"));
}

#[tokio::test]
async fn post_sends_body_headers_content_type_and_basic_auth() {
    let server = HttpServer::start(|_| Response::text(200, "nochg"));
    let mut config = get_config(server.url("/api/records/{name}"));
    config.method = HttpMethod::Post;
    config.body = Some(r#"{"ip":"{ipv4}","ip6":"{ipv6}","ttl":{ttl},"key":"{token}"}"#.into());
    config.content_type = Some("application/json".into());
    config.headers = vec![("X-Api-Key".into(), "{token}".into())];
    config.username = Some("me".into());
    config.password = Some(Secret::new(PASSWORD.into()));
    let p = provider(config, WAIT);
    let targets = [target("v4.example.org", Some("81.2.69.160"), None)];
    let plan = p.plan(&targets);
    let outcomes = publish(&p, &targets).await;
    assert!(outcomes["v4.example.org"].is_ok());
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/records/v4.example.org");
    assert_eq!(
        r.body_text(),
        r#"{"ip":"81.2.69.160","ip6":"","ttl":300,"key":"tok/en s3cret"}"#
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-api-key"), Some(TOKEN));
    assert_eq!(r.header("authorization"), Some("Basic bWU6cGE1NXdvcmQ="));
    let plan = plan.join("\n");
    assert_secret_free(&plan);
    assert!(plan.contains(r#""key":"***"}"#), "{plan}");
    assert!(plan.contains("X-Api-Key: ***"), "{plan}");
}

#[tokio::test]
async fn one_request_per_record() {
    let server = HttpServer::start(|_| Response::text(200, "good"));
    let p = provider(get_config(server.url("/u?h={name}&ip={ipv4}")), WAIT);
    let targets = [
        target("a.example.org", Some("81.2.69.160"), None),
        target("b.example.org", Some("81.2.69.160"), None),
    ];
    let outcomes = publish(&p, &targets).await;
    assert!(outcomes.values().all(Result::is_ok));
    let queries: Vec<_> = server.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        queries,
        vec![
            Some("h=a.example.org&ip=81.2.69.160".to_string()),
            Some("h=b.example.org&ip=81.2.69.160".to_string()),
        ]
    );
}

#[tokio::test]
async fn every_reply_class() {
    let cases: Vec<(Response, ErrorClass, &str)> = vec![
        (
            Response::text(200, "error: bad key tok/en s3cret"),
            ErrorClass::Protocol,
            "http provider \"custom\" answered HTTP 200 \"error: bad key ***\" for \
             home.example.org: the body does not match the success pattern; will retry with \
             backoff; check providers.custom.success",
        ),
        (
            Response::with(
                401,
                &[("WWW-Authenticate", "Basic realm=\"api\"")],
                "unauthorized",
            ),
            ErrorClass::Rejected,
            "http provider \"custom\" answered HTTP 401 \"unauthorized\" for home.example.org: \
             the credentials were refused; record parked; fix providers.custom.username, \
             password(-file) or token(-file), then reload or run dynipd retry",
        ),
        (
            Response::text(403, ""),
            ErrorClass::Rejected,
            "answered HTTP 403 for home.example.org: the credentials were refused",
        ),
        (
            Response::text(404, "no such record"),
            ErrorClass::Rejected,
            "answered HTTP 404 \"no such record\" for home.example.org: the provider does not \
             accept the request; record parked; fix providers.custom.url, body or headers",
        ),
        (
            Response::with(429, &[("Retry-After", "90")], ""),
            ErrorClass::RateLimited {
                retry_after: Some(Duration::from_secs(90)),
            },
            "answered HTTP 429 for home.example.org: too many requests; waiting 1m 30s before \
             the next attempt",
        ),
        (
            Response::text(503, "ok"),
            ErrorClass::Transient,
            "answered HTTP 503 \"ok\" for home.example.org: server error; will retry with backoff",
        ),
        (
            Response::with(302, &[("Location", "http://127.0.0.1:1/")], ""),
            ErrorClass::Protocol,
            "answered HTTP 302 for home.example.org: an unexpected status (redirects are not \
             followed)",
        ),
    ];
    for (response, class, message) in cases {
        let reply = response.clone();
        let server = HttpServer::start(move |_| reply.clone());
        let p = provider(get_config(server.url("/u/{token}?ip={ipv4}")), WAIT);
        let outcomes = publish(&p, &[target("home.example.org", Some("81.2.69.160"), None)]).await;
        let f = failure(&outcomes["home.example.org"]);
        assert_eq!(f.class, class, "{response:?}: {}", f.message);
        assert!(f.message.contains(message), "{response:?}: {}", f.message);
    }
}

#[tokio::test]
async fn a_timeout_is_unconfirmed_within_the_timeout() {
    let server = HttpServer::start(|_| Response::text(200, "ok").after(Duration::from_secs(10)));
    let timeout = Duration::from_millis(500);
    let p = provider(get_config(server.url("/u/{token}?ip={ipv4}")), timeout);
    let started = Instant::now();
    let outcomes = publish(&p, &[target("home.example.org", Some("81.2.69.160"), None)]).await;
    let elapsed = started.elapsed();
    let f = failure(&outcomes["home.example.org"]);
    assert_eq!(f.class, ErrorClass::Unconfirmed, "{}", f.message);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(f.message.contains("/u/***?ip=***"), "{}", f.message);
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_secret_free() {
    let url = format!("http://127.0.0.1:{}/u/{{token}}?key={{token}}", free_port());
    let p = provider(get_config(url), WAIT);
    let outcomes = publish(&p, &[target("home.example.org", Some("81.2.69.160"), None)]).await;
    let f = failure(&outcomes["home.example.org"]);
    assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    assert!(
        f.message.starts_with(
            "http provider \"custom\" could not update home.example.org: could not connect"
        ),
        "{}",
        f.message
    );
}

// See: #6 — the template features inadyn's `custom {}` and ddns-updater's `custom` have.

#[tokio::test]
async fn every_placeholder_on_the_wire_with_the_default_host_and_zone() {
    let server = HttpServer::start(|_| Response::text(200, "good"));
    let mut config = get_config(server.url(
        "/zones/{zone}/records/{host}?name={name}&a={ipv4}&aaaa={ipv6}&ttl={ttl}&key={token}",
    ));
    config.headers = vec![("X-Record".into(), "{host} in {zone}, ttl {ttl}".into())];
    let p = provider(config, WAIT);
    let targets = [target(
        "my-home.sub-zone.example.org",
        Some("81.2.69.160"),
        Some("2a02:898:1::7"),
    )];
    let outcomes = publish(&p, &targets).await;
    assert!(outcomes["my-home.sub-zone.example.org"].is_ok());
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "no {{ip}} or {{type}}: one request");
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    // host = the first label, zone = the rest; hyphens stay as they are.
    assert_eq!(r.path, "/zones/sub-zone.example.org/records/my-home");
    assert_eq!(
        r.query.as_deref(),
        Some(
            "name=my-home.sub-zone.example.org&a=81.2.69.160&aaaa=2a02%3A898%3A1%3A%3A7\
             &ttl=300&key=tok%2Fen%20s3cret"
        )
    );
    assert_eq!(
        r.header("x-record"),
        Some("my-home in sub-zone.example.org, ttl 300")
    );
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn a_zone_key_sets_host_and_zone_and_the_apex_is_at() {
    let server = HttpServer::start(|_| Response::text(200, "good"));
    let mut config = get_config(server.url("/dns/{zone}/{host}?ip={ipv4}"));
    config.zone = Some("example.co.uk".into());
    let p = provider(config, WAIT);
    let targets = [
        target("a.b-c.example.co.uk", Some("81.2.69.160"), None),
        target("example.co.uk", Some("81.2.69.160"), None),
    ];
    let outcomes = publish(&p, &targets).await;
    assert!(outcomes.values().all(Result::is_ok));
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec!["/dns/example.co.uk/a.b-c", "/dns/example.co.uk/%40"]
    );
}

#[tokio::test]
async fn ip_and_type_send_one_request_per_family() {
    let server = HttpServer::start(|_| Response::text(200, "{\"success\": true}"));
    let mut config = get_config(server.url("/zones/{zone}/dns_records?name={name}"));
    config.method = HttpMethod::Post;
    config.body = Some(
        r#"{"type":"{type}","name":"{host}","content":"{ip}","ttl":{ttl},"v4":"{ipv4}","v6":"{ipv6}"}"#
            .into(),
    );
    config.content_type = Some("application/json".into());
    config.headers = vec![("Authorization".into(), "Bearer {token}".into())];
    config.success = regex_lite::Regex::new(r#""success":\s*true"#).unwrap();
    let p = provider(config, WAIT);
    let targets = [target(
        "home.example.org",
        Some("81.2.69.160"),
        Some("2a02:898:1::7"),
    )];
    let plan = p.plan(&targets);
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert_secret_free(&plan.join("\n"));
    assert!(plan[0].contains("Authorization: Bearer ***"), "{plan:?}");
    let outcomes = publish(&p, &targets).await;
    assert_eq!(
        outcomes["home.example.org"].as_ref().unwrap().addresses,
        targets[0].addresses
    );
    let requests = server.requests();
    let seen: Vec<(String, String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.target.clone(), r.body_text()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "POST".to_string(),
                "/zones/example.org/dns_records?name=home.example.org".to_string(),
                r#"{"type":"A","name":"home","content":"81.2.69.160","ttl":300,"v4":"81.2.69.160","v6":""}"#
                    .to_string()
            ),
            (
                "POST".to_string(),
                "/zones/example.org/dns_records?name=home.example.org".to_string(),
                r#"{"type":"AAAA","name":"home","content":"2a02:898:1::7","ttl":300,"v4":"","v6":"2a02:898:1::7"}"#
                    .to_string()
            ),
        ]
    );
    for r in &requests {
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}

#[tokio::test]
async fn a_record_is_published_only_when_every_family_s_request_succeeds() {
    let server = HttpServer::start(|r| {
        if r.query_param("type").as_deref() == Some("AAAA") {
            Response::text(503, "busy")
        } else {
            Response::text(200, "good")
        }
    });
    let p = provider(get_config(server.url("/u?type={type}&ip={ip}")), WAIT);
    let targets = [target(
        "home.example.org",
        Some("81.2.69.160"),
        Some("2a02:898:1::7"),
    )];
    let outcomes = publish(&p, &targets).await;
    let f = failure(&outcomes["home.example.org"]);
    assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    let queries: Vec<_> = server.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        queries,
        vec![
            Some("type=A&ip=81.2.69.160".to_string()),
            Some("type=AAAA&ip=2a02%3A898%3A1%3A%3A7".to_string()),
        ]
    );
    // After a rejection the other family is not sent.
    let server = HttpServer::start(|_| Response::text(401, "bad key"));
    let p = provider(get_config(server.url("/u?type={type}&ip={ip}")), WAIT);
    let outcomes = publish(&p, &targets).await;
    assert_eq!(
        failure(&outcomes["home.example.org"]).class,
        ErrorClass::Rejected
    );
    assert_eq!(server.count(), 1);
    // A single-family record sends its one family only.
    let v6 = [target("v6.example.org", None, Some("2a02:898:1::7"))];
    let server = HttpServer::start(|_| Response::text(200, "good"));
    let p = provider(get_config(server.url("/u?type={type}&ip={ip}")), WAIT);
    assert!(publish(&p, &v6).await["v6.example.org"].is_ok());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn nochg_regex_counts_as_published() {
    let mut config = get_config(String::new());
    config.success = regex_lite::Regex::new("^good ").unwrap();
    config.nochg = Some(regex_lite::Regex::new("^nochg ").unwrap());
    for (body, is_published) in [
        ("good 81.2.69.160", true),
        ("nochg 81.2.69.160", true),
        ("nohost", false),
        ("", false),
    ] {
        let reply = Response::text(200, body);
        let server = HttpServer::start(move |_| reply.clone());
        let mut config = config.clone();
        config.url = server.url("/nic/update?hostname={name}&myip={ipv4}");
        let p = provider(config, WAIT);
        let outcomes = publish(&p, &[target("home.example.org", Some("81.2.69.160"), None)]).await;
        let outcome = &outcomes["home.example.org"];
        assert_eq!(outcome.is_ok(), is_published, "{body:?}: {outcome:?}");
        if let Err(f) = outcome {
            assert_eq!(f.class, ErrorClass::Protocol);
        }
    }
}

#[tokio::test]
async fn a_form_body_is_form_encoded_on_the_wire() {
    let server = HttpServer::start(|_| Response::text(200, "ok"));
    let mut config = get_config(server.url("/update"));
    config.method = HttpMethod::Post;
    config.body = Some("hostname={name}&myip={ipv4}&myipv6={ipv6}&key={token}".into());
    config.content_type = Some("application/x-www-form-urlencoded".into());
    config.username = Some("me".into());
    config.password = Some(Secret::new(PASSWORD.into()));
    let p = provider(config, WAIT);
    let targets = [target(
        "my-home.example.org",
        Some("81.2.69.160"),
        Some("2a02:898:1::7"),
    )];
    let plan = p.plan(&targets).join("\n");
    assert!(
        plan.ends_with(
            "hostname=my-home.example.org&myip=81.2.69.160&myipv6=2a02%3A898%3A1%3A%3A7&key=***"
        ),
        "{plan}"
    );
    assert_secret_free(&plan);
    assert!(publish(&p, &targets).await["my-home.example.org"].is_ok());
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/update");
    assert_eq!(
        r.body_text(),
        "hostname=my-home.example.org&myip=81.2.69.160&myipv6=2a02%3A898%3A1%3A%3A7\
         &key=tok%2Fen+s3cret"
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.header("authorization"), Some("Basic bWU6cGE1NXdvcmQ="));
    assert_eq!(
        url::form_urlencoded::parse(&r.body)
            .find(|(k, _)| k == "key")
            .map(|(_, v)| v.into_owned()),
        Some(TOKEN.to_string()),
        "the server decodes the token as configured"
    );
}

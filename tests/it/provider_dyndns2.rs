//! The dyndns2 provider against a loopback dyndns2 server, through real HTTP: exact requests,
//! combined vs separate dual stack, batching, every reply class, timeouts, refused connections
//! and secrets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dynipd::config::{DualStack, Dyndns2ProviderConfig, ProviderConfig};
use dynipd::core::{Addresses, Confirmed, ErrorClass, Failure};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, Target};
use dynipd::secret::Secret;

use crate::support::dyndns2_server::{AuthFailure, Dyndns2Server, HostState, Mode};
use crate::support::free_port;
use crate::support::http_server::{HttpServer, Response, raw_get};

const USER: &str = "me";
const PASSWORD: &str = "Pa55-w0rd!";
const V4: &str = "81.2.69.160";
const V6: &str = "2a02:898:1::7";
const WAIT: Duration = Duration::from_secs(5);

fn provider_for(
    url: &str,
    password: &str,
    dual_stack: DualStack,
    timeout: Duration,
) -> AnyProvider {
    let config = ProviderConfig::Dyndns2(Dyndns2ProviderConfig {
        url: url.parse().unwrap(),
        username: USER.into(),
        password: Secret::new(password.into()),
        dual_stack,
    });
    AnyProvider::new(
        "mydyndns",
        &config,
        HttpClients::new(timeout).unwrap(),
        timeout,
    )
}

fn provider(server: &Dyndns2Server, dual_stack: DualStack) -> AnyProvider {
    provider_for(&server.update_url(), PASSWORD, dual_stack, WAIT)
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

/// The outcomes by record name.
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
    outcomes
}

fn assert_secret_free(text: &str) {
    let basic = Dyndns2Server::expected_authorization(USER, PASSWORD);
    let encoded = basic.trim_start_matches("Basic ");
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
    assert!(!text.contains(encoded), "credentials leaked: {text}");
    assert!(!text.contains("Pa55"), "password leaked: {text}");
}

fn failure(outcome: &Result<Confirmed, Failure>) -> &Failure {
    outcome.as_ref().expect_err("expected a failure")
}

fn state(ipv4: Option<&str>, ipv6: Option<&str>) -> Option<HostState> {
    Some(HostState {
        ipv4: ipv4.map(|a| a.parse().unwrap()),
        ipv6: ipv6.map(|a| a.parse().unwrap()),
    })
}

#[tokio::test]
async fn combined_request_is_exact_preemptive_and_published() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    let p = provider(&server, DualStack::Combined);
    let targets = [target("home.example.org", Some(V4), Some(V6))];
    let plan = p.plan(&targets);

    let outcomes = publish(&p, &targets).await;
    let confirmed = outcomes["home.example.org"].as_ref().unwrap();
    assert_eq!(confirmed.addresses, targets[0].addresses);

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one request, no challenge round trip");
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/nic/update");
    assert_eq!(
        r.query.as_deref(),
        Some("hostname=home.example.org&myip=81.2.69.160,2a02:898:1::7")
    );
    assert_eq!(
        r.header("authorization"),
        Some(Dyndns2Server::expected_authorization(USER, PASSWORD).as_str())
    );
    assert_eq!(r.header("user-agent"), Some(dynipd::USER_AGENT));
    assert!(dynipd::USER_AGENT.starts_with("dynipd/"));
    assert_eq!(server.host("home.example.org"), state(Some(V4), Some(V6)));

    // The dry run shows exactly this request, credentials masked.
    assert_eq!(plan.len(), 1);
    let first_line = plan[0].lines().next().unwrap();
    assert_eq!(first_line, format!("GET {}", server.url(&r.target)));
    assert!(plan[0].contains("Authorization: Basic ***"));
    assert_secret_free(&plan.join("\n"));
    assert_secret_free(&format!("{p:?}"));
}

#[tokio::test]
async fn ipv6_only_record_sends_myip_v6_alone() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["v6.example.org"]);
    let p = provider(&server, DualStack::Combined);
    let outcomes = publish(&p, &[target("v6.example.org", None, Some(V6))]).await;
    assert!(outcomes["v6.example.org"].is_ok());
    assert_eq!(
        server.requests()[0].query.as_deref(),
        Some("hostname=v6.example.org&myip=2a02:898:1::7")
    );
    assert_eq!(server.host("v6.example.org"), state(None, Some(V6)));
}

#[tokio::test]
async fn separate_sends_one_request_per_family() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    let p = provider(&server, DualStack::Separate);
    let targets = [target("home.example.org", Some(V4), Some(V6))];
    assert_eq!(p.plan(&targets).len(), 2);
    let outcomes = publish(&p, &targets).await;
    assert_eq!(
        outcomes["home.example.org"].as_ref().unwrap().addresses,
        targets[0].addresses
    );
    let queries: Vec<_> = server.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        queries,
        vec![
            Some("hostname=home.example.org&myip=81.2.69.160".to_string()),
            Some("hostname=home.example.org&myip=2a02:898:1::7".to_string()),
        ]
    );
    assert_eq!(server.host("home.example.org"), state(Some(V4), Some(V6)));
}

#[tokio::test]
async fn separate_with_one_family_failing_is_not_confirmed() {
    let server = HttpServer::start(|r| {
        if r.query.as_deref().unwrap_or("").contains("myip=2a02") {
            Response::text(200, "dnserr")
        } else {
            Response::text(200, "good 81.2.69.160")
        }
    });
    let p = provider_for(
        &server.url("/nic/update"),
        PASSWORD,
        DualStack::Separate,
        WAIT,
    );
    let outcomes = publish(&p, &[target("home.example.org", Some(V4), Some(V6))]).await;
    assert_eq!(
        failure(&outcomes["home.example.org"]).class,
        ErrorClass::Transient
    );
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn batch_shares_a_request_and_reads_one_line_per_host() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["a.example.org", "c.example.org"]);
    let p = provider(&server, DualStack::Combined);
    let targets = [
        target("a.example.org", Some(V4), None),
        target("b.example.org", Some(V4), None),
        target("c.example.org", Some(V4), None),
    ];
    let outcomes = publish(&p, &targets).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].query.as_deref(),
        Some("hostname=a.example.org,b.example.org,c.example.org&myip=81.2.69.160")
    );
    assert!(outcomes["a.example.org"].is_ok());
    assert!(outcomes["c.example.org"].is_ok());
    let b = failure(&outcomes["b.example.org"]);
    assert_eq!(b.class, ErrorClass::Rejected);
    assert!(
        b.message.starts_with(
            "dyndns2 provider \"mydyndns\" answered \"nohost\" for b.example.org: the host is \
             not in this account; record parked;"
        ),
        "{}",
        b.message
    );
}

#[tokio::test]
async fn more_than_twenty_hosts_are_split_and_different_addresses_are_not_batched() {
    let names: Vec<String> = (0..21).map(|i| format!("h{i}.example.org")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut hosts = refs.clone();
    hosts.push("other.example.org");
    let server = Dyndns2Server::start(USER, PASSWORD, &hosts);
    let p = provider(&server, DualStack::Combined);
    let mut targets: Vec<Target> = refs.iter().map(|n| target(n, Some(V4), None)).collect();
    targets.push(target("other.example.org", Some("81.2.69.161"), None));
    let outcomes = publish(&p, &targets).await;
    assert!(outcomes.values().all(Result::is_ok));
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| r.query_param("hostname").unwrap().split(',').count())
        .collect();
    assert_eq!(sizes, vec![20, 1, 1]);
}

#[tokio::test]
async fn nochg_counts_as_published() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    server.set_address("home.example.org", V4.parse().unwrap());
    let p = provider(&server, DualStack::Combined);
    let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
    assert_eq!(
        outcomes["home.example.org"]
            .as_ref()
            .unwrap()
            .addresses
            .ipv4,
        Some(V4.parse().unwrap())
    );
}

#[tokio::test]
async fn badauth_parks_whether_200_or_401() {
    for mode in [AuthFailure::Body200, AuthFailure::Challenge401] {
        let server = Dyndns2Server::start(USER, "the-real-one", &["home.example.org"]);
        server.set_auth_failure(mode);
        let p = provider(&server, DualStack::Combined);
        let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
        let f = failure(&outcomes["home.example.org"]);
        assert_eq!(f.class, ErrorClass::Rejected, "{mode:?}");
        assert_eq!(
            f.message,
            "dyndns2 provider \"mydyndns\" answered \"badauth\" for home.example.org: the \
             username or password is wrong; record parked; fix providers.mydyndns.username or \
             password(-file), then reload or run dynipd retry"
        );
        assert_eq!(server.host("home.example.org"), state(None, None));
    }
}

#[tokio::test]
async fn an_account_wide_refusal_stops_the_round() {
    let server = Dyndns2Server::start(USER, "the-real-one", &["a.example.org", "b.example.org"]);
    let p = provider(&server, DualStack::Combined);
    let targets = [
        target("a.example.org", Some(V4), None),
        target("b.example.org", Some("81.2.69.161"), None),
    ];
    let outcomes = publish(&p, &targets).await;
    assert_eq!(server.count(), 1, "nothing more is sent after badauth");
    assert_eq!(
        failure(&outcomes["a.example.org"]).class,
        ErrorClass::Rejected
    );
    let b = failure(&outcomes["b.example.org"]);
    assert_eq!(b.class, ErrorClass::Rejected);
    assert!(
        b.message
            .contains("answered \"badauth\" for a.example.org, so b.example.org was not sent:"),
        "{}",
        b.message
    );
}

#[tokio::test]
async fn every_reply_class() {
    let minutes = |m: u64| Some(Duration::from_secs(m * 60));
    let cases: Vec<(Mode, ErrorClass, &str)> = vec![
        (
            Mode::Maintenance,
            ErrorClass::RateLimited {
                retry_after: minutes(30),
            },
            "answered \"911\" for home.example.org: the provider is down for maintenance; \
             waiting 30m before the next attempt",
        ),
        (
            Mode::Dnserr,
            ErrorClass::Transient,
            "answered \"dnserr\" for home.example.org: the provider had a server-side error; \
             will retry with backoff",
        ),
        (
            Mode::ServerError,
            ErrorClass::Transient,
            "answered HTTP 500 for home.example.org: server error; will retry with backoff",
        ),
        (
            Mode::TooManyRequests {
                retry_after_secs: 120,
            },
            ErrorClass::RateLimited {
                retry_after: minutes(2),
            },
            "answered HTTP 429 for home.example.org: too many requests; waiting 2m before",
        ),
        (
            Mode::Always {
                status: 200,
                body: "good 127.0.0.1".into(),
            },
            ErrorClass::Rejected,
            "answered \"good 127.0.0.1\" for home.example.org: the provider ignored the update",
        ),
        (
            Mode::Always {
                status: 200,
                body: "abuse".into(),
            },
            ErrorClass::Rejected,
            "answered \"abuse\" for home.example.org: the host is blocked for update abuse; \
             record parked; have it unblocked at the provider, then reload or run dynipd retry",
        ),
        (
            Mode::Always {
                status: 200,
                body: String::new(),
            },
            ErrorClass::Protocol,
            "answered HTTP 200 \"\" for home.example.org: the reply is not a dyndns2 answer",
        ),
        (
            Mode::Always {
                status: 200,
                body: "<html>\r\nPa55-w0rd!</html>".into(),
            },
            ErrorClass::Protocol,
            "answered HTTP 200 \"<html>\\r\\n***</html>\" for home.example.org",
        ),
        (
            Mode::Always {
                status: 404,
                body: "no such page".into(),
            },
            ErrorClass::Rejected,
            "answered HTTP 404 for home.example.org: the provider does not accept this request \
             here; record parked; fix providers.mydyndns.url",
        ),
    ];
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    let p = provider(&server, DualStack::Combined);
    for (mode, class, message) in cases {
        server.set_mode(mode.clone());
        let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
        let f = failure(&outcomes["home.example.org"]);
        assert_eq!(f.class, class, "{mode:?}: {}", f.message);
        assert!(f.message.contains(message), "{mode:?}: {}", f.message);
    }
}

#[tokio::test]
async fn an_oversized_reply_is_a_protocol_error() {
    let server = HttpServer::start(|_| Response::text(200, &"good ".repeat(1000)));
    let p = provider_for(
        &server.url("/nic/update"),
        PASSWORD,
        DualStack::Combined,
        WAIT,
    );
    let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
    let f = failure(&outcomes["home.example.org"]);
    assert_eq!(f.class, ErrorClass::Protocol, "{}", f.message);
    assert!(
        f.message.contains("larger than 4096 bytes"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn a_timeout_is_unconfirmed_within_the_timeout() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    server.set_mode(Mode::Slow(Duration::from_secs(10)));
    let timeout = Duration::from_millis(500);
    let p = provider_for(&server.update_url(), PASSWORD, DualStack::Combined, timeout);
    let started = Instant::now();
    let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
    let elapsed = started.elapsed();
    let f = failure(&outcomes["home.example.org"]);
    assert_eq!(f.class, ErrorClass::Unconfirmed, "{}", f.message);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(
        f.message.starts_with(
            "dyndns2 provider \"mydyndns\" could not update home.example.org: no reply from"
        ),
        "{}",
        f.message
    );
    assert!(f.message.contains("hostname=***&myip=***"), "{}", f.message);
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let url = format!("http://127.0.0.1:{}/nic/update", free_port());
    let p = provider_for(&url, PASSWORD, DualStack::Combined, WAIT);
    let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
    let f = failure(&outcomes["home.example.org"]);
    assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    assert!(f.message.contains("could not connect"), "{}", f.message);
}

#[tokio::test]
async fn a_reset_or_a_close_without_reply_is_unconfirmed() {
    for response in [Response::Reset, Response::Close] {
        let server = HttpServer::start(move |_| response.clone());
        let p = provider_for(
            &server.url("/nic/update"),
            PASSWORD,
            DualStack::Combined,
            WAIT,
        );
        let outcomes = publish(&p, &[target("home.example.org", Some(V4), None)]).await;
        let f = failure(&outcomes["home.example.org"]);
        assert_eq!(f.class, ErrorClass::Unconfirmed, "{}", f.message);
        // Not a timeout: the failure is seen at once.
        assert!(!f.message.contains("no reply"), "{}", f.message);
    }
}

/// The test server itself: a request without `myip` updates to the peer address.
#[test]
fn server_fills_a_missing_myip_from_the_peer_address() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    let auth = Dyndns2Server::expected_authorization(USER, PASSWORD);
    let reply = raw_get(
        server.addr(),
        "/nic/update?hostname=home.example.org",
        &[("User-Agent", "t/1"), ("Authorization", &auth)],
    );
    assert_eq!(
        String::from_utf8(reply).unwrap(),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\ngood 127.0.0.1"
    );
    assert_eq!(
        server.host("home.example.org").unwrap().ipv4,
        Some("127.0.0.1".parse().unwrap())
    );
}

/// The test server itself: the protocol's refusals, byte for byte.
#[test]
fn server_refusals_are_exact() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["home.example.org"]);
    let auth = Dyndns2Server::expected_authorization(USER, PASSWORD);
    let body = |target: &str, headers: &[(&str, &str)]| {
        let reply = String::from_utf8(raw_get(server.addr(), target, headers)).unwrap();
        reply.split_once("\r\n\r\n").unwrap().1.to_string()
    };
    let ua = ("User-Agent", "t/1");
    let ok = [ua, ("Authorization", auth.as_str())];
    assert_eq!(
        body("/nic/update?hostname=home.example.org", &[ua]),
        "badauth"
    );
    assert_eq!(
        body("/nic/update?hostname=home.example.org", &[ok[1]]),
        "badagent"
    );
    assert_eq!(body("/nic/update?myip=81.2.69.160", &ok), "notfqdn");
    assert_eq!(
        body("/nic/update?hostname=home&myip=81.2.69.160", &ok),
        "notfqdn"
    );
    let many: Vec<String> = (0..21).map(|i| format!("h{i}.example.org")).collect();
    let target = format!("/nic/update?hostname={}&myip=81.2.69.160", many.join(","));
    assert_eq!(body(&target, &ok), "numhost");
    assert_eq!(
        body(
            "/nic/update?hostname=home.example.org,x.example.org&myip=81.2.69.160,2a02:898:1::7",
            &ok
        ),
        "good 81.2.69.160,2a02:898:1::7\nnohost"
    );
    assert_eq!(
        body(
            "/nic/update?hostname=home.example.org&myip=81.2.69.160",
            &ok
        ),
        "nochg 81.2.69.160"
    );
    server.set_auth_failure(AuthFailure::Challenge401);
    let reply =
        String::from_utf8(raw_get(server.addr(), "/nic/update?hostname=a.b", &[ua])).unwrap();
    assert_eq!(
        reply,
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n\
         WWW-Authenticate: Basic realm=\"No-IP DNS Update API\"\r\nContent-Length: 7\r\n\r\nbadauth"
    );
}

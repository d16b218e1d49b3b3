//! The `duckdns` provider against the loopback DuckDNS server (`support::duckdns_server`),
//! through real HTTP: the exact query for A only, AAAA only and both, `OK` / `KO`, the verbose
//! four-line reply, every reply class, and the token never shown.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use dynipd::config::{DuckdnsProviderConfig, ProviderConfig};
use dynipd::core::{Addresses, Confirmed, ErrorClass, Failure};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, Target};
use dynipd::secret::Secret;

use crate::support::duckdns_server::{Domain, DuckdnsServer, TOKEN};
use crate::support::http_server::{HttpServer, Response};

const NAME: &str = "myhome.duckdns.org";
const V4: &str = "198.51.100.7";
const V6: &str = "2001:db8::7";
const V6_IN_QUERY: &str = "2001%3Adb8%3A%3A7";
const WAIT: Duration = Duration::from_secs(5);

fn provider_for(url: &str, token: &str) -> AnyProvider {
    let config = DuckdnsProviderConfig {
        url: url.parse().unwrap(),
        token: Secret::new(token.into()),
    };
    AnyProvider::new(
        "duck",
        &ProviderConfig::Duckdns(config),
        HttpClients::new(WAIT).unwrap(),
        WAIT,
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
        ttl: Duration::from_secs(60),
        addresses,
        cache: BTreeMap::new(),
    }
}

async fn publish_one(provider: &AnyProvider, target: &Target) -> Result<Confirmed, Failure> {
    let plan = provider.plan(std::slice::from_ref(target)).join("\n");
    assert!(!plan.contains(TOKEN), "{plan}");
    let (_, outcome) = provider
        .publish(std::slice::from_ref(target))
        .await
        .remove(0);
    if let Err(failure) = &outcome {
        let shown = format!("{} {failure:?} {provider:?}", failure.message);
        assert!(!shown.contains(TOKEN), "token shown: {shown}");
    }
    outcome
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

#[tokio::test]
async fn the_query_carries_exactly_the_record_s_families() {
    let server = DuckdnsServer::start(TOKEN, &["myhome"]);
    let p = provider_for(&server.update_url(), TOKEN);
    let cases = [
        (Some(V4), None, format!("ip={V4}")),
        (None, Some(V6), format!("ipv6={V6_IN_QUERY}")),
        (Some(V4), Some(V6), format!("ip={V4}&ipv6={V6_IN_QUERY}")),
    ];
    for (i, (v4, v6, addresses)) in cases.iter().enumerate() {
        let t = target(NAME, *v4, *v6);
        let plan = p.plan(std::slice::from_ref(&t));
        publish_one(&p, &t).await.unwrap();
        let r = &server.requests()[i];
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/update");
        assert_eq!(
            r.query.as_deref(),
            Some(format!("domains=myhome&token={TOKEN}&{addresses}&verbose=true").as_str())
        );
        assert_eq!(
            plan[0].lines().next().unwrap(),
            format!(
                "GET {}?domains=myhome&token=***&{addresses}&verbose=true",
                server.update_url()
            )
        );
    }
    // The IPv6-only request did not let the server fill IPv4 from the connection.
    assert_eq!(
        server.domain("myhome"),
        Some(Domain {
            ipv4: ip(V4),
            ipv6: ip(V6)
        })
    );
}

#[tokio::test]
async fn an_ipv6_only_record_leaves_ipv4_alone() {
    let server = DuckdnsServer::start(TOKEN, &["myhome"]);
    let p = provider_for(&server.update_url(), TOKEN);
    publish_one(&p, &target(NAME, None, Some(V6)))
        .await
        .unwrap();
    assert_eq!(
        server.domain("myhome"),
        Some(Domain {
            ipv4: None,
            ipv6: ip(V6)
        }),
        "no auto-detected IPv4"
    );
}

#[tokio::test]
async fn nochange_is_published_and_ko_is_rejected() {
    let server = DuckdnsServer::start(TOKEN, &["myhome"]);
    let p = provider_for(&server.update_url(), TOKEN);
    let t = target(NAME, Some(V4), Some(V6));
    publish_one(&p, &t).await.unwrap();
    // `OK / v4 / v6 / NOCHANGE`.
    assert_eq!(publish_one(&p, &t).await.unwrap().addresses, t.addresses);

    let wrong = provider_for(&server.update_url(), "0000-wrong");
    let failure = publish_one(&wrong, &t).await.unwrap_err();
    assert_eq!(failure.class, ErrorClass::Rejected);
    assert_eq!(
        failure.message,
        "duckdns provider \"duck\" answered HTTP 200 \"KO\" for myhome.duckdns.org: DuckDNS \
         refused the update: the token is wrong or the name is not one of the account's domains \
         (KO says no more); record parked; fix providers.duck.token(-file), or the record's \
         name, then reload or run dynipd retry"
    );
    let failure = publish_one(&p, &target("other.duckdns.org", Some(V4), None))
        .await
        .unwrap_err();
    assert_eq!(failure.class, ErrorClass::Rejected);
    assert_eq!(
        server.requests()[3].query_param("domains").as_deref(),
        Some("other")
    );
}

#[tokio::test]
async fn every_reply_class() {
    let big = "x".repeat(2000);
    let cases: &[(u16, &str, ErrorClass, &str)] = &[
        (200, "OK", ErrorClass::Protocol, ""),
        (200, "KO", ErrorClass::Rejected, "answered HTTP 200 \"KO\""),
        (
            200,
            "",
            ErrorClass::Protocol,
            "the reply is not a DuckDNS answer",
        ),
        (
            200,
            "OK\n198.51.100.9\n\nUPDATED",
            ErrorClass::Unconfirmed,
            "DuckDNS reports 198.51.100.9 for ipv4 although 198.51.100.7 was sent",
        ),
        (500, "", ErrorClass::Transient, "server error"),
        (401, "", ErrorClass::Rejected, "access denied"),
        (200, &big, ErrorClass::Protocol, "is larger than 1024 bytes"),
    ];
    for (status, body, class, says) in cases {
        let server = DuckdnsServer::start(TOKEN, &["myhome"]);
        server.always(*status, body);
        let p = provider_for(&server.update_url(), TOKEN);
        let outcome = publish_one(&p, &target(NAME, Some(V4), None)).await;
        if *status == 200 && *body == "OK" {
            // The plain form is a success too.
            assert!(outcome.is_ok());
            continue;
        }
        let failure = outcome.unwrap_err();
        assert_eq!(
            failure.class, *class,
            "{status} {body:?}: {}",
            failure.message
        );
        assert!(failure.message.contains(says), "{}", failure.message);
    }
    let server = HttpServer::start(|_| Response::with(429, &[("Retry-After", "120")], ""));
    let p = provider_for(&server.url("/update"), TOKEN);
    let failure = publish_one(&p, &target(NAME, Some(V4), None))
        .await
        .unwrap_err();
    assert_eq!(
        failure.class,
        ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[test]
fn the_server_speaks_the_documented_forms() {
    use crate::support::http_server::raw_get;
    let server = DuckdnsServer::start(TOKEN, &["myhome", "other"]);
    let body = |target: &str| {
        let raw = String::from_utf8(raw_get(server.addr(), target, &[])).unwrap();
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        raw.split("\r\n\r\n").nth(1).unwrap().to_string()
    };
    // A missing ip is the connection's IPv4 address.
    assert_eq!(
        body(&format!("/update?domains=myhome,other&token={TOKEN}")),
        "OK"
    );
    assert_eq!(server.domain("other").unwrap().ipv4, ip("127.0.0.1"));
    assert_eq!(
        body(&format!(
            "/update?domains=myhome&token={TOKEN}&verbose=true"
        )),
        "OK\n127.0.0.1\n\nNOCHANGE"
    );
    assert_eq!(body(&format!("/update/myhome/{TOKEN}/{V4}")), "OK");
    assert_eq!(server.domain("myhome").unwrap().ipv4, ip(V4));
    assert_eq!(
        body(&format!(
            "/update?domains=myhome&token={TOKEN}&clear=true&verbose=true"
        )),
        "OK\n\n\nUPDATED"
    );
    assert_eq!(server.domain("myhome"), Some(Domain::default()));
    assert_eq!(body("/update?domains=myhome&token=nope"), "KO");
    assert_eq!(
        body(&format!("/update?domains=myhome.duckdns.org&token={TOKEN}")),
        "KO"
    );
}

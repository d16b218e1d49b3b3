//! The rfc2136 provider against a real `named` on loopback: what the server serves after a
//! publish, the SOA serial (one step per UPDATE message), and the failure for each way the
//! server says no. Library level: the config is built directly.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failure must fail the test loudly"
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dynipd::core::{Addresses, Confirmed, ErrorClass, Failure};
use dynipd::provider::Target;
use dynipd::provider::rfc2136::{Rfc2136Provider, Rfc2136ProviderConfig, TsigAlgorithm};
use dynipd::secret::Secret;

use crate::support::named::{LOCKED_ZONE, Named};

const TIMEOUT: Duration = Duration::from_secs(2);

fn config(named: &Named, zone: &str, key: &str) -> Rfc2136ProviderConfig {
    let key = named.key(key);
    Rfc2136ProviderConfig {
        server: named.addr(),
        zone: zone.to_string(),
        key_name: key.name.to_string(),
        key_algorithm: key.algorithm.parse().unwrap(),
        key_secret: Secret::new(key.secret.clone()),
        verify: true,
    }
}

fn provider(named: &Named, zone: &str, key: &str) -> Rfc2136Provider {
    Rfc2136Provider::new(config(named, zone, key), TIMEOUT)
}

fn target(name: &str, v4: Option<&str>, v6: Option<&str>) -> Target {
    let addresses = Addresses {
        ipv4: v4.map(|a| a.parse().unwrap()),
        ipv6: v6.map(|a| a.parse().unwrap()),
    };
    Target {
        name: name.to_string(),
        families: addresses.families(),
        ttl: Duration::from_secs(60),
        addresses,
        cache: BTreeMap::new(),
    }
}

/// The single outcome of a one-target publish.
async fn publish_one(provider: &Rfc2136Provider, t: Target) -> Result<Confirmed, Failure> {
    let mut outcomes = provider.publish(std::slice::from_ref(&t)).await;
    assert_eq!(outcomes.len(), 1);
    let (record, outcome) = outcomes.remove(0);
    assert_eq!(record, t.name);
    outcome
}

fn failure(outcome: Result<Confirmed, Failure>) -> Failure {
    outcome.expect_err("publish should fail")
}

/// The secret (raw bytes as text, and base64) is in no message, Debug output or plan.
fn assert_secret_hidden(named: &Named, key: &str, texts: &[String]) {
    let key = named.key(key);
    let b64 = key.base64();
    for text in texts {
        assert!(!text.contains(&b64), "secret leaked: {text}");
        assert!(
            !text.contains(&format!("{:?}", key.secret)),
            "secret leaked: {text}"
        );
    }
}

#[tokio::test]
async fn a_only_replaces_a_and_leaves_aaaa() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let t = target("host.example.test", Some("198.51.100.7"), None);
    let confirmed = publish_one(&p, t.clone()).await.unwrap();
    assert_eq!(confirmed.addresses, t.addresses);
    assert!(confirmed.provider_cache.is_empty());
    assert_eq!(named.query("host.example.test", "A"), ["198.51.100.7"]);
    assert_eq!(named.query("host.example.test", "AAAA"), ["2001:db8::1"]);
    assert_eq!(named.soa_serial("example.test"), 2);
}

#[tokio::test]
async fn aaaa_only_replaces_aaaa_and_leaves_a() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let t = target("host.example.test", None, Some("2001:db8::77"));
    publish_one(&p, t).await.unwrap();
    assert_eq!(named.query("host.example.test", "A"), ["192.0.2.1"]);
    assert_eq!(named.query("host.example.test", "AAAA"), ["2001:db8::77"]);
}

#[tokio::test]
async fn both_families_change_in_one_message() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let before = named.soa_serial("example.test");
    let t = target(
        "host.example.test",
        Some("198.51.100.8"),
        Some("2001:db8::8"),
    );
    publish_one(&p, t).await.unwrap();
    assert_eq!(named.query("host.example.test", "A"), ["198.51.100.8"]);
    assert_eq!(named.query("host.example.test", "AAAA"), ["2001:db8::8"]);
    // One UPDATE message = one transaction = one serial step.
    assert_eq!(named.soa_serial("example.test"), before + 1);
}

#[tokio::test]
async fn records_of_one_zone_share_one_message_and_new_names_are_created() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let before = named.soa_serial("example.test");
    let targets = [
        target(
            "host.example.test",
            Some("198.51.100.9"),
            Some("2001:db8::9"),
        ),
        target("new.example.test", Some("198.51.100.10"), None),
    ];
    assert_eq!(p.plan(&targets).len(), 1);
    let outcomes = p.publish(&targets).await;
    assert!(outcomes.iter().all(|(_, o)| o.is_ok()), "{outcomes:?}");
    assert_eq!(named.query("host.example.test", "A"), ["198.51.100.9"]);
    assert_eq!(named.query("new.example.test", "A"), ["198.51.100.10"]);
    assert_eq!(named.soa_serial("example.test"), before + 1);
}

#[tokio::test]
async fn names_compare_as_dns_names() {
    let Some(named) = Named::new() else { return };
    let mut c = config(&named, "Example.TEST.", "dynipd-sha256");
    c.key_name = "DYNIPD-sha256.".into();
    let p = Rfc2136Provider::new(c, TIMEOUT);
    let t = target("HOST.example.Test.", Some("198.51.100.32"), None);
    let confirmed = publish_one(&p, t).await.unwrap();
    assert_eq!(
        confirmed.addresses.ipv4,
        Some("198.51.100.32".parse().unwrap())
    );
    assert_eq!(named.query("host.example.test", "A"), ["198.51.100.32"]);
}

#[tokio::test]
async fn identical_resend_keeps_the_serial() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let t = target("host.example.test", Some("198.51.100.11"), None);
    publish_one(&p, t.clone()).await.unwrap();
    let serial = named.soa_serial("example.test");
    publish_one(&p, t).await.unwrap();
    assert_eq!(named.soa_serial("example.test"), serial);
}

#[tokio::test]
async fn hmac_sha512_key_works() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "second.test", "dynipd-sha512");
    let t = target("host.second.test", Some("203.0.113.5"), Some("2001:db8::5"));
    publish_one(&p, t).await.unwrap();
    assert_eq!(named.query("host.second.test", "A"), ["203.0.113.5"]);
    assert_eq!(named.query("host.second.test", "AAAA"), ["2001:db8::5"]);
}

#[tokio::test]
async fn large_batch_goes_over_tcp() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let targets: Vec<Target> = (0..40)
        .map(|i| {
            target(
                &format!("h{i}.example.test"),
                Some(&format!("198.51.100.{i}")),
                None,
            )
        })
        .collect();
    let plan = p.plan(&targets);
    assert_eq!(plan.len(), 1);
    assert!(plan[0].contains("over tcp"), "{}", plan[0]);
    let outcomes = p.publish(&targets).await;
    assert!(outcomes.iter().all(|(_, o)| o.is_ok()), "{outcomes:?}");
    assert_eq!(named.query("h39.example.test", "A"), ["198.51.100.39"]);
    assert_eq!(named.soa_serial("example.test"), 2);
}

#[tokio::test]
async fn wrong_secret_is_rejected_naming_the_key() {
    let Some(named) = Named::new() else { return };
    let mut c = config(&named, "example.test", "dynipd-sha256");
    c.key_secret = Secret::new(named.key("dynipd-limited").secret.clone());
    let p = Rfc2136Provider::new(c, TIMEOUT);
    let t = target("host.example.test", Some("198.51.100.12"), None);
    let f = failure(publish_one(&p, t.clone()).await);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        "server rejected the TSIG key 'dynipd-sha256' (NOTAUTH/BADSIG) — check key-name, \
         key-algorithm and secret"
    );
    assert_eq!(named.query("host.example.test", "A"), ["192.0.2.1"]);
    assert_secret_hidden(
        &named,
        "dynipd-limited",
        &[
            f.message.clone(),
            format!("{f:?}"),
            format!("{p:?}"),
            p.plan(&[t]).join("\n"),
        ],
    );
}

#[tokio::test]
async fn unknown_key_name_is_rejected() {
    let Some(named) = Named::new() else { return };
    let mut c = config(&named, "example.test", "dynipd-sha256");
    c.key_name = "no-such-key".into();
    let p = Rfc2136Provider::new(c, TIMEOUT);
    let f =
        failure(publish_one(&p, target("host.example.test", Some("198.51.100.13"), None)).await);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        "server rejected the TSIG key 'no-such-key' (NOTAUTH/BADKEY) — check key-name, \
         key-algorithm and secret"
    );
    assert_secret_hidden(&named, "dynipd-sha256", &[f.message, format!("{p:?}")]);
}

#[tokio::test]
async fn wrong_algorithm_is_rejected() {
    let Some(named) = Named::new() else { return };
    let mut c = config(&named, "example.test", "dynipd-sha256");
    c.key_algorithm = TsigAlgorithm::HmacSha512;
    let p = Rfc2136Provider::new(c, TIMEOUT);
    let f =
        failure(publish_one(&p, target("host.example.test", Some("198.51.100.14"), None)).await);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert!(f.message.contains("(NOTAUTH/BADKEY)"), "{}", f.message);
    assert!(
        f.message
            .contains("check key-name, key-algorithm and secret")
    );
}

#[tokio::test]
async fn name_outside_update_policy_is_refused() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-limited");
    let f =
        failure(publish_one(&p, target("host.example.test", Some("198.51.100.15"), None)).await);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        "update policy of zone example.test refuses name host.example.test for key \
         'dynipd-limited' (REFUSED) — grant the key these names and types (update-policy or \
         allow-update)"
    );
    assert_eq!(named.query("host.example.test", "A"), ["192.0.2.1"]);
    assert_secret_hidden(&named, "dynipd-limited", &[f.message]);
}

#[tokio::test]
async fn refused_name_does_not_sink_the_rest_of_the_batch() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-limited");
    let targets = [
        target("host.example.test", Some("198.51.100.16"), None),
        target(
            "allowed.example.test",
            Some("198.51.100.17"),
            Some("2001:db8::17"),
        ),
    ];
    let outcomes: BTreeMap<_, _> = p.publish(&targets).await.into_iter().collect();
    let refused = outcomes["host.example.test"].clone().unwrap_err();
    assert_eq!(refused.class, ErrorClass::Rejected);
    assert!(
        refused
            .message
            .contains("refuses name host.example.test for key")
    );
    assert!(outcomes["allowed.example.test"].is_ok(), "{outcomes:?}");
    assert_eq!(named.query("allowed.example.test", "A"), ["198.51.100.17"]);
    assert_eq!(named.query("host.example.test", "A"), ["192.0.2.1"]);
}

#[tokio::test]
async fn zone_that_allows_no_update_is_refused() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, LOCKED_ZONE, "dynipd-sha256");
    let f = failure(publish_one(&p, target("host.locked.test", Some("198.51.100.18"), None)).await);
    assert_eq!(f.class, ErrorClass::Rejected);
    assert!(
        f.message
            .contains("update policy of zone locked.test refuses"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn zone_refusing_everything_costs_a_bounded_number_of_messages() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, LOCKED_ZONE, "dynipd-sha256");
    let targets: Vec<Target> = (0..300)
        .map(|i| target(&format!("h{i}.locked.test"), Some("198.51.100.1"), None))
        .collect();
    let outcomes = p.publish(&targets).await;
    assert_eq!(outcomes.len(), 300);
    for (_, outcome) in &outcomes {
        assert_eq!(outcome.clone().unwrap_err().class, ErrorClass::Rejected);
    }
    let denied = named.log().lines().filter(|l| l.contains("denied")).count();
    assert!((1..=65).contains(&denied), "{denied} messages");
}

#[tokio::test]
async fn zone_not_served_is_rejected() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "unserved.test", "dynipd-sha256");
    let f = failure(
        publish_one(
            &p,
            target("host.unserved.test", Some("198.51.100.19"), None),
        )
        .await,
    );
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        format!(
            "server {} is not authoritative for zone unserved.test (NOTAUTH) — check server \
             and zone",
            named.addr()
        )
    );
}

#[tokio::test]
async fn name_outside_the_zone_is_rejected_without_sending() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha256");
    let targets = [
        target("host.second.test", Some("198.51.100.20"), None),
        target("host.example.test", Some("198.51.100.21"), None),
    ];
    let outcomes: BTreeMap<_, _> = p.publish(&targets).await.into_iter().collect();
    let f = outcomes["host.second.test"].clone().unwrap_err();
    assert_eq!(f.class, ErrorClass::Rejected);
    assert_eq!(
        f.message,
        "record host.second.test is outside zone example.test; use a provider whose zone \
         contains it, or fix the record name"
    );
    assert!(outcomes["host.example.test"].is_ok());
    assert_eq!(named.query("host.second.test", "A"), ["192.0.2.1"]);
}

#[tokio::test]
async fn named_stopped_is_transient_then_publishes_after_restart() {
    let Some(mut named) = Named::new() else {
        return;
    };
    let p = provider(&named, "example.test", "dynipd-sha256");
    named.stop();
    // UDP (small message): the connected socket sees ICMP port unreachable at once.
    let t = target("host.example.test", Some("198.51.100.22"), None);
    let started = Instant::now();
    let f = failure(publish_one(&p, t.clone()).await);
    assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    assert_eq!(
        f.message,
        format!(
            "could not reach server {} (connection refused) — is the name server running and \
             listening there? will retry",
            named.addr()
        )
    );
    assert!(
        started.elapsed() < TIMEOUT,
        "refused should not wait for the timeout"
    );
    // TCP (big message): connection refused.
    let many: Vec<Target> = (0..40)
        .map(|i| target(&format!("h{i}.example.test"), Some("198.51.100.23"), None))
        .collect();
    let outcomes = p.publish(&many).await;
    for (_, outcome) in &outcomes {
        let f = outcome.clone().unwrap_err();
        assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    }
    named.start();
    publish_one(&p, t).await.unwrap();
    assert_eq!(named.query("host.example.test", "A"), ["198.51.100.22"]);
}

/// A config for a fake server at `server` (no named needed).
fn fake_server_config(server: std::net::SocketAddr) -> Rfc2136ProviderConfig {
    Rfc2136ProviderConfig {
        server,
        zone: "example.test".into(),
        key_name: "dynipd-sha256".into(),
        key_algorithm: TsigAlgorithm::HmacSha256,
        key_secret: Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()),
        verify: true,
    }
}

#[tokio::test]
async fn udp_timeout_after_sending_is_unconfirmed() {
    // Receives the update and never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server = silent.local_addr().unwrap();
    let p = Rfc2136Provider::new(fake_server_config(server), Duration::from_millis(300));
    let f =
        failure(publish_one(&p, target("host.example.test", Some("198.51.100.30"), None)).await);
    assert_eq!(f.class, ErrorClass::Unconfirmed);
    assert_eq!(
        f.message,
        format!(
            "could not confirm update of zone example.test: no reply within 300ms from server \
             {server} after sending it, so it may have been applied; will retry"
        )
    );
    let mut buf = [0u8; 512];
    let (n, _) = silent.try_recv_from(&mut buf).unwrap();
    assert!(n > 12, "the update was sent");
}

#[tokio::test]
async fn garbage_reply_is_protocol_never_success() {
    let liar = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server = liar.local_addr().unwrap();
    let answer = async {
        let mut buf = [0u8; 512];
        let (_, from) = liar.recv_from(&mut buf).await.unwrap();
        // Our ID, QR set, opcode UPDATE, NOERROR, then junk instead of sections.
        let reply = [
            buf[0], buf[1], 0xa8, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
        ];
        liar.send_to(&reply, from).await.unwrap();
    };
    let p = Rfc2136Provider::new(fake_server_config(server), TIMEOUT);
    let t = target("host.example.test", Some("198.51.100.31"), None);
    let (outcome, ()) = tokio::join!(publish_one(&p, t), answer);
    let f = failure(outcome);
    assert_eq!(f.class, ErrorClass::Protocol, "{}", f.message);
    assert!(
        f.message
            .starts_with(&format!("reply from server {server} is not usable"))
    );
}

/// Env vars that hand the server to [`skewed_clock_child`].
const SKEW_SERVER: &str = "DYNIPD_TEST_SKEW_SERVER";
const SKEW_SECRET: &str = "DYNIPD_TEST_SKEW_SECRET";

#[tokio::test]
async fn client_clock_an_hour_off_is_clock_skew() {
    let Some(named) = Named::new() else { return };
    if !crate::support::require_tool("faketime") {
        return;
    }
    // The client's clock must be wrong, so the publish runs in this test binary re-executed
    // under faketime (named itself does not run under libfaketime).
    let out = std::process::Command::new("faketime")
        .args(["-f", "+1h"])
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "--nocapture", "--test-threads=1"])
        .arg("provider_rfc2136::skewed_clock_child")
        .env("DONT_FAKE_MONOTONIC", "1")
        .env(SKEW_SERVER, named.addr().to_string())
        .env(SKEW_SECRET, named.key("dynipd-sha256").base64())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.split_once("SKEW-RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("child printed no result: {out:?}"));
    // Transient, not rejected: see `Rfc2136Error::class` (a clock fixes itself).
    let (class, message) = result.split_once('|').unwrap();
    assert_eq!(class, "transient", "{message}");
    assert!(
        message.contains("(NOTAUTH/BADTIME): clock skew"),
        "{message}"
    );
    let offset_named = ["3599", "3600", "3601"]
        .iter()
        .any(|s| message.contains(&format!("this host's clock is {s} s ahead of the server's")));
    assert!(offset_named, "{message}");
    assert_eq!(named.query("host.example.test", "A"), ["192.0.2.1"]);
    assert_secret_hidden(&named, "dynipd-sha256", &[result.to_string()]);
}

/// Half of [`client_clock_an_hour_off_is_clock_skew`]; does nothing when run on its own.
#[tokio::test]
#[ignore = "run under faketime by client_clock_an_hour_off_is_clock_skew"]
async fn skewed_clock_child() {
    let (Ok(server), Ok(secret)) = (std::env::var(SKEW_SERVER), std::env::var(SKEW_SECRET)) else {
        return;
    };
    use base64::Engine as _;
    let config = Rfc2136ProviderConfig {
        server: server.parse().unwrap(),
        zone: "example.test".into(),
        key_name: "dynipd-sha256".into(),
        key_algorithm: TsigAlgorithm::HmacSha256,
        key_secret: Secret::new(
            base64::engine::general_purpose::STANDARD
                .decode(secret)
                .unwrap(),
        ),
        verify: true,
    };
    let p = Rfc2136Provider::new(config, TIMEOUT);
    let f =
        failure(publish_one(&p, target("host.example.test", Some("198.51.100.24"), None)).await);
    println!("SKEW-RESULT {}|{}", f.class, f.message);
}

#[tokio::test]
async fn verify_catches_what_the_server_silently_ignored() {
    let Some(named) = Named::new() else { return };
    // RFC 2136 §3.4.2.2: an A added at a CNAME owner is silently ignored, yet NOERROR.
    let t = target("alias.example.test", Some("198.51.100.25"), None);
    let p = provider(&named, "example.test", "dynipd-sha256");
    let f = failure(publish_one(&p, t.clone()).await);
    assert_eq!(f.class, ErrorClass::Unconfirmed);
    assert_eq!(
        f.message,
        format!(
            "could not confirm update of alias.example.test: server {} accepted it but serves \
             A nothing, expected 198.51.100.25 — another writer or a secondary? will retry",
            named.addr()
        )
    );
    // Without verify the same reply counts as published.
    let mut c = config(&named, "example.test", "dynipd-sha256");
    c.verify = false;
    let unverified = Rfc2136Provider::new(c, TIMEOUT);
    assert!(publish_one(&unverified, t).await.is_ok());
}

#[tokio::test]
async fn plan_shows_the_update_in_nsupdate_syntax_without_the_secret() {
    let Some(named) = Named::new() else { return };
    let p = provider(&named, "example.test", "dynipd-sha512");
    let targets = [
        target(
            "host.example.test",
            Some("198.51.100.26"),
            Some("2001:db8::26"),
        ),
        target("www.elsewhere.test", Some("198.51.100.27"), None),
    ];
    let plan = p.plan(&targets);
    assert_eq!(plan.len(), 2, "{plan:?}");
    let lines: Vec<&str> = plan[0].lines().collect();
    assert!(
        lines[0].starts_with("; dns update (rfc 2136) over udp, "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with("signed with TSIG key 'dynipd-sha512' (hmac-sha512)"));
    assert_eq!(
        lines[1..],
        [
            format!("server 127.0.0.1 {}", named.port()).as_str(),
            "zone example.test",
            "update delete host.example.test. A",
            "update add host.example.test. 60 A 198.51.100.26",
            "update delete host.example.test. AAAA",
            "update add host.example.test. 60 AAAA 2001:db8::26",
            "send",
        ]
    );
    assert!(plan[1].starts_with("; not sent: record www.elsewhere.test is outside zone"));
    assert_secret_hidden(&named, "dynipd-sha512", &plan);
    // Planning sends nothing.
    assert_eq!(named.soa_serial("example.test"), 1);
}

/// `bench/rfc2136.sh` runs this: 1,000 records over 20 zones, all changing at once, published
/// by dynipd (one provider per zone) and by nsupdate the way ddclient drives it (one process
/// per zone). Prints figures; asserts only correctness.
#[tokio::test]
#[ignore = "benchmark: run by bench/rfc2136.sh"]
async fn bench_1000_records_over_20_zones() {
    let zones: Vec<String> = (1..=20).map(|i| format!("zone{i:02}.test")).collect();
    let Some(named) = Named::with_zones(&zones) else {
        return;
    };
    let per_zone = 50;
    let round = |octet: u8| -> Vec<(String, Vec<Target>)> {
        zones
            .iter()
            .map(|zone| {
                let targets = (0..per_zone)
                    .map(|i| {
                        target(
                            &format!("host{i:02}.{zone}"),
                            Some(&format!("198.51.{octet}.{i}")),
                            Some(&format!("2001:db8:{octet}::{i:x}")),
                        )
                    })
                    .collect();
                (zone.clone(), targets)
            })
            .collect()
    };
    let serials = |named: &Named| -> u32 { zones.iter().map(|z| named.soa_serial(z)).sum() };

    // (verify, concurrent): providers one after the other, or all at once on the one
    // current-thread runtime (as a daemon may when several providers are due together).
    let modes = [(true, false), (false, false), (true, true), (false, true)];
    for (round_no, (verify, concurrent)) in modes.into_iter().enumerate() {
        let octet = 100 + u8::try_from(round_no).unwrap();
        let work = round(octet);
        let providers: Vec<std::sync::Arc<Rfc2136Provider>> = zones
            .iter()
            .map(|z| {
                let mut c = config(&named, z, "dynipd-sha256");
                c.verify = verify;
                std::sync::Arc::new(Rfc2136Provider::new(c, Duration::from_secs(10)))
            })
            .collect();
        let before = serials(&named);
        let started = Instant::now();
        let mut ok = 0;
        if concurrent {
            let mut tasks = tokio::task::JoinSet::new();
            for (provider, (_, targets)) in providers.iter().zip(work.clone()) {
                let provider = provider.clone();
                tasks.spawn(async move { provider.publish(&targets).await });
            }
            while let Some(outcomes) = tasks.join_next().await {
                ok += outcomes.unwrap().iter().filter(|(_, o)| o.is_ok()).count();
            }
        } else {
            for (provider, (_, targets)) in providers.iter().zip(&work) {
                ok += provider
                    .publish(targets)
                    .await
                    .iter()
                    .filter(|(_, o)| o.is_ok())
                    .count();
            }
        }
        let elapsed = started.elapsed();
        let messages = serials(&named) - before;
        let how = if concurrent {
            "concurrent"
        } else {
            "sequential"
        };
        println!(
            "BENCH dynipd ({how} providers, verify={verify}): {ok} records published in {:.1} \
             ms, {messages} UPDATE messages (serial steps)",
            elapsed.as_secs_f64() * 1000.0
        );
        assert_eq!(ok, 1000);
        assert_eq!(
            named.query("host49.zone20.test", "A"),
            [format!("198.51.{octet}.49")]
        );
    }

    // nsupdate, as ddclient's nsupdate protocol drives it: per zone one process reading
    // "server / zone / update delete + add per host and family / send" from stdin.
    if !crate::support::require_tool("nsupdate") {
        return;
    }
    let key = named.key("dynipd-sha256");
    let work = round(110);
    let before = serials(&named);
    let started = Instant::now();
    for (zone, targets) in &work {
        let mut script = format!("server 127.0.0.1 {}\nzone {zone}.\n", named.port());
        for t in targets {
            let (v4, v6) = (t.addresses.ipv4.unwrap(), t.addresses.ipv6.unwrap());
            script.push_str(&format!(
                "update delete {n}. A\nupdate add {n}. 60 A {v4}\nupdate delete {n}. AAAA\n\
                 update add {n}. 60 AAAA {v6}\n",
                n = t.name
            ));
        }
        script.push_str("send\n");
        let mut child = std::process::Command::new("nsupdate")
            .arg("-y")
            .arg(format!("hmac-sha256:{}:{}", key.name, key.base64()))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }
    let elapsed = started.elapsed();
    let messages = serials(&named) - before;
    println!(
        "BENCH nsupdate (ddclient style, 20 processes): 1000 records in {:.1} ms, {messages} \
         UPDATE messages (serial steps)",
        elapsed.as_secs_f64() * 1000.0
    );
    assert_eq!(named.query("host49.zone20.test", "A"), ["198.51.110.49"]);
}

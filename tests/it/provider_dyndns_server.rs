//! The `dyndns-server` provider against the imitation of the Python `dyndns` 2.0.0 server
//! (`support::dyndns_server`), through real HTTP: the exact path or query for A only, AAAA only
//! and both; trap 1 (a family left out is deleted) and trap 2 (a refused update answers
//! UNCHANGED); every status of the notes; delete; and the secret never shown — in messages,
//! plans, and the binary's logs.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::time::Duration;

use dynipd::config::{DyndnsServerMethod, DyndnsServerProviderConfig, ProviderConfig};
use dynipd::core::{Addresses, Confirmed, ErrorClass, Failure, Families};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, DeleteError, Deleted, Target};
use dynipd::secret::Secret;

use crate::support::dyndns_server::{DyndnsServer, Nameserver, Records, SECRET, ZONE};
use crate::support::{free_port, run_dynipd, temp_dir};

const NAME: &str = "home.dyndns.example.test";
const V4: &str = "198.51.100.7";
const V6: &str = "2001:db8::7";
const WAIT: Duration = Duration::from_secs(5);

fn provider_for(url: &str, secret: &str, method: DyndnsServerMethod) -> AnyProvider {
    let config = DyndnsServerProviderConfig {
        url: url.parse().unwrap(),
        secret: Secret::new(secret.into()),
        method,
    };
    AnyProvider::new(
        "selfhosted",
        &ProviderConfig::DyndnsServer(config),
        HttpClients::new(WAIT).unwrap(),
        WAIT,
    )
}

fn provider(server: &DyndnsServer, method: DyndnsServerMethod) -> AnyProvider {
    provider_for(&server.base_url(), SECRET, method)
}

fn target(name: &str, ipv4: Option<&str>, ipv6: Option<&str>) -> Target {
    let addresses = Addresses {
        ipv4: ipv4.map(|a| a.parse().unwrap()),
        ipv6: ipv6.map(|a| a.parse().unwrap()),
    };
    Target {
        name: name.into(),
        families: addresses.families(),
        ttl: Duration::from_secs(120),
        addresses,
        cache: BTreeMap::new(),
    }
}

fn assert_secret_free(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
}

/// Publishes one target; checks that no outcome, Debug output or plan shows the secret.
async fn publish_one(provider: &AnyProvider, target: &Target) -> Result<Confirmed, Failure> {
    assert_secret_free(&provider.plan(std::slice::from_ref(target)).join("\n"));
    let mut outcomes = provider.publish(std::slice::from_ref(target)).await;
    assert_eq!(outcomes.len(), 1);
    let (name, outcome) = outcomes.remove(0);
    assert_eq!(name, target.name);
    if let Err(failure) = &outcome {
        assert_secret_free(&failure.message);
        assert_secret_free(&format!("{failure:?}"));
    }
    assert_secret_free(&format!("{provider:?}"));
    outcome
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

#[tokio::test]
async fn path_form_sends_both_families_in_one_request() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let p = provider(&server, DyndnsServerMethod::Path);
    let t = target(NAME, Some(V4), Some(V6));
    let plan = p.plan(std::slice::from_ref(&t));
    let confirmed = publish_one(&p, &t).await.unwrap();
    assert_eq!(confirmed.addresses, t.addresses);
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "both families in one request");
    let r = &requests[0];
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.target,
        format!("/update-by-path/{SECRET}/{NAME}/{V4}/{V6}")
    );
    assert_eq!(r.header("user-agent"), Some(dynipd::USER_AGENT));
    assert_eq!(
        plan,
        vec![format!(
            "GET {}/update-by-path/***/{NAME}/{V4}/{V6}\n    User-Agent: {}",
            server.base_url(),
            dynipd::USER_AGENT
        )]
    );
    assert_eq!(
        server.records(NAME),
        Records {
            a: ip(V4),
            aaaa: ip(V6),
            ttl: Some(300),
        }
    );
}

#[tokio::test]
async fn single_family_records_send_only_their_family_and_the_server_deletes_the_other() {
    // See: #6 (trap 1 of protocols/python-dyndns.md)
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.set_record("v4.dyndns.example.test", ip("2001:db8::8").unwrap());
    server.set_record("v6.dyndns.example.test", ip("192.0.2.8").unwrap());
    let p = provider(&server, DyndnsServerMethod::Path);
    publish_one(&p, &target("v4.dyndns.example.test", Some(V4), None))
        .await
        .unwrap();
    publish_one(&p, &target("v6.dyndns.example.test", None, Some(V6)))
        .await
        .unwrap();
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        vec![
            format!("/update-by-path/{SECRET}/v4.dyndns.example.test/{V4}"),
            format!("/update-by-path/{SECRET}/v6.dyndns.example.test/{V6}"),
        ]
    );
    let v4 = server.records("v4.dyndns.example.test");
    assert_eq!(
        (v4.a, v4.aaaa),
        (ip(V4), None),
        "the AAAA record was deleted"
    );
    let v6 = server.records("v6.dyndns.example.test");
    assert_eq!((v6.a, v6.aaaa), (None, ip(V6)), "the A record was deleted");
}

#[tokio::test]
async fn query_form_sends_the_exact_query_for_each_family_set() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let p = provider(&server, DyndnsServerMethod::Query);
    let cases = [
        (Some(V4), None, format!("ipv4={V4}")),
        (None, Some(V6), "ipv6=2001%3Adb8%3A%3A7".to_string()),
        (
            Some(V4),
            Some(V6),
            format!("ipv4={V4}&ipv6=2001%3Adb8%3A%3A7"),
        ),
    ];
    for (i, (v4, v6, addresses)) in cases.iter().enumerate() {
        let t = target(NAME, *v4, *v6);
        publish_one(&p, &t).await.unwrap();
        let r = &server.requests()[i];
        assert_eq!(r.path, "/update-by-query");
        assert_eq!(
            r.query.as_deref(),
            Some(format!("secret={SECRET}&fqdn={NAME}&{addresses}&ttl=120").as_str())
        );
        let records = server.records(NAME);
        assert_eq!(
            (records.a, records.aaaa),
            (v4.and_then(ip), v6.and_then(ip))
        );
        assert_eq!(records.ttl, Some(120), "the query form carries the TTL");
    }
}

#[tokio::test]
async fn unchanged_with_the_address_sent_is_published() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let p = provider(&server, DyndnsServerMethod::Path);
    let t = target(NAME, Some(V4), Some(V6));
    publish_one(&p, &t).await.unwrap();
    // The same request again: `UNCHANGED: … A 198.51.100.7` — a no-change success.
    let confirmed = publish_one(&p, &t).await.unwrap();
    assert_eq!(confirmed.addresses, t.addresses);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_refused_update_reported_as_unchanged_is_unconfirmed_and_says_why() {
    // See: #6 (trap 2 of protocols/python-dyndns.md)
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.set_record(NAME, ip("192.0.2.1").unwrap());
    server.set_record(NAME, ip("2001:db8::1").unwrap());
    server.set_nameserver(Nameserver::Refusing);
    let p = provider(&server, DyndnsServerMethod::Path);
    let failure = publish_one(&p, &target(NAME, Some(V4), Some(V6)))
        .await
        .unwrap_err();
    assert_eq!(
        failure.class,
        ErrorClass::Unconfirmed,
        "{}",
        failure.message
    );
    assert!(
        failure.message.starts_with(&format!(
            "dyndns-server provider \"selfhosted\" answered HTTP 200 \"UNCHANGED: {NAME}. A \
             192.0.2.1\\nUNCHANGED: {NAME}. AAAA 2001:db8::1\" for {NAME}: the server reports A \
             unchanged at 192.0.2.1 although {V4} was sent, so the change was not applied: this \
             server answers UNCHANGED when the nameserver refuses an update"
        )),
        "{}",
        failure.message
    );
    assert!(
        failure.message.ends_with("will retry"),
        "{}",
        failure.message
    );
    assert_eq!(server.records(NAME).a, ip("192.0.2.1"), "nothing changed");
}

#[tokio::test]
async fn a_dual_stack_record_with_one_family_unknown_is_not_sent() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.set_record(NAME, ip("2001:db8::1").unwrap());
    let p = provider(&server, DyndnsServerMethod::Path);
    let mut t = target(NAME, Some(V4), None);
    t.families = Families::BOTH;
    let failure = publish_one(&p, &t).await.unwrap_err();
    assert_eq!(failure.class, ErrorClass::Transient);
    assert!(failure.message.contains("no AAAA address is known yet"));
    assert_eq!(server.count(), 0, "nothing sent, so the AAAA record stays");
    assert_eq!(server.records(NAME).aaaa, ip("2001:db8::1"));
}

/// Each status of the notes, provoked the way the server would see it.
#[tokio::test]
async fn every_status_of_the_notes_is_classified() {
    struct Case {
        setup: fn(&DyndnsServer),
        name: &'static str,
        secret: &'static str,
        path: &'static str,
        class: ErrorClass,
        said: &'static str,
        says: &'static str,
    }
    fn none(_: &DyndnsServer) {}
    let cases = [
        Case {
            setup: none,
            name: NAME,
            secret: "WrongSecret1",
            path: "",
            class: ErrorClass::Rejected,
            said: "HTTP 456 \"PARAMETER_ERROR: You specified a wrong secret key.\"",
            says: "the secret is wrong; record parked; fix providers.selfhosted.secret(-file)",
        },
        Case {
            setup: none,
            name: "home.other.test",
            secret: SECRET,
            path: "",
            class: ErrorClass::Rejected,
            said: "HTTP 453 \"DNS_NAME_ERROR: The fully qualified domain name \
                   'home.other.test.' could not be split into a record and a zone name.\"",
            says: "the server does not serve this name",
        },
        Case {
            setup: none,
            name: ZONE,
            secret: SECRET,
            path: "",
            class: ErrorClass::Rejected,
            said: "HTTP 453 \"DNS_NAME_ERROR: Value \\\"record_name\\\" is required.\"",
            says: "a zone apex (which this server cannot update)",
        },
        Case {
            setup: |s| s.set_nameserver(Nameserver::Down),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Transient,
            said: "HTTP 500 \"LIFETIMETIMEOUT: The resolution lifetime expired",
            says: "the nameserver behind the server is not answering; will retry with backoff",
        },
        Case {
            setup: |s| s.set_nameserver(Nameserver::BadSignature),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Rejected,
            said: "HTTP 500 \"PEERBADSIGNATURE: The peer didn't like the signature we sent\"",
            says: "fix the dyndns server's configuration, then reload",
        },
        Case {
            setup: |s| s.set_nameserver(Nameserver::UnknownKey),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Rejected,
            said: "HTTP 512 \"DNS_SERVER_ERROR: The peer \\\"127.0.0.1\\\" didn't know the tsig key",
            says: "give the nameserver an hmac-sha512 key named after the zone",
        },
        Case {
            setup: |s| s.set_nameserver(Nameserver::UpdateTimesOut),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Transient,
            said: "HTTP 512 \"DNS_SERVER_ERROR: The DNS operation to the nameserver",
            says: "did not answer in time; will retry with backoff",
        },
        Case {
            setup: |s| s.fail_with(452, "DYNDNSERROR", "No ip addresses set."),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Protocol,
            said: "HTTP 452 \"DYNDNSERROR: No ip addresses set.\"",
            says: "a dynipd bug",
        },
        Case {
            setup: |s| s.fail_with(454, "IP_ADDRESS_ERROR", "Invalid IP address 'x'."),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Protocol,
            said: "HTTP 454",
            says: "did not accept an address",
        },
        Case {
            setup: |s| s.fail_with(455, "CONFIGURATION_ERROR", "broken"),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Rejected,
            said: "HTTP 455 \"CONFIGURATION_ERROR: broken\"",
            says: "the server's own configuration is broken",
        },
        Case {
            setup: |s| s.fail_with(457, "CHECK_ERROR", "check failed"),
            name: NAME,
            secret: SECRET,
            path: "",
            class: ErrorClass::Protocol,
            said: "HTTP 457",
            says: "self-check",
        },
        Case {
            setup: none,
            name: NAME,
            secret: SECRET,
            path: "/dyndns",
            class: ErrorClass::Protocol,
            said: "HTTP 500 \"NOTFOUND: 404 Not Found",
            says: "no such route",
        },
    ];
    for case in cases {
        let server = DyndnsServer::start(SECRET, &[ZONE]);
        (case.setup)(&server);
        let url = format!("{}{}", server.base_url(), case.path);
        let p = provider_for(&url, case.secret, DyndnsServerMethod::Path);
        let failure = publish_one(&p, &target(case.name, Some(V4), None))
            .await
            .unwrap_err();
        assert_eq!(failure.class, case.class, "{}", failure.message);
        assert!(
            failure.message.contains(&format!(
                "dyndns-server provider \"selfhosted\" answered {}",
                case.said
            )),
            "{}",
            failure.message
        );
        assert!(failure.message.contains(case.says), "{}", failure.message);
        assert!(
            !failure.message.contains(case.secret),
            "{}",
            failure.message
        );
    }
}

#[tokio::test]
async fn a_secret_in_the_path_is_masked_when_the_server_is_unreachable() {
    let url = format!("http://127.0.0.1:{}/base", free_port());
    let p = provider_for(&url, SECRET, DyndnsServerMethod::Path);
    let failure = publish_one(&p, &target(NAME, Some(V4), None))
        .await
        .unwrap_err();
    assert_eq!(failure.class, ErrorClass::Transient, "{}", failure.message);
    assert!(
        failure
            .message
            .contains("/base/update-by-path/***/home.dyndns.example.test/"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn a_reply_echoing_the_secret_is_masked() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.fail_with(
        456,
        "PARAMETER_ERROR",
        &format!("extra_forbidden: Extra inputs are not permitted ({SECRET})."),
    );
    let p = provider(&server, DyndnsServerMethod::Query);
    let failure = publish_one(&p, &target(NAME, Some(V4), None))
        .await
        .unwrap_err();
    assert_eq!(failure.class, ErrorClass::Protocol);
    assert!(
        failure.message.contains("permitted (***)"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn delete_removes_both_families_or_finds_nothing() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.set_record(NAME, ip(V4).unwrap());
    server.set_record(NAME, ip(V6).unwrap());
    let p = provider(&server, DyndnsServerMethod::Query);
    let t = target(NAME, None, None);
    let plan = p.plan_delete(&t).unwrap();
    assert_eq!(
        plan[0].lines().next().unwrap(),
        format!("GET {}/delete-by-path/***/{NAME}", server.base_url())
    );
    assert_eq!(server.count(), 0, "planning sends nothing");
    assert_eq!(p.delete(&t).await, Ok(Deleted::Removed));
    assert_eq!(server.records(NAME), Records::default());
    assert_eq!(
        server.requests()[0].target,
        format!("/delete-by-path/{SECRET}/{NAME}")
    );
    assert_eq!(p.delete(&t).await, Ok(Deleted::Absent));
    // A refused delete reads "were deleted" too: nothing in the reply can tell (trap 2).
    server.set_record(NAME, ip(V4).unwrap());
    server.set_nameserver(Nameserver::Refusing);
    assert_eq!(p.delete(&t).await, Ok(Deleted::Removed));
    server.set_nameserver(Nameserver::UnknownKey);
    let Err(DeleteError::Failed(failure)) = p.delete(&t).await else {
        panic!("expected a failure");
    };
    assert_eq!(failure.class, ErrorClass::Rejected);
    assert_secret_free(&failure.message);
}

#[tokio::test]
async fn other_kinds_cannot_delete_and_send_nothing() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let config = dynipd::config::DuckdnsProviderConfig {
        url: server.base_url().parse().unwrap(),
        token: Secret::new("t".into()),
    };
    let p = AnyProvider::new(
        "duck",
        &ProviderConfig::Duckdns(config),
        HttpClients::new(WAIT).unwrap(),
        WAIT,
    );
    let t = target("x.duckdns.org", None, None);
    let unsupported = DeleteError::Unsupported { kind: "duckdns" };
    assert_eq!(p.plan_delete(&t), Err(unsupported.clone()));
    assert_eq!(p.delete(&t).await, Err(unsupported));
    assert_eq!(server.count(), 0);
}

/// A config for the binary: a command source printing public addresses, one dyndns-server
/// provider on `url`, the secret in a file, and `records`.
pub fn binary_config(dir: &std::path::Path, url: &str, secret: &str, records: &str) -> String {
    fs::write(dir.join("dyndns.secret"), format!("{secret}\n")).unwrap();
    format!(
        "[daemon]\nstate-dir = \"{state}\"\n\n\
         [sources.script]\nkind = \"command\"\n\
         command = [\"/bin/sh\", \"-c\", \"printf '81.2.69.160\\\\n2a02:898:1::7\\\\n'\"]\n\n\
         [providers.selfhosted]\nkind = \"dyndns-server\"\nurl = \"{url}\"\n\
         secret-file = \"dyndns.secret\"\n\n{records}",
        state = dir.join("state").display()
    )
}

#[test]
fn the_binary_never_logs_the_secret() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.fail_with(
        456,
        "PARAMETER_ERROR",
        &format!("extra_forbidden: Extra inputs are not permitted ({SECRET})."),
    );
    let dir = temp_dir();
    let cfg = dir.path().join("dynipd.toml");
    let records =
        format!("[[records]]\nname = \"{NAME}\"\nprovider = \"selfhosted\"\nsource = \"script\"\n");
    fs::write(
        &cfg,
        binary_config(dir.path(), &server.base_url(), SECRET, &records),
    )
    .unwrap();
    // The dry run first: after the failed live round the record waits in backoff.
    for args in [
        &["once", "--dry-run"][..],
        &["--log-level", "trace", "once"],
        &["status"],
    ] {
        let out = run_dynipd(&cfg, args);
        let shown = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !shown.contains(SECRET),
            "{args:?} shows the secret:\n{shown}"
        );
        if args == ["once", "--dry-run"] {
            assert!(
                shown.contains(&format!(
                    "GET {}/update-by-path/***/{NAME}/81.2.69.160/2a02:898:1::7",
                    server.base_url()
                )),
                "{shown}"
            );
        }
        if args[0] == "--log-level" {
            assert_eq!(out.status.code(), Some(1), "{shown}");
            assert!(shown.contains("permitted (***)"), "{shown}");
        }
    }
    assert_eq!(server.count(), 1, "only the live once sent a request");
}

#[test]
fn a_single_family_record_warns_at_config_load() {
    // See: #6 — trap 1 deletes the other family's record at that name.
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let dir = temp_dir();
    let cfg = dir.path().join("dynipd.toml");
    let records = format!(
        "[[records]]\nname = \"{NAME}\"\nprovider = \"selfhosted\"\nsource = \"script\"\n\
         families = [\"ipv4\"]\n"
    );
    fs::write(
        &cfg,
        binary_config(dir.path(), &server.base_url(), SECRET, &records),
    )
    .unwrap();
    let warning = format!(
        "records[0].families: record \"{NAME}\" carries only ipv4, and dyndns-server provider \
         \"selfhosted\" deletes the AAAA record of \"{NAME}\" with every update (the server \
         removes the family a request leaves out); add \"ipv6\" to families unless that is \
         intended"
    );
    let out = run_dynipd(&cfg, &["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("warning: {warning}\n")
    );
    let out = run_dynipd(&cfg, &["once", "--dry-run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains(&warning))
        .unwrap_or_else(|| panic!("no warning logged:\n{stderr}"));
    assert!(line.contains("WARN"), "{line}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("/update-by-path/***/{NAME}/81.2.69.160\n")),
        "only the carried family is sent:\n{stdout}"
    );
}

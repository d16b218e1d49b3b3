// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.
use std::collections::BTreeMap;

use url::Url;

use super::reply::wait_reply;
use super::*;

const MIN: Duration = Duration::from_secs(60);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The class of every verdict, `None` for published.
fn classes(verdicts: &[HostVerdict]) -> Vec<Option<ErrorClass>> {
    verdicts
        .iter()
        .map(|v| v.as_ref().err().map(|r| r.class))
        .collect()
}

#[test]
fn classify_every_reply_of_the_protocol() {
    use ErrorClass::*;
    let rl = |d: Option<Duration>| Some(RateLimited { retry_after: d });
    // (status, Retry-After, body, expected class for a one-host request)
    let table: &[(u16, Option<Duration>, &str, Option<ErrorClass>)] = &[
        (200, None, "good 81.2.69.160", None),
        (200, None, "good", None),
        (200, None, "nochg 81.2.69.160\n", None),
        (200, None, "nochg", None),
        (200, None, "good 81.2.69.160,2a02:898:1::7", None),
        (200, None, "GOOD 81.2.69.160\r\n", None),
        (200, None, "good 127.0.0.1", Some(Rejected)),
        (200, None, "badauth", Some(Rejected)),
        (401, None, "badauth", Some(Rejected)),
        (401, None, "", Some(Rejected)),
        (200, None, "!donator", Some(Rejected)),
        (200, None, "notfqdn", Some(Rejected)),
        (200, None, "nohost", Some(Rejected)),
        (200, None, "numhost", Some(Rejected)),
        (200, None, "abuse", Some(Rejected)),
        (200, None, "badagent", Some(Rejected)),
        (200, None, "!yours", Some(Rejected)),
        (200, None, "!active", Some(Rejected)),
        (200, None, "badsys", Some(Rejected)),
        (200, None, "dnserr", Some(Transient)),
        (200, None, "911", rl(Some(WAIT_AFTER_911))),
        (200, Some(secs(60)), "911", rl(Some(WAIT_AFTER_911))),
        (200, Some(secs(7200)), "911", rl(Some(secs(7200)))),
        (500, None, "911", rl(Some(WAIT_AFTER_911))),
        (429, Some(secs(120)), "", rl(Some(secs(120)))),
        (429, None, "slow down", rl(None)),
        (200, None, "w5m", rl(Some(5 * MIN))),
        (500, None, "", Some(Transient)),
        (502, None, "<html>bad gateway</html>", Some(Transient)),
        (503, None, "good 81.2.69.160", Some(Transient)),
        (404, None, "not found", Some(Rejected)),
        (403, None, "", Some(Rejected)),
        (301, None, "", Some(Protocol)),
        (200, None, "", Some(Protocol)),
        (200, None, "\n\n", Some(Protocol)),
        (200, None, "<html>hello</html>", Some(Protocol)),
        (200, None, "goodness", Some(Protocol)),
        (200, None, "wat", Some(Protocol)),
    ];
    for (status, retry_after, body, expected) in table {
        let verdicts = classify(*status, *retry_after, body, 1);
        assert_eq!(
            classes(&verdicts),
            vec![*expected],
            "{status} {retry_after:?} {body:?}"
        );
    }
}

#[test]
fn published_verdict_carries_the_echoed_addresses() {
    let v = classify(200, None, "good 81.2.69.160,2a02:898:1::7", 1);
    assert_eq!(
        v,
        vec![Ok(vec![
            "81.2.69.160".parse().unwrap(),
            "2a02:898:1::7".parse().unwrap()
        ])]
    );
    assert_eq!(classify(200, None, "nochg", 1), vec![Ok(vec![])]);
}

/// The refusal of a one-host reply.
fn refusal(status: u16, retry_after: Option<Duration>, body: &str) -> Refusal {
    match classify(status, retry_after, body, 1).pop() {
        Some(Err(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn refusals_quote_the_providers_word() {
    let r = refusal(200, None, "!donator extra words");
    assert_eq!(r.said, Said::Code("!donator".into()));
    let r = refusal(200, None, "good 127.0.0.1");
    assert_eq!(r.said, Said::Code("good 127.0.0.1".into()));
    let r = refusal(502, None, "");
    assert_eq!(r.said, Said::Status(502));
}

#[test]
fn multi_host_replies_one_line_per_host_or_one_for_all() {
    use ErrorClass::*;
    let v = classify(
        200,
        None,
        "good 81.2.69.160\nnohost\nnochg 81.2.69.160\n",
        3,
    );
    assert_eq!(classes(&v), vec![None, Some(Rejected), None]);
    // CRLF and blank lines are tolerated.
    let v = classify(200, None, "nohost\r\n\r\ngood 81.2.69.160\r\n", 2);
    assert_eq!(classes(&v), vec![Some(Rejected), None]);
    // One line for several hosts applies to all.
    assert_eq!(
        classes(&classify(200, None, "badauth", 3)),
        vec![Some(Rejected); 3]
    );
    assert_eq!(classes(&classify(200, None, "good", 2)), vec![None; 2]);
    // A line count that matches neither is not understood, for every host.
    let v = classify(200, None, "good\ngood", 3);
    assert_eq!(classes(&v), vec![Some(Protocol); 3]);
    // 401 + one line per host.
    let v = classify(401, None, "badauth\nbadauth", 2);
    assert_eq!(classes(&v), vec![Some(Rejected); 2]);
    // A status error applies to every host.
    assert_eq!(
        classes(&classify(503, None, "", 4)),
        vec![Some(Transient); 4]
    );
}

#[test]
fn wait_replies() {
    assert_eq!(wait_reply("w30s"), Some(secs(30)));
    assert_eq!(wait_reply("w5m"), Some(5 * MIN));
    assert_eq!(wait_reply("w2h"), Some(secs(7200)));
    // See: #9: a multi-byte last character once panicked (found by fuzzing).
    for bad in [
        "w",
        "ws",
        "w5",
        "w5d",
        "wm",
        "wat",
        "w-1m",
        "w5ã",
        "wã",
        "w\u{1F600}",
    ] {
        assert_eq!(wait_reply(bad), None, "{bad}");
    }
}

#[test]
fn account_wide_refusals_stop_the_round() {
    let wide = |status, body| match &classify(status, None, body, 1)[0] {
        Err(r) => r.is_account_wide(),
        Ok(_) => panic!("published"),
    };
    assert!(wide(200, "badauth"));
    assert!(wide(401, ""));
    assert!(wide(200, "badagent"));
    assert!(wide(200, "911"));
    assert!(wide(429, ""));
    assert!(!wide(200, "nohost"));
    assert!(!wide(200, "abuse"));
    assert!(!wide(500, ""));
}

fn v4(s: &str) -> Option<std::net::Ipv4Addr> {
    Some(s.parse().unwrap())
}
fn v6(s: &str) -> Option<std::net::Ipv6Addr> {
    Some(s.parse().unwrap())
}

fn target(name: &str, ipv4: &str, ipv6: &str) -> Target {
    let addresses = Addresses {
        ipv4: (!ipv4.is_empty()).then(|| ipv4.parse().unwrap()),
        ipv6: (!ipv6.is_empty()).then(|| ipv6.parse().unwrap()),
    };
    Target {
        name: name.into(),
        families: addresses.families(),
        ttl: secs(60),
        addresses,
        cache: BTreeMap::new(),
    }
}

#[test]
fn batches_group_equal_addresses() {
    let a = "81.2.69.160";
    let b = "81.2.69.161";
    let x = "2a02:898:1::7";
    let targets = [
        target("a.example.org", a, x),
        target("b.example.org", a, ""),
        target("c.example.org", a, x),
        target("d.example.org", b, ""),
        target("e.example.org", a, ""),
    ];
    let combined = batches(&targets, DualStack::Combined);
    let both = Addresses {
        ipv4: v4(a),
        ipv6: v6(x),
    };
    let only = |ipv4| Addresses { ipv4, ipv6: None };
    assert_eq!(
        combined,
        vec![
            Batch {
                targets: vec![0, 2],
                addresses: both
            },
            Batch {
                targets: vec![1, 4],
                addresses: only(v4(a))
            },
            Batch {
                targets: vec![3],
                addresses: only(v4(b))
            },
        ]
    );
    let separate = batches(&targets, DualStack::Separate);
    assert_eq!(
        separate,
        vec![
            Batch {
                targets: vec![0, 1, 2, 4],
                addresses: only(v4(a))
            },
            Batch {
                targets: vec![0, 2],
                addresses: Addresses {
                    ipv4: None,
                    ipv6: v6(x)
                }
            },
            Batch {
                targets: vec![3],
                addresses: only(v4(b))
            },
        ]
    );
}

#[test]
fn batches_hold_at_most_twenty_hosts() {
    let targets: Vec<Target> = (0..45)
        .map(|i| target(&format!("h{i}.example.org"), "81.2.69.160", ""))
        .collect();
    let sizes: Vec<usize> = batches(&targets, DualStack::Combined)
        .iter()
        .map(|b| b.targets.len())
        .collect();
    assert_eq!(sizes, vec![20, 20, 5]);
    assert!(batches(&[target("empty.example.org", "", "")], DualStack::Combined).is_empty());
}

fn provider(url: &str, dual_stack: DualStack) -> Dyndns2Provider {
    let config = Dyndns2ProviderConfig {
        url: Url::parse(url).unwrap(),
        username: "me".into(),
        password: Secret::new("s3cr3t pw".into()),
        dual_stack,
    };
    let clients = HttpClients::new(secs(5)).unwrap();
    Dyndns2Provider::new(config, clients, secs(5)).with_name("mydyndns")
}

#[test]
fn plan_shows_the_exact_requests_without_secrets() {
    let targets = [
        target("a.example.org", "81.2.69.160", "2a02:898:1::7"),
        target("b.example.org", "81.2.69.160", "2a02:898:1::7"),
        target("v6.example.org", "", "2a02:898:1::7"),
    ];
    let plan = provider(
        "https://members.example.net/nic/update",
        DualStack::Combined,
    )
    .plan(&targets);
    let ua = crate::USER_AGENT;
    assert_eq!(
        plan,
        vec![
            format!(
                "GET https://members.example.net/nic/update?hostname=a.example.org,b.example.org\
                 &myip=81.2.69.160,2a02:898:1::7\n    User-Agent: {ua}\n    \
                 Authorization: Basic ***"
            ),
            format!(
                "GET https://members.example.net/nic/update?hostname=v6.example.org\
                 &myip=2a02:898:1::7\n    User-Agent: {ua}\n    Authorization: Basic ***"
            ),
        ]
    );
    let plan = provider(
        "https://h.example.net/nic/update?system=dyndns",
        DualStack::Separate,
    )
    .plan(&targets[..1]);
    assert_eq!(plan.len(), 2);
    assert!(plan[0].starts_with(
        "GET https://h.example.net/nic/update?system=dyndns&hostname=a.example.org&myip=81.2.69.160\n"
    ));
    assert!(plan[1].contains("&hostname=a.example.org&myip=2a02:898:1::7\n"));
    let text = plan.join("\n");
    assert!(!text.contains("s3cr3t"));
    assert!(!text.contains("bWU6czNjcjN0IHB3")); // base64 of me:s3cr3t pw
}

#[test]
fn refusal_message_names_provider_host_word_and_next_step() {
    let p = provider(
        "https://members.example.net/nic/update",
        DualStack::Combined,
    );
    let r = refusal(200, None, "badauth");
    assert_eq!(
        p.refusal_message(&r, "home.example.org", "badauth"),
        "dyndns2 provider \"mydyndns\" answered \"badauth\" for home.example.org: the username \
         or password is wrong; record parked; fix providers.mydyndns.username or \
         password(-file), then reload or run dynipd retry"
    );
    let r = refusal(200, None, "911");
    assert_eq!(
        p.refusal_message(&r, "home.example.org", "911"),
        "dyndns2 provider \"mydyndns\" answered \"911\" for home.example.org: the provider is \
         down for maintenance; waiting 30m before the next attempt"
    );
}

#[test]
fn unreadable_reply_is_quoted_short_escaped_and_masked() {
    let p = provider(
        "https://members.example.net/nic/update",
        DualStack::Combined,
    );
    let body = format!("<html>\x07echo s3cr3t pw {}</html>", "x".repeat(400));
    let r = refusal(200, None, &body);
    let message = p.refusal_message(&r, "home.example.org", &body);
    assert!(
        message.starts_with(
            "dyndns2 provider \"mydyndns\" answered HTTP 200 \"<html>\\u{7}echo *** xxx"
        )
    );
    assert!(message.contains("xxx\"… for home.example.org: the reply is not a dyndns2 answer"));
    assert!(message.ends_with("will retry with backoff; check providers.mydyndns.url"));
    assert!(!message.contains("s3cr3t"));
    assert!(message.len() < 400);
}

#[test]
fn debug_hides_the_password() {
    let p = provider(
        "https://members.example.net/nic/update",
        DualStack::Combined,
    );
    let shown = format!("{p:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

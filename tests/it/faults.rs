//! Fault injection (#9): every HTTP client of dynipd (the `http` and `dyndns2` providers and the
//! `web` echo source) against a loopback server that refuses, resets, stalls, drips, floods,
//! lies about lengths, loops redirects, rate-limits and fails. Each must end within
//! `request-timeout`, with the right error class, and never publish or detect anything.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dynipd::config::{
    DualStack, Dyndns2ProviderConfig, HttpMethod, HttpProviderConfig, ProviderConfig, SourceConfig,
    WebSourceConfig,
};
use dynipd::core::{Addresses, Detected, ErrorClass, Families};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, Target};
use dynipd::secret::Secret;
use dynipd::source::AnySource;

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::Dyndns2Server;
use crate::support::free_port;
use crate::support::http_server::{HttpServer, Response};
use crate::support::scenario::{Scenario, dyndns2_provider, record};

const TIMEOUT: Duration = Duration::from_secs(1);
/// Scheduling slack on a loaded 2-core CI machine.
const SLACK: Duration = Duration::from_millis(1500);
const PASSWORD: &str = "fault-pass";
const HUNDRED_MB: u64 = 100 * 1024 * 1024;

/// The faults, each a fresh handler.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Refuse,
    ResetBeforeReply,
    ResetMidBody,
    StallHeaders,
    StallBody,
    SlowlorisHeaders,
    HundredMegabytes,
    InvalidUtf8,
    ChunkedGarbage,
    ContentLengthTooLong,
    ContentLengthTooShort,
    RedirectLoop,
    TooManyRequestsRetryAfter,
    TooManyRequests,
    ServerError,
}

const FAULTS: [Fault; 15] = [
    Fault::Refuse,
    Fault::ResetBeforeReply,
    Fault::ResetMidBody,
    Fault::StallHeaders,
    Fault::StallBody,
    Fault::SlowlorisHeaders,
    Fault::HundredMegabytes,
    Fault::InvalidUtf8,
    Fault::ChunkedGarbage,
    Fault::ContentLengthTooLong,
    Fault::ContentLengthTooShort,
    Fault::RedirectLoop,
    Fault::TooManyRequestsRetryAfter,
    Fault::TooManyRequests,
    Fault::ServerError,
];

/// A good-looking body for the client: `good 81.2.69.160` for providers, the address for echo.
fn reply(fault: Fault, body: &'static str, path: &str) -> Response {
    let head = |extra: &str| format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{extra}\r\n");
    match fault {
        Fault::Refuse => unreachable!("no server"),
        Fault::ResetBeforeReply => Response::Reset,
        Fault::ResetMidBody => Response::then(
            head(&format!("Content-Length: {}\r\n", body.len() + 10)) + &body[..4],
            Response::Reset,
        ),
        Fault::StallHeaders => Response::stall(),
        Fault::StallBody => Response::then(
            head(&format!("Content-Length: {}\r\n", body.len())) + &body[..4],
            Response::stall(),
        ),
        Fault::SlowlorisHeaders => Response::Drip(
            format!(
                "{}{body}",
                head(&format!("Content-Length: {}\r\n", body.len()))
            )
            .into_bytes(),
            Duration::from_millis(200),
        ),
        Fault::HundredMegabytes => Response::Stream {
            head: head(&format!("Content-Length: {HUNDRED_MB}\r\n")).into_bytes(),
            len: HUNDRED_MB,
        },
        Fault::InvalidUtf8 => {
            let mut raw = head("Content-Length: 6\r\n").into_bytes();
            raw.extend_from_slice(&[0xff, 0xfe, b'g', b'o', b'o', 0xc3]);
            Response::Bytes(raw)
        }
        Fault::ChunkedGarbage => Response::then(
            head("Transfer-Encoding: chunked\r\n") + "zz\r\n" + body + "\r\n0\r\n",
            Response::Close,
        ),
        Fault::ContentLengthTooLong => Response::then(
            head(&format!("Content-Length: {}\r\n", body.len() + 100)) + body,
            Response::Close,
        ),
        Fault::ContentLengthTooShort => {
            Response::Bytes((head(&format!("Content-Length: {}\r\n", 3)) + body).into_bytes())
        }
        Fault::RedirectLoop => Response::with(302, &[("Location", path)], ""),
        Fault::TooManyRequestsRetryAfter => Response::with(429, &[("Retry-After", "120")], ""),
        Fault::TooManyRequests => Response::with(429, &[], "slow down"),
        Fault::ServerError => Response::with(503, &[], "<html>down</html>"),
    }
}

/// A server with `fault` (or a refused port) and its base URL.
fn serve(fault: Fault, body: &'static str) -> (Option<HttpServer>, String) {
    if let Fault::Refuse = fault {
        return (None, format!("http://127.0.0.1:{}", free_port()));
    }
    let server = HttpServer::start(move |req| reply(fault, body, &req.target));
    let url = server.url("");
    (Some(server), url)
}

/// The class each provider must report.
fn provider_class(fault: Fault) -> ErrorClass {
    match fault {
        Fault::Refuse | Fault::ServerError => ErrorClass::Transient,
        Fault::ResetBeforeReply
        | Fault::ResetMidBody
        | Fault::StallHeaders
        | Fault::StallBody
        | Fault::SlowlorisHeaders
        | Fault::ChunkedGarbage
        | Fault::ContentLengthTooLong => ErrorClass::Unconfirmed,
        Fault::HundredMegabytes
        | Fault::InvalidUtf8
        | Fault::ContentLengthTooShort
        | Fault::RedirectLoop => ErrorClass::Protocol,
        Fault::TooManyRequestsRetryAfter => ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(120)),
        },
        Fault::TooManyRequests => ErrorClass::RateLimited { retry_after: None },
    }
}

/// What the echo source's failure must say.
fn echo_reason(fault: Fault) -> &'static str {
    match fault {
        Fault::Refuse => "could not connect",
        Fault::StallHeaders | Fault::StallBody | Fault::SlowlorisHeaders => "no reply within",
        Fault::ResetBeforeReply
        | Fault::ResetMidBody
        | Fault::ChunkedGarbage
        | Fault::ContentLengthTooLong => "request failed",
        Fault::HundredMegabytes => "larger than 1024 bytes",
        Fault::InvalidUtf8 => "not valid UTF-8",
        Fault::ContentLengthTooShort => "not a single IP address",
        Fault::RedirectLoop => "HTTP status 302",
        Fault::TooManyRequestsRetryAfter | Fault::TooManyRequests => "HTTP status 429",
        Fault::ServerError => "HTTP status 503",
    }
}

fn target() -> Target {
    let addresses = Addresses {
        ipv4: Some("81.2.69.160".parse().unwrap()),
        ipv6: None,
    };
    Target {
        name: "home.example.org".into(),
        families: addresses.families(),
        ttl: Duration::from_secs(60),
        addresses,
        cache: BTreeMap::new(),
    }
}

fn providers(base: &str) -> Vec<(&'static str, AnyProvider)> {
    let clients = HttpClients::new(TIMEOUT).unwrap();
    let http = HttpProviderConfig {
        method: HttpMethod::Get,
        url: format!("{base}/update?host={{name}}&ip={{ipv4}}&token={{token}}"),
        body: None,
        content_type: None,
        headers: Vec::new(),
        username: None,
        password: None,
        token: Some(Secret::new(PASSWORD.into())),
        success: regex_lite::Regex::new("^(good|nochg)").unwrap(),
        nochg: None,
        zone: None,
    };
    let dyndns2 = Dyndns2ProviderConfig {
        url: format!("{base}/nic/update").parse().unwrap(),
        username: "user".into(),
        password: Secret::new(PASSWORD.into()),
        dual_stack: DualStack::Combined,
    };
    vec![
        (
            "http",
            AnyProvider::new("h", &ProviderConfig::Http(http), clients.clone(), TIMEOUT),
        ),
        (
            "dyndns2",
            AnyProvider::new("d", &ProviderConfig::Dyndns2(dyndns2), clients, TIMEOUT),
        ),
    ]
}

// See: #9
#[tokio::test]
async fn issue_9_every_http_provider_classifies_every_fault_within_the_timeout() {
    for fault in FAULTS {
        let (server, base) = serve(fault, "good 81.2.69.160");
        for (kind, provider) in providers(&base) {
            let label = format!("{kind} / {fault:?}");
            let started = Instant::now();
            let outcomes = provider.publish(&[target()]).await;
            let elapsed = started.elapsed();
            assert!(elapsed <= TIMEOUT + SLACK, "{label}: took {elapsed:?}");
            let [(_, outcome)] = outcomes.as_slice() else {
                panic!("{label}: {outcomes:?}");
            };
            let failure = match outcome {
                Ok(c) => panic!("{label}: published {c:?}"),
                Err(f) => f,
            };
            assert_eq!(failure.class, provider_class(fault), "{label}: {failure:?}");
            assert!(!failure.message.contains(PASSWORD), "{label}: {failure:?}");
        }
        if let (Some(server), false) = (&server, matches!(fault, Fault::Refuse)) {
            assert!(server.count() >= 2, "{fault:?}: both providers asked");
        }
    }
}

// See: #9
#[tokio::test]
async fn issue_9_the_echo_source_detects_nothing_on_any_fault_within_the_timeout() {
    for fault in FAULTS {
        let (_server, base) = serve(fault, "81.2.69.160");
        let config = SourceConfig::Web(WebSourceConfig {
            ipv4_urls: vec![format!("{base}/ip").parse().unwrap()],
            ipv6_urls: Vec::new(),
            quorum: 1,
            allow_private: false,
        });
        let source = AnySource::new("web", &config, HttpClients::new(TIMEOUT).unwrap(), TIMEOUT);
        let started = Instant::now();
        let detection = source.detect(Families::IPV4).await;
        let elapsed = started.elapsed();
        assert!(elapsed <= TIMEOUT + SLACK, "{fault:?}: took {elapsed:?}");
        match detection.ipv4 {
            Detected::Failed(message) => {
                assert!(message.contains(echo_reason(fault)), "{fault:?}: {message}")
            }
            other => panic!("{fault:?}: {other:?}"),
        }
    }
}

/// The 100 MB reply end to end: the daemon reads at most the cap from the echo service and
/// from the provider, reports it, and its memory stays small.
// See: #9
#[test]
fn issue_9_a_100_mb_reply_is_cut_at_the_cap_and_memory_stays_bounded() {
    let flood = || {
        HttpServer::start(|_| Response::Stream {
            head: format!("HTTP/1.1 200 OK\r\nContent-Length: {HUNDRED_MB}\r\n\r\n").into_bytes(),
            len: HUNDRED_MB,
        })
    };
    let echo = flood();
    let provider = flood();
    let s = Scenario::new(
        "check-interval = \"1s\"\nretry-min = \"1s\"\nretry-max = \"2s\"",
        &(dyndns2_provider("dd", &provider.url("/nic/update"), "u", PASSWORD, "")
            + &record("home.example.org", "dd")
            + &format!(
                "[sources.web]\nkind = \"web\"\nipv4-urls = [\"{}\"]\n\n\
                 [[records]]\nname = \"web.example.org\"\nprovider = \"dd\"\nsource = \"web\"\n\
                 families = [\"ipv4\"]\n",
                echo.url("/ip")
            )),
    );
    // debug: repeated failures are logged at DEBUG after the first WARN.
    let mut daemon = Daemon::start(&s.config, "debug");
    daemon.wait_for_log("larger than 1024 bytes", Duration::from_secs(10));
    daemon.wait_for_log("larger than 4096 bytes", Duration::from_secs(10));
    // Several rounds of both.
    daemon.wait_for_log_count("larger than 1024 bytes", 3, Duration::from_secs(15));
    let rss = daemon.rss_kib();
    assert!(daemon.is_running());
    eprintln!("VmRSS after 100 MB replies: {rss} KiB");
    assert!(rss < 50 * 1024, "VmRSS {rss} KiB");
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("class=protocol"), "{log}");
    let st = s.record_status("home.example.org");
    assert!(st["published"]["ipv4"].is_null(), "{st}");
    assert_eq!(st["last-error"]["class"], "protocol", "{st}");
    let web = s.record_status("web.example.org");
    assert!(web["published"]["ipv4"].is_null(), "{web}");
}

/// A 5xx storm: the daemon backs off (retry-min doubling to retry-max), never hammers, and
/// publishes nothing until the server recovers.
// See: #9
#[test]
fn issue_9_a_5xx_storm_is_met_with_backoff() {
    let server = Dyndns2Server::start("u", PASSWORD, &["home.example.org"]);
    server.set_mode(crate::support::dyndns2_server::Mode::ServerError);
    let s = Scenario::new(
        "check-interval = \"1h\"\nretry-min = \"300ms\"\nretry-max = \"1200ms\"",
        &(dyndns2_provider("dd", &server.update_url(), "u", PASSWORD, "")
            + &record("home.example.org", "dd")),
    );
    let daemon = Daemon::start(&s.config, "info");
    let started = Instant::now();
    server.wait_for_requests(1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(4));
    let n = server.count();
    let elapsed = started.elapsed().as_secs_f64();
    // With 300 ms doubling to 1.2 s (at least 600 ms once capped), 4 s hold at most ~8.
    assert!(
        (3..=9).contains(&n),
        "{n} requests in {elapsed:.1}s:\n{}",
        daemon.stderr()
    );
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0));
    assert!(log.contains("class=transient"), "{log}");
    assert!(s.record_status("home.example.org")["published"]["ipv4"].is_null());
}

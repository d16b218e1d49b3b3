//! Tests of the web source: the strict parser as a table, and whole detection rounds against
//! loopback HTTP servers that serve each reply format of protocols/echo-services.md.
// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

const V4: &str = "81.2.69.160";
const V4_OTHER: &str = "81.2.69.161";
const V6: &str = "2a02:898:1::7";

// ---------------------------------------------------------------------------------------------
// parse_echo_body

/// (body, family, allow_private, trace, `Ok(address)` | `Err(substring of the reason)`)
type ParseCase = (
    &'static [u8],
    Family,
    bool,
    bool,
    Result<&'static str, &'static str>,
);

#[test]
fn parse_table() {
    use Family::{Ipv4, Ipv6};
    let cases: &[ParseCase] = &[
        (b"81.2.69.160", Ipv4, false, false, Ok(V4)),
        (b"81.2.69.160\n", Ipv4, false, false, Ok(V4)),
        (b" \t81.2.69.160\r\n", Ipv4, false, false, Ok(V4)),
        (b"2a02:898:1::7\n", Ipv6, false, false, Ok(V6)),
        (b"", Ipv4, false, false, Err("empty")),
        (b" \r\n", Ipv4, false, false, Err("empty")),
        (
            b"<html><body>Current IP Address: 81.2.69.160</body></html>",
            Ipv4,
            false,
            false,
            Err("not a single IP address: \"<html>"),
        ),
        (
            b"Current IP Address: 81.2.69.160",
            Ipv4,
            false,
            false,
            Err("not a single"),
        ),
        (
            b"{\"ip\":\"81.2.69.160\"}",
            Ipv4,
            false,
            false,
            Err("not a single"),
        ),
        (
            b"81.2.69.160 81.2.69.161",
            Ipv4,
            false,
            false,
            Err("not a single"),
        ),
        (
            b"81.2.69.160\n81.2.69.161\n",
            Ipv4,
            false,
            false,
            Err("not a single"),
        ),
        (b"81.2.69.160:80", Ipv4, false, false, Err("not a single")),
        (b"81.2.69.160/24", Ipv4, false, false, Err("not a single")),
        (b"081.2.69.160", Ipv4, false, false, Err("not a single")),
        (b"81.2.69", Ipv4, false, false, Err("not a single")),
        (b"[2a02:898:1::7]", Ipv6, false, false, Err("not a single")),
        (b"2a02:898:1::7/64", Ipv6, false, false, Err("not a single")),
        (b"fe80::1%eth0", Ipv6, false, false, Err("not a single")),
        (b"81.2.69.160\xc2\xa0", Ipv4, false, false, Err("not a single")),
        (b"\xff\xfe81.2.69.160", Ipv4, false, false, Err("UTF-8")),
        (
            b"2a02:898:1::7",
            Ipv4,
            false,
            false,
            Err("got an ipv6 address (2a02:898:1::7) for an ipv4 request"),
        ),
        (b"81.2.69.160", Ipv6, false, false, Err("got an ipv4 address")),
        (
            b"::ffff:81.2.69.160",
            Ipv6,
            false,
            false,
            Err("IPv4-mapped"),
        ),
        (b"::ffff:81.2.69.160", Ipv4, false, false, Err("IPv4-mapped")),
        (b"198.51.100.7", Ipv4, true, false, Err("documentation range")),
        (b"2001:db8::7", Ipv6, true, false, Err("documentation range")),
        (b"127.0.0.1", Ipv4, true, false, Err("loopback")),
        (b"10.1.2.3", Ipv4, false, false, Err("RFC 1918")),
        (b"10.1.2.3", Ipv4, true, false, Ok("10.1.2.3")),
        (b"100.64.1.1", Ipv4, false, false, Err("CGNAT")),
        (b"fd00::7", Ipv6, false, false, Err("ULA")),
        (b"fd00::7", Ipv6, true, false, Ok("fd00::7")),
        // Cloudflare trace
        (
            b"fl=123f45\nh=1.1.1.1\nip=81.2.69.160\nts=1795411149.853\nvisit_scheme=https\nwarp=off\n",
            Ipv4,
            false,
            true,
            Ok(V4),
        ),
        (
            b"fl=1\r\nh=[2606:4700:4700::1111]\r\nip=2a02:898:1::7\r\nwarp=off\r\n",
            Ipv6,
            false,
            true,
            Ok(V6),
        ),
        (
            b"h=1.1.1.1\nip=81.2.69.160\nwarp=on\n",
            Ipv4,
            false,
            true,
            Err("warp=on"),
        ),
        (b"h=1.1.1.1\nwarp=off\n", Ipv4, false, true, Err("no ip= line")),
        (
            b"ip=81.2.69.160\nip=81.2.69.161\n",
            Ipv4,
            false,
            true,
            Err("two ip= lines"),
        ),
        (
            b"<html>error 1034</html>",
            Ipv4,
            false,
            true,
            Err("not a trace body"),
        ),
        (b"ip=81.2.69.160 x\n", Ipv4, false, true, Err("not a single")),
        (b"ip=104.18.0.0:1\n", Ipv4, false, true, Err("not a single")),
        // A bare address is not a trace body.
        (b"81.2.69.160", Ipv4, false, true, Err("not a trace body")),
    ];
    for (body, family, allow_private, trace, want) in cases {
        let got = parse_echo_body(body, *family, *allow_private, *trace);
        let shown = String::from_utf8_lossy(body);
        match (want, &got) {
            (Ok(addr), Ok(a)) => assert_eq!(a.to_string(), *addr, "{shown:?}"),
            (Err(part), Err(e)) => assert!(e.contains(part), "{shown:?}: {e:?} lacks {part:?}"),
            _ => panic!("{shown:?} ({family}, trace={trace}): got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn errors_quote_at_most_100_bytes_escaped() {
    let mut body = b"<html>\"quoted\"\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 900));
    let err = parse_echo_body(&body, Family::Ipv4, false, false).unwrap_err();
    assert!(err.len() < 160, "{} bytes: {err}", err.len());
    assert!(err.contains(r#"\"quoted\"\n"#), "{err}");
    assert!(err.ends_with('…'), "{err}");
    let err = parse_echo_body(&[0xff; 900], Family::Ipv4, false, false).unwrap_err();
    assert!(err.len() < 400, "{} bytes: {err}", err.len());
}

// ---------------------------------------------------------------------------------------------
// A loopback echo server

#[derive(Clone)]
struct Route {
    path: &'static str,
    status: u16,
    body: Vec<u8>,
    delay: Duration,
}

fn route(path: &'static str, body: &[u8]) -> Route {
    Route {
        path,
        status: 200,
        body: body.to_vec(),
        delay: Duration::ZERO,
    }
}

/// A server on `bind` (`127.0.0.1:0` or `[::1]:0`) answering each route's canned reply; `None`
/// when the address cannot be bound (no IPv6 on loopback). `hits` records each path asked.
struct EchoServer {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
}

impl EchoServer {
    async fn start(bind: &str, routes: Vec<Route>) -> Option<EchoServer> {
        let listener = TcpListener::bind(bind).await.ok()?;
        let addr = listener.local_addr().ok()?;
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let routes = routes.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&request);
                    let path = head.split(' ').nth(1).unwrap_or("").to_string();
                    seen.lock().unwrap().push(path.clone());
                    let found = routes.iter().find(|r| path.starts_with(r.path));
                    let reply = found.cloned().unwrap_or(Route {
                        path: "",
                        status: 404,
                        body: b"not found".to_vec(),
                        delay: Duration::ZERO,
                    });
                    tokio::time::sleep(reply.delay).await;
                    let head = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&reply.body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Some(EchoServer { addr, hits })
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn all_routes() -> Vec<Route> {
    let trace =
        b"fl=123f45\nh=127.0.0.1\nip=81.2.69.160\nts=1795411149.853\nvisit_scheme=http\ncolo=FRA\nloc=DE\nwarp=off\n";
    vec![
        route("/bare-nl", b"81.2.69.160\n"),
        route("/bare6", b"2a02:898:1::7"),
        route("/bare", b"81.2.69.160"),
        route("/other", b"81.2.69.161\n"),
        route("/cdn-cgi/trace", trace),
        route("/big-trace/cdn-cgi/trace", &[b'x'; 4097]),
        route(
            "/html",
            b"<html><head><title>Current IP Check</title></head><body>Current IP Address: 81.2.69.160</body></html>",
        ),
        route("/two", b"81.2.69.160\n81.2.69.161\n"),
        route("/mapped", b"::ffff:81.2.69.160\n"),
        route("/doc", b"198.51.100.7\n"),
        route("/big", &vec![b'1'; 64 * 1024]),
        route("/kib", &[b' '; 1025]),
        route("/empty", b""),
        Route {
            status: 500,
            ..route("/500", b"<h1>Internal Server Error</h1>")
        },
        Route {
            status: 301,
            ..route("/redirect", b"81.2.69.160")
        },
        Route {
            delay: Duration::from_secs(3),
            ..route("/slow", b"81.2.69.160")
        },
    ]
}

const TIMEOUT: Duration = Duration::from_millis(500);

fn source(ipv4_urls: Vec<Url>, ipv6_urls: Vec<Url>, quorum: usize) -> WebSource {
    source_with(
        &HttpClients::new(TIMEOUT).unwrap(),
        ipv4_urls,
        ipv6_urls,
        quorum,
    )
}

/// Building clients takes a while; a test with many rounds shares one set.
fn source_with(
    clients: &HttpClients,
    ipv4_urls: Vec<Url>,
    ipv6_urls: Vec<Url>,
    quorum: usize,
) -> WebSource {
    let config = WebSourceConfig {
        ipv4_urls,
        ipv6_urls,
        quorum,
        allow_private: false,
    };
    WebSource::new("web", config, clients.clone(), TIMEOUT)
}

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Detection rounds

#[tokio::test]
async fn each_reply_format_over_ipv4() {
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    // (path, Ok(address) | Err(substring of the explanation's reason))
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("/bare", Ok(V4)),
        ("/bare-nl", Ok(V4)),
        ("/cdn-cgi/trace", Ok(V4)),
        ("/html", Err("not a single IP address: \"<html>")),
        ("/two", Err("not a single IP address")),
        ("/bare6", Err("got an ipv6 address")),
        ("/mapped", Err("IPv4-mapped")),
        ("/doc", Err("documentation range")),
        ("/big", Err("larger than 1024 bytes")),
        ("/kib", Err("larger than 1024 bytes")),
        ("/big-trace/cdn-cgi/trace", Err("larger than 4096 bytes")),
        ("/empty", Err("empty answer")),
        (
            "/500",
            Err("HTTP status 500 (body \"<h1>Internal Server Error</h1>\")"),
        ),
        ("/redirect", Err("HTTP status 301")),
    ];
    let clients = HttpClients::new(TIMEOUT).unwrap();
    for (path, want) in cases {
        let url = server.url(path);
        let (explanations, detection) = source_with(&clients, vec![url.clone()], Vec::new(), 1)
            .explain(Families::IPV4)
            .await;
        assert_eq!(detection.ipv6, Detected::NotAsked, "{path}");
        assert_eq!(explanations.len(), 1, "{path}: {explanations:?}");
        let e = &explanations[0];
        assert_eq!(e.origin.as_deref(), Some(url.as_str()), "{path}");
        assert_eq!(e.family, Some(Family::Ipv4), "{path}");
        assert_eq!(e.source, "web");
        match want {
            Ok(a) => {
                assert_eq!(
                    detection.ipv4,
                    Detected::Found(a.parse().unwrap()),
                    "{path}"
                );
                assert_eq!(e.address, Some(addr(a)), "{path}");
                assert_eq!(e.verdict, Verdict::Chosen, "{path}");
            }
            Err(part) => {
                assert!(
                    matches!(detection.ipv4, Detected::Failed(_)),
                    "{path}: {detection:?}"
                );
                assert_eq!(e.verdict, Verdict::Rejected, "{path}");
                assert!(
                    e.reason.contains(part),
                    "{path}: {:?} lacks {part:?}",
                    e.reason
                );
                assert!(
                    e.reason.len() < 200,
                    "{path}: reason too long: {}",
                    e.reason
                );
            }
        }
    }
}

#[tokio::test]
async fn slower_than_the_timeout_is_not_detected() {
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    let started = Instant::now();
    let (explanations, detection) = source(vec![server.url("/slow")], Vec::new(), 1)
        .explain(Families::IPV4)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(detection.ipv4, Detected::Failed(_)),
        "{detection:?}"
    );
    assert!(
        explanations[0].reason.contains("no reply within 500ms"),
        "{:?}",
        explanations[0].reason
    );
}

#[tokio::test]
async fn ipv6_urls_go_over_ipv6() {
    let Some(server) = EchoServer::start("[::1]:0", all_routes()).await else {
        eprintln!("skipped: no IPv6 on loopback");
        return;
    };
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("/bare6", Ok(V6)),
        (
            "/bare",
            Err("got an ipv4 address (81.2.69.160) for an ipv6 request"),
        ),
        ("/mapped", Err("IPv4-mapped")),
    ];
    for (path, want) in cases {
        let (explanations, detection) = source(Vec::new(), vec![server.url(path)], 1)
            .explain(Families::IPV6)
            .await;
        assert_eq!(detection.ipv4, Detected::NotAsked);
        match want {
            Ok(a) => assert_eq!(
                detection.ipv6,
                Detected::Found(a.parse().unwrap()),
                "{path}"
            ),
            Err(part) => {
                assert!(matches!(detection.ipv6, Detected::Failed(_)), "{path}");
                assert!(
                    explanations[0].reason.contains(part),
                    "{path}: {explanations:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn an_ipv4_url_is_not_asked_over_ipv6() {
    // The IPv6 client binds `::`, so a 127.0.0.1 URL cannot be reached through it: a family is
    // never answered over the other family's path.
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    let (_, detection) = source(Vec::new(), vec![server.url("/bare6")], 1)
        .explain(Families::IPV6)
        .await;
    assert!(
        matches!(detection.ipv6, Detected::Failed(_)),
        "{detection:?}"
    );
    assert!(server.hits().is_empty(), "{:?}", server.hits());
}

#[tokio::test]
async fn a_family_without_urls_fails_and_unasked_families_are_not_asked() {
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    let web = source(vec![server.url("/bare")], Vec::new(), 1);
    let (_, detection) = web.explain(Families::BOTH).await;
    assert_eq!(detection.ipv4, Detected::Found(V4.parse().unwrap()));
    assert_eq!(
        detection.ipv6,
        Detected::Failed("no ipv6-urls configured".into())
    );
    let (explanations, detection) = web.explain(Families::IPV6).await;
    assert_eq!(detection.ipv4, Detected::NotAsked);
    assert!(explanations.is_empty());
    assert_eq!(server.hits(), ["/bare"], "IPv4 asked although not wanted");
}

#[tokio::test]
async fn quorum_1_stops_at_the_first_good_answer() {
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    let web = source(
        vec![server.url("/bare"), server.url("/other")],
        Vec::new(),
        1,
    );
    let (explanations, detection) = web.explain(Families::IPV4).await;
    assert_eq!(detection.ipv4, Detected::Found(V4.parse().unwrap()));
    assert_eq!(explanations.len(), 1);
    assert_eq!(explanations[0].reason, "first good answer");
    assert_eq!(server.hits(), ["/bare"]);
}

/// Depends on the real `core::quorum::tally` (the stub gives up at the first error).
#[tokio::test]
async fn quorum_1_skips_a_garbage_answer() {
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    let web = source(
        vec![server.url("/html"), server.url("/bare")],
        Vec::new(),
        1,
    );
    let (explanations, detection) = web.explain(Families::IPV4).await;
    assert_eq!(detection.ipv4, Detected::Found(V4.parse().unwrap()));
    assert_eq!(explanations.len(), 2);
    assert_eq!(explanations[0].verdict, Verdict::Rejected);
    assert_eq!(explanations[1].verdict, Verdict::Chosen);
}

/// Depends on the real `core::quorum::tally` (the stub agrees on the first answer).
#[tokio::test]
async fn quorum_2_needs_two_agreeing_servers() {
    let a = EchoServer::start("127.0.0.1:0", vec![route("/", b"81.2.69.160\n")])
        .await
        .unwrap();
    let b = EchoServer::start("127.0.0.1:0", vec![route("/", b"81.2.69.160")])
        .await
        .unwrap();
    let (explanations, detection) = source(vec![a.url("/"), b.url("/")], Vec::new(), 2)
        .explain(Families::IPV4)
        .await;
    assert_eq!(detection.ipv4, Detected::Found(V4.parse().unwrap()));
    assert_eq!(explanations.len(), 2);
    for e in &explanations {
        assert_eq!(e.verdict, Verdict::Chosen);
        assert_eq!(e.reason, "agreed by quorum (2 of 2 URLs)");
    }
}

/// Depends on the real `core::quorum::tally` (the stub agrees on the first answer).
#[tokio::test]
async fn quorum_2_disagreement_is_not_detected() {
    let a = EchoServer::start("127.0.0.1:0", vec![route("/", b"81.2.69.160\n")])
        .await
        .unwrap();
    let b = EchoServer::start("127.0.0.1:0", vec![route("/", b"81.2.69.161\n")])
        .await
        .unwrap();
    let (explanations, detection) = source(vec![a.url("/"), b.url("/")], Vec::new(), 2)
        .explain(Families::IPV4)
        .await;
    let Detected::Failed(message) = &detection.ipv4 else {
        panic!("disagreement detected something: {detection:?}");
    };
    // The message names each URL and its answer (core::quorum's contract).
    for (server, answer) in [(&a, V4), (&b, V4_OTHER)] {
        assert!(message.contains(server.url("/").as_str()), "{message}");
        assert!(message.contains(answer), "{message}");
    }
    assert_eq!(explanations.len(), 2);
    assert!(explanations.iter().all(|e| e.verdict == Verdict::Rejected));
}

#[tokio::test]
async fn origins_are_redacted() {
    let server = EchoServer::start("127.0.0.1:0", all_routes())
        .await
        .unwrap();
    let mut url = server.url("/html");
    url.set_query(Some("key=s3cr3t"));
    url.set_username("user").unwrap();
    let (explanations, detection) = source(vec![url], Vec::new(), 1)
        .explain(Families::IPV4)
        .await;
    let shown = format!("{explanations:?} {detection:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(!shown.contains("user@"), "{shown}");
    assert!(
        explanations[0]
            .origin
            .as_deref()
            .unwrap()
            .ends_with("/html?key=***"),
        "{explanations:?}"
    );
}

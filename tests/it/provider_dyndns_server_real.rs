//! The `dyndns-server` provider against the real Python `dyndns` 2.0.0 package on a real
//! `named` (protocols/python-dyndns.md: "prefer the real package with a real named"), and the
//! imitation (`support::dyndns_server`) checked against it reply for reply.
//!
//! Needs `named` and `dig` (Debian `bind9`, `bind9-dnsutils`) and the package in a venv at
//! `target/dyndns-venv` (or `$DYNIPD_DYNDNS`, the `dyndns` executable); `tests/run.sh` installs
//! them. Without them the test skips with a message, and fails under `CI=true`. `named` is
//! started here with a minimal inline config (the shared `named` harness is another module's).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dynipd::config::{DyndnsServerMethod, DyndnsServerProviderConfig, ProviderConfig};
use dynipd::core::{Addresses, ErrorClass};
use dynipd::http::HttpClients;
use dynipd::provider::{AnyProvider, Deleted, Target};
use dynipd::secret::Secret;

use crate::support::dyndns_server::{DyndnsServer, Nameserver, SECRET};
use crate::support::{free_port, require_tool, temp_dir};

/// hmac-sha512, base64; a test-only key for both zone-named keys.
const TSIG_KEY: &str =
    "5+cYS0RoII/Tx1eeQsBXbiaEvYFGKV6yuIFZYwpH6VnPEjMynRTP5vmuva3a+dViDxFlOiIQxhtcZKt1ZfdtJA==";
const ZONE: &str = "dyndns.example.test";
/// A zone whose nameserver refuses every update (`allow-update { none; }`): trap 2.
const REFUSED: &str = "refused.example.test";
/// A zone whose zone-named key the nameserver does not know: 512 `PeerBadKey`.
const NOKEY: &str = "nokey.example.test";
/// A zone whose zone-named key has another secret in the nameserver: 500 `PEERBADSIGNATURE`.
const BADSIG: &str = "badsig.example.test";
/// Another hmac-sha512 secret.
const OTHER_KEY: &str =
    "ulDsZgTpS3B0Yq0mFhUIGn9tD1NfFZ7wOi0r3vlM3xkq2dbXw6E9m6Zb0jG7b6Tq3p6b0M2H8w6mQe5vU1aC3Q==";
const WAIT: Duration = Duration::from_secs(20);

/// The `dyndns` executable, or `None` (skip; under `CI=true`, fail).
fn dyndns_executable() -> Option<PathBuf> {
    let path = std::env::var_os("DYNIPD_DYNDNS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dyndns-venv/bin/dyndns"),
        PathBuf::from,
    );
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "the Python dyndns 2.0.0 server is not installed at {} (tests/run.sh installs it)",
        path.display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why} (CI=true: failing instead of skipping)"
    );
    eprintln!("SKIPPED: {why}");
    None
}

/// A child process killed on drop (also when the test panics).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn zone_file(zone: &str, extra: &str) -> String {
    format!(
        "$TTL 60\n@ IN SOA ns1.{zone}. hostmaster.{zone}. ( 1 3600 600 86400 60 )\n\
         @ IN NS ns1.{zone}.\nns1 IN A 127.0.0.1\n{extra}"
    )
}

/// `named` on a free loopback port with the two zones and their zone-named keys.
fn start_named(dir: &Path) -> (Running, u16) {
    let d = dir.display();
    fs::write(
        dir.join("dyndns.zone"),
        zone_file(ZONE, "v4 IN AAAA 2001:db8::8\n"),
    )
    .unwrap();
    fs::write(
        dir.join("refused.zone"),
        zone_file(REFUSED, "host IN A 192.0.2.1\n"),
    )
    .unwrap();
    fs::write(dir.join("nokey.zone"), zone_file(NOKEY, "")).unwrap();
    fs::write(dir.join("badsig.zone"), zone_file(BADSIG, "")).unwrap();
    for attempt in 0..5 {
        let port = free_port();
        let conf = format!(
            "key \"{ZONE}\" {{ algorithm hmac-sha512; secret \"{TSIG_KEY}\"; }};\n\
             key \"{REFUSED}\" {{ algorithm hmac-sha512; secret \"{TSIG_KEY}\"; }};\n\
             key \"{BADSIG}\" {{ algorithm hmac-sha512; secret \"{OTHER_KEY}\"; }};\n\
             options {{ directory \"{d}\"; pid-file \"{d}/named.pid\"; \
             session-keyfile \"{d}/session.key\"; managed-keys-directory \"{d}\"; \
             dump-file \"{d}/named_dump.db\"; statistics-file \"{d}/named.stats\"; \
             listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; \
             recursion no; dnssec-validation no; notify no; allow-query {{ any; }}; \
             allow-transfer {{ none; }}; minimal-responses yes; reuseport no; }};\n\
             controls {{ }};\n\
             zone \"{ZONE}\" {{ type primary; file \"{d}/dyndns.zone\"; \
             update-policy {{ grant {ZONE}. zonesub ANY; }}; }};\n\
             zone \"{REFUSED}\" {{ type primary; file \"{d}/refused.zone\"; \
             allow-update {{ none; }}; }};\n\
             zone \"{NOKEY}\" {{ type primary; file \"{d}/nokey.zone\"; \
             allow-update {{ key \"{ZONE}\"; }}; }};\n\
             zone \"{BADSIG}\" {{ type primary; file \"{d}/badsig.zone\"; \
             allow-update {{ key \"{BADSIG}\"; }}; }};\n"
        );
        fs::write(dir.join("named.conf"), conf).unwrap();
        let log = dir.join(format!("named-{attempt}.log"));
        let child = Command::new("named")
            .args(["-g", "-4", "-n", "1", "-c"])
            .arg(dir.join("named.conf"))
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("start named");
        let named = Running(child);
        let deadline = Instant::now() + WAIT;
        loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            if text.contains("address in use") || text.contains("could not listen") {
                break; // another port
            }
            if text.lines().any(|l| l.ends_with(" running")) && dig(port, ZONE, "SOA").is_some() {
                return (named, port);
            }
            assert!(Instant::now() < deadline, "named did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("named found no free port in 5 attempts");
}

/// `dig +noall +answer` for `name` `rtype`: the answer lines, or `None` without an answer
/// from the server.
fn dig(port: u16, name: &str, rtype: &str) -> Option<String> {
    let out = Command::new("dig")
        .args(["+norec", "+time=1", "+tries=1", "+noall", "+answer", "-p"])
        .arg(port.to_string())
        .args(["@127.0.0.1", name, rtype])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `(ttl, address)` of each answer line.
fn answers(port: u16, name: &str, rtype: &str) -> Vec<(u32, String)> {
    dig(port, name, rtype)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            Some((words.get(1)?.parse().ok()?, words.get(4)?.to_string()))
        })
        .collect()
}

/// `dyndns -c cfg.yml serve -p PORT` (Flask's development server, 127.0.0.1 only).
fn start_dyndns(exe: &Path, dir: &Path, named_port: u16) -> (Running, SocketAddr) {
    let config = format!(
        "secret: '{SECRET}'\nnameserver: 127.0.0.1\nport: {named_port}\nzones:\n\
         \x20 - name: {ZONE}\n    tsig_key: '{TSIG_KEY}'\n\
         \x20 - name: {REFUSED}\n    tsig_key: '{TSIG_KEY}'\n\
         \x20 - name: {NOKEY}\n    tsig_key: '{TSIG_KEY}'\n\
         \x20 - name: {BADSIG}\n    tsig_key: '{TSIG_KEY}'\n"
    );
    fs::write(dir.join("dyndns.yml"), config).unwrap();
    let port = free_port();
    let child = Command::new(exe)
        .arg("-c")
        .arg(dir.join("dyndns.yml"))
        .args(["serve", "-p", &port.to_string()])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("dyndns.log")).unwrap())
        .spawn()
        .expect("start dyndns");
    let server = Running(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + WAIT;
    while raw(addr, "GET", "/").map(|r| r.body) != Some("dyndns v2.0.0\n".into()) {
        let log = fs::read_to_string(dir.join("dyndns.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "dyndns did not start:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, addr)
}

/// A reply as compared between the real server and the imitation.
#[derive(Debug, PartialEq, Eq)]
struct Raw {
    status_line: String,
    content_type: String,
    body: String,
}

/// One request on a fresh connection; `None` when nothing answers.
fn raw(addr: SocketAddr, method: &str, target: &str) -> Option<Raw> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(WAIT)).ok()?;
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status_line = lines.next()?.to_string();
    let content_type = lines
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or("")
        .to_string();
    Some(Raw {
        status_line,
        content_type,
        body: body.to_string(),
    })
}

fn provider(url: &str, secret: &str, method: DyndnsServerMethod) -> AnyProvider {
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

fn target(name: &str, ipv4: Option<&str>, ipv6: Option<&str>, ttl: u64) -> Target {
    let addresses = Addresses {
        ipv4: ipv4.map(|a| a.parse().unwrap()),
        ipv6: ipv6.map(|a| a.parse().unwrap()),
    };
    Target {
        name: name.into(),
        families: addresses.families(),
        ttl: Duration::from_secs(ttl),
        addresses,
        cache: BTreeMap::new(),
    }
}

#[tokio::test]
async fn the_real_dyndns_2_0_0_server_on_a_real_named() {
    // See: #6
    let Some(exe) = dyndns_executable() else {
        return;
    };
    if !require_tool("named") || !require_tool("dig") {
        return;
    }
    let dir = temp_dir();
    let (_named, ns) = start_named(dir.path());
    let (_dyndns, addr) = start_dyndns(&exe, dir.path(), ns);
    let base = format!("http://{addr}");
    let path = provider(&base, SECRET, DyndnsServerMethod::Path);
    let query = provider(&base, SECRET, DyndnsServerMethod::Query);
    let home = "home.dyndns.example.test";
    // Both families in one request.
    let both = target(home, Some("198.51.100.7"), Some("2001:db8::7"), 60);
    assert!(path.publish(std::slice::from_ref(&both)).await[0].1.is_ok());
    assert_eq!(answers(ns, home, "A"), vec![(300, "198.51.100.7".into())]);
    assert_eq!(answers(ns, home, "AAAA"), vec![(300, "2001:db8::7".into())]);
    // The same again: UNCHANGED with the address sent is published.
    assert!(path.publish(&[both]).await[0].1.is_ok());

    // Trap 1: an IPv4-only record deletes the AAAA record the zone had at its name.
    let v4 = "v4.dyndns.example.test";
    assert_eq!(answers(ns, v4, "AAAA").len(), 1);
    let outcome = path
        .publish(&[target(v4, Some("198.51.100.8"), None, 60)])
        .await;
    assert!(outcome[0].1.is_ok(), "{outcome:?}");
    assert_eq!(answers(ns, v4, "A"), vec![(300, "198.51.100.8".into())]);
    assert_eq!(answers(ns, v4, "AAAA"), vec![]);

    // The query form carries the TTL.
    let q = "q.dyndns.example.test";
    let outcome = query
        .publish(&[target(q, None, Some("2001:db8::9"), 120)])
        .await;
    assert!(outcome[0].1.is_ok(), "{outcome:?}");
    assert_eq!(answers(ns, q, "AAAA"), vec![(120, "2001:db8::9".into())]);

    // Trap 2: the nameserver refuses, the server says UNCHANGED: unconfirmed, never published.
    let refused = "host.refused.example.test";
    let outcome = path
        .publish(&[target(refused, Some("198.51.100.7"), None, 60)])
        .await;
    let failure = outcome[0].1.as_ref().unwrap_err();
    assert_eq!(
        failure.class,
        ErrorClass::Unconfirmed,
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("unchanged at 192.0.2.1"),
        "{}",
        failure.message
    );
    assert_eq!(answers(ns, refused, "A"), vec![(60, "192.0.2.1".into())]);

    // The TSIG failures behind the server: 512 for an unknown key, 500 for a bad signature.
    for (zone, class) in [
        (NOKEY, ErrorClass::Rejected),
        (BADSIG, ErrorClass::Rejected),
    ] {
        let name = format!("x.{zone}");
        let outcome = path
            .publish(&[target(&name, Some("198.51.100.7"), None, 60)])
            .await;
        let failure = outcome[0].1.as_ref().unwrap_err();
        assert_eq!(failure.class, class, "{}", failure.message);
    }

    // A wrong secret parks.
    let wrong = provider(&base, "WrongSecret1", DyndnsServerMethod::Path);
    let outcome = wrong
        .publish(&[target(home, Some("198.51.100.9"), None, 60)])
        .await;
    assert_eq!(
        outcome[0].1.as_ref().unwrap_err().class,
        ErrorClass::Rejected
    );

    // Delete, then nothing left to delete.
    let t = target(home, None, None, 60);
    assert_eq!(path.delete(&t).await, Ok(Deleted::Removed));
    assert_eq!(answers(ns, home, "A"), vec![]);
    assert_eq!(answers(ns, home, "AAAA"), vec![]);
    assert_eq!(path.delete(&t).await, Ok(Deleted::Absent));

    imitation_matches_the_real_server(addr);
}

/// The same requests to the real server and the imitation give the same status line, content
/// type and body (fresh names, so both start from nothing at them).
fn imitation_matches_the_real_server(real: SocketAddr) {
    let imitation = DyndnsServer::start(SECRET, &[ZONE, REFUSED, NOKEY, BADSIG]);
    let s = SECRET;
    let n = "parity.dyndns.example.test";
    let cases: Vec<(&str, String, Nameserver)> = vec![
        ("GET", "/".into(), Nameserver::Serving),
        ("GET", "/nope".into(), Nameserver::Serving),
        ("POST", "/".into(), Nameserver::Serving),
        (
            "GET",
            format!("/update-by-path/WrongSecret1/{n}/198.51.100.7"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}/198.51.100.7/2001:db8::7"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}/198.51.100.7/2001:db8::7"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}/198.51.100.8"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}/198.51.100.8/"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-query?secret={s}&fqdn={n}&ipv6=2001%3Adb8%3A%3A9&ttl=77"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-query?secret={s}&fqdn={n}&foo=1"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-query?fqdn={n}"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-query?secret={s}&fqdn={n}&ttl=soon"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-query?secret={s}&fqdn={n}&ipv4=::1"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{ZONE}/198.51.100.7"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/x.other.test/198.51.100.7"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/x_y.{ZONE}/198.51.100.7"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}/999.1.1.1"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/{n}/198.51.100.7/198.51.100.8"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/delete-by-path/{s}/{n}"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/delete-by-path/{s}/{n}"),
            Nameserver::Serving,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/parity.{REFUSED}/198.51.100.7/2001:db8::7"),
            Nameserver::Refusing,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/x.{NOKEY}/198.51.100.7"),
            Nameserver::UnknownKey,
        ),
        (
            "GET",
            format!("/update-by-path/{s}/x.{BADSIG}/198.51.100.7"),
            Nameserver::BadSignature,
        ),
    ];
    for (method, target, nameserver) in cases {
        imitation.set_nameserver(nameserver);
        let want = raw(real, method, &target).expect("the real server answers");
        let got = raw(imitation.addr(), method, &target).expect("the imitation answers");
        assert_eq!(got, want, "{method} {target}");
    }
}

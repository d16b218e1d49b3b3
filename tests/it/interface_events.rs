//! End to end: `dynipd run` inside a network namespace hears the kernel's address events and
//! publishes through a dyndns2 server listening on the namespace's own loopback, long before
//! `check-interval` (1h here) would poll. Root only; see `support::netns`.
//!
//! The test server is the in-process `Dyndns2Server`, bound inside the namespace from a helper
//! thread (`Netns::listen`): the requests it records, with their arrival `Instant`, are the
//! provider's view, and the latency is measured on one monotonic clock.
//!
//! See: #7.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::{Dyndns2Server, HostState};
use crate::support::netns::{IFACE, Netns};
use crate::support::temp_dir;

const HOME: &str = "home.example.org";
const NAS: &str = "nas.example.org";

/// Two records on one interface source: this host, and a LAN device at `::1:2:3:4` in the
/// host's /64 (`ipv6-host-id`).
fn config(dir: &Path, server: &Dyndns2Server) -> PathBuf {
    let path = dir.join("dynipd.toml");
    let text = format!(
        r#"[daemon]
state-dir = "{state}"
check-interval = "1h"

[sources.lan]
kind = "interface"
interface = "{IFACE}"

[providers.dyn]
kind = "dyndns2"
url = "{url}"
username = "user"
password = "secret-password"

[[records]]
name = "{HOME}"
provider = "dyn"
source = "lan"

[[records]]
name = "{NAS}"
provider = "dyn"
source = "lan"
families = ["ipv6"]
ipv6-host-id = "::1:2:3:4"
"#,
        state = dir.join("state").display(),
        url = server.update_url(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn host(ipv4: Option<&str>, ipv6: &str) -> Option<HostState> {
    Some(HostState {
        ipv4: ipv4.map(|a| a.parse().unwrap()),
        ipv6: Some(ipv6.parse().unwrap()),
    })
}

/// A namespace with 81.2.69.160 and 2a02:898:1::7, the server inside it, and a daemon that
/// has published both records once. Declared in drop order: daemon, server, namespace.
struct Setup {
    daemon: Daemon,
    server: Dyndns2Server,
    config: PathBuf,
    _dir: tempfile::TempDir,
    ns: Netns,
}

fn start(tag: &str) -> Option<Setup> {
    let ns = Netns::create(tag)?;
    ns.ip(&["addr", "add", "81.2.69.160/24", "dev", IFACE]);
    ns.ip(&["addr", "add", "2a02:898:1::7/64", "dev", IFACE, "nodad"]);
    let (listener, connect) = ns.listen();
    let server =
        Dyndns2Server::start_on(listener, connect, "user", "secret-password", &[HOME, NAS]);
    let dir = temp_dir();
    let config = config(dir.path(), &server);
    let daemon = Daemon::spawn(ns.command(env!("CARGO_BIN_EXE_dynipd")), &config, "debug");
    // The records differ in IPv6, so one request each.
    server.wait_for_requests(2, Duration::from_secs(10));
    daemon.wait_for_log_count("record published", 2, Duration::from_secs(10));
    assert_eq!(
        server.host(HOME),
        host(Some("81.2.69.160"), "2a02:898:1::7")
    );
    assert_eq!(server.host(NAS), host(None, "2a02:898:1:0:1:2:3:4"));
    Some(Setup {
        daemon,
        server,
        config,
        _dir: dir,
        ns,
    })
}

#[test]
fn issue_7_renumbering_is_published_within_a_second_for_host_and_host_id_records() {
    let Some(s) = start("renum") else {
        return;
    };
    // Renumbering as a router does it: the old prefix deprecated, a new one added.
    let changed_at = Instant::now();
    s.ns.ip(&[
        "addr",
        "change",
        "2a02:898:1::7/64",
        "dev",
        IFACE,
        "preferred_lft",
        "0",
        "valid_lft",
        "3600",
    ]);
    s.ns.ip(&["addr", "add", "2a02:898:9::7/64", "dev", IFACE, "nodad"]);

    let requests = s.server.wait_for_requests(4, Duration::from_secs(10));
    let latency = requests[2].at.duration_since(changed_at);
    eprintln!("address change → provider received: {latency:?} (settle 300ms)");
    // check-interval is 1h: only the address event can explain this.
    assert!(
        latency < Duration::from_secs(1),
        "took {latency:?}:\n{}",
        s.daemon.stderr()
    );
    s.daemon
        .wait_for_log_count("record published", 4, Duration::from_secs(10));
    assert_eq!(
        s.server.host(HOME),
        host(Some("81.2.69.160"), "2a02:898:9::7")
    );
    assert_eq!(s.server.host(NAS), host(None, "2a02:898:9:0:1:2:3:4"));
    // The burst (change + add) was coalesced: exactly one more request per record.
    assert_eq!(s.server.count(), 4, "{:#?}", s.server.requests());

    let (status, log) = s.daemon.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("interface address event"), "{log}");
    assert!(!log.contains("cannot listen"), "{log}");
}

#[test]
fn issue_7_removing_the_address_keeps_the_published_one() {
    let Some(s) = start("removal") else {
        return;
    };
    s.ns.ip(&["addr", "del", "2a02:898:1::7/64", "dev", IFACE]);
    // The re-detection finds no IPv6 address: reported, and nothing is sent or cleared.
    s.daemon.wait_for_log(
        "no qualifying ipv6 address on veth-n; keeping the published address",
        Duration::from_secs(5),
    );
    let (status, log) = s.daemon.stop();
    assert!(status.success(), "{log}");
    assert_eq!(s.server.count(), 2, "{:#?}", s.server.requests());
    assert_eq!(
        s.server.host(HOME),
        host(Some("81.2.69.160"), "2a02:898:1::7")
    );

    let out = crate::support::run_dynipd(&s.config, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let home = status["records"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == HOME))
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(home["published"]["ipv6"], "2a02:898:1::7", "{status}");
}

//! Address selection against a real kernel: addresses with real flags and lifetimes in a
//! network namespace, judged by `dynipd detect --json` run inside it (DESIGN.md "Address
//! selection"). Root only; see `support::netns`.
//!
//! See: #7. Addresses are public-looking (81.2.69.0/24, 2a02:898::/32) because the
//! documentation ranges are rejected by policy; nothing leaves the namespace.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::netns::{IFACE, Netns};
use crate::support::temp_dir;

/// A config with one interface source on `interface` and one record using it.
fn config(dir: &Path, interface: &str, ipv6: &str, allow_private: bool) -> PathBuf {
    let path = dir.join(format!("{ipv6}-{allow_private}.toml"));
    let text = format!(
        r#"[daemon]
state-dir = "{state}"

[sources.lan]
kind = "interface"
interface = "{interface}"
ipv6 = "{ipv6}"
allow-private = {allow_private}

[providers.p]
kind = "dyndns2"
url = "http://127.0.0.1:9/nic/update"
username = "u"
password = "p"

[[records]]
name = "home.example.org"
provider = "p"
source = "lan"
"#,
        state = dir.join("state").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// One row of `detect --json`.
#[derive(Debug)]
struct Row {
    address: String,
    flags: Vec<String>,
    verdict: String,
    reason: String,
    preferred: Option<u64>,
}

fn detect(ns: &Netns, config: &Path) -> Vec<Row> {
    let out = ns.dynipd(config, &["detect", "--json"]);
    assert!(
        out.status.success(),
        "detect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Row {
            address: c["address"].as_str().unwrap_or_default().to_string(),
            flags: c["flags"]
                .as_array()
                .map(|f| f.iter().map(|w| w.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
            verdict: c["verdict"].as_str().unwrap().to_string(),
            reason: c["reason"].as_str().unwrap().to_string(),
            preferred: c["preferred-lifetime"].as_u64(),
        })
        .collect()
}

fn row<'r>(rows: &'r [Row], address: &str) -> &'r Row {
    rows.iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("{address} not among the candidates: {rows:#?}"))
}

fn chosen(rows: &[Row], ipv6: bool) -> Option<&str> {
    rows.iter()
        .find(|r| r.verdict == "chosen" && r.address.contains(':') == ipv6)
        .map(|r| r.address.as_str())
}

/// Polls `detect` until `ready` holds (the kernel adds a temporary address a moment after its
/// base); panics after 5 s.
fn detect_until(ns: &Netns, config: &Path, ready: impl Fn(&[Row]) -> bool) -> Vec<Row> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let rows = detect(ns, config);
        if ready(&rows) {
            return rows;
        }
        assert!(Instant::now() < deadline, "never ready: {rows:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn issue_7_stable_temporary_and_any() {
    let Some(ns) = Netns::create("temp") else {
        return;
    };
    let dir = temp_dir();
    ns.ip(&["addr", "add", "2a02:898:1::7/64", "dev", IFACE, "nodad"]);
    // protocols/netns.md: use_tempaddr=2 plus a mngtmpaddr base makes a temporary address.
    ns.sysctl(&format!("net.ipv6.conf.{IFACE}.use_tempaddr"), "2");
    ns.ip(&[
        "addr",
        "add",
        "2a02:898:2::1/64",
        "dev",
        IFACE,
        "mngtmpaddr",
        "nodad",
    ]);

    let stable = config(dir.path(), IFACE, "stable", false);
    let rows = detect_until(&ns, &stable, |rows| {
        rows.iter()
            .any(|r| r.flags.iter().any(|f| f == "temporary"))
    });
    let temporary = rows
        .iter()
        .find(|r| r.flags.iter().any(|f| f == "temporary"))
        .unwrap();
    let temporary_address = temporary.address.clone();
    assert!(temporary_address.starts_with("2a02:898:2:0:"), "{rows:#?}");
    assert_eq!(temporary.verdict, "rejected");
    assert_eq!(temporary.reason, "temporary address; ipv6 = \"stable\"");
    assert!(temporary.preferred.is_some(), "a temporary address expires");
    assert_eq!(row(&rows, "2a02:898:1::7").flags, ["permanent"]);
    assert_eq!(chosen(&rows, true), Some("2a02:898:1::7"));

    let rows = detect(&ns, &config(dir.path(), IFACE, "temporary", false));
    assert_eq!(
        chosen(&rows, true),
        Some(temporary_address.as_str()),
        "{rows:#?}"
    );
    assert_eq!(
        row(&rows, "2a02:898:1::7").reason,
        "stable address; ipv6 = \"temporary\" prefers a temporary one"
    );

    // "any" takes both; the permanent address outlives the temporary one.
    let rows = detect(&ns, &config(dir.path(), IFACE, "any", false));
    assert_eq!(chosen(&rows, true), Some("2a02:898:1::7"), "{rows:#?}");
    let t = row(&rows, &temporary_address);
    assert_eq!(t.verdict, "accepted");
    assert_eq!(t.reason, "another address has a longer preferred lifetime");
}

#[test]
fn issue_7_deprecated_is_never_chosen() {
    let Some(ns) = Netns::create("depr") else {
        return;
    };
    let dir = temp_dir();
    // The lower address is deprecated: it would win the tie otherwise.
    ns.ip(&[
        "addr",
        "add",
        "2a02:898:1::1/64",
        "dev",
        IFACE,
        "nodad",
        "preferred_lft",
        "0",
        "valid_lft",
        "3600",
    ]);
    ns.ip(&["addr", "add", "2a02:898:1::9/64", "dev", IFACE, "nodad"]);
    for policy in ["stable", "temporary", "any"] {
        let rows = detect(&ns, &config(dir.path(), IFACE, policy, false));
        let deprecated = row(&rows, "2a02:898:1::1");
        assert_eq!(deprecated.verdict, "rejected", "{policy}");
        assert_eq!(deprecated.reason, "deprecated (preferred lifetime over)");
        assert!(deprecated.flags.iter().any(|f| f == "deprecated"));
        assert_eq!(deprecated.preferred, Some(0));
        assert_eq!(chosen(&rows, true), Some("2a02:898:1::9"), "{policy}");
    }
    // Alone, a deprecated address means "no IPv6 detected", not an address.
    ns.ip(&["addr", "del", "2a02:898:1::9/64", "dev", IFACE]);
    let rows = detect(&ns, &config(dir.path(), IFACE, "any", false));
    assert_eq!(chosen(&rows, true), None, "{rows:#?}");
}

#[test]
fn issue_7_private_addresses_need_allow_private() {
    let Some(ns) = Netns::create("priv") else {
        return;
    };
    let dir = temp_dir();
    ns.ip(&["addr", "add", "10.0.0.2/24", "dev", IFACE]);
    ns.ip(&["addr", "add", "fd00:898::2/64", "dev", IFACE, "nodad"]);

    let rows = detect(&ns, &config(dir.path(), IFACE, "stable", false));
    let v4 = row(&rows, "10.0.0.2");
    assert_eq!(v4.verdict, "rejected");
    assert!(v4.reason.contains("RFC 1918"), "{}", v4.reason);
    let v6 = row(&rows, "fd00:898::2");
    assert_eq!(v6.verdict, "rejected");
    assert!(v6.reason.contains("ULA"), "{}", v6.reason);
    assert_eq!((chosen(&rows, false), chosen(&rows, true)), (None, None));

    let rows = detect(&ns, &config(dir.path(), IFACE, "stable", true));
    assert_eq!(chosen(&rows, false), Some("10.0.0.2"));
    assert_eq!(chosen(&rows, true), Some("fd00:898::2"));

    // A public address wins over nothing else: add one and it is chosen without the flag.
    ns.ip(&["addr", "add", "81.2.69.160/24", "dev", IFACE]);
    let rows = detect(&ns, &config(dir.path(), IFACE, "stable", false));
    assert_eq!(chosen(&rows, false), Some("81.2.69.160"));
}

#[test]
fn issue_7_renumbering_chooses_the_new_prefix() {
    let Some(ns) = Netns::create("renum") else {
        return;
    };
    let dir = temp_dir();
    let cfg = config(dir.path(), IFACE, "stable", false);
    ns.ip(&["addr", "add", "2a02:898:1::7/64", "dev", IFACE, "nodad"]);
    assert_eq!(chosen(&detect(&ns, &cfg), true), Some("2a02:898:1::7"));
    // What a router's RA does on renumbering (RFC 4192): the old prefix is deprecated and
    // stays valid for a while, the new one arrives. The new one sorts *after* the old one.
    ns.ip(&[
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
    ns.ip(&["addr", "add", "2a02:898:9::7/64", "dev", IFACE, "nodad"]);
    let rows = detect(&ns, &cfg);
    assert_eq!(chosen(&rows, true), Some("2a02:898:9::7"), "{rows:#?}");
    assert_eq!(row(&rows, "2a02:898:1::7").verdict, "rejected");
}

#[test]
fn issue_7_tentative_is_rejected() {
    let Some(ns) = Netns::create("tent") else {
        return;
    };
    let dir = temp_dir();
    // DAD on, and no carrier (the peer stays down): the address stays tentative.
    ns.ip(&[
        "link", "add", "veth-t", "type", "veth", "peer", "name", "veth-u",
    ]);
    ns.sysctl("net.ipv6.conf.veth-t.accept_dad", "1");
    ns.ip(&["link", "set", "veth-t", "up"]);
    ns.ip(&["addr", "add", "2a02:898:6::1/64", "dev", "veth-t"]);
    let rows = detect(&ns, &config(dir.path(), "veth-t", "any", false));
    let t = row(&rows, "2a02:898:6::1");
    assert!(t.flags.iter().any(|f| f == "tentative"), "{rows:#?}");
    assert_eq!(t.verdict, "rejected");
    assert_eq!(
        t.reason,
        "tentative (duplicate address detection not finished)"
    );
}

#[test]
fn issue_7_dad_failed_is_rejected() {
    let Some(ns) = Netns::create("dad") else {
        return;
    };
    let dir = temp_dir();
    // The peer holds the address already; DAD on veth-d hears it answer and gives up.
    ns.ip(&[
        "link", "add", "veth-d", "type", "veth", "peer", "name", "veth-e",
    ]);
    ns.sysctl("net.ipv6.conf.veth-d.accept_dad", "1");
    ns.ip(&["link", "set", "veth-e", "up"]);
    ns.ip(&["link", "set", "veth-d", "up"]);
    ns.ip(&["addr", "add", "2a02:898:7::1/64", "dev", "veth-e", "nodad"]);
    ns.ip(&["addr", "add", "2a02:898:7::1/64", "dev", "veth-d"]);
    let cfg = config(dir.path(), "veth-d", "any", false);
    let rows = detect_until(&ns, &cfg, |rows| {
        rows.iter()
            .any(|r| r.flags.iter().any(|f| f == "dad-failed"))
    });
    let duplicate = row(&rows, "2a02:898:7::1");
    assert_eq!(duplicate.verdict, "rejected");
    assert_eq!(duplicate.reason, "duplicate address detection failed");
    assert_eq!(chosen(&rows, true), None);
}

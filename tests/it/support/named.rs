//! A throwaway BIND 9 `named` on a free loopback port, one per test, in a temporary directory
//! it owns (../shared/protocols/bind-test-server.md). Killed by PID on drop, also when the test
//! panics.
//!
//! Keys (random secrets per server):
//! - `dynipd-sha256` (hmac-sha256) and `dynipd-sha512` (hmac-sha512): any name and type in every
//!   updatable zone;
//! - `dynipd-limited` (hmac-sha256): only A/AAAA at `allowed.example.test`.
//!
//! Zones: `example.test` and `second.test` (updatable), `locked.test` (`allow-update { none; }`),
//! and any extra zones given to [`Named::with_zones`] (updatable). Each starts at serial 1 with
//! `host` A 192.0.2.1 / AAAA 2001:db8::1, `allowed` A 192.0.2.50 and `alias` CNAME `host`.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test harness: a broken harness must fail the test loudly"
)]

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{free_port, require_tool, temp_dir};

/// The zones every server has; `locked.test` refuses all updates.
pub const UPDATABLE_ZONES: [&str; 2] = ["example.test", "second.test"];
pub const LOCKED_ZONE: &str = "locked.test";

/// Poll interval and give-up time of the readiness check (bind-test-server.md).
const POLL: Duration = Duration::from_millis(20);
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A TSIG key the server knows.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: &'static str,
    /// `hmac-sha256` or `hmac-sha512`.
    pub algorithm: &'static str,
    /// The raw key.
    pub secret: Vec<u8>,
}

impl Key {
    /// The secret as named.conf and nsupdate take it.
    pub fn base64(&self) -> String {
        BASE64.encode(&self.secret)
    }
}

/// A running (or stopped) `named`.
pub struct Named {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    zones: Vec<String>,
    keys: Vec<Key>,
}

impl Named {
    /// Starts a server with the standard zones, or returns `None` (after a SKIPPED message)
    /// when `named` is not installed; under `CI=true` that panics instead.
    pub fn new() -> Option<Named> {
        Named::with_zones(&[])
    }

    /// Like [`Named::new`], with extra updatable zones.
    pub fn with_zones(extra: &[String]) -> Option<Named> {
        if !require_tool("named") || !require_tool("dig") {
            return None;
        }
        let mut zones: Vec<String> = UPDATABLE_ZONES.iter().map(|z| z.to_string()).collect();
        zones.extend(extra.iter().cloned());
        let keys = vec![
            Key {
                name: "dynipd-sha256",
                algorithm: "hmac-sha256",
                secret: random_bytes(32),
            },
            Key {
                name: "dynipd-sha512",
                algorithm: "hmac-sha512",
                secret: random_bytes(64),
            },
            Key {
                name: "dynipd-limited",
                algorithm: "hmac-sha256",
                secret: random_bytes(32),
            },
        ];
        let mut named = Named {
            dir: temp_dir(),
            port: 0,
            child: None,
            zones,
            keys,
        };
        // A port that looked free may be taken by the time named binds it: try a few.
        for _ in 0..5 {
            named.port = free_udp_and_tcp_port();
            named.write_config();
            match named.spawn() {
                Ok(()) => return Some(named),
                Err(Busy) => named.stop(),
            }
        }
        panic!("named: no free port after 5 tries; log:\n{}", named.log());
    }

    /// The server's address (127.0.0.1:port).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// All zones the server serves and lets the full-rights keys update.
    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    /// The key called `name`.
    pub fn key(&self, name: &str) -> &Key {
        self.keys
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("no key {name}"))
    }

    /// What the server answers for `name` `rtype` (dig +short), sorted.
    pub fn query(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = self.dig(&[name, rtype]);
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    /// The SOA serial of `zone`.
    pub fn soa_serial(&self, zone: &str) -> u32 {
        let out = self.dig(&[zone, "SOA"]);
        out.split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no SOA serial for {zone} in {out:?}"))
    }

    /// The server's log so far (since the last start).
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Kills the server (SIGKILL by PID) and waits for it. Its data stays: an accepted update
    /// is in the journal before the reply, and the next start replays it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, with the data it had.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "named is already running");
        let deadline = Instant::now() + READY_WITHIN;
        // The old sockets are gone once the process is reaped; retry anyway if the kernel
        // still says "in use".
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(Busy) if Instant::now() < deadline => {
                    self.stop();
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(Busy) => panic!("named: port {} stays in use:\n{}", self.port, self.log()),
            }
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("named.log")
    }

    fn dig(&self, args: &[&str]) -> String {
        let out = Command::new("dig")
            .args(["+short", "+norec", "+time=1", "+tries=2", "-p"])
            .arg(self.port.to_string())
            .arg("@127.0.0.1")
            .args(args)
            .output()
            .expect("run dig");
        assert!(out.status.success(), "dig {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("dig output is UTF-8")
    }

    /// Writes keys, zone files (serial 1) and named.conf; removes old journals.
    fn write_config(&self) {
        let dir = self.dir();
        let d = dir.display();
        let mut keys = String::new();
        for key in &self.keys {
            writeln!(
                keys,
                "key \"{}\" {{ algorithm {}; secret \"{}\"; }};",
                key.name,
                key.algorithm,
                key.base64()
            )
            .unwrap();
        }
        fs::write(dir.join("keys.conf"), keys).unwrap();
        let mut conf = format!(
            r#"include "{d}/keys.conf";
options {{
    directory "{d}"; pid-file "{d}/named.pid"; session-keyfile "{d}/session.key";
    managed-keys-directory "{d}"; dump-file "{d}/named_dump.db"; statistics-file "{d}/named.stats";
    listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};
    recursion no; dnssec-validation no; notify no;
    allow-query {{ any; }}; allow-transfer {{ none; }}; minimal-responses yes;
    reuseport no;
}};
controls {{ }};
"#,
            port = self.port
        );
        let all_zones = self.zones.iter().map(String::as_str).chain([LOCKED_ZONE]);
        for zone in all_zones {
            fs::write(dir.join(format!("{zone}.zone")), zone_file(zone)).unwrap();
            let _ = fs::remove_file(dir.join(format!("{zone}.zone.jnl")));
            let policy = if zone == LOCKED_ZONE {
                "allow-update { none; };".to_string()
            } else {
                format!(
                    "update-policy {{ grant dynipd-sha256. zonesub ANY; grant dynipd-sha512. \
                     zonesub ANY; grant dynipd-limited. name allowed.{zone}. A AAAA; }};"
                )
            };
            writeln!(
                conf,
                "zone \"{zone}\" {{ type primary; file \"{d}/{zone}.zone\"; journal \
                 \"{d}/{zone}.zone.jnl\"; {policy} }};"
            )
            .unwrap();
        }
        let conf_path = dir.join("named.conf");
        fs::write(&conf_path, conf).unwrap();
        // Syntax errors would otherwise show only in the log.
        if require_tool("named-checkconf") {
            let out = Command::new("named-checkconf")
                .arg(&conf_path)
                .output()
                .expect("run named-checkconf");
            assert!(out.status.success(), "named-checkconf: {out:?}");
        }
    }

    /// Starts named and waits until it is ready. `Err(Busy)` when the port is taken.
    fn spawn(&mut self) -> Result<(), Busy> {
        let log = File::create(self.log_path()).expect("create named.log");
        // Not under libfaketime: named 9.18 loops in clock_gettime() with it preloaded, so
        // BADTIME tests skew the client instead.
        let child = Command::new("named")
            .args(["-g", "-4", "-n", "1", "-c"])
            .arg(self.dir().join("named.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn named");
        self.child = Some(child);
        self.wait_ready()
    }

    /// Ready = the log says it listens on our port and is running, has no bind error, and a
    /// SOA query is answered (bind-test-server.md "Readiness"). Never "the process is alive".
    fn wait_ready(&mut self) -> Result<(), Busy> {
        let deadline = Instant::now() + READY_WITHIN;
        let listening = format!("127.0.0.1#{}", self.port);
        loop {
            let log = self.log();
            if log.contains("address in use") || log.contains("could not listen") {
                return Err(Busy);
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("named exited ({status}):\n{log}");
            }
            let lines = || log.lines().map(str::trim_end);
            let ready = lines().any(|l| l.ends_with(&listening))
                && lines().any(|l| l.ends_with("running"))
                && self.answers_soa();
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop();
                panic!("named not ready within {READY_WITHIN:?}:\n{log}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn answers_soa(&self) -> bool {
        Command::new("dig")
            .args(["+short", "+norec", "+time=1", "+tries=1", "-p"])
            .arg(self.port.to_string())
            .args(["@127.0.0.1", UPDATABLE_ZONES[0], "SOA"])
            .output()
            .map(|o| o.status.success() && !o.stdout.is_empty())
            .unwrap_or(false)
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The port is taken (named logged `address in use`).
struct Busy;

/// A port with neither a TCP nor a UDP socket on 127.0.0.1 right now.
fn free_udp_and_tcp_port() -> u16 {
    loop {
        let port = free_port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes
}

/// The minimal zone of bind-test-server.md, serial 1.
fn zone_file(zone: &str) -> String {
    format!(
        "$TTL 60
@       IN SOA ns1.{zone}. hostmaster.{zone}. ( 1 3600 600 86400 60 )
@       IN NS  ns1.{zone}.
ns1     IN A   127.0.0.1
host    IN A   192.0.2.1
host    IN AAAA 2001:db8::1
allowed IN A   192.0.2.50
alias   IN CNAME host
"
    )
}

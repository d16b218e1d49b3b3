//! End to end: the real `dynipd` binary against a loopback dyndns2 server, with a `command`
//! source whose answer a test changes by rewriting a file. What an operator would see: requests
//! the provider got, exit codes, stderr, `status --json`. See: #3.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::{Dyndns2Server, Mode};
use crate::support::{free_port, run_dynipd, temp_dir};

const USER: &str = "e2e-user";
const PASSWORD: &str = "Sup3r-S3cret-e2e";
const HOST: &str = "home.example.org";
const V4: &str = "81.2.69.160";
const V4_NEW: &str = "81.2.69.161";

/// A config in a temp dir, its state dir and the file the command source reads.
struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    state: PathBuf,
    address_file: PathBuf,
}

impl Setup {
    /// `daemon` is extra `[daemon]` lines; `body` the providers and records.
    fn new(daemon: &str, body: &str) -> Setup {
        let dir = temp_dir();
        let state = dir.path().join("state");
        let address_file = dir.path().join("address");
        fs::write(&address_file, format!("{V4}\n")).unwrap();
        let config = dir.path().join("dynipd.toml");
        fs::write(
            &config,
            format!(
                "[daemon]\nstate-dir = \"{}\"\n{daemon}\n\n[sources.cmd]\nkind = \"command\"\ncommand = [\"/bin/cat\", \"{}\"]\n\n{body}",
                state.display(),
                address_file.display()
            ),
        )
        .unwrap();
        let mut perms = fs::metadata(&config).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        fs::set_permissions(&config, perms).unwrap();
        Setup {
            _dir: dir,
            config,
            state,
            address_file,
        }
    }

    fn set_address(&self, address: &str) {
        fs::write(&self.address_file, format!("{address}\n")).unwrap();
    }

    fn once(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["once"];
        all.extend_from_slice(args);
        run_dynipd(&self.config, &all)
    }

    fn status(&self) -> serde_json::Value {
        let out = run_dynipd(&self.config, &["status", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn record_status(&self, name: &str) -> serde_json::Value {
        let all = self.status();
        all["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    }
}

fn dyndns2_provider(name: &str, url: &str, password: &str) -> String {
    format!(
        "[providers.{name}]\nkind = \"dyndns2\"\nurl = \"{url}\"\nusername = \"{USER}\"\npassword = \"{password}\"\n\n"
    )
}

fn record(name: &str, provider: &str) -> String {
    format!(
        "[[records]]\nname = \"{name}\"\nprovider = \"{provider}\"\nsource = \"cmd\"\nfamilies = [\"ipv4\"]\n\n"
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn once_publishes_a_change_and_a_second_once_sends_nothing() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Setup::new(
        "",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );

    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("{HOST}: published {V4}")),
        "{}",
        text(&out.stdout)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].query_param("hostname").as_deref(), Some(HOST));
    assert_eq!(requests[0].query_param("myip").as_deref(), Some(V4));
    assert_eq!(
        server
            .host(HOST)
            .unwrap()
            .ipv4
            .map(|a| a.to_string())
            .as_deref(),
        Some(V4)
    );

    // A new process with the same address: the state file says it is published.
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.count(), 1, "an unchanged address must send nothing");
    assert_eq!(s.record_status(HOST)["published"]["ipv4"], V4);

    // --force republishes even though nothing changed.
    let out = s.once(&["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.count(), 2);
}

#[test]
fn nochg_counts_as_published() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    server.set_address(HOST, V4.parse().unwrap());
    let s = Setup::new(
        "",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.count(), 1);
    assert_eq!(s.record_status(HOST)["published"]["ipv4"], V4);
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.count(), 1, "nochg must not be re-sent");
}

#[test]
fn daemon_sends_exactly_one_request_per_address_change() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Setup::new(
        "check-interval = \"1s\"",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    let daemon = Daemon::start(&s.config, "debug");
    server.wait_for_requests(1, Duration::from_secs(10));
    s.set_address(V4_NEW);
    let requests = server.wait_for_requests(2, Duration::from_secs(10));
    assert_eq!(requests[1].query_param("myip").as_deref(), Some(V4_NEW));
    // Several more check intervals with no change: nothing more is sent.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(
        server.count(),
        2,
        "unchanged address re-sent:\n{}",
        daemon.stderr()
    );
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(s.record_status(HOST)["published"]["ipv4"], V4_NEW);

    // Restart: the state says it is published; nothing is sent.
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.count(), 2);
}

#[test]
fn rejected_records_are_parked_across_restarts_until_retry_or_config_change() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["good.example.org", "bad.example.org"]);
    let url = server.update_url();
    let body = dyndns2_provider("right", &url, PASSWORD)
        + &dyndns2_provider("wrong", &url, "not-the-password")
        + &record("good.example.org", "right")
        + &record("bad.example.org", "wrong")
        + &record("unknown.example.org", "right");
    let s = Setup::new("", &body);
    // Records of one provider with the same address share a request (hostname=a,b).
    let count_for = |host: &str| {
        server
            .requests()
            .iter()
            .filter(|r| {
                r.query_param("hostname")
                    .unwrap_or_default()
                    .split(',')
                    .any(|h| h == host)
            })
            .count()
    };

    let out = s.once(&[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a parked record makes once exit 1"
    );
    let stderr = text(&out.stderr);
    for needle in [
        "ERROR",
        "bad.example.org",
        "badauth",
        "dynipd retry",
        "unknown.example.org",
        "nohost",
    ] {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
    }
    assert_eq!(count_for("good.example.org"), 1);
    assert_eq!(count_for("bad.example.org"), 1);
    assert_eq!(count_for("unknown.example.org"), 1);
    let bad = s.record_status("bad.example.org");
    assert!(bad["parked"].as_str().unwrap().contains("badauth"), "{bad}");

    // A restart (new process, new address): the parked records get nothing; the good one works.
    s.set_address(V4_NEW);
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        count_for("good.example.org"),
        2,
        "other records keep working"
    );
    assert_eq!(count_for("bad.example.org"), 1, "parked across restart");
    assert_eq!(count_for("unknown.example.org"), 1, "parked across restart");

    // `dynipd retry RECORD` with no daemon running releases it; the next run tries once more.
    let out = run_dynipd(&s.config, &["retry", "bad.example.org"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(count_for("bad.example.org"), 2);
    assert_eq!(count_for("unknown.example.org"), 1);

    // A daemon with the parked records: USR1 un-parks and retries once.
    let daemon = Daemon::start(&s.config, "info");
    daemon.wait_for_log("dynipd 0.1.0 started", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count_for("bad.example.org"), 2, "no request while parked");
    daemon.signal("USR1");
    daemon.wait_for_log_count("record released from parking", 1, Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_for("bad.example.org") < 3 {
        assert!(
            Instant::now() < deadline,
            "USR1 did not retry:\n{}",
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, _) = daemon.stop();
    assert_eq!(status.code(), Some(0));

    // Fixing the config (the password) un-parks without any command.
    let fixed = fs::read_to_string(&s.config)
        .unwrap()
        .replace("not-the-password", PASSWORD);
    fs::write(&s.config, fixed).unwrap();
    let out = s.once(&[]);
    assert_eq!(count_for("bad.example.org"), 4, "{}", text(&out.stderr));
    assert_eq!(
        s.record_status("bad.example.org")["published"]["ipv4"],
        V4_NEW
    );
}

#[test]
fn transient_failures_back_off_from_retry_min_and_cap_at_retry_max() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    server.set_mode(Mode::ServerError);
    let s = Setup::new(
        "check-interval = \"1h\"\nretry-min = \"500ms\"\nretry-max = \"2s\"",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    let mut daemon = Daemon::start(&s.config, "info");
    let requests = server.wait_for_requests(7, Duration::from_secs(20));
    assert!(daemon.is_running(), "the daemon keeps running");
    let gaps: Vec<Duration> = requests
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect();
    // Attempt 1 waits retry-min exactly; then [cap/2, cap] with the cap doubling to retry-max.
    for (i, gap) in gaps.iter().enumerate() {
        assert!(
            *gap >= Duration::from_millis(450),
            "gap {i} {gap:?} below retry-min: {gaps:?}"
        );
        assert!(
            *gap <= Duration::from_millis(2300),
            "gap {i} {gap:?} above retry-max: {gaps:?}"
        );
    }
    assert!(
        gaps[4..].iter().all(|g| *g >= Duration::from_millis(950)),
        "backoff grew: {gaps:?}"
    );
    assert!(
        daemon.stderr().contains("next_attempt="),
        "{}",
        daemon.stderr()
    );
    // Recovery: the next attempt succeeds and the log summarises the failures.
    server.set_mode(Mode::Normal);
    daemon.wait_for_log("record published after", Duration::from_secs(10));
    let (status, _) = daemon.stop();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn maintenance_911_waits_at_least_thirty_minutes() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    server.set_mode(Mode::Maintenance);
    let s = Setup::new(
        "",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    let before = std::time::SystemTime::now();
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(1));
    let st = s.record_status(HOST);
    assert_eq!(st["last-error"]["class"], "rate-limited", "{st}");
    let next = humantime::parse_rfc3339(st["next-attempt"].as_str().unwrap()).unwrap();
    assert!(
        next.duration_since(before).unwrap() >= Duration::from_secs(29 * 60),
        "{st}"
    );
    // A second run inside the wait sends nothing.
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        server.count(),
        1,
        "911 must not be retried before the wait is over"
    );
}

#[test]
fn connection_refused_and_timeout_are_retried_not_parked() {
    let refused = format!("http://127.0.0.1:{}/nic/update", free_port());
    let s = Setup::new(
        "request-timeout = \"1s\"",
        &(dyndns2_provider("dd", &refused, PASSWORD) + &record(HOST, "dd")),
    );
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(1));
    let st = s.record_status(HOST);
    assert_eq!(st["last-error"]["class"], "transient", "{st}");
    assert!(st["parked"].is_null());

    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    server.set_mode(Mode::Slow(Duration::from_secs(5)));
    let s = Setup::new(
        "request-timeout = \"1s\"",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    let started = Instant::now();
    let out = s.once(&[]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the request timeout bounds the run"
    );
    assert_eq!(out.status.code(), Some(1));
    let st = s.record_status(HOST);
    assert_eq!(st["last-error"]["class"], "unconfirmed", "{st}");
    assert!(
        st["published"]["ipv4"].is_null(),
        "an unconfirmed update is not published"
    );
}

#[test]
fn garbage_detection_publishes_nothing_and_keeps_the_published_address() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Setup::new(
        "",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    assert_eq!(s.once(&[]).status.code(), Some(0));
    assert_eq!(server.count(), 1);
    let garbage: [&[u8]; 6] = [
        b"<html><body>Current IP Address: 81.2.69.162</body></html>",
        b"81.2.69.162 81.2.69.163\n",
        b"2a02:898:1::7\n",
        b"10.1.2.3\n",
        b"",
        &[0xff, 0xfe, 0x00],
    ];
    for body in garbage {
        fs::write(&s.address_file, body).unwrap();
        let out = s.once(&[]);
        assert_eq!(
            server.count(),
            1,
            "garbage {body:?} published:\n{}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("WARN"),
            "detection failure is reported: {}",
            text(&out.stderr)
        );
        assert_eq!(
            s.record_status(HOST)["published"]["ipv4"],
            V4,
            "the published address is kept"
        );
    }
}

#[test]
fn corrupt_state_file_is_quarantined_and_the_daemon_starts() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Setup::new(
        "",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    assert_eq!(s.once(&[]).status.code(), Some(0));
    let state_file = s.state.join("state.json");
    let full = fs::read(&state_file).unwrap();
    fs::write(&state_file, &full[..full.len() / 2]).unwrap();
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("WARN") && stderr.contains("state.json.bad-"),
        "{stderr}"
    );
    let quarantined: Vec<_> = fs::read_dir(&s.state)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state.json.bad-")
        })
        .collect();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(
        s.record_status(HOST)["published"]["ipv4"],
        V4,
        "republished from empty state"
    );
}

#[test]
fn hup_with_a_broken_config_keeps_the_old_one_running() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Setup::new(
        "check-interval = \"1s\"",
        &(dyndns2_provider("dd", &server.update_url(), PASSWORD) + &record(HOST, "dd")),
    );
    let daemon = Daemon::start(&s.config, "info");
    server.wait_for_requests(1, Duration::from_secs(10));
    let good = fs::read_to_string(&s.config).unwrap();
    fs::write(
        &s.config,
        good.replace("kind = \"dyndns2\"", "kind = \"dyndns2\"\nbogus-key = 1"),
    )
    .unwrap();
    daemon.signal("HUP");
    daemon.wait_for_log("keeping the running one", Duration::from_secs(10));
    assert!(
        daemon.stderr().contains("bogus-key"),
        "the error names the key:\n{}",
        daemon.stderr()
    );
    s.set_address(V4_NEW);
    let requests = server.wait_for_requests(2, Duration::from_secs(10));
    assert_eq!(
        requests[1].query_param("myip").as_deref(),
        Some(V4_NEW),
        "the old config still runs"
    );
    // A good config reloads.
    fs::write(&s.config, good).unwrap();
    daemon.signal("HUP");
    daemon.wait_for_log("config reloaded", Duration::from_secs(10));
    let (status, _) = daemon.stop();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn secrets_never_appear_in_any_output_at_trace() {
    let server = Dyndns2Server::start(USER, PASSWORD, &["good.example.org", "bad.example.org"]);
    let url = server.update_url();
    let wrong = "Wr0ng-S3cret-zz";
    let body = dyndns2_provider("right", &url, PASSWORD)
        + &dyndns2_provider("wrong", &url, wrong)
        + &dyndns2_provider(
            "down",
            &format!("http://127.0.0.1:{}/nic/update", free_port()),
            wrong,
        )
        + &record("good.example.org", "right")
        + &record("bad.example.org", "wrong")
        + &record("down.example.org", "down");
    let s = Setup::new("", &body);
    let mut outputs = Vec::new();
    for args in [
        &["--log-level", "trace", "once", "--dry-run"][..],
        &["--log-level", "trace", "once"],
        &["status", "--json"],
        &["status"],
        &["check"],
    ] {
        let out = crate::support::dynipd()
            .arg("--config")
            .arg(&s.config)
            .args(args)
            .output()
            .unwrap();
        outputs.push(format!("{}{}", text(&out.stdout), text(&out.stderr)));
    }
    assert_eq!(server.count(), 2, "once: good published, bad parked");
    let daemon = Daemon::start(&s.config, "trace");
    daemon.wait_for_log("started", Duration::from_secs(10));
    daemon.signal("USR1");
    server.wait_for_requests(4, Duration::from_secs(10));
    let (_, log) = daemon.stop();
    outputs.push(log);
    outputs.push(fs::read_to_string(s.state.join("state.json")).unwrap());
    assert_no_secret(&outputs, &[PASSWORD, wrong], USER);
}

/// Fails if any secret appears raw, URL-encoded or inside a Basic-auth base64 blob.
fn assert_no_secret(outputs: &[String], secrets: &[&str], user: &str) {
    use base64::Engine as _;
    for secret in secrets {
        let forms = [
            secret.to_string(),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")),
            base64::engine::general_purpose::STANDARD.encode(secret),
        ];
        for (i, out) in outputs.iter().enumerate() {
            for form in &forms {
                assert!(
                    !out.contains(form.as_str()),
                    "output {i} contains a secret form {form:?}:\n{out}"
                );
            }
        }
    }
}

#[test]
fn retry_command_reaches_a_running_daemon() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Setup::new(
        "",
        &(dyndns2_provider("dd", &server.update_url(), "wrong-password") + &record(HOST, "dd")),
    );
    let daemon = Daemon::start(&s.config, "info");
    daemon.wait_for_log("badauth", Duration::from_secs(10));
    assert_eq!(server.count(), 1);
    let out = run_dynipd(&s.config, &["retry", HOST]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stdout).contains("asked the running daemon"),
        "{}",
        text(&out.stdout)
    );
    server.wait_for_requests(2, Duration::from_secs(10));
    daemon.wait_for_log_count("badauth", 2, Duration::from_secs(10));
    let (status, _) = daemon.stop();
    assert_eq!(status.code(), Some(0));
    let out = run_dynipd(&s.config, &["retry", "no-such.example.org"]);
    assert_eq!(
        out.status.code(),
        Some(64),
        "unknown record is a usage error"
    );
}

//! A wrong wall clock at start (#9; DESIGN.md "State": a Pi without RTC boots in the past, a
//! bad NTP answer puts it in the future). The daemon runs under libfaketime, ten years off
//! either way: stored deadlines are clamped, so nothing waits for years, and nothing that is
//! published is sent again (except the one refresh a ten-year jump forward makes due).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::{Dyndns2Server, Mode};
use crate::support::require_tool;
use crate::support::scenario::{Scenario, V4_NEW, dyndns2_provider, record, text};

const USER: &str = "clock-user";
const PASSWORD: &str = "clock-pass";
const HOST: &str = "home.example.org";

/// libfaketime's multi-threaded library, wherever this distribution puts it.
fn libfaketime() -> Option<PathBuf> {
    let dirs = std::fs::read_dir("/usr/lib").ok()?;
    dirs.filter_map(Result::ok)
        .map(|d| d.path().join("faketime/libfaketimeMT.so.1"))
        .chain([PathBuf::from("/usr/lib/faketime/libfaketimeMT.so.1")])
        .find(|p| p.exists())
}

/// `dynipd run` with the wall clock `offset` off (`"-10y"`); timers (monotonic) stay true.
fn daemon_at(s: &Scenario, lib: &PathBuf, offset: &str) -> Daemon {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dynipd"));
    cmd.arg("--config")
        .arg(&s.config)
        .args(["--log-level", "info", "run"])
        .env("LD_PRELOAD", lib)
        .env("FAKETIME", offset)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("DONT_FAKE_MONOTONIC", "1");
    Daemon::spawn_command(cmd)
}

/// Asserts that no request arrives for `quiet` (the daemon is idle by then).
fn assert_quiet(server: &Dyndns2Server, quiet: Duration, daemon: &Daemon, what: &str) {
    let before = server.count();
    std::thread::sleep(quiet);
    assert_eq!(server.count(), before, "{what}:\n{}", daemon.stderr());
}

// See: #9
#[test]
fn issue_9_a_clock_ten_years_off_at_start_neither_resends_nor_postpones_for_years() {
    if !require_tool("faketime") {
        return;
    }
    let Some(lib) = libfaketime() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "libfaketimeMT.so.1 not found (CI=true)"
        );
        eprintln!("SKIPPED: libfaketimeMT.so.1 not found");
        return;
    };
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = Scenario::new(
        "check-interval = \"1s\"\nretry-min = \"1s\"\nretry-max = \"3s\"",
        &(dyndns2_provider("dd", &server.update_url(), USER, PASSWORD, "") + &record(HOST, "dd")),
    );
    // The true clock: published, then a 911 makes the next attempt wait 30 minutes.
    assert_eq!(s.once(&[]).status.code(), Some(0));
    server.set_mode(Mode::Maintenance);
    s.set_address(V4_NEW);
    assert_eq!(s.once(&[]).status.code(), Some(1));
    assert_eq!(server.count(), 2);
    let wait = s.record_status(HOST)["next-attempt"].clone();
    assert!(wait.is_string(), "{}", s.record_status(HOST));
    server.set_mode(Mode::Normal);

    // Ten years in the past: the stored 30-minute wait lies 10 years ahead; clamped to
    // retry-max, the attempt comes within seconds.
    let daemon = daemon_at(&s, &lib, "-10y");
    let started = Instant::now();
    let requests = server.wait_for_requests(3, Duration::from_secs(15));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests[2].query_param("myip").as_deref(), Some(V4_NEW));
    daemon.wait_for_log("record published", Duration::from_secs(10));
    assert_quiet(
        &server,
        Duration::from_millis(2500),
        &daemon,
        "re-sent in the past",
    );
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");
    let past = s.record_status(HOST);
    assert!(
        past["published-at"].as_str().unwrap().starts_with("20"),
        "{past}"
    );

    // Ten years in the future: the publish of "10 years ago" is 20 years old, so the refresh
    // (every 25 days) is due: exactly one request, then nothing.
    let daemon = daemon_at(&s, &lib, "+10y");
    let requests = server.wait_for_requests(4, Duration::from_secs(15));
    assert_eq!(requests[3].query_param("myip").as_deref(), Some(V4_NEW));
    daemon.wait_for_log("reason=\"refresh\"", Duration::from_secs(10));
    assert_quiet(
        &server,
        Duration::from_millis(2500),
        &daemon,
        "re-sent in the future",
    );
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");

    // Back to the true clock: the publish time "10 years ahead" is unknown, not a reason to
    // send; and no deadline from the future holds anything back.
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.count(), 4, "nothing sent twice");
    let now = s.record_status(HOST);
    assert_eq!(now["published"]["ipv4"], V4_NEW, "{now}");
    assert!(now["next-attempt"].is_null(), "{now}");
    assert_eq!(now["attempts"], 0, "{now}");
}

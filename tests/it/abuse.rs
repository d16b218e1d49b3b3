//! The abuse guard end to end (#9): a flapping address against a provider with
//! `max-requests-per-hour = 3` gets exactly three requests, an ERROR naming the key, and the
//! count survives a restart and `dynipd retry`.

use std::time::Duration;

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::Dyndns2Server;
use crate::support::run_dynipd;
use crate::support::scenario::{Scenario, dyndns2_provider, record};

const USER: &str = "abuse-user";
const PASSWORD: &str = "abuse-pass";
const HOST: &str = "home.example.org";

// See: #9
#[test]
fn issue_9_max_requests_per_hour_caps_a_flapping_address_across_restarts() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let provider = dyndns2_provider(
        "dd",
        &server.update_url(),
        USER,
        PASSWORD,
        "max-requests-per-hour = 3",
    );
    let s = Scenario::new("check-interval = \"1s\"", &(provider + &record(HOST, "dd")));
    let daemon = Daemon::start(&s.config, "info");
    server.wait_for_requests(1, Duration::from_secs(10));
    for (n, addr) in ["81.2.69.171", "81.2.69.172"].into_iter().enumerate() {
        s.set_address(addr);
        server.wait_for_requests(n + 2, Duration::from_secs(10));
    }
    s.set_address("81.2.69.173");
    daemon.wait_for_log("max-requests-per-hour", Duration::from_secs(10));
    let log = daemon.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("max-requests-per-hour"))
        .unwrap();
    assert!(
        line.contains("ERROR")
            && line.contains("3 requests in the last hour")
            && line.contains(HOST),
        "{line}"
    );
    // More flapping: still nothing sent, and the ERROR is not repeated.
    s.set_address("81.2.69.174");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(server.count(), 3, "{}", daemon.stderr());
    let errors = daemon
        .stderr()
        .lines()
        .filter(|l| l.contains("max-requests-per-hour"))
        .count();
    assert_eq!(errors, 1, "reported once:\n{}", daemon.stderr());
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");

    // The window is in the state file...
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.state_file()).unwrap()).unwrap();
    assert_eq!(
        state["providers"]["dd"]["requests"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{state}"
    );
    assert_eq!(state["version"], 1);
    // ...so neither a restart nor `dynipd retry` resets it.
    let out = run_dynipd(&s.config, &["retry"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let daemon = Daemon::start(&s.config, "info");
    daemon.wait_for_log("max-requests-per-hour", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.count(), 3, "a restart must not reset the cap");
    let (status, _) = daemon.stop();
    assert_eq!(status.code(), Some(0));
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(1), "once reports the held record");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("next attempt"), "{stdout}");
    assert_eq!(server.count(), 3);
}

//! End to end with a real `named`: the `dynipd` binary publishing through the rfc2136
//! provider, as `once` and as the daemon, and a restart that sends nothing. See: #4.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::daemon::Daemon;
use crate::support::named::Named;
use crate::support::{run_dynipd, temp_dir};

const NAME: &str = "home.example.test";

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    address_file: PathBuf,
}

fn setup(named: &Named, key: &str, secret: &str, daemon: &str) -> Setup {
    let dir = temp_dir();
    let address_file = dir.path().join("address");
    fs::write(&address_file, "81.2.69.160\n2a02:898:1::7\n").unwrap();
    let k = named.key(key);
    let config = dir.path().join("dynipd.toml");
    fs::write(
        &config,
        format!(
            "[daemon]\nstate-dir = \"{state}\"\n{daemon}\n\n\
             [sources.cmd]\nkind = \"command\"\ncommand = [\"/bin/cat\", \"{addr}\"]\n\n\
             [providers.bind]\nkind = \"rfc2136\"\nserver = \"{server}\"\nzone = \"example.test\"\n\
             key-name = \"{name}\"\nkey-algorithm = \"{alg}\"\nkey-secret = \"{secret}\"\n\n\
             [[records]]\nname = \"{NAME}\"\nprovider = \"bind\"\nsource = \"cmd\"\nttl = \"120s\"\n",
            state = dir.path().join("state").display(),
            addr = address_file.display(),
            server = named.addr(),
            name = k.name,
            alg = k.algorithm,
        ),
    )
    .unwrap();
    let mut perms = fs::metadata(&config).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    fs::set_permissions(&config, perms).unwrap();
    Setup {
        _dir: dir,
        config,
        address_file,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn once_and_daemon_publish_through_named_and_a_restart_sends_nothing() {
    let Some(named) = Named::new() else { return };
    let secret = named.key("dynipd-sha256").base64();
    let s = setup(&named, "dynipd-sha256", &secret, "check-interval = \"1s\"");
    let serial = named.soa_serial("example.test");

    let out = run_dynipd(&s.config, &["once"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(named.query(NAME, "A"), vec!["81.2.69.160"]);
    assert_eq!(named.query(NAME, "AAAA"), vec!["2a02:898:1::7"]);
    assert_eq!(
        named.soa_serial("example.test"),
        serial + 1,
        "A and AAAA in one message"
    );

    // Unchanged: a new process sends no UPDATE.
    let out = run_dynipd(&s.config, &["once"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(named.soa_serial("example.test"), serial + 1);

    // The daemon: an address change reaches named; a restart afterwards sends nothing.
    let daemon = Daemon::start(&s.config, "info");
    daemon.wait_for_log("started", Duration::from_secs(10));
    fs::write(&s.address_file, "81.2.69.161\n2a02:898:1::7\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while named.query(NAME, "A") != vec!["81.2.69.161"] {
        assert!(
            Instant::now() < deadline,
            "daemon did not publish:\n{}",
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = daemon.stop();
    assert_eq!(status.code(), Some(0));
    let after = named.soa_serial("example.test");
    assert_eq!(after, serial + 2);
    let daemon = Daemon::start(&s.config, "info");
    daemon.wait_for_log("started", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(2500));
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        named.soa_serial("example.test"),
        after,
        "restart re-sent an update:\n{log}"
    );
}

#[test]
fn wrong_tsig_secret_parks_the_record_with_the_next_step() {
    let Some(named) = Named::new() else { return };
    let wrong = "d3JvbmctdHNpZy1zZWNyZXQtZm9yLWR5bmlwZA==";
    let s = setup(&named, "dynipd-sha256", wrong, "");
    let out = run_dynipd(&s.config, &["--log-level", "trace", "once"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ERROR") && stderr.contains("check key-name, key-algorithm and secret"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(wrong) && !text(&out.stdout).contains(wrong),
        "secret leaked"
    );
    let status = run_dynipd(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(
        v["records"][0]["parked"]
            .as_str()
            .unwrap()
            .contains("BADSIG"),
        "{v}"
    );
    // Parked: the next run sends nothing (named logs no further TSIG failure).
    let failures = named.log().matches("BADSIG").count();
    let out = run_dynipd(&s.config, &["once"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(named.log().matches("BADSIG").count(), failures);
}

#[test]
fn issue_6_delete_removes_the_rrsets_and_dry_run_sends_nothing() {
    let Some(named) = Named::new() else { return };
    let secret = named.key("dynipd-sha256").base64();
    let s = setup(&named, "dynipd-sha256", &secret, "");
    assert_eq!(run_dynipd(&s.config, &["once"]).status.code(), Some(0));
    assert_eq!(named.query(NAME, "A"), vec!["81.2.69.160"]);
    let serial = named.soa_serial("example.test");

    let out = run_dynipd(&s.config, &["delete", NAME, "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("update delete {NAME}. A")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("update delete {NAME}. AAAA")),
        "{stdout}"
    );
    assert!(!stdout.contains(&secret), "secret in the dry run");
    assert_eq!(
        named.soa_serial("example.test"),
        serial,
        "a dry run sends nothing"
    );

    let out = run_dynipd(&s.config, &["delete", NAME]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(named.query(NAME, "A").is_empty() && named.query(NAME, "AAAA").is_empty());
    assert_eq!(named.soa_serial("example.test"), serial + 1, "one message");
}

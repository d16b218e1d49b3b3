//! The command line as an operator meets it: `check`, usage errors, the quickstart dry run.

use std::fs;

use crate::support::{dynipd, run_dynipd, temp_dir};

#[test]
fn usage_error_exits_64() {
    let out = dynipd().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    let out = dynipd().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}

#[test]
fn help_and_version_exit_0() {
    let out = dynipd().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("dynipd "));
}

#[test]
fn check_accepts_the_shipped_example_config() {
    let out = run_dynipd("packaging/dynipd.toml".as_ref(), &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("packaging/dynipd.toml: ok"));
}

#[test]
fn check_reports_every_error_with_position_and_exits_78() {
    let dir = temp_dir();
    let cfg = dir.path().join("bad.toml");
    fs::write(
        &cfg,
        "[daemon]\nretry-min = \"soon\"\n\n[sources.lan]\nkind = \"interface\"\n\n[[records]]\nname = \"home.example.org\"\nprovider = \"nope\"\nsource = \"lan\"\n",
    )
    .unwrap();
    let out = run_dynipd(&cfg, &["check"]);
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = cfg.display().to_string();
    assert!(
        stderr.contains(&format!("{path}:2:")),
        "duration error located: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{path}:9:")),
        "provider error located: {stderr}"
    );
    assert!(stderr.contains('^'), "caret under the culprit: {stderr}");
}

#[test]
fn bad_config_exits_78_before_touching_state() {
    let dir = temp_dir();
    let state = dir.path().join("state");
    let cfg = dir.path().join("bad.toml");
    fs::write(
        &cfg,
        format!("[daemon]\nstate-dir = \"{}\"\nbogus = 1\n", state.display()),
    )
    .unwrap();
    for args in [&["run"][..], &["once"], &["status"], &["retry"]] {
        let out = run_dynipd(&cfg, args);
        assert_eq!(out.status.code(), Some(78), "{args:?}: {out:?}");
        assert!(
            !state.exists(),
            "{args:?} created the state dir despite a bad config"
        );
    }
}

#[test]
fn quickstart_dry_run_shows_candidates_and_writes_nothing() {
    let dir = temp_dir();
    let state = dir.path().join("state");
    let original = fs::read_to_string("examples/quickstart.toml").unwrap();
    let cfg = dir.path().join("quickstart.toml");
    let rewritten: String = original
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("state-dir") {
                format!("state-dir = \"{}\"", state.display())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(&cfg, rewritten).unwrap();
    let out = run_dynipd(&cfg, &["once", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    assert!(stdout.contains("source \""), "candidates listed: {stdout}");
    assert!(
        stdout.contains("loopback address"),
        "loopback shown as rejected with a reason: {stdout}"
    );
    if out.status.code() == Some(0) {
        assert!(stdout.contains("would send via provider"), "{stdout}");
        assert!(
            stdout.contains("GET http://127.0.0.1"),
            "exact request printed: {stdout}"
        );
    }
    assert!(!state.exists(), "a dry run must not create state");
}

#[test]
fn unusable_state_dir_exits_73() {
    let dir = temp_dir();
    let not_a_dir = dir.path().join("file");
    fs::write(&not_a_dir, "x").unwrap();
    let cfg = dir.path().join("c.toml");
    fs::write(
        &cfg,
        format!("[daemon]\nstate-dir = \"{}\"\n", not_a_dir.display()),
    )
    .unwrap();
    for args in [&["run"][..], &["once"]] {
        let out = run_dynipd(&cfg, args);
        assert_eq!(out.status.code(), Some(73), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("state directory"),
            "{out:?}"
        );
    }
}

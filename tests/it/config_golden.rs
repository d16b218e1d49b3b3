//! Golden tests for config diagnostics: each `tests/data/config/*.toml` is loaded and what
//! `dynipd check` would print (`format!("{errors}\n")`, or the warnings of a valid config) is
//! compared with the `.stderr` file beside it. `UPDATE_GOLDEN=1 cargo test` rewrites them.
//!
//! Paths are relative to the repository root (cargo runs integration tests there), so the
//! rendered `path:line:col` is stable.

use std::path::{Path, PathBuf};

const DIR: &str = "tests/data/config";

#[expect(
    clippy::expect_used,
    reason = "a test helper: a missing data dir fails the test"
)]
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("read tests/data/config")
        .map(|e| Path::new(DIR).join(e.expect("dir entry").file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    cases
}

/// What `dynipd check` prints to stderr for `path`.
fn check_output(path: &Path) -> String {
    match dynipd::config::load(path) {
        Err(errors) => format!("{errors}\n"),
        Ok(config) => config.warnings.iter().map(|w| format!("{w}\n")).collect(),
    }
}

#[test]
fn config_diagnostics_match_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 15, "expected the golden configs in {DIR}");
    for case in cases {
        let actual = check_output(&case);
        // The secret the golden configs use; no diagnostic may show it.
        assert!(
            !actual.contains("hunter2"),
            "{}: secret shown:\n{actual}",
            case.display()
        );
        let golden = case.with_extension("stderr");
        if update {
            std::fs::write(&golden, &actual).expect("write golden file");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}: output differs\n--- expected\n{expected}--- actual\n{actual}",
                case.display()
            )),
            Err(e) => failures.push(format!(
                "{}: {e}; run UPDATE_GOLDEN=1 cargo test to create it",
                golden.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn broken_configs_fail_and_ok_configs_load() {
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let result = dynipd::config::load(&case);
        assert_eq!(
            result.is_ok(),
            name.starts_with("ok-"),
            "{name}: only ok-*.toml should load"
        );
    }
}

#[test]
fn every_error_in_many_errors_is_reported() {
    let errors = dynipd::config::load(Path::new("tests/data/config/many-errors.toml")).unwrap_err();
    let text = errors.to_string();
    for key in [
        "daemon.retry-max",
        "sources.lan.ipv6",
        "sources.web.quorum",
        "providers.mydyndns.dual-stack",
        "providers.mydyndns.password-file",
        "providers.custom.method",
        "providers.custom.url",
        "records[0].provider",
        "records[0].ttl",
        "records[1].families[1]",
        "records[2].unknown",
    ] {
        assert!(
            text.contains(&format!(": {key}: ")),
            "{key} not reported in:\n{text}"
        );
    }
}

#[test]
fn shipped_configs_validate() {
    for path in ["packaging/dynipd.toml", "examples/quickstart.toml"] {
        if let Err(errors) = dynipd::config::load(Path::new(path)) {
            panic!("{path} does not validate:\n{errors}");
        }
    }
}

#[test]
fn quickstart_has_a_record_and_stays_off_the_network() {
    let config = dynipd::config::load(Path::new("examples/quickstart.toml")).unwrap();
    assert_eq!(config.records.len(), 1);
    assert!(
        config
            .daemon
            .state_dir
            .starts_with("/tmp/dynipd-quickstart")
    );
}

#[test]
fn unreadable_file_is_path_colon_message() {
    let errors =
        dynipd::config::load(Path::new("tests/data/config/does-not-exist.toml")).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "tests/data/config/does-not-exist.toml: cannot read the config file: No such file or directory (os error 2)"
    );
}

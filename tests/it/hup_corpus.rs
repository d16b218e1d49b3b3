//! HUP with every broken config of the golden corpus (#9): one daemon, one reload per broken
//! file; each is refused with its diagnostics ("keeping the running one") and the old config
//! keeps publishing.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::Dyndns2Server;
use crate::support::scenario::{Scenario, dyndns2_provider, record};

const DIR: &str = "tests/data/config";
const HOST: &str = "home.example.org";

fn broken_configs() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(DIR)
        .unwrap()
        .map(|e| Path::new(DIR).join(e.unwrap().file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("ok-"))
        .collect();
    cases.sort();
    cases
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

// See: #9
#[test]
fn issue_9_hup_with_each_broken_config_keeps_the_running_one() {
    let server = Dyndns2Server::start("u", "hup-pass", &[HOST]);
    let s = Scenario::new(
        "check-interval = \"1s\"",
        &(dyndns2_provider("dd", &server.update_url(), "u", "hup-pass", "") + &record(HOST, "dd")),
    );
    // Relative secret paths in the corpus resolve next to the config, as in tests/data/config.
    copy_dir(
        &Path::new(DIR).join("secrets"),
        &s.dir.path().join("secrets"),
    );
    let good = fs::read_to_string(&s.config).unwrap();
    let daemon = Daemon::start(&s.config, "info");
    server.wait_for_requests(1, Duration::from_secs(10));

    let cases = broken_configs();
    assert!(cases.len() >= 30, "only {} broken configs", cases.len());
    let config_path = s.config.display().to_string();
    let dir_prefix = format!("{}/", s.dir.path().display());
    for (i, case) in cases.iter().enumerate() {
        fs::copy(case, &s.config).unwrap();
        daemon.signal("HUP");
        daemon.wait_for_log_count("keeping the running one", i + 1, Duration::from_secs(10));
        // The log carries the same diagnostics `dynipd check` prints (golden file), for this
        // config's path.
        let golden = fs::read_to_string(case.with_extension("stderr")).unwrap();
        let first = golden
            .lines()
            .next()
            .unwrap()
            .replace(&case.display().to_string(), &config_path)
            .replace(&format!("{DIR}/"), &dir_prefix);
        assert!(
            daemon.stderr().contains(&first),
            "{}: {first:?} not in the log:\n{}",
            case.display(),
            daemon.stderr()
        );
    }
    // A config file that vanished is refused too.
    fs::remove_file(&s.config).unwrap();
    daemon.signal("HUP");
    daemon.wait_for_log_count(
        "keeping the running one",
        cases.len() + 1,
        Duration::from_secs(10),
    );
    assert!(daemon.stderr().contains("cannot read the config file"));

    // The old config still runs: a change is published through it.
    s.set_address("81.2.69.190");
    let requests = server.wait_for_requests(2, Duration::from_secs(10));
    assert_eq!(
        requests[1].query_param("myip").as_deref(),
        Some("81.2.69.190")
    );
    fs::write(&s.config, good).unwrap();
    daemon.signal("HUP");
    daemon.wait_for_log("config reloaded", Duration::from_secs(10));
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    eprintln!(
        "HUP corpus: {} broken configs refused, the old config kept publishing",
        cases.len() + 1
    );
}

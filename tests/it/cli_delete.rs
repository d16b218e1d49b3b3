//! `dynipd delete RECORD [--dry-run]` as an operator runs it, against the dyndns-server
//! imitation: the dry run prints the exact request and sends and writes nothing; a real
//! delete removes both families and makes the next round publish again; refusals and
//! unsupported kinds exit with the right code, never showing the secret.

use std::fs;

use crate::provider_dyndns_server::binary_config;
use crate::support::dyndns_server::{DyndnsServer, Records, SECRET, ZONE};
use crate::support::{run_dynipd, temp_dir};

const NAME: &str = "home.dyndns.example.test";

fn record(name: &str, provider: &str) -> String {
    format!("[[records]]\nname = \"{name}\"\nprovider = \"{provider}\"\nsource = \"script\"\n\n")
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn delete_dry_run_prints_the_request_and_sends_and_writes_nothing() {
    // See: #6
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    server.set_record(NAME, "81.2.69.160".parse().unwrap());
    let dir = temp_dir();
    let cfg = dir.path().join("dynipd.toml");
    let config = binary_config(
        dir.path(),
        &server.base_url(),
        SECRET,
        &record(NAME, "selfhosted"),
    );
    fs::write(&cfg, config).unwrap();
    let out = run_dynipd(&cfg, &["delete", NAME, "--dry-run"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        format!(
            "would send via provider \"selfhosted\" to delete {NAME}:\n  GET {}/delete-by-path/***/{NAME}\n      User-Agent: {}\n",
            server.base_url(),
            dynipd::USER_AGENT
        )
    );
    assert!(!format!("{stdout}{stderr}").contains(SECRET));
    assert_eq!(server.count(), 0, "a dry run sends nothing");
    assert!(
        !dir.path().join("state").exists(),
        "a dry run writes nothing"
    );
    assert!(server.records(NAME).a.is_some());
}

#[test]
fn delete_removes_both_families_and_the_next_round_publishes_again() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let dir = temp_dir();
    let cfg = dir.path().join("dynipd.toml");
    let config = binary_config(
        dir.path(),
        &server.base_url(),
        SECRET,
        &record(NAME, "selfhosted"),
    );
    fs::write(&cfg, config).unwrap();
    let published = Records {
        a: Some("81.2.69.160".parse().unwrap()),
        aaaa: Some("2a02:898:1::7".parse().unwrap()),
        ttl: Some(300),
    };
    assert_eq!(run_dynipd(&cfg, &["once"]).status.code(), Some(0));
    assert_eq!(server.records(NAME), published);

    let out = run_dynipd(&cfg, &["delete", NAME]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        format!("{NAME}: deleted its A and AAAA records via provider \"selfhosted\"\n")
    );
    assert_eq!(server.records(NAME), Records::default());
    assert_eq!(
        server.requests()[1].target,
        format!("/delete-by-path/{SECRET}/{NAME}")
    );

    // The state no longer claims the addresses are published: the next round sends them.
    assert_eq!(run_dynipd(&cfg, &["once"]).status.code(), Some(0));
    assert_eq!(server.count(), 3);
    assert_eq!(server.records(NAME), published);

    server.set_record(NAME, "81.2.69.160".parse().unwrap());
    let out = run_dynipd(&cfg, &["delete", NAME]);
    assert_eq!(out.status.code(), Some(0));
    let out = run_dynipd(&cfg, &["delete", NAME]);
    assert_eq!(
        text(&out).0,
        format!(
            "{NAME}: nothing to delete: provider \"selfhosted\" has no A or AAAA record at that name\n"
        )
    );
}

#[test]
fn a_refused_delete_exits_1_without_the_secret() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let dir = temp_dir();
    let cfg = dir.path().join("dynipd.toml");
    let config = binary_config(
        dir.path(),
        &server.base_url(),
        "WrongSecret9",
        &record(NAME, "selfhosted"),
    );
    fs::write(&cfg, config).unwrap();
    let out = run_dynipd(&cfg, &["delete", NAME]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "dynipd: record \"{NAME}\" was not deleted (rejected): dyndns-server provider \
             \"selfhosted\" answered HTTP 456 \"PARAMETER_ERROR: You specified a wrong secret \
             key.\" for {NAME}: the secret is wrong"
        )),
        "{stderr}"
    );
    assert!(!format!("{stdout}{stderr}").contains("WrongSecret9"));
}

#[test]
fn unknown_records_and_kinds_that_cannot_delete_are_usage_errors() {
    let server = DyndnsServer::start(SECRET, &[ZONE]);
    let dir = temp_dir();
    let cfg = dir.path().join("dynipd.toml");
    let records = format!(
        "{}[providers.custom]\nkind = \"http\"\nurl = \"{}/u?ip={{ipv4}}\"\n\n{}",
        record(NAME, "selfhosted"),
        server.base_url(),
        record("v4.example.org", "custom")
    );
    fs::write(
        &cfg,
        binary_config(dir.path(), &server.base_url(), SECRET, &records),
    )
    .unwrap();
    let out = run_dynipd(&cfg, &["delete", "nope.example.org", "--dry-run"]);
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        text(&out).1,
        format!(
            "dynipd: no record named \"nope.example.org\" (configured: \"{NAME}\", \
             \"v4.example.org\")\n"
        )
    );
    let out = run_dynipd(&cfg, &["delete", "v4.example.org"]);
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        text(&out).1,
        "dynipd: cannot delete record \"v4.example.org\" via provider \"custom\": provider kind \
         \"http\" cannot delete records (only \"dyndns-server\" and \"rfc2136\" can); delete \
         the record in the provider's own interface\n"
    );
    assert_eq!(server.count(), 0);
}

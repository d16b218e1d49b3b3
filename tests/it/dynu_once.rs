//! `dynipd once` end to end against the loopback Dynu server: a `command` source, the domain id
//! kept in the state file across processes, and no secret in stdout, stderr or the state file
//! at `--log-level trace`.
//! See: #5

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::support::dynu_server::{DynuServer, Logins};
use crate::support::{run_dynipd, temp_dir};

const API_KEY: &str = "Ak-5ecret-KEY-0001";
const CLIENT_ID: &str = "0a1b2c3d-client";
const CLIENT_SECRET: &str = "Cl-5ecret-SECRET-0002";
const HOME: &str = "home.example.org";

fn logins() -> Logins {
    Logins {
        api_key: API_KEY.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        username: "me".into(),
        password: "Pw-5ecret-PASS-0003".into(),
    }
}

/// Writes the config (credentials in `*-file` keys) and the address file; returns the config.
fn setup(dir: &Path, server: &DynuServer, login: &str) -> std::path::PathBuf {
    fs::write(dir.join("addr"), "81.2.69.160\n").unwrap();
    fs::write(dir.join("dynu.key"), format!("{API_KEY}\n")).unwrap();
    fs::write(dir.join("dynu.secret"), format!("{CLIENT_SECRET}\n")).unwrap();
    let config = format!(
        r#"[daemon]
state-dir = "{dir}/state"

[sources.script]
kind = "command"
command = ["/bin/cat", "{dir}/addr"]

[providers.dynu]
kind = "dynu"
base-url = "{base}"
{login}

[[records]]
name = "{HOME}"
provider = "dynu"
source = "script"
families = ["ipv4"]
"#,
        dir = dir.display(),
        base = server.base_url(),
    );
    let path = dir.join("dynipd.toml");
    fs::write(&path, config).unwrap();
    path
}

fn once(config: &Path) -> Output {
    run_dynipd(config, &["--log-level", "trace", "once"])
}

/// Nothing the process wrote, nor the state file, holds a credential or the token.
fn assert_secret_free(dir: &Path, out: &Output) {
    let state = fs::read_to_string(dir.join("state/state.json")).unwrap_or_default();
    let basic = DynuServer::basic(CLIENT_ID, CLIENT_SECRET);
    for (what, text) in [
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
        ("state file", state),
    ] {
        for secret in [
            API_KEY,
            CLIENT_SECRET,
            "5ecret",
            basic.trim_start_matches("Basic "),
            "b1946ac92492d2347c6235b4d26111",
        ] {
            assert!(!text.contains(secret), "{what} holds {secret}:\n{text}");
        }
    }
}

// See: #5 (the request counts are the contract)
#[test]
fn issue_5_once_twice_the_cached_id_in_the_state_file_saves_the_lookup() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, Some("192.0.2.1"), None);
    let dir = temp_dir();
    let config = setup(dir.path(), &server, r#"api-key-file = "dynu.key""#);

    let out = once(&config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        server.calls(),
        ["GET /v2/dns", &format!("POST /v2/dns/{id}")]
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("home.example.org: published 81.2.69.160")
    );
    assert_secret_free(dir.path(), &out);
    let state = fs::read_to_string(dir.path().join("state/state.json")).unwrap();
    assert!(
        state.contains(&format!("\"domain-id\": \"{id}\"")),
        "{state}"
    );

    // A new process, a new address: one request, thanks to the id in the state file.
    fs::write(dir.path().join("addr"), "81.2.69.161\n").unwrap();
    let out = once(&config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(server.count(), 3);
    assert_eq!(server.calls()[2], format!("POST /v2/dns/{id}"));
    assert_eq!(server.domain(id)["ipv4Address"], "81.2.69.161");
    assert_secret_free(dir.path(), &out);

    // Unchanged: nothing is sent.
    let out = once(&config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(server.count(), 3);
}

#[test]
fn once_twice_with_oauth_the_token_is_never_stored() {
    let server = DynuServer::start(logins());
    let id = server.add_domain(HOME, None, None);
    let dir = temp_dir();
    let login = format!("client-id = \"{CLIENT_ID}\"\nclient-secret-file = \"dynu.secret\"");
    let config = setup(dir.path(), &server, &login);

    let out = once(&config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        server.calls(),
        [
            "GET /v2/oauth2/token",
            "GET /v2/dns",
            &format!("POST /v2/dns/{id}")
        ]
    );
    assert_secret_free(dir.path(), &out);

    // The bearer token is a credential: it lives in memory only, so a new process asks for
    // one; the domain id comes from the state file, so there is no lookup.
    fs::write(dir.path().join("addr"), "81.2.69.161\n").unwrap();
    let out = once(&config);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        server.calls()[3..],
        ["GET /v2/oauth2/token", &format!("POST /v2/dns/{id}")]
    );
    assert_secret_free(dir.path(), &out);
}

#[test]
fn once_with_a_refused_key_parks_and_says_what_to_fix() {
    let server = DynuServer::start(logins());
    server.add_domain(HOME, None, None);
    let dir = temp_dir();
    let config = setup(dir.path(), &server, r#"api-key = "Wrong-5ecret-key""#);
    let out = once(&config);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("home.example.org: parked:")
            && stdout.contains("fix providers.dynu.api-key(-file)"),
        "{stdout}"
    );
    assert_eq!(server.count(), 1);
    assert_secret_free(dir.path(), &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Wrong-5ecret-key"), "{stderr}");
}

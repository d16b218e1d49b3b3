//! Unit tests of loading: secrets, fingerprints, warnings, the shipped example.
// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::config::{ProviderConfig, SourceConfig};
use crate::core::Families;

const DYNDNS2: &str = r#"
[sources.lan]
kind = "interface"

[providers.p]
kind = "dyndns2"
url = "https://members.dyndns.org/nic/update"
username = "me"
SECRET

[[records]]
name = "home.example.org"
provider = "p"
source = "lan"
"#;

/// Writes `text` as `dynipd.toml` (mode 0600) in a fresh temp dir.
fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dynipd.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    (dir, path)
}

fn with_secret(secret_line: &str) -> String {
    DYNDNS2.replace("SECRET", secret_line)
}

fn password(config: &Config) -> String {
    match &config.providers["p"] {
        ProviderConfig::Dyndns2(d) => d.password.expose().clone(),
        _ => panic!("not dyndns2"),
    }
}

#[test]
fn secret_file_relative_to_config_first_line_trimmed() {
    let (dir, path) = write_config(&with_secret(r#"password-file = "pass.txt""#));
    fs::write(dir.path().join("pass.txt"), "  s3cret \nignored\n").unwrap();
    let config = load_with(&path, None).unwrap();
    assert_eq!(password(&config), "s3cret");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn secret_credential_reads_credentials_directory() {
    let (dir, path) = write_config(&with_secret(r#"password-credential = "dyndns""#));
    let creds = dir.path().join("creds");
    fs::create_dir(&creds).unwrap();
    fs::write(creds.join("dyndns"), "from-systemd\n").unwrap();
    let config = load_with(&path, Some(creds)).unwrap();
    assert_eq!(password(&config), "from-systemd");
}

#[test]
fn secret_credential_without_credentials_directory_is_an_error() {
    let (_dir, path) = write_config(&with_secret(r#"password-credential = "dyndns""#));
    let errors = load_with(&path, None).unwrap_err().to_string();
    assert!(
        errors.contains("providers.p.password-credential: $CREDENTIALS_DIRECTORY is not set"),
        "{errors}"
    );
}

#[test]
fn secret_credential_missing_or_bad_id() {
    let (dir, path) = write_config(&with_secret(r#"password-credential = "../etc""#));
    let errors = load_with(&path, Some(dir.path().to_path_buf())).unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("invalid credential id \"../etc\"")
    );
    let (dir, path) = write_config(&with_secret(r#"password-credential = "absent""#));
    let errors = load_with(&path, Some(dir.path().to_path_buf())).unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("cannot read credential \"absent\"")
    );
}

#[test]
fn secret_file_errors_name_the_file_never_the_content() {
    let (dir, path) = write_config(&with_secret(r#"password-file = "empty.txt""#));
    fs::write(dir.path().join("empty.txt"), "\nhunter2\n").unwrap();
    let errors = load_with(&path, None).unwrap_err().to_string();
    assert!(
        errors.contains("empty.txt\" has an empty first line"),
        "{errors}"
    );
    assert!(!errors.contains("hunter2"));

    let (_dir, path) = write_config(&with_secret(
        "password = \"hunter2\"\npassword-file = \"x\"",
    ));
    let errors = load_with(&path, None).unwrap_err().to_string();
    assert!(
        errors.contains("password is given more than once"),
        "{errors}"
    );
    // The source line shown is the -file line, not the inline secret.
    assert!(!errors.contains("hunter2"), "{errors}");
}

#[test]
fn secret_never_in_debug_output() {
    let (_dir, path) = write_config(&with_secret(r#"password = "hunter2-secret""#));
    let config = load_with(&path, None).unwrap();
    assert_eq!(password(&config), "hunter2-secret");
    let debug = format!("{config:?} {config:#?}");
    assert!(!debug.contains("hunter2"), "{debug}");
}

#[test]
fn inline_secret_in_readable_file_warns() {
    let (_dir, path) = write_config(&with_secret(r#"password = "x""#));
    assert!(load_with(&path, None).unwrap().warnings.is_empty());
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let warnings = load_with(&path, None).unwrap().warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("inline secrets (providers.p.password)"));
    assert!(warnings[0].contains("mode 0644"));
}

fn fingerprint_of(text: &str) -> u64 {
    let (_dir, path) = write_config(text);
    load_with(&path, None).unwrap().records[0].fingerprint
}

#[test]
fn fingerprint_follows_record_provider_and_secret_not_timings() {
    let base = fingerprint_of(&with_secret(r#"password = "one""#));
    assert_eq!(base, fingerprint_of(&with_secret(r#"password = "one""#)));
    assert_ne!(base, fingerprint_of(&with_secret(r#"password = "two""#)));
    let timings = format!(
        "[daemon]\nretry-min = \"1m\"\ncheck-interval = \"1m\"\n{}",
        with_secret(r#"password = "one""#)
    );
    assert_eq!(base, fingerprint_of(&timings));
    let ttl = format!("{}ttl = \"2m\"\n", with_secret(r#"password = "one""#));
    assert_ne!(base, fingerprint_of(&ttl));
    let user =
        with_secret(r#"password = "one""#).replace("username = \"me\"", "username = \"you\"");
    assert_ne!(base, fingerprint_of(&user));
}

#[test]
fn empty_file_is_a_valid_config_with_defaults() {
    let (_dir, path) = write_config("");
    let config = load_with(&path, None).unwrap();
    assert_eq!(config.daemon, DaemonConfig::default());
    assert!(config.records.is_empty() && config.sources.is_empty());
}

#[test]
fn daemon_values_and_defaults() {
    let (dir, path) = write_config(
        "[daemon]\nstate-dir = \"state\"\nrefresh-interval = \"0s\"\nsettle = \"1s\"\n",
    );
    let config = load_with(&path, None).unwrap();
    assert_eq!(config.daemon.state_dir, dir.path().join("state"));
    assert_eq!(config.daemon.refresh_interval, None);
    assert_eq!(config.daemon.settle, Duration::from_secs(1));
    assert_eq!(config.daemon.retry_max, Duration::from_secs(3600));
}

#[test]
fn record_defaults_and_trailing_dot() {
    let text = with_secret(r#"password = "x""#).replace("home.example.org", "home.example.org.");
    let (_dir, path) = write_config(&text);
    let config = load_with(&path, None).unwrap();
    let record = &config.records[0];
    assert_eq!(record.name, "home.example.org");
    assert_eq!(record.families, Families::BOTH);
    assert_eq!(record.ttl, Duration::from_secs(60));
    assert!(matches!(config.sources["lan"], SourceConfig::Interface(_)));
}

/// The shipped example with every `#key = value` / `#[table]` line uncommented, secret files
/// under /etc/dynipd/ redirected into `dir` (and created there).
fn uncommented_example(dir: &Path) -> String {
    let shipped = include_str!("../../packaging/dynipd.toml");
    let mut out = String::new();
    for line in shipped.lines() {
        let setting = line
            .strip_prefix('#')
            .filter(|rest| rest.starts_with(|c: char| c == '[' || c.is_ascii_alphanumeric()));
        out.push_str(setting.unwrap_or(line));
        out.push('\n');
    }
    let etc = format!("{}/", dir.display());
    for name in [
        "dyndns.pass",
        "custom.pass",
        "custom.token",
        "dynu.key",
        "dynu.pass",
        "duck.token",
        "dyndns.secret",
        "he.pass",
    ] {
        fs::write(dir.join(name), "Example123\n").unwrap();
    }
    fs::write(
        dir.join("tsig.key"),
        "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw==\n",
    )
    .unwrap();
    out.replace("/etc/dynipd/", &etc)
}

#[test]
fn shipped_example_validates_with_every_setting_uncommented() {
    let (dir, path) = write_config("");
    let text = uncommented_example(dir.path());
    fs::write(&path, &text).unwrap();
    let config = match load_with(&path, None) {
        Ok(config) => config,
        Err(e) => panic!("{e}\n--- uncommented example:\n{text}"),
    };
    assert_eq!(config.records.len(), 5);
    assert_eq!(config.sources.len(), 3);
    assert_eq!(config.providers.len(), 8);
    assert_eq!(config.warnings, Vec::<String>::new());
}

#[test]
fn shipped_example_documents_every_key() {
    let shipped = include_str!("../../packaging/dynipd.toml");
    let keys = [
        "state-dir",
        "check-interval",
        "settle",
        "refresh-interval",
        "retry-min",
        "retry-max",
        "request-timeout",
        "kind",
        "interface",
        "ipv6",
        "allow-private",
        "ipv4-urls",
        "ipv6-urls",
        "quorum",
        "command",
        "url",
        "username",
        "password",
        "password-file",
        "password-credential",
        "dual-stack",
        "max-requests-per-hour",
        "method",
        "body",
        "content-type",
        "token",
        "token-file",
        "token-credential",
        "success",
        "nochg",
        "zone",
        "secret",
        "secret-file",
        "secret-credential",
        "headers",
        "server",
        "zone",
        "key-name",
        "key-algorithm",
        "key-secret",
        "key-secret-file",
        "key-secret-credential",
        "verify",
        "protocol",
        "base-url",
        "api-key",
        "api-key-file",
        "api-key-credential",
        "client-id",
        "client-secret",
        "client-secret-file",
        "client-secret-credential",
        "name",
        "provider",
        "source",
        "families",
        "ttl",
        "ipv6-host-id",
        "ipv6-prefix-length",
    ];
    for key in keys {
        assert!(
            shipped.contains(&format!("{key} =")) || shipped.contains(&format!(".{key}]")),
            "packaging/dynipd.toml does not document {key}"
        );
    }
}

// See: #7
#[test]
fn issue_7_host_id_reaches_the_record_spec_and_its_fingerprint() {
    let plain = with_secret(r#"password = "x""#);
    let load = |text: &str| {
        let (_dir, path) = write_config(text);
        load_with(&path, None).unwrap().record_specs().remove(0)
    };
    let without = load(&plain);
    assert_eq!(without.ipv6_host_id, None);
    let with_default = load(&format!("{plain}ipv6-host-id = \"::1:2:3:4\"\n"));
    let host = with_default.ipv6_host_id.unwrap();
    assert_eq!(
        host.id(),
        "::1:2:3:4".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert_eq!(host.prefix_len(), 64);
    let with_56 = load(&format!(
        "{plain}ipv6-host-id = \"::1:2:3:4\"\nipv6-prefix-length = 56\n"
    ));
    assert_eq!(with_56.ipv6_host_id.unwrap().prefix_len(), 56);
    // Each change republishes (a changed fingerprint un-parks and forces a publish).
    assert_ne!(without.fingerprint, with_default.fingerprint);
    assert_ne!(with_default.fingerprint, with_56.fingerprint);
}

/// See: #9.
#[test]
fn max_requests_per_hour_defaults_and_bounds() {
    let provider = |extra: &str| {
        format!(
            "[providers.p]\nkind = \"dyndns2\"\nurl = \"https://example.net/nic/update\"\n\
             username = \"u\"\npassword = \"pw\"\n{extra}\n\
             [providers.q]\nkind = \"http\"\nurl = \"https://example.net/?ip={{ipv4}}\"\n{extra}\n"
        )
    };
    let (_dir, path) = write_config(&provider(""));
    let config = load_with(&path, None).unwrap();
    let caps: Vec<u32> = config
        .provider_specs()
        .iter()
        .map(|p| p.max_requests_per_hour)
        .collect();
    assert_eq!(caps, [60, 60]);

    let (_dir, path) = write_config(&provider("max-requests-per-hour = 5"));
    let config = load_with(&path, None).unwrap();
    assert!(
        config
            .provider_specs()
            .iter()
            .all(|p| p.max_requests_per_hour == 5)
    );

    for (value, want) in [
        (
            "0",
            "expected a whole number of requests from 1 to 3600, found 0",
        ),
        ("3601", "found 3601"),
        ("-1", "found -1"),
        ("\"60\"", "found string"),
        ("1.5", "found float"),
    ] {
        let (_dir, path) = write_config(&provider(&format!("max-requests-per-hour = {value}")));
        let err = load_with(&path, None).unwrap_err().to_string();
        assert!(err.contains(want), "{value}: {err}");
        assert!(err.contains("providers.p.max-requests-per-hour"), "{err}");
        assert!(err.contains("providers.q.max-requests-per-hour"), "{err}");
    }
    let (_dir, path) = write_config(&provider("max-request-per-hour = 5"));
    let err = load_with(&path, None).unwrap_err().to_string();
    assert!(
        err.contains("did you mean \"max-requests-per-hour\"?"),
        "{err}"
    );
}

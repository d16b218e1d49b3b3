//! A config in a temp dir for reliability tests (#9): a `command` source reading an address
//! file the test rewrites, a state dir, and whatever providers and records the test adds.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::{run_dynipd, temp_dir};

/// A public, non-documentation IPv4 address (echo-services.md rule 6 rejects 192.0.2/24 & co).
pub const V4: &str = "81.2.69.160";
/// Another one.
pub const V4_NEW: &str = "81.2.69.161";

/// The files of one scenario; removed on drop.
pub struct Scenario {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub state: PathBuf,
    pub address_file: PathBuf,
}

impl Scenario {
    /// `daemon` is extra `[daemon]` lines; `body` the providers and records. The source is
    /// `[sources.cmd]`, printing the address file.
    pub fn new(daemon: &str, body: &str) -> Scenario {
        let dir = temp_dir();
        let state = dir.path().join("state");
        let address_file = dir.path().join("address");
        fs::write(&address_file, format!("{V4}\n")).unwrap();
        let config = dir.path().join("dynipd.toml");
        let s = Scenario {
            dir,
            config,
            state,
            address_file,
        };
        s.write_config(daemon, body);
        s
    }

    /// Rewrites the config (mode 0600) with the same state dir and source.
    pub fn write_config(&self, daemon: &str, body: &str) {
        fs::write(&self.config, self.config_text(daemon, body)).unwrap();
        let mut perms = fs::metadata(&self.config).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        fs::set_permissions(&self.config, perms).unwrap();
    }

    /// The config text `write_config` writes.
    pub fn config_text(&self, daemon: &str, body: &str) -> String {
        format!(
            "[daemon]\nstate-dir = \"{}\"\n{daemon}\n\n[sources.cmd]\nkind = \"command\"\n\
             command = [\"/bin/cat\", \"{}\"]\n\n{body}",
            self.state.display(),
            self.address_file.display()
        )
    }

    /// Sets the address the source reports (atomically: a reader never sees half a file).
    pub fn set_address(&self, address: &str) {
        write_atomically(&self.address_file, format!("{address}\n").as_bytes());
    }

    /// `dynipd --config C once ARGS`.
    pub fn once(&self, args: &[&str]) -> Output {
        let mut all = vec!["once"];
        all.extend_from_slice(args);
        run_dynipd(&self.config, &all)
    }

    /// `status --json`, parsed.
    pub fn status(&self) -> serde_json::Value {
        let out = run_dynipd(&self.config, &["status", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// One record of `status --json`.
    pub fn record_status(&self, name: &str) -> serde_json::Value {
        self.status()["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    }

    /// The state file's path.
    pub fn state_file(&self) -> PathBuf {
        self.state.join("state.json")
    }

    /// Names in the state dir starting with `prefix`.
    pub fn state_files_starting_with(&self, prefix: &str) -> Vec<String> {
        let Ok(entries) = fs::read_dir(&self.state) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(prefix))
            .collect();
        names.sort();
        names
    }
}

/// `[providers.NAME]` of kind dyndns2 (plus `extra` lines).
pub fn dyndns2_provider(name: &str, url: &str, user: &str, password: &str, extra: &str) -> String {
    format!(
        "[providers.{name}]\nkind = \"dyndns2\"\nurl = \"{url}\"\nusername = \"{user}\"\n\
         password = \"{password}\"\n{extra}\n\n"
    )
}

/// An IPv4-only `[[records]]` entry on source `cmd`.
pub fn record(name: &str, provider: &str) -> String {
    format!(
        "[[records]]\nname = \"{name}\"\nprovider = \"{provider}\"\nsource = \"cmd\"\n\
         families = [\"ipv4\"]\n\n"
    )
}

/// Writes `bytes` to a temp file next to `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("tmp-{:?}", std::thread::current().id()));
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// Lossy text of process output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

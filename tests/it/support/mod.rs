//! Shared test helpers: free ports, temp dirs, tool checks, running the dynipd binary.
#![allow(dead_code, reason = "each test module uses a different subset")]

pub mod daemon;
pub mod duckdns_server;
pub mod dyndns2_server;
pub mod dyndns_server;
pub mod dynu_server;
pub mod echo_server;
pub mod http_server;
#[cfg(target_os = "linux")]
pub mod netns;
pub mod scenario;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

pub mod named;

/// A free TCP port on 127.0.0.1 (bind `:0`; never a counter or a fixed port).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A temporary directory, removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dynipd-it-")
        .tempdir()
        .expect("temp dir")
}

/// True when `tool` is on PATH. Without it a test skips with a message locally and **fails**
/// under `CI=true` (STYLE.md §7).
pub fn require_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("required tool {tool} is missing (CI=true: failing instead of skipping)");
        }
        eprintln!("SKIPPED: {tool} not installed");
    }
    found
}

/// True when running as root (network namespaces need it). Without it a test skips with a
/// message locally and **fails** under `CI=true` (STYLE.md §7).
pub fn require_root() -> bool {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "this test needs root (network namespaces); CI=true: failing instead of skipping"
            );
        }
        eprintln!("SKIPPED: not root (network namespaces need root)");
    }
    is_root
}

/// The dynipd binary under test.
pub fn dynipd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dynipd"))
}

/// Runs `dynipd --config CONFIG ARGS...` and returns its output.
pub fn run_dynipd(config: &Path, args: &[&str]) -> Output {
    dynipd()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run dynipd")
}

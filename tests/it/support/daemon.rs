//! A `dynipd run` child process for end-to-end tests: stderr collected line by line, signals
//! sent by PID, killed on drop (also when a test panics).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dynipd;

/// A running daemon.
pub struct Daemon {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Starts `dynipd --config CONFIG --log-level LEVEL run`.
    pub fn start(config: &Path, level: &str) -> Daemon {
        Daemon::start_with_env(config, level, &[])
    }

    /// Like `start`, with extra environment variables.
    pub fn start_with_env(config: &Path, level: &str, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = dynipd();
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon::spawn(cmd, config, level)
    }

    /// Starts `PROGRAM --config CONFIG --log-level LEVEL run`, where `cmd` runs dynipd (e.g.
    /// inside a network namespace with `ip netns exec`, which execs, so signals reach it).
    pub fn spawn(mut cmd: std::process::Command, config: &Path, level: &str) -> Daemon {
        cmd.arg("--config")
            .arg(config)
            .args(["--log-level", level, "run"]);
        Daemon::spawn_command(cmd)
    }

    /// Starts any command that ends up running `dynipd run` in the same process (e.g.
    /// `unshare ... sh -c '...; exec dynipd ... run'`), stderr collected.
    pub fn spawn_command(mut cmd: std::process::Command) -> Daemon {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn dynipd run");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Daemon { child, stderr }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`HUP`, `USR1`, `TERM`, ...).
    pub fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} {}", self.pid());
    }

    /// Everything logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Waits until a stderr line contains `needle` at least `n` times in total.
    pub fn wait_for_log_count(&self, needle: &str, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let count = self
                .stderr
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(needle))
                .count();
            if count >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {n}× {needle:?} in the log within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a stderr line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        self.wait_for_log_count(needle, 1, timeout);
    }

    /// `kill -9`, then waits; returns the whole log.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(50));
        self.stderr()
    }

    /// This process's resident memory (VmRSS) in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM, then waits (SIGKILL after 10 s); returns the exit status and the whole log.
    pub fn stop(mut self) -> (ExitStatus, String) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread drain the pipe.
                std::thread::sleep(Duration::from_millis(50));
                return (status, self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "dynipd did not stop within 10 s of SIGTERM:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

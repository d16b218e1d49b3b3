//! Crash safety (#9): `kill -9` at random moments while the address keeps changing, and a state
//! directory that is missing, read-only, full, or has something odd in place of the file.
//! What is asserted is what an operator would find: the state file parses and names only
//! addresses the provider confirmed, nothing is sent twice, the exit code and the error.

use std::collections::BTreeSet;
use std::fs;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::daemon::Daemon;
use crate::support::dyndns2_server::Dyndns2Server;
use crate::support::scenario::{Scenario, dyndns2_provider, record, text, write_atomically};
use crate::support::{dynipd, require_tool};

const USER: &str = "crash-user";
const PASSWORD: &str = "crash-pass-9";
const HOST: &str = "home.example.org";

/// xorshift64: reproducible kill moments (the seed is printed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The n-th address of the flapping source: public, never a documentation range.
fn address(n: u64) -> String {
    format!("81.2.{}.{}", 60 + (n / 250) % 100, 1 + n % 250)
}

/// The published IPv4 of `HOST` in the state file: `Ok(None)` when there is no file or no
/// address yet, `Err` when the file does not parse as a version-1 state file.
fn published_in_state(s: &Scenario) -> Result<Option<String>, String> {
    let bytes = match fs::read(s.state_file()) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{e}: {:?}", String::from_utf8_lossy(&bytes)))?;
    if value["version"] != 1 {
        return Err(format!("version: {value}"));
    }
    Ok(value["records"][HOST]["published"]["ipv4"]
        .as_str()
        .map(str::to_string))
}

/// Waits until the server's request count stops moving (a request the killed process wrote
/// may still be in the socket buffer).
fn settled_count(server: &Dyndns2Server) -> usize {
    let mut last = server.count();
    let mut stable = 0;
    while stable < 3 {
        std::thread::sleep(Duration::from_millis(10));
        let now = server.count();
        if now == last {
            stable += 1;
        } else {
            stable = 0;
            last = now;
        }
    }
    last
}

// See: #9
#[test]
fn issue_9_kill_9_at_random_moments_never_corrupts_state_nor_publishes_twice() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let provider = dyndns2_provider(
        "dd",
        &server.update_url(),
        USER,
        PASSWORD,
        // The loop sends a few hundred updates; the abuse guard must not be what stops them.
        "max-requests-per-hour = 3600",
    );
    let s = Scenario::new("check-interval = \"1s\"", &(provider + &record(HOST, "dd")));

    // The address changes every 2 ms for the whole loop.
    let flapping = Arc::new(AtomicBool::new(true));
    let writer = {
        let flapping = Arc::clone(&flapping);
        let file = s.address_file.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while flapping.load(Ordering::SeqCst) {
                write_atomically(&file, format!("{}\n", address(n)).as_bytes());
                n += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };

    // DYNIPD_KILL_SEED=N replays a run.
    let seed = std::env::var("DYNIPD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let d = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (d.as_secs() << 30) ^ u64::from(d.subsec_nanos())
        })
        | 1;
    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut runs, mut corrupt, mut duplicates, mut published_runs) = (0, 0, 0, 0);
    let mut problems = Vec::new();
    while runs < 200 && started.elapsed() < Duration::from_secs(60) {
        runs += 1;
        let before = published_in_state(&s).unwrap_or(None);
        let count_before = server.count();
        let mut child = dynipd()
            .arg("--config")
            .arg(&s.config)
            .args(["--log-level", "warn", "run"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let count_after = settled_count(&server);

        let requests = server.requests();
        let confirmed: BTreeSet<String> = requests
            .iter()
            .filter_map(|r| r.query_param("myip"))
            .collect();
        match published_in_state(&s) {
            Ok(Some(addr)) if !confirmed.contains(&addr) => {
                corrupt += 1;
                problems.push(format!("run {runs}: state names unconfirmed {addr}"));
            }
            Ok(_) => {}
            Err(e) => {
                corrupt += 1;
                problems.push(format!("run {runs}: state file unreadable: {e}"));
            }
        }
        let bad = s.state_files_starting_with("state.json.bad-");
        if !bad.is_empty() {
            corrupt += 1;
            problems.push(format!("run {runs}: quarantined {bad:?}"));
            for name in bad {
                fs::remove_file(s.state.join(name)).unwrap();
            }
        }
        // The first request of a run must not carry what the state already said was published.
        if let Some(first) = requests
            .get(count_before..count_after)
            .and_then(|r| r.first())
        {
            published_runs += 1;
            if first
                .query_param("myip")
                .is_some_and(|a| Some(&a) == before.as_ref())
            {
                duplicates += 1;
                problems.push(format!("run {runs}: re-sent {before:?}, already published"));
            }
        }
    }
    flapping.store(false, Ordering::SeqCst);
    writer.join().unwrap();
    let temp_files = s.state_files_starting_with("state.json.tmp-");
    eprintln!(
        "kill -9 loop (seed {seed}): {runs} runs in {:.1?}, {published_runs} with a request, \
         {} requests in all, corrupt states found: {corrupt}, duplicate publishes: \
         {duplicates}, temp files left: {}",
        started.elapsed(),
        server.count(),
        temp_files.len()
    );
    assert_eq!(corrupt, 0, "{problems:#?}");
    assert_eq!(duplicates, 0, "{problems:#?}");
    assert!(runs >= 100, "only {runs} runs in 60 s");
    assert!(
        published_runs >= 10,
        "too few runs got as far as a request: {published_runs}"
    );
    assert!(
        temp_files.len() <= 1,
        "stale temp files pile up: {temp_files:?}"
    );

    // A restart converges: the current address goes out at most once, then nothing.
    let last = fs::read_to_string(&s.address_file).unwrap();
    let last = last.trim().to_string();
    let before = server.count();
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sent: Vec<String> = server.requests()[before..]
        .iter()
        .filter_map(|r| r.query_param("myip"))
        .collect();
    assert!(
        sent.len() <= 1 && sent.iter().all(|a| *a == last),
        "{sent:?}"
    );
    assert_eq!(s.record_status(HOST)["published"]["ipv4"], last.as_str());
    let out = s.once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        server.count(),
        before + sent.len(),
        "converged: nothing more"
    );
}

// ---------------------------------------------------------------------------------------------
// The state directory misbehaves.

fn published_scenario(server: &Dyndns2Server, daemon: &str) -> Scenario {
    let provider = dyndns2_provider("dd", &server.update_url(), USER, PASSWORD, "");
    Scenario::new(daemon, &(provider + &record(HOST, "dd")))
}

/// A process run by `sh -c SCRIPT` in a private mount namespace (tmpfs mounts of its own).
/// `None` (after a skip message, or a failure under CI) when mount namespaces are unavailable.
fn in_mount_namespace(script: &str) -> Option<Command> {
    if !require_tool("unshare") {
        return None;
    }
    let works = Command::new("unshare")
        .args([
            "--mount",
            "sh",
            "-c",
            "mount -t tmpfs -o size=4k tmpfs /mnt",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mount namespaces are unavailable (CI=true: failing instead of skipping)"
        );
        eprintln!("SKIPPED: mount namespaces are unavailable (unshare --mount failed)");
        return None;
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", script]);
    Some(cmd)
}

#[test]
fn state_dir_unusable_is_a_clear_error_with_exit_73_and_nothing_sent() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = published_scenario(&server, "");
    // The state dir is under a regular file: it can be neither created nor used.
    let blocker = s.dir.path().join("blocker");
    fs::write(&blocker, "").unwrap();
    let text_under_file = s.config_text("", "").replace(
        &s.state.display().to_string(),
        &blocker.join("state").display().to_string(),
    );
    let body =
        dyndns2_provider("dd", &server.update_url(), USER, PASSWORD, "") + &record(HOST, "dd");
    fs::write(&s.config, text_under_file + &body).unwrap();
    for command in [&["once"][..], &["run"]] {
        let out = dynipd()
            .arg("--config")
            .arg(&s.config)
            .args(command)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(73), "{command:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("dynipd: state directory") && stderr.contains("Not a directory"),
            "{stderr}"
        );
    }
    assert_eq!(
        server.count(),
        0,
        "nothing is sent without a usable state dir"
    );
}

#[test]
fn state_dir_read_only_is_exit_73_before_anything_is_sent() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = published_scenario(&server, "");
    fs::create_dir_all(&s.state).unwrap();
    let script = format!(
        "mount -t tmpfs -o ro,size=64k tmpfs '{}' && exec '{}' --config '{}' once",
        s.state.display(),
        env!("CARGO_BIN_EXE_dynipd"),
        s.config.display()
    );
    let Some(mut cmd) = in_mount_namespace(&script) else {
        return;
    };
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(73), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is not writable") && stderr.contains("Read-only file system"),
        "{stderr}"
    );
    assert_eq!(server.count(), 0);
}

#[test]
fn state_dir_full_or_read_only_while_running_keeps_publishing_and_the_old_file_intact() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = published_scenario(&server, "check-interval = \"1s\"");
    assert_eq!(s.once(&[]).status.code(), Some(0));
    let old_state = fs::read(s.state_file()).unwrap();
    let filler = s.dir.path().join("filler");
    // A tmpfs of 16 KiB over the state dir, seeded with the state file and filled up.
    let script = format!(
        "cp -a '{state}' /tmp/dynipd-seed-$$ && mount -t tmpfs -o size=16k tmpfs '{state}' && \
         cp -a /tmp/dynipd-seed-$$/. '{state}/' && rm -r /tmp/dynipd-seed-$$ && \
         (dd if=/dev/zero of='{state}/filler' bs=1k count=64 2>/dev/null; true) && \
         exec '{bin}' --config '{config}' --log-level info run",
        state = s.state.display(),
        bin = env!("CARGO_BIN_EXE_dynipd"),
        config = s.config.display(),
    );
    let _ = filler;
    let Some(cmd) = in_mount_namespace(&script) else {
        return;
    };
    let daemon = Daemon::spawn_command(cmd);
    daemon.wait_for_log("started", Duration::from_secs(10));

    // Disk full: the change is published; the save fails with a clear ERROR, once.
    s.set_address("81.2.69.170");
    server.wait_for_requests(2, Duration::from_secs(10));
    daemon.wait_for_log("cannot save state", Duration::from_secs(10));
    assert!(
        daemon.stderr().contains("No space left on device"),
        "{}",
        daemon.stderr()
    );
    s.set_address("81.2.69.171");
    server.wait_for_requests(3, Duration::from_secs(10));
    daemon.wait_for_log_count("record published", 2, Duration::from_secs(10));
    let nsenter = |args: &[&str]| {
        let ok = Command::new("nsenter")
            .args(["-t", &daemon.pid().to_string(), "-m", "--"])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "nsenter {args:?}");
    };
    // The old file, as the daemon sees it, is intact (atomic save: never torn).
    let inside = Command::new("nsenter")
        .args(["-t", &daemon.pid().to_string(), "-m", "--", "cat"])
        .arg(s.state_file())
        .output()
        .unwrap();
    assert_eq!(inside.stdout, old_state, "the old state file was touched");
    assert_eq!(
        daemon.stderr().matches("cannot save state").count(),
        1,
        "reported once, not per attempt:\n{}",
        daemon.stderr()
    );

    // Space again: the next change is saved.
    nsenter(&["rm", &format!("{}/filler", s.state.display())]);
    s.set_address("81.2.69.172");
    server.wait_for_requests(4, Duration::from_secs(10));
    daemon.wait_for_log_count("record published", 3, Duration::from_secs(10));
    let saved = Command::new("nsenter")
        .args(["-t", &daemon.pid().to_string(), "-m", "--", "cat"])
        .arg(s.state_file())
        .output()
        .unwrap();
    assert!(
        text(&saved.stdout).contains("81.2.69.172"),
        "{}",
        text(&saved.stdout)
    );

    // Read-only under a running daemon: publishing goes on, the error is clear.
    nsenter(&["mount", "-o", "remount,ro", &s.state.display().to_string()]);
    s.set_address("81.2.69.173");
    server.wait_for_requests(5, Duration::from_secs(10));
    daemon.wait_for_log_count("cannot save state", 2, Duration::from_secs(10));
    assert!(
        daemon.stderr().contains("Read-only file system"),
        "{}",
        daemon.stderr()
    );
    let (status, log) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn odd_things_in_place_of_the_state_file_are_quarantined_never_a_panic() {
    let server = Dyndns2Server::start(USER, PASSWORD, &[HOST]);
    let s = published_scenario(&server, "");
    assert_eq!(s.once(&[]).status.code(), Some(0));
    type Plant = fn(&std::path::Path);
    let cases: [(&str, Plant); 5] = [
        ("a directory", |p| fs::create_dir(p).unwrap()),
        ("a symlink to /dev/zero", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
        ("a dangling symlink", |p| {
            std::os::unix::fs::symlink("/nonexistent/state.json", p).unwrap()
        }),
        ("0 bytes", |p| fs::write(p, "").unwrap()),
        ("binary garbage", |p| {
            fs::write(p, [0xff, 0x00, 0x7b, 0x22]).unwrap()
        }),
    ];
    for (what, plant) in cases {
        let path = s.state_file();
        fs::remove_file(&path).unwrap();
        plant(&path);
        let before = server.count();
        let out = s.once(&[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
        assert!(
            stderr.contains("WARN")
                && stderr.contains("moved to")
                && stderr.contains("starting with empty state"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_eq!(
            server.count(),
            before + 1,
            "{what}: republished from empty state"
        );
        assert_eq!(
            s.record_status(HOST)["published"]["ipv4"],
            crate::support::scenario::V4
        );
        for name in s.state_files_starting_with("state.json.bad-") {
            let bad = s.state.join(name);
            if bad.is_dir() {
                fs::remove_dir(&bad).unwrap();
            } else {
                fs::remove_file(&bad).unwrap();
            }
        }
    }
    // `status` on an unreadable file says so and changes nothing.
    fs::write(s.state_file(), "{").unwrap();
    let out = crate::support::run_dynipd(&s.config, &["status"]);
    assert_eq!(out.status.code(), Some(73), "{out:?}");
    assert!(
        text(&out.stderr).contains("is unreadable"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read(s.state_file()).unwrap(), b"{");
}

//! Network namespaces for interface tests (protocols/netns.md): a fresh namespace with `lo`
//! up and a veth pair `veth-n` ↔ `veth-p`, both ends inside it and up (so IPv6 works and
//! nothing is left on the host), DAD off so added addresses are usable at once.
//! Deleted on drop, also when a test fails.
//!
//! Needs root and `ip`: without them a test skips with a message, and fails under `CI=true`.
//! Names are unique per test (pid + counter): `ip netns del` is asynchronous.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::http_server::Connector;
use super::{require_root, require_tool};

/// The interface tests put their addresses on.
pub const IFACE: &str = "veth-n";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A network namespace, deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace, or `None` (test skipped) without root or `ip`.
    pub fn create(tag: &str) -> Option<Netns> {
        if !require_root() || !require_tool("ip") {
            return None;
        }
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("dynipd-{}-{n}-{tag}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]));
        // From here on, Drop cleans up whatever fails below.
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        // No DAD on interfaces made from here on: addresses are usable at once, and no late
        // event (a link-local address finishing DAD a second later) lands in a measurement.
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0");
        ns.ip(&[
            "link", "add", IFACE, "type", "veth", "peer", "name", "veth-p",
        ]);
        ns.ip(&["link", "set", "veth-p", "up"]);
        ns.ip(&["link", "set", IFACE, "up"]);
        Some(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NS ARGS...`; panics with its stderr when it fails.
    pub fn ip(&self, args: &[&str]) {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args));
    }

    /// Sets a sysctl of the namespace (`net.ipv6.conf.IFACE.KEY`), through /proc/sys as seen
    /// from inside it (no procps needed).
    pub fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        run(self
            .command("sh")
            .args(["-c", "echo \"$1\" > \"$2\"", "sh", value, &path]));
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`, which execs: the
    /// child's PID is the program's own, for signals).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// `dynipd --config CONFIG ARGS...` inside the namespace.
    pub fn dynipd(&self, config: &std::path::Path, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_dynipd"))
            .arg("--config")
            .arg(config)
            .args(args)
            .output()
            .expect("run dynipd in the namespace")
    }

    /// A TCP listener on `127.0.0.1:0` inside the namespace, and a [`Connector`] that reaches
    /// it from there, for an in-process test server.
    ///
    /// A socket belongs to the namespace of the thread that created it, for its whole life;
    /// setns(2) with CLONE_NEWNET moves only the calling thread (no single-thread
    /// requirement, unlike user or mount namespaces), so a short-lived helper thread enters
    /// the namespace, binds, and ends.
    pub fn listen(&self) -> (TcpListener, Connector) {
        let path = self.path();
        let listener = inside(&path, || TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0 in the namespace");
        let connect: Connector = Box::new(move |addr: SocketAddr| {
            let _ = inside(&path, || TcpStream::connect(addr));
        });
        (listener, connect)
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Processes still inside keep the namespace alive, but the name goes at once; the
        // veth pair lives and dies with the namespace.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Runs `f` on a new thread inside the namespace at `path`.
fn inside<T: Send>(
    path: &str,
    f: impl FnOnce() -> std::io::Result<T> + Send,
) -> std::io::Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let ns = File::open(path)?;
                rustix::thread::move_into_link_name_space(
                    ns.as_fd(),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )?;
                f()
            })
            .join()
            .expect("namespace helper thread")
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

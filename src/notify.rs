//! sd_notify(3) over `$NOTIFY_SOCKET`, in the ~30 lines the protocol needs: READY=1, STATUS=,
//! WATCHDOG=1, STOPPING=1. Without the variable every call is a no-op.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// A connection to the service manager, if there is one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<Target>,
    last_status: String,
}

#[derive(Debug)]
enum Target {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).
    pub fn from_env() -> Notifier {
        let target = std::env::var_os("NOTIFY_SOCKET").map(|s| {
            let bytes = s.into_encoded_bytes();
            match bytes.strip_prefix(b"@") {
                Some(name) => Target::Abstract(name.to_vec()),
                None => Target::Path(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())),
            }
        });
        Notifier {
            target,
            last_status: String::new(),
        }
    }

    /// Sends one datagram; failures are ignored (the manager may be gone during shutdown).
    pub fn send(&self, message: &str) {
        let Some(target) = &self.target else { return };
        let Ok(socket) = UnixDatagram::unbound() else {
            return;
        };
        let _ = match target {
            Target::Path(p) => socket.send_to(message.as_bytes(), p),
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt as _;
                match std::os::unix::net::SocketAddr::from_abstract_name(name) {
                    Ok(addr) => socket.send_to_addr(message.as_bytes(), &addr),
                    Err(e) => Err(e),
                }
            }
        };
    }

    /// `STATUS=<line>`, only when it changed.
    pub fn status(&mut self, line: &str) {
        if line != self.last_status {
            self.send(&format!("STATUS={line}"));
            self.last_status = line.to_string();
        }
    }

    /// Half of `$WATCHDOG_USEC` when the watchdog is on for this process (systemd.service(5):
    /// ping at half the interval).
    pub fn watchdog_interval() -> Option<Duration> {
        let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
        if let Ok(pid) = std::env::var("WATCHDOG_PID")
            && pid.parse::<u32>().ok()? != std::process::id()
        {
            return None;
        }
        (usec > 0).then(|| Duration::from_micros(usec / 2))
    }
}

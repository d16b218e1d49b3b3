//! Unix signals turned into messages for the daemon loop: TERM/INT stop, HUP reloads, USR1
//! forces a refresh (DESIGN.md "Command line"). signal-hook's iterator runs in its own thread
//! because the daemon's runtime is single-threaded.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use tokio::sync::mpsc;

/// What a signal asks of the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// TERM/INT: finish or abandon in-flight requests, save state, exit 0.
    Stop,
    /// HUP: reload the config (a bad one is logged and the old kept), take retry requests.
    Reload,
    /// USR1: re-detect and republish now, un-parking every record.
    Refresh,
}

/// Starts listening; requests arrive on the returned channel.
pub fn listen() -> std::io::Result<mpsc::UnboundedReceiver<Request>> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])?;
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let request = match signal {
                    SIGHUP => Request::Reload,
                    SIGUSR1 => Request::Refresh,
                    _ => Request::Stop,
                };
                if tx.send(request).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}

//! Kernel address events for the daemon loop: one subscription for all interface sources,
//! opened while some record uses an interface source. A failure is logged once and the daemon
//! keeps polling every `check-interval` (DESIGN.md "Events first, polling as safety net").
//! Does not decide when to detect; `Event::InterfaceChanged` lets the core coalesce a burst
//! for `settle`.

use std::io;
use std::time::Duration;

use tracing::{debug, info, warn};

use crate::source::AddressEvents;

/// The subscription, if any, and whether it has failed for good.
#[derive(Debug, Default)]
pub struct InterfaceEvents {
    events: Option<AddressEvents>,
    /// Logged once; no resubscription after that (the poll is the fallback).
    has_failed: bool,
}

impl InterfaceEvents {
    /// Subscribes when `is_wanted` (some record uses an interface source) and not yet
    /// subscribed; a failure is logged once and polling every `check_interval` remains.
    pub fn ensure(&mut self, is_wanted: bool, check_interval: Duration) {
        if !is_wanted || self.events.is_some() || self.has_failed {
            return;
        }
        match AddressEvents::subscribe() {
            Ok(events) => {
                debug!("listening for interface address events");
                self.events = Some(events);
            }
            Err(e) => self.fail(&e, check_interval),
        }
    }

    /// Waits for the next address change; never returns while not subscribed.
    ///
    /// Errors: the subscription broke; pass the error to [`InterfaceEvents::fail`].
    pub async fn changed(&mut self) -> io::Result<()> {
        match &mut self.events {
            Some(events) => events.changed().await,
            None => std::future::pending().await,
        }
    }

    /// Drops the subscription for good and says so once.
    pub fn fail(&mut self, error: &io::Error, check_interval: Duration) {
        self.events = None;
        if self.has_failed {
            return;
        }
        self.has_failed = true;
        let every = humantime::format_duration(check_interval);
        if error.kind() == io::ErrorKind::Unsupported {
            info!("interface sources are detected every {every} (no address events here: {error})");
        } else {
            warn!(
                "cannot listen for interface address events ({error}); detecting interface sources every {every} instead"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribes_only_when_wanted_and_never_again_after_a_failure() {
        let every = Duration::from_secs(300);
        let mut events = InterfaceEvents::default();
        events.ensure(false, every);
        assert!(events.events.is_none(), "no interface source, no socket");
        events.ensure(true, every);
        assert_eq!(
            events.events.is_some(),
            cfg!(target_os = "linux"),
            "netlink is open to unprivileged processes"
        );
        let broken = io::Error::other("socket closed");
        events.fail(&broken, every);
        events.fail(&broken, every);
        assert!(events.events.is_none() && events.has_failed);
        events.ensure(true, every);
        assert!(events.events.is_none(), "polling stays the fallback");
    }
}

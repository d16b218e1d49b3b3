//! The abuse guard: a per-provider cap on update requests per hour, as a sliding window of the
//! times requests went out. Whatever goes wrong elsewhere (a flapping source, a scheduler bug, a
//! crash loop under systemd's `Restart=`), a provider never gets more than its cap.
//! Does not decide *which* records are due (that is `core::scheduler`) nor log anything: the
//! scheduler turns "capped" into a `Report`.
//!
//! Counting: each record in a `Publish` counts as one request, whatever the provider makes of
//! it on the wire (dyndns2 batches several hostnames into one GET; rfc2136 one UPDATE per zone),
//! so the cap errs on the side of sending less. The window is persisted in the state file
//! *before* the request goes out, so a crash loop cannot reset it.
//!
//! See: #9.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// `max-requests-per-hour` when a provider does not set it: generous for one home (a record
/// changing every minute), far below what gets a client blocked.
pub const DEFAULT_MAX_REQUESTS_PER_HOUR: u32 = 60;

/// The window the cap applies to.
pub const WINDOW: Duration = Duration::from_secs(3600);

/// The recent requests to one provider and its cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestWindow {
    limit: u32,
    /// Times of the requests within the window, oldest first.
    sent: VecDeque<SystemTime>,
    /// The cap held back a due record and that has not been reported yet / is still going on:
    /// "report once, then again on change" (STYLE.md §6).
    is_capped: bool,
}

impl RequestWindow {
    /// A window with cap `limit` (at least 1) restored from stored request times. Times in the
    /// future (the wall clock was ahead when they were written) count as `now`, so a wrong
    /// clock can hold requests back for at most one window, never for years.
    pub fn new(limit: u32, restored: &[SystemTime], now: SystemTime) -> RequestWindow {
        let mut sent: Vec<SystemTime> = restored.to_vec();
        sent.sort();
        let mut window = RequestWindow {
            limit: limit.max(1),
            sent: sent.into(),
            is_capped: false,
        };
        window.prune(now);
        window
    }

    /// The cap.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Changes the cap (config reload); the recorded requests stay.
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit.max(1);
    }

    /// How many more requests may go out at `now`.
    pub fn room(&self, now: SystemTime) -> usize {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        limit.saturating_sub(self.live(now).count())
    }

    /// Records one request at `now`.
    pub fn record(&mut self, now: SystemTime) {
        self.prune(now);
        self.sent.push_back(now);
    }

    /// When the next request may go out if the window is full at `now`; `None` when there is
    /// room already.
    pub fn free_at(&self, now: SystemTime) -> Option<SystemTime> {
        if self.room(now) > 0 {
            return None;
        }
        // Full: the oldest request that still counts frees its slot first.
        let oldest = self.live(now).next()?;
        Some(later(oldest, WINDOW).max(now))
    }

    /// Marks the window capped; true when it was not already (the caller reports it once).
    pub fn mark_capped(&mut self) -> bool {
        !std::mem::replace(&mut self.is_capped, true)
    }

    /// Every due record went out: the next cap is news again.
    pub fn clear_capped(&mut self) {
        self.is_capped = false;
    }

    /// The request times to persist, oldest first.
    pub fn times(&self) -> Vec<SystemTime> {
        self.sent.iter().copied().collect()
    }

    /// The request times that count at `now`, oldest first: within the window, at most the
    /// newest `limit`, and a time in the future (the clock stepped back) pulled back to `now`,
    /// so a wrong clock holds requests back for at most one window, never for years.
    fn live(&self, now: SystemTime) -> impl Iterator<Item = SystemTime> + '_ {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let skip = self.sent.len().saturating_sub(limit);
        self.sent
            .iter()
            .skip(skip)
            .map(move |t| (*t).min(now))
            .filter(move |t| later(*t, WINDOW) > now)
    }

    /// Keeps only what [`Self::live`] yields.
    fn prune(&mut self, now: SystemTime) {
        self.sent = self.live(now).collect();
    }
}

fn later(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    /// (name, limit, stored request times, now, room, free_at)
    type Case = (&'static str, u32, &'static [u64], u64, usize, Option<u64>);

    #[test]
    fn table() {
        let cases: &[Case] = &[
            ("empty", 3, &[], 100, 3, None),
            ("some room", 3, &[10, 20], 100, 1, None),
            ("full", 3, &[10, 20, 30], 100, 0, Some(3610)),
            ("full, oldest expired", 3, &[10, 20, 30], 3610, 1, None),
            (
                "full, just before expiry",
                3,
                &[10, 20, 30],
                3609,
                0,
                Some(3610),
            ),
            (
                "old ones dropped",
                2,
                &[0, 1, 5000, 5001],
                5002,
                0,
                Some(8600),
            ),
            ("all expired", 2, &[0, 1], 7200, 2, None),
            ("unsorted input", 2, &[30, 10], 100, 0, Some(3610)),
            // stored list longer than the limit: only the newest count
            ("over the limit", 2, &[10, 20, 30, 40], 100, 0, Some(3630)),
            // the clock went back: future times count as now
            ("future times", 2, &[999_999, 999_999], 100, 0, Some(3700)),
            ("limit 0 means 1", 0, &[10], 100, 0, Some(3610)),
        ];
        for &(name, limit, stored, now, room, free) in cases {
            let times: Vec<SystemTime> = stored.iter().map(|s| at(*s)).collect();
            let w = RequestWindow::new(limit, &times, at(now));
            assert_eq!(w.room(at(now)), room, "{name}: room");
            assert_eq!(w.free_at(at(now)), free.map(at), "{name}: free_at");
        }
    }

    #[test]
    fn never_more_than_limit_in_any_window() {
        let mut w = RequestWindow::new(5, &[], at(0));
        let mut sent = Vec::new();
        // Try to send every 10 s for 3 hours.
        for step in 0..1080 {
            let now = at(step * 10);
            if w.room(now) > 0 {
                w.record(now);
                sent.push(step * 10);
            }
        }
        for (i, t) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|u| **u < t + 3600).count();
            assert!(in_window <= 5, "{in_window} requests within an hour of {t}");
        }
        assert_eq!(sent.len(), 15, "5 per hour over 3 hours: {sent:?}");
    }

    #[test]
    fn capped_is_reported_once() {
        let mut w = RequestWindow::new(1, &[], at(0));
        assert!(w.mark_capped());
        assert!(!w.mark_capped());
        w.clear_capped();
        assert!(w.mark_capped());
    }

    #[test]
    fn times_roundtrip_and_limit_changes() {
        let mut w = RequestWindow::new(3, &[], at(0));
        w.record(at(1));
        w.record(at(2));
        let again = RequestWindow::new(3, &w.times(), at(3));
        assert_eq!(again.times(), vec![at(1), at(2)]);
        w.set_limit(1);
        assert_eq!(w.room(at(3)), 0);
        assert_eq!(w.free_at(at(3)), Some(at(3602)));
        let lowered = RequestWindow::new(1, &w.times(), at(3));
        assert_eq!(lowered.times(), vec![at(2)]);
    }
}

//! Core reports → log lines at the level STYLE.md §6 gives. The core decides *whether* a fact
//! is new (`repeated`); this only picks the level and fields.

use std::time::SystemTime;

use tracing::{debug, error, info, warn};

use crate::core::{PublishReason, Report};

/// `2026-11-23T13:05:00Z`.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Logs one report.
pub fn log(report: &Report) {
    match report {
        Report::AddressChanged {
            source,
            family,
            old,
            new,
        } => match old {
            Some(old) => {
                info!(source = %source, family = %family, old = %old, new = %new, "address changed")
            }
            None => info!(source = %source, family = %family, address = %new, "address detected"),
        },
        Report::DetectionFailed {
            source,
            family,
            message,
            repeated,
        } => {
            if *repeated {
                debug!(source = %source, family = %family, "{message} (still failing)");
            } else {
                warn!(source = %source, family = %family, "{message}; keeping the published address");
            }
        }
        Report::Published {
            record,
            addresses,
            reason,
            recovered,
        } => {
            let why = match reason {
                PublishReason::Changed => "changed",
                PublishReason::Refresh => "refresh",
                PublishReason::Forced => "forced",
            };
            match recovered {
                Some((attempts, since)) => info!(
                    record = %record, addresses = %addresses, reason = why,
                    "record published after {attempts} failed attempt{} over {}",
                    if *attempts == 1 { "" } else { "s" },
                    humantime::format_duration(std::time::Duration::from_secs(since.as_secs()))
                ),
                None => {
                    info!(record = %record, addresses = %addresses, reason = why, "record published")
                }
            }
        }
        Report::RetryScheduled {
            record,
            failure,
            attempt,
            next_attempt,
            repeated,
        } => {
            let next = timestamp(*next_attempt);
            if *repeated {
                debug!(record = %record, class = %failure.class, attempt, next_attempt = %next, "{} (still failing)", failure.message);
            } else {
                warn!(record = %record, class = %failure.class, attempt, next_attempt = %next, "{}", failure.message);
            }
        }
        Report::Parked { record, failure } => {
            // Every park tells the operator the way out (DESIGN.md "Parking").
            if failure.message.contains("parked") {
                error!(record = %record, class = %failure.class, "{}", failure.message);
            } else {
                error!(
                    record = %record, class = %failure.class,
                    "{}; record parked: no further attempts until its config changes (then reload), `dynipd retry {record}` or SIGUSR1",
                    failure.message
                );
            }
        }
        Report::Unparked { record, why } => {
            info!(record = %record, "record released from parking: {why}")
        }
        Report::RequestCapReached {
            provider,
            limit,
            held,
            until,
        } => {
            // See: #9. A safety cap: tripping it means something upstream misbehaves.
            error!(
                provider = %provider, limit, until = %timestamp(*until),
                "provider \"{provider}\": {limit} requests in the last hour reached \
                 (max-requests-per-hour); holding back {} until {}; something is changing \
                 the records unusually often: check the source, or raise \
                 providers.{provider}.max-requests-per-hour",
                held.join(", "),
                timestamp(*until)
            );
        }
    }
}

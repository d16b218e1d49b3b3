//! Retry delays after failure: growth, cap, jitter, Retry-After.
//! Does not decide *whether* to retry; that is `core::scheduler`.
//! STUB: the core helper replaces this body.

use std::time::Duration;

use super::{ErrorClass, Timing};

/// The wait before attempt `attempt + 1`, after `attempt` (≥ 1) consecutive failures of class
/// `class`. `random` is a uniformly random `u64` supplied by the caller (the core never draws
/// randomness itself, so tests are deterministic).
pub fn delay_after_failure(
    class: ErrorClass,
    attempt: u32,
    timing: &Timing,
    random: u64,
) -> Duration {
    let _ = (class, attempt, random);
    timing.retry_min
}

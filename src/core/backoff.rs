//! Retry delays after failure: growth, cap, jitter, Retry-After.
//! Does not decide *whether* to retry (parking, due-ness); that is `core::scheduler`.
//!
//! Growth is `retry-min · 2^(attempt-1)`, capped at `retry-max`, so the first retry waits about
//! `retry-min` (DESIGN.md "Backoff" writes `2^attempt` with the attempt counted from zero; same
//! series).
//!
//! **Deliberate deviation from DESIGN.md:** DESIGN.md asks for "full jitter" (uniform in
//! `[0, cap]`). Full jitter can draw a delay near zero, i.e. a second request for the same record
//! right after a failure, which breaks "never a nuisance". We use *equal jitter* floored at
//! `retry-min`: uniform in `[max(retry-min, cap/2), cap]`. It still spreads retries of many
//! daemons (the reason for jitter, see the AWS Architecture Blog, "Exponential Backoff And
//! Jitter", 2015) while guaranteeing at least `retry-min` between two attempts.

use std::time::Duration;

use super::{ErrorClass, Timing};

/// The longest a provider's own `Retry-After` is honoured when `retry-max` is shorter: a day.
/// A longer stated wait (or a garbage one) is treated as a day, so a bad header cannot silence a
/// record for weeks.
pub const RATE_LIMIT_CEILING: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait before attempt `attempt + 1`, after `attempt` (≥ 1) consecutive failures of class
/// `class`. `random` is a uniformly random `u64` supplied by the caller (the core never draws
/// randomness itself, so tests are deterministic).
///
/// - `RateLimited { retry_after: Some(d) }`: the provider's `d`, but at least `retry-min` and at
///   most `max(retry-max, 24h)`; no jitter (the provider named the time).
/// - everything else (including `RateLimited { retry_after: None }`): exponential growth from
///   `retry-min`, capped at `retry-max`, with equal jitter in `[max(retry-min, cap/2), cap]`.
///   `attempt = 0` counts as 1; huge attempt counts saturate at the cap.
///
/// A `retry-max` below `retry-min` is treated as `retry-min` (the floor always wins).
pub fn delay_after_failure(
    class: ErrorClass,
    attempt: u32,
    timing: &Timing,
    random: u64,
) -> Duration {
    let floor = timing.retry_min;
    let cap_max = timing.retry_max.max(floor);
    if let ErrorClass::RateLimited {
        retry_after: Some(stated),
    } = class
    {
        // Honour the provider's stated time (RFC 9110 §10.2.3 Retry-After), but never hammer
        // sooner than retry-min.
        return stated.clamp(floor, cap_max.max(RATE_LIMIT_CEILING));
    }
    let cap = exponential(floor, attempt).min(cap_max);
    let low = floor.max(cap / 2);
    uniform_between(low, cap, random)
}

/// `base · 2^(attempt-1)`, saturating at `Duration::MAX`.
fn exponential(base: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1);
    let factor = 1u32.checked_shl(doublings).unwrap_or(0);
    if factor == 0 {
        // 2^32 or more: beyond any sane cap.
        return Duration::MAX;
    }
    base.checked_mul(factor).unwrap_or(Duration::MAX)
}

/// Uniform in `[low, high]` from `random`, by multiply-shift (no modulo bias worth the name).
/// The span is limited to `u64::MAX` nanoseconds (~584 years), far beyond any cap.
fn uniform_between(low: Duration, high: Duration, random: u64) -> Duration {
    let span = high.saturating_sub(low);
    let span_nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
    // (random · (span + 1)) >> 64 ∈ [0, span]; computed in u128, cannot overflow.
    let scaled = (u128::from(random) * (u128::from(span_nanos) + 1)) >> 64;
    let offset = u64::try_from(scaled).unwrap_or(span_nanos);
    low.saturating_add(Duration::from_nanos(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(min: u64, max: u64) -> Timing {
        Timing {
            check_interval: Duration::from_secs(300),
            settle: Duration::from_millis(300),
            refresh_interval: None,
            retry_min: Duration::from_secs(min),
            retry_max: Duration::from_secs(max),
        }
    }

    const T: ErrorClass = ErrorClass::Transient;

    #[test]
    fn growth_jitter_and_cap() {
        let t = timing(30, 3600);
        // (class, attempt, random, expected seconds)
        let cases: &[(ErrorClass, u32, u64, u64)] = &[
            // attempt 1: cap = 30, low = max(30, 15) = 30 → always 30
            (T, 1, 0, 30),
            (T, 1, u64::MAX, 30),
            (T, 0, u64::MAX, 30),
            // attempt 2: cap = 60 → [30, 60]
            (T, 2, 0, 30),
            (T, 2, u64::MAX, 60),
            (T, 2, 1 << 63, 45),
            // attempt 3: cap = 120 → [60, 120]
            (T, 3, 0, 60),
            (T, 3, u64::MAX, 120),
            // attempt 8: 30·128 = 3840 > 3600 → cap 3600, [1800, 3600]
            (T, 8, 0, 1800),
            (T, 8, u64::MAX, 3600),
            // saturation
            (T, 33, u64::MAX, 3600),
            (T, u32::MAX, 0, 1800),
            (ErrorClass::Protocol, 2, u64::MAX, 60),
            (ErrorClass::Unconfirmed, 2, 0, 30),
            (ErrorClass::RateLimited { retry_after: None }, 3, 0, 60),
        ];
        for &(class, attempt, random, want) in cases {
            let got = delay_after_failure(class, attempt, &t, random);
            // multiply-shift lands within a nanosecond of the exact value
            let diff = got.abs_diff(Duration::from_secs(want));
            assert!(
                diff <= Duration::from_nanos(1),
                "{class} attempt {attempt} random {random:#x}: got {got:?}, want {want}s"
            );
        }
    }

    #[test]
    fn retry_after_honoured() {
        let t = timing(30, 3600);
        let rl = |s| ErrorClass::RateLimited {
            retry_after: Some(Duration::from_secs(s)),
        };
        let cases: &[(u64, u64)] = &[
            (600, 600),             // honoured exactly, no jitter
            (5, 30),                // at least retry-min
            (7200, 7200),           // above retry-max: still honoured
            (86_400, 86_400),       // a day
            (10 * 86_400, 86_400),  // capped at a day
            (u64::MAX / 4, 86_400), // garbage
        ];
        for &(stated, want) in cases {
            for random in [0, u64::MAX] {
                assert_eq!(
                    delay_after_failure(rl(stated), 5, &t, random),
                    Duration::from_secs(want),
                    "retry-after {stated}"
                );
            }
        }
        // retry-max above a day raises the ceiling
        let long = timing(30, 3 * 86_400);
        assert_eq!(
            delay_after_failure(rl(2 * 86_400), 1, &long, 0),
            Duration::from_secs(2 * 86_400)
        );
    }

    #[test]
    fn never_below_retry_min_nor_above_cap() {
        let t = timing(30, 3600);
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for attempt in 0..80 {
            for _ in 0..50 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let d = delay_after_failure(T, attempt, &t, x);
                assert!(d >= t.retry_min && d <= t.retry_max, "{attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn retry_max_below_retry_min_uses_the_floor() {
        let t = timing(60, 10);
        assert_eq!(
            delay_after_failure(T, 9, &t, u64::MAX),
            Duration::from_secs(60)
        );
    }
}

//! The Dynu REST reply classifier on arbitrary status, Retry-After and body (flat, nested and
//! combined error shapes, or garbage): never a panic; a non-2xx status is never a success.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, c, rest @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*a, *b]) % 1000;
    let retry_after = (*c != 0).then(|| Duration::from_secs(u64::from(*c)));
    let body = String::from_utf8_lossy(rest);
    let verdict = dynipd::provider::dynu::errors::classify(status, retry_after, &body);
    if !(200..300).contains(&status) {
        assert!(verdict.is_err(), "success under HTTP {status}");
    }
});

//! The dyndns2 reply classifier on arbitrary status, Retry-After, host count and body: exactly
//! one verdict per host, never a panic; a non-2xx status is never a success.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, c, d, rest @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*a, *b]) % 1000;
    let retry_after = (*c != 0).then(|| Duration::from_secs(u64::from(*c) * 60));
    let hosts = usize::from(*d % 25);
    let body = String::from_utf8_lossy(rest);
    let verdicts = dynipd::provider::dyndns2::classify(status, retry_after, &body, hosts);
    assert_eq!(verdicts.len(), hosts.max(1), "one verdict per host");
    if !(200..300).contains(&status) {
        assert!(
            verdicts.iter().all(Result::is_err),
            "success under HTTP {status}"
        );
    }
});

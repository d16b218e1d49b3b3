//! The echo-service reply parser on arbitrary bytes: an address of the asked family that
//! passes the scope check, or an error, never a panic.
#![no_main]

use dynipd::core::Family;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let family = if flags & 1 == 0 {
        Family::Ipv4
    } else {
        Family::Ipv6
    };
    let allow_private = flags & 2 != 0;
    let is_trace = flags & 4 != 0;
    if let Ok(addr) = dynipd::source::web::parse_echo_body(body, family, allow_private, is_trace) {
        assert_eq!(Family::of(&addr), family, "wrong family accepted");
        assert!(!addr.is_loopback() && !addr.is_unspecified() && !addr.is_multicast());
    }
});

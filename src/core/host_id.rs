//! Prefix + host id: a record may publish the detected IPv6 prefix combined with a fixed
//! interface id (`ipv6-host-id`, `ipv6-prefix-length`), for a LAN device behind this host
//! whose own address follows the delegated prefix. Pure bit arithmetic and its validation.
//! Does not decide when to publish; the scheduler applies it per record (`RecordSpec`).
//!
//! See: #7.

use std::fmt;
use std::net::Ipv6Addr;

/// The `ipv6-prefix-length` default: the /64 of RFC 4291 §2.5.1 interface ids.
pub const DEFAULT_PREFIX_LEN: u8 = 64;

/// A valid host id: `id` has no bit inside the first `prefix_len` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HostId {
    id: Ipv6Addr,
    prefix_len: u8,
}

/// Why a host id is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostIdError {
    /// The prefix length is 0 or over 127: nothing of the detected address, or nothing of the
    /// host id, would be left.
    PrefixLength(u8),
    /// The id sets bits inside the prefix (e.g. a whole address was given).
    BitsInPrefix { prefix_len: u8 },
    /// The id is all zero: that is the subnet-router anycast address (RFC 4291 §2.6.1).
    Zero,
}

impl fmt::Display for HostIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostIdError::PrefixLength(n) => {
                write!(f, "ipv6-prefix-length is {n}; it must be 1 to 127")
            }
            HostIdError::BitsInPrefix { prefix_len } => write!(
                f,
                "the host id sets bits inside the /{prefix_len} prefix; give only the interface id (e.g. \"::1:2:3:4\") or lower ipv6-prefix-length"
            ),
            HostIdError::Zero => f.write_str(
                "the host id is all zero (the subnet-router anycast address); give the device's interface id, e.g. \"::1:2:3:4\"",
            ),
        }
    }
}

impl HostId {
    /// Checks `id` against `prefix_len`.
    ///
    /// Errors: see [`HostIdError`].
    pub fn new(id: Ipv6Addr, prefix_len: u8) -> Result<HostId, HostIdError> {
        if !(1..=127).contains(&prefix_len) {
            return Err(HostIdError::PrefixLength(prefix_len));
        }
        let id_bits = id.to_bits();
        if id_bits == 0 {
            return Err(HostIdError::Zero);
        }
        if id_bits & prefix_mask(prefix_len) != 0 {
            return Err(HostIdError::BitsInPrefix { prefix_len });
        }
        Ok(HostId { id, prefix_len })
    }

    /// The interface id as written.
    pub fn id(self) -> Ipv6Addr {
        self.id
    }

    /// How many leading bits come from the detected address.
    pub fn prefix_len(self) -> u8 {
        self.prefix_len
    }

    /// The first `prefix_len` bits of `detected`, then the host id.
    pub fn apply(self, detected: Ipv6Addr) -> Ipv6Addr {
        let mask = prefix_mask(self.prefix_len);
        Ipv6Addr::from_bits((detected.to_bits() & mask) | self.id.to_bits())
    }
}

/// The first `len` bits set (`len` ≤ 128).
fn prefix_mask(len: u8) -> u128 {
    match u32::from(len) {
        0 => 0,
        n => u128::MAX << (128 - n.min(128)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn apply_table() {
        // (detected, host id, prefix length, published)
        let cases: &[(&str, &str, u8, &str)] = &[
            ("2a02:898:1::7", "::1:2:3:4", 64, "2a02:898:1:0:1:2:3:4"),
            (
                "2a02:898:1:5:abcd:ef01:2345:6789",
                "::1:2:3:4",
                64,
                "2a02:898:1:5:1:2:3:4",
            ),
            // A /56 delegation: the device sits in subnet 0x12 of it.
            (
                "2a02:898:1:ab05::7",
                "::12:0:0:0:10",
                56,
                "2a02:898:1:ab12::10",
            ),
            // Not on a nibble boundary: /60 keeps the high nibble of the 4th group.
            (
                "2a02:898:1:abcd::7",
                "::5:0:0:0:1",
                60,
                "2a02:898:1:abc5::1",
            ),
            ("2a02:898:1:2:3:4:5:6", "::1", 127, "2a02:898:1:2:3:4:5:7"),
            ("2a02:898:1:2:3:4:5:6", "::ff", 1, "::ff"),
        ];
        for (detected, id, len, want) in cases {
            let host = HostId::new(v6(id), *len).unwrap();
            assert_eq!(host.apply(v6(detected)), v6(want), "{detected} {id}/{len}");
        }
    }

    #[test]
    fn validation_table() {
        let cases: &[(&str, u8, Result<(), HostIdError>)] = &[
            ("::1:2:3:4", 64, Ok(())),
            ("::ffff:ffff:ffff:ffff", 64, Ok(())),
            (
                "::1:0:0:0:0",
                64,
                Err(HostIdError::BitsInPrefix { prefix_len: 64 }),
            ),
            (
                "2a02:898::1",
                64,
                Err(HostIdError::BitsInPrefix { prefix_len: 64 }),
            ),
            ("::1:0:0:0:0", 56, Ok(())),
            ("::1", 0, Err(HostIdError::PrefixLength(0))),
            ("::1", 128, Err(HostIdError::PrefixLength(128))),
            ("::1", 127, Ok(())),
            (
                "::2",
                127,
                Err(HostIdError::BitsInPrefix { prefix_len: 127 }),
            ),
            ("::", 64, Err(HostIdError::Zero)),
        ];
        for (id, len, want) in cases {
            let got = HostId::new(v6(id), *len).map(|_| ());
            assert_eq!(got, *want, "{id}/{len}");
        }
        let e = HostId::new(v6("2a02:898::1"), 64).unwrap_err().to_string();
        assert!(e.contains("inside the /64 prefix"), "{e}");
    }

    #[test]
    fn masks() {
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(1), 1 << 127);
        assert_eq!(prefix_mask(64), u128::from(u64::MAX) << 64);
        assert_eq!(prefix_mask(128), u128::MAX);
    }
}

//! A stable 64-bit hash (FNV-1a) for config fingerprints.
//!
//! `std`'s `DefaultHasher` may change between Rust releases; a fingerprint is persisted in the
//! state file, so an upgrade must not make every parked record look reconfigured.

use std::hash::Hasher;

/// FNV-1a, 64 bit. Not cryptographic: it only detects that a record's config changed.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Feeds one field, length-prefixed so `("ab","c")` and `("a","bc")` differ.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
        self
    }
}

impl Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_field_separated() {
        let mut h = Fingerprint::default();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c); // published FNV-1a test vector
        let ab_c = Fingerprint::default().field(b"ab").field(b"c").finish();
        let a_bc = Fingerprint::default().field(b"a").field(b"bc").finish();
        assert_ne!(ab_c, a_bc);
    }
}

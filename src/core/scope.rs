//! Which addresses may be published at all: the scope rules shared by every source.
//! Does not choose among good candidates; that is `core::select`.
//!
//! See: DESIGN.md "Address selection", protocols/echo-services.md strict parsing rule 6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address may not be published, or `Ok` when it may.
///
/// Never-publishable scopes are rejected always; private scopes (RFC 1918, CGNAT, ULA) only when
/// `allow_private` is false.
pub fn check(addr: IpAddr, allow_private: bool) -> Result<(), &'static str> {
    let verdict = match addr {
        IpAddr::V4(a) => check_v4(a),
        IpAddr::V6(a) => check_v6(a),
    };
    match verdict {
        Scope::Public => Ok(()),
        Scope::Private(_) if allow_private => Ok(()),
        Scope::Private(why) | Scope::Never(why) => Err(why),
    }
}

enum Scope {
    Public,
    Private(&'static str),
    Never(&'static str),
}

fn check_v4(a: Ipv4Addr) -> Scope {
    let o = a.octets();
    if a.is_unspecified() || o[0] == 0 {
        Scope::Never("unspecified address")
    } else if a.is_loopback() {
        Scope::Never("loopback address")
    } else if a.is_link_local() {
        Scope::Never("link-local address")
    } else if a.is_multicast() {
        Scope::Never("multicast address")
    } else if a.is_broadcast() || o[0] >= 240 {
        Scope::Never("reserved or broadcast address")
    } else if a.is_documentation() {
        // 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737)
        Scope::Never("documentation range")
    } else if a.is_private() {
        Scope::Private("private address (RFC 1918); set allow-private to publish it")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        // 100.64.0.0/10, RFC 6598: carrier-grade NAT, never reachable from outside.
        Scope::Private("shared address space (CGNAT, RFC 6598); set allow-private to publish it")
    } else {
        Scope::Public
    }
}

fn check_v6(a: Ipv6Addr) -> Scope {
    let s = a.segments();
    if a.is_unspecified() {
        Scope::Never("unspecified address")
    } else if a.is_loopback() {
        Scope::Never("loopback address")
    } else if a.is_multicast() {
        Scope::Never("multicast address")
    } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
        // fe80::/10 link-local; fec0::/10 deprecated site-local (RFC 3879)
        Scope::Never("link-local address")
    } else if a.to_ipv4_mapped().is_some() || (s[0..6] == [0, 0, 0, 0, 0, 0]) {
        // ::ffff:a.b.c.d is not IPv6 (protocols/echo-services.md rule 5); ::a.b.c.d is obsolete.
        Scope::Never("IPv4-mapped or IPv4-compatible address")
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xfff0) == 0x3ff0 {
        // 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637)
        Scope::Never("documentation range")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Scope::Private("unique local address (ULA, fc00::/7); set allow-private to publish it")
    } else {
        Scope::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_table() {
        let cases: &[(&str, bool, Result<(), &str>)] = &[
            ("81.2.69.160", false, Ok(())),
            ("2a02:898:1::7", false, Ok(())),
            ("0.0.0.0", true, Err("unspecified address")),
            ("127.0.0.1", true, Err("loopback address")),
            ("169.254.1.1", true, Err("link-local address")),
            ("224.0.0.1", true, Err("multicast address")),
            (
                "255.255.255.255",
                true,
                Err("reserved or broadcast address"),
            ),
            ("198.51.100.7", true, Err("documentation range")),
            ("2001:db8::7", true, Err("documentation range")),
            ("fe80::1", true, Err("link-local address")),
            ("::1", true, Err("loopback address")),
            (
                "::ffff:81.2.69.160",
                true,
                Err("IPv4-mapped or IPv4-compatible address"),
            ),
            ("10.0.0.1", true, Ok(())),
            ("192.168.1.1", true, Ok(())),
            ("100.64.0.1", true, Ok(())),
            ("fd00::1", true, Ok(())),
        ];
        for (addr, allow_private, want) in cases {
            let got = check(addr.parse().unwrap(), *allow_private);
            assert_eq!(got, *want, "{addr} allow_private={allow_private}");
        }
        assert!(
            check("10.0.0.1".parse().unwrap(), false)
                .unwrap_err()
                .contains("RFC 1918")
        );
        assert!(
            check("100.127.255.1".parse().unwrap(), false)
                .unwrap_err()
                .contains("CGNAT")
        );
        assert!(
            check("fd12::1".parse().unwrap(), false)
                .unwrap_err()
                .contains("ULA")
        );
        assert!(check("100.128.0.1".parse().unwrap(), false).is_ok());
    }
}

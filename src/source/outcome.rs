//! Per-family detection outcomes folded into a [`Detection`], shared by the sources.
//! Does not detect anything itself.

use std::net::IpAddr;

use crate::core::{Detected, Detection, Families};

/// The per-family outcomes as a [`Detection`]. Each must hold its own family's address (the
/// parsers check that); a mismatch would be a bug and still publishes nothing.
pub(super) fn into_detection(ipv4: Detected<IpAddr>, ipv6: Detected<IpAddr>) -> Detection {
    Detection {
        ipv4: narrow(ipv4, |a| match a {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }),
        ipv6: narrow(ipv6, |a| match a {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        }),
    }
}

fn narrow<A>(detected: Detected<IpAddr>, pick: impl Fn(IpAddr) -> Option<A>) -> Detected<A> {
    match detected {
        Detected::Found(addr) => match pick(addr) {
            Some(a) => Detected::Found(a),
            None => Detected::Failed(format!("internal error: {addr} has the wrong family")),
        },
        Detected::Failed(message) => Detected::Failed(message),
        Detected::NotAsked => Detected::NotAsked,
    }
}

/// Every family in `families` failed with `message`; the others were not asked.
pub(super) fn all_failed(families: Families, message: &str) -> Detection {
    let failed = |is_asked: bool| {
        if is_asked {
            Detected::Failed(message.to_string())
        } else {
            Detected::NotAsked
        }
    };
    into_detection(failed(families.ipv4), failed(families.ipv6))
}

//! Other OSes: the addresses of every interface through getifaddrs(3) (`if-addrs`), which
//! knows no flags or lifetimes, and no address events (the `check-interval` poll finds
//! changes). Linux uses `source::netlink` and `source::netlink_events` instead.

use std::io;

use crate::core::select::Candidate;

/// Every address on every interface, as selection candidates. getifaddrs(3) knows no address
/// flags or lifetimes, so those are `None` (unknown), never a guess.
///
/// Errors: the system call failed.
pub fn list_addresses() -> io::Result<Vec<Candidate>> {
    let interfaces = if_addrs::get_if_addrs()?;
    Ok(interfaces
        .into_iter()
        .map(|i| {
            let prefix_len = match &i.addr {
                if_addrs::IfAddr::V4(a) => a.prefixlen,
                if_addrs::IfAddr::V6(a) => a.prefixlen,
            };
            Candidate {
                address: i.ip(),
                interface: i.name,
                prefix_len,
                flags: None,
                preferred_lifetime: None,
                valid_lifetime: None,
            }
        })
        .collect())
}

/// No address events here: [`AddressEvents::subscribe`] always fails, and the daemon polls.
#[derive(Debug)]
pub struct AddressEvents;

impl AddressEvents {
    /// Errors: always `Unsupported`.
    pub fn subscribe() -> io::Result<AddressEvents> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "address events need rtnetlink (Linux)",
        ))
    }

    /// Never returns.
    pub async fn changed(&mut self) -> io::Result<()> {
        std::future::pending().await
    }
}

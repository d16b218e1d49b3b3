//! Linux: the addresses of every interface, with their kernel flags and lifetimes, from one
//! rtnetlink dump (RTM_GETLINK for the names, RTM_GETADDR for the addresses).
//! Does not judge addresses (that is `core::select`) nor watch for changes (that is
//! `source::netlink_events`).
//!
//! See: protocols/netns.md "Flags need netlink".

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags as KernelFlags, AddressMessage,
};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

use crate::core::select::{AddressFlags, Candidate};

/// Lifetimes are `u32` seconds; this one means "forever" (`INFINITY_LIFE_TIME`).
const FOREVER: u32 = u32::MAX;

/// A dump datagram is at most 32 KiB (the kernel's `netlink_dump` allocation cap).
const RECV_BUFFER: usize = 64 * 1024;

/// Every address on every interface, as selection candidates with kernel flags and lifetimes.
///
/// The kernel answers a dump at once, like getifaddrs(3) (which uses the same socket family),
/// so this blocks only for the two round trips.
///
/// Errors: the netlink socket cannot be opened, a dump fails, or a reply cannot be parsed.
/// The caller treats that as a failed detection, never as "no addresses".
pub fn list_addresses() -> io::Result<Vec<Candidate>> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;

    let mut names = BTreeMap::new();
    let links = RouteNetlinkMessage::GetLink(LinkMessage::default());
    for message in dump(&socket, links, 1)? {
        if let RouteNetlinkMessage::NewLink(link) = message
            && let Some(name) = link_name(&link)
        {
            names.insert(link.header.index, name);
        }
    }

    let addresses = RouteNetlinkMessage::GetAddress(AddressMessage::default());
    let mut out = Vec::new();
    for message in dump(&socket, addresses, 2)? {
        if let RouteNetlinkMessage::NewAddress(address) = message {
            out.extend(candidate(&address, &names));
        }
    }
    Ok(out)
}

/// Sends one dump request and collects its replies until `NLMSG_DONE`.
fn dump(
    socket: &Socket,
    request: RouteNetlinkMessage,
    sequence: u32,
) -> io::Result<Vec<RouteNetlinkMessage>> {
    let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(request));
    packet.header.flags = NLM_F_DUMP | NLM_F_REQUEST;
    packet.header.sequence_number = sequence;
    packet.finalize();
    // `serialize` needs exactly `buffer_len` bytes.
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf);
    socket.send(&buf, 0)?;

    let mut out = Vec::new();
    let mut datagram = Vec::with_capacity(RECV_BUFFER);
    loop {
        datagram.clear();
        socket.recv(&mut datagram, 0)?;
        let mut rest = &datagram[..];
        while !rest.is_empty() {
            let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(rest)
                .map_err(|e| invalid(format!("cannot parse a netlink reply: {e}")))?;
            let length = usize::try_from(message.header.length).unwrap_or(usize::MAX);
            if message.header.sequence_number == sequence {
                match message.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return Err(match e.code {
                            Some(code) => io::Error::from_raw_os_error(-code.get()),
                            None => invalid("unexpected netlink acknowledgement".into()),
                        });
                    }
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    _ => {}
                }
            }
            // Netlink messages are 4-byte aligned within a datagram (NLMSG_ALIGN).
            let step = length.checked_add(3).map(|l| l & !3).unwrap_or(usize::MAX);
            if length == 0 || step > rest.len() {
                break;
            }
            rest = &rest[step..];
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn link_name(link: &LinkMessage) -> Option<String> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.clone()),
        _ => None,
    })
}

/// One address message as a candidate, or `None` when it carries no address.
///
/// The host address is `IFA_LOCAL` where present (IPv4; on a point-to-point link
/// `IFA_ADDRESS` is the peer), else `IFA_ADDRESS` (IPv6). Flags come from `IFA_FLAGS` (all 32
/// bits) when present, else the 8-bit header field. An interface missing from the link dump
/// (it appeared in between) is named by its index.
pub(super) fn candidate(
    message: &AddressMessage,
    names: &BTreeMap<u32, String>,
) -> Option<Candidate> {
    let mut local = None;
    let mut address = None;
    let mut flags = None;
    let mut cache = None;
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::Flags(f) => flags = Some(*f),
            AddressAttribute::CacheInfo(c) => cache = Some((c.ifa_preferred, c.ifa_valid)),
            _ => {}
        }
    }
    let address: IpAddr = local.or(address)?;
    let flags = flags
        .unwrap_or_else(|| KernelFlags::from_bits_retain(u32::from(message.header.flags.bits())));
    let index = message.header.index;
    let interface = names
        .get(&index)
        .cloned()
        .unwrap_or_else(|| format!("if{index}"));
    Some(Candidate {
        interface,
        address,
        prefix_len: message.header.prefix_len,
        flags: Some(address_flags(flags, address)),
        preferred_lifetime: cache.and_then(|(p, _)| lifetime(p)),
        valid_lifetime: cache.and_then(|(_, v)| lifetime(v)),
    })
}

/// The kernel flags `core::select` uses. IFA_F_SECONDARY and IFA_F_TEMPORARY are one bit: on
/// IPv4 it marks a secondary address, which is not a privacy address.
fn address_flags(f: KernelFlags, address: IpAddr) -> AddressFlags {
    AddressFlags {
        temporary: address.is_ipv6() && f.contains(KernelFlags::Secondary),
        deprecated: f.contains(KernelFlags::Deprecated),
        tentative: f.contains(KernelFlags::Tentative),
        dad_failed: f.contains(KernelFlags::Dadfailed),
        permanent: f.contains(KernelFlags::Permanent),
    }
}

/// Seconds to a lifetime; `None` = forever.
fn lifetime(secs: u32) -> Option<Duration> {
    (secs != FOREVER).then(|| Duration::from_secs(u64::from(secs)))
}

#[cfg(test)]
mod tests {
    use netlink_packet_route::AddressFamily;
    use netlink_packet_route::address::{AddressHeaderFlags, CacheInfo};

    use super::*;

    fn message(
        index: u32,
        prefix_len: u8,
        attributes: Vec<AddressAttribute>,
        header_flags: u8,
    ) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.header.index = index;
        m.header.prefix_len = prefix_len;
        m.header.flags = AddressHeaderFlags::from_bits_retain(header_flags);
        m.attributes = attributes;
        m
    }

    fn cache(preferred: u32, valid: u32) -> AddressAttribute {
        let mut c = CacheInfo::default();
        c.ifa_preferred = preferred;
        c.ifa_valid = valid;
        AddressAttribute::CacheInfo(c)
    }

    fn names() -> BTreeMap<u32, String> {
        BTreeMap::from([(2, "eth0".to_string())])
    }

    #[test]
    fn ipv6_temporary_with_lifetimes() {
        let m = message(
            2,
            64,
            vec![
                AddressAttribute::Address("2a02:898:1::7".parse().unwrap()),
                AddressAttribute::Flags(KernelFlags::Secondary | KernelFlags::Tentative),
                cache(86_360, 604_799),
            ],
            0,
        );
        let c = candidate(&m, &names()).unwrap();
        assert_eq!(c.interface, "eth0");
        assert_eq!(c.prefix_len, 64);
        let f = c.flags.unwrap();
        assert!(f.temporary && f.tentative && !f.deprecated && !f.permanent);
        assert_eq!(c.preferred_lifetime, Some(Duration::from_secs(86_360)));
        assert_eq!(c.valid_lifetime, Some(Duration::from_secs(604_799)));
    }

    #[test]
    fn ipv4_local_wins_and_secondary_is_not_temporary() {
        let m = message(
            7,
            24,
            vec![
                AddressAttribute::Address("81.2.69.1".parse().unwrap()),
                AddressAttribute::Local("81.2.69.160".parse().unwrap()),
                AddressAttribute::Flags(KernelFlags::Secondary | KernelFlags::Permanent),
                cache(FOREVER, FOREVER),
            ],
            0,
        );
        let c = candidate(&m, &names()).unwrap();
        assert_eq!(c.address, "81.2.69.160".parse::<IpAddr>().unwrap());
        assert_eq!(c.interface, "if7");
        let f = c.flags.unwrap();
        assert!(!f.temporary && f.permanent);
        assert_eq!((c.preferred_lifetime, c.valid_lifetime), (None, None));
    }

    #[test]
    fn header_flags_when_ifa_flags_is_absent() {
        let m = message(
            2,
            64,
            vec![AddressAttribute::Address("2a02:898:1::7".parse().unwrap())],
            0x20 | 0x08, // deprecated, DAD failed
        );
        let f = candidate(&m, &names()).unwrap().flags.unwrap();
        assert!(f.deprecated && f.dad_failed && !f.tentative);
    }

    #[test]
    fn no_address_attribute_is_no_candidate() {
        assert_eq!(candidate(&message(2, 64, vec![], 0), &names()), None);
    }

    #[test]
    fn dump_lists_loopback_with_flags() {
        let all = list_addresses().unwrap();
        let lo = all
            .iter()
            .find(|c| c.address == IpAddr::from([127, 0, 0, 1]))
            .expect("127.0.0.1 on some interface");
        assert_eq!(lo.interface, "lo");
        assert_eq!(lo.prefix_len, 8);
        assert!(lo.flags.unwrap().permanent, "{lo:?}");
        assert_eq!(lo.preferred_lifetime, None);
    }
}

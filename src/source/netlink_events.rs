//! Linux: address change notifications. One rtnetlink socket subscribed to the IPv4 and IPv6
//! address groups (what `ip monitor address` hears) yields "something changed"; the caller
//! waits `settle` and re-detects. Does not say *what* changed: a re-dump is the truth, and
//! events come in bursts (DAD finishing, secondaries deleted with their primary).
//!
//! See: protocols/netns.md "Events".

use std::io;

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{AsyncSocket, AsyncSocketExt, SocketAddr, TokioSocket};

/// linux/rtnetlink.h `enum rtnetlink_groups`.
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV6_IFADDR: u32 = 9;

/// Address events are small; one datagram holds one message, a few hundred bytes.
const RECV_BUFFER: usize = 16 * 1024;
/// A burst (hundreds of addresses going at once with an interface) must not overflow the
/// socket; an overflow is survived anyway (see [`AddressEvents::changed`]).
const SOCKET_BUFFER: usize = 1024 * 1024;

/// A subscription to the kernel's address add/remove events.
pub struct AddressEvents {
    socket: TokioSocket,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for AddressEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddressEvents")
    }
}

impl AddressEvents {
    /// Opens the socket and joins the address groups. Needs a tokio runtime with I/O enabled.
    ///
    /// Errors: netlink is unavailable (e.g. blocked by a seccomp filter) or the runtime has no
    /// I/O driver.
    pub fn subscribe() -> io::Result<AddressEvents> {
        let mut socket = TokioSocket::new(NETLINK_ROUTE)?;
        let raw = socket.socket_mut();
        raw.bind(&SocketAddr::new(0, 0))?;
        raw.add_membership(RTNLGRP_IPV4_IFADDR)?;
        raw.add_membership(RTNLGRP_IPV6_IFADDR)?;
        // Best effort: the default buffer is enough for most bursts.
        let _ = raw.set_rx_buf_sz(SOCKET_BUFFER);
        Ok(AddressEvents {
            socket,
            buffer: Vec::with_capacity(RECV_BUFFER),
        })
    }

    /// Waits for the next address added, removed or changed (flags, lifetimes), on any
    /// interface. Cancel-safe: a datagram is either consumed and reported, or left queued.
    ///
    /// A socket overflow (ENOBUFS: events were lost) counts as a change, since the lost events
    /// may have been address changes.
    ///
    /// Errors: the socket failed for good; the caller falls back to polling.
    pub async fn changed(&mut self) -> io::Result<()> {
        loop {
            self.buffer.clear();
            match self.socket.recv(&mut self.buffer).await {
                Ok(()) => {
                    if is_address_event(&self.buffer) {
                        return Ok(());
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a datagram holds an address message. Anything unparsable counts as one: a spurious
/// re-detection is cheap, a missed change is not.
fn is_address_event(datagram: &[u8]) -> bool {
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(datagram) {
        Ok(message) => matches!(
            message.payload,
            NetlinkPayload::InnerMessage(
                RouteNetlinkMessage::NewAddress(_) | RouteNetlinkMessage::DelAddress(_)
            )
        ),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::NetlinkHeader;
    use netlink_packet_route::address::AddressMessage;
    use netlink_packet_route::link::LinkMessage;

    use super::*;

    fn bytes(m: RouteNetlinkMessage) -> Vec<u8> {
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(m));
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        buf
    }

    #[test]
    fn address_messages_count_others_do_not() {
        let new = bytes(RouteNetlinkMessage::NewAddress(AddressMessage::default()));
        let del = bytes(RouteNetlinkMessage::DelAddress(AddressMessage::default()));
        let link = bytes(RouteNetlinkMessage::NewLink(LinkMessage::default()));
        assert!(is_address_event(&new));
        assert!(is_address_event(&del));
        assert!(!is_address_event(&link));
        assert!(is_address_event(b"garbage"));
    }

    #[tokio::test]
    async fn subscribes_in_this_namespace() {
        // Joining the groups needs no privilege; no event is awaited here (that needs a
        // namespace of our own: tests/it/interface_events.rs).
        AddressEvents::subscribe().unwrap();
    }
}

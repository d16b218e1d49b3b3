//! Moving one UPDATE and its reply over UDP or TCP (RFC 1035 §4.2), and telling "never
//! delivered" (transient) from "sent, no reply" (unconfirmed). Does not look inside replies
//! beyond the header; that is `reply`.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use super::error::{Rfc2136Error, show_duration};
use super::message::MAX_UDP_BYTES;
use super::reply::Context;

/// A reply, and the TCP connection it came on (open, for the read-back).
pub(super) struct Exchanged {
    pub(super) reply: Vec<u8>,
    pub(super) connection: Option<TcpStream>,
}

/// Sends `request` (a signed message with ID `id`) and returns the raw reply: over UDP when it
/// fits in 512 bytes, else over TCP; a truncated UDP reply (TC) is retried over TCP
/// (RFC 1035 §4.2.1, RFC 7766 §6.2.2). `timeout` bounds each attempt.
pub(super) async fn exchange(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    timeout: Duration,
    ctx: &Context<'_>,
) -> Result<Exchanged, Rfc2136Error> {
    if request.len() <= MAX_UDP_BYTES {
        let reply = exchange_udp(server, request, id, timeout, ctx).await?;
        if !is_truncated(&reply) {
            return Ok(Exchanged {
                reply,
                connection: None,
            });
        }
    }
    let (reply, stream) = exchange_tcp(server, request, id, timeout, ctx).await?;
    Ok(Exchanged {
        reply,
        connection: Some(stream),
    })
}

/// The TC bit of a DNS header (RFC 1035 §4.1.1).
fn is_truncated(message: &[u8]) -> bool {
    message.get(2).is_some_and(|flags| flags & 0x02 != 0)
}

/// Whether `message` is a response (QR set) with ID `id` (RFC 1035 §4.1.1, §7.3).
pub(super) fn is_reply_to(message: &[u8], id: u16) -> bool {
    match message {
        [hi, lo, flags, ..] => u16::from_be_bytes([*hi, *lo]) == id && flags & 0x80 != 0,
        _ => false,
    }
}

async fn exchange_udp(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    timeout: Duration,
    ctx: &Context<'_>,
) -> Result<Vec<u8>, Rfc2136Error> {
    let unreachable = |e: io::Error| Rfc2136Error::Unreachable {
        server,
        reason: describe(&e),
    };
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(unreachable)?;
    // A connected socket accepts datagrams from the server only, and reports an ICMP port
    // unreachable as ECONNREFUSED: nothing listens, so nothing was applied (transient).
    socket.connect(server).await.map_err(unreachable)?;
    socket.send(request).await.map_err(unreachable)?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65_535];
    loop {
        match timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => {
                return Err(no_reply(
                    ctx,
                    format!("no reply within {}", show_duration(timeout)),
                ));
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(unreachable(e));
            }
            Ok(Err(e)) => return Err(no_reply(ctx, format!("receive failed: {}", describe(&e)))),
            // A stray or late datagram (another ID) is not ours: keep waiting (RFC 5452 §9.1).
            Ok(Ok(n)) => {
                if let Some(reply) = buf.get(..n).filter(|m| is_reply_to(m, id)) {
                    return Ok(reply.to_vec());
                }
            }
        }
    }
}

async fn exchange_tcp(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    timeout: Duration,
    ctx: &Context<'_>,
) -> Result<(Vec<u8>, TcpStream), Rfc2136Error> {
    let deadline = Instant::now() + timeout;
    let mut stream = match timeout_at(deadline, TcpStream::connect(server)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err(Rfc2136Error::Unreachable {
                server,
                reason: describe(&e),
            });
        }
        Err(_) => {
            return Err(Rfc2136Error::Unreachable {
                server,
                reason: format!("no tcp connection within {}", show_duration(timeout)),
            });
        }
    };
    let _ = stream.set_nodelay(true);
    let framed = frame(request)?;
    // From the first byte written on, the server may have the update: failures are
    // unconfirmed.
    match timeout_at(deadline, stream.write_all(&framed)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(no_reply(ctx, format!("sending failed: {}", describe(&e)))),
        Err(_) => {
            return Err(no_reply(
                ctx,
                format!("sending did not finish within {}", show_duration(timeout)),
            ));
        }
    }
    loop {
        let reply = match timeout_at(deadline, read_framed(&mut stream)).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                return Err(no_reply(ctx, format!("connection lost: {}", describe(&e))));
            }
            Err(_) => {
                return Err(no_reply(
                    ctx,
                    format!("no reply within {}", show_duration(timeout)),
                ));
            }
        };
        if is_reply_to(&reply, id) {
            return Ok((reply, stream));
        }
    }
}

/// Prefixes a message with its two-byte length (RFC 1035 §4.2.2).
pub(super) fn frame(message: &[u8]) -> Result<Vec<u8>, Rfc2136Error> {
    let len = u16::try_from(message.len())
        .map_err(|_| Rfc2136Error::Encode(format!("message of {} bytes", message.len())))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    Ok(framed)
}

/// Reads one length-prefixed message (RFC 1035 §4.2.2).
pub(super) async fn read_framed<R: AsyncReadExt + Unpin>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    reader.read_exact(&mut len).await?;
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
    reader.read_exact(&mut message).await?;
    Ok(message)
}

fn no_reply(ctx: &Context<'_>, reason: String) -> Rfc2136Error {
    Rfc2136Error::NoReply {
        server: ctx.server,
        zone: ctx.zone.to_string(),
        reason,
    }
}

/// An I/O error in the words of the messages: `connection refused`, not `Connection refused
/// (os error 111)`.
pub(super) fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::ConnectionReset => "connection reset".to_string(),
        io::ErrorKind::UnexpectedEof => "closed by the server".to_string(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            text.to_lowercase()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bits() {
        assert!(is_reply_to(&[0x12, 0x34, 0x80, 0], 0x1234));
        assert!(!is_reply_to(&[0x12, 0x34, 0x00, 0], 0x1234));
        assert!(!is_reply_to(&[0x12, 0x35, 0x80, 0], 0x1234));
        assert!(!is_reply_to(&[0x12], 0x1234));
        assert!(is_truncated(&[0, 0, 0x82, 0]));
        assert!(!is_truncated(&[0, 0, 0x80, 0]));
    }

    #[test]
    fn io_errors_read_like_messages() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(describe(&refused), "connection refused");
        let os = io::Error::from_raw_os_error(113);
        assert_eq!(describe(&os), "no route to host");
    }
}

//! rfc2136 transport faults (#9) against a fake DNS server on loopback: SERVFAIL, a reply with
//! the wrong ID or from the wrong port (ignored: RFC 5452 §9.1), and a truncated UDP reply
//! (redone over TCP: RFC 1035 §4.2.1). `named` stopped is `provider_rfc2136::
//! named_stopped_is_transient_then_publishes_after_restart`; garbage and silence are there too.

use std::collections::BTreeMap;
use std::time::Duration;

use dynipd::core::{Addresses, ErrorClass, Failure};
use dynipd::provider::Target;
use dynipd::provider::rfc2136::{Rfc2136Provider, Rfc2136ProviderConfig, TsigAlgorithm};
use dynipd::secret::Secret;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, UdpSocket};

const TIMEOUT: Duration = Duration::from_secs(2);

/// QR=1, opcode UPDATE (5): the flags byte of an UPDATE response.
const RESPONSE_UPDATE: u8 = 0xa8;
/// The TC bit in the same byte.
const TRUNCATED: u8 = 0x02;
const NOERROR: u8 = 0;
const SERVFAIL: u8 = 2;
const REFUSED: u8 = 5;

/// A bare response header (no sections, no TSIG) to the request with ID `id`.
fn header(id: [u8; 2], flags: u8, rcode: u8) -> Vec<u8> {
    vec![id[0], id[1], flags, rcode, 0, 0, 0, 0, 0, 0, 0, 0]
}

fn provider(server: std::net::SocketAddr) -> Rfc2136Provider {
    Rfc2136Provider::new(
        Rfc2136ProviderConfig {
            server,
            zone: "example.test".into(),
            key_name: "dynipd-sha256".into(),
            key_algorithm: TsigAlgorithm::HmacSha256,
            key_secret: Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()),
            verify: true,
        },
        TIMEOUT,
    )
}

async fn publish(p: &Rfc2136Provider) -> Failure {
    let addresses = Addresses {
        ipv4: Some("81.2.69.160".parse().unwrap()),
        ipv6: None,
    };
    let target = Target {
        name: "host.example.test".into(),
        families: addresses.families(),
        ttl: Duration::from_secs(60),
        addresses,
        cache: BTreeMap::new(),
    };
    let mut outcomes = p.publish(&[target]).await;
    assert_eq!(outcomes.len(), 1);
    match outcomes.remove(0).1 {
        Ok(c) => panic!("published {c:?}"),
        Err(f) => f,
    }
}

// See: #9
#[tokio::test]
async fn issue_9_servfail_is_transient() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let answer = async {
        let mut buf = [0u8; 1024];
        let (_, from) = server.recv_from(&mut buf).await.unwrap();
        let reply = header([buf[0], buf[1]], RESPONSE_UPDATE, SERVFAIL);
        server.send_to(&reply, from).await.unwrap();
    };
    let p = provider(addr);
    let (f, ()) = tokio::join!(publish(&p), answer);
    assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    assert!(f.message.contains("SERVFAIL"), "{}", f.message);
}

// See: #9
#[tokio::test]
async fn issue_9_a_reply_with_the_wrong_id_or_from_the_wrong_port_is_ignored() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let spoofer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let answer = async {
        let mut buf = [0u8; 1024];
        let (_, from) = server.recv_from(&mut buf).await.unwrap();
        let id = [buf[0], buf[1]];
        let wrong_id = [id[0] ^ 0xff, id[1]];
        // Both forgeries say REFUSED, which would park the record if believed.
        server
            .send_to(&header(wrong_id, RESPONSE_UPDATE, REFUSED), from)
            .await
            .unwrap();
        spoofer
            .send_to(&header(id, RESPONSE_UPDATE, REFUSED), from)
            .await
            .unwrap();
        // A query-type message (QR=0) with the right ID: not a reply either.
        server
            .send_to(&header(id, 0x28, REFUSED), from)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        server
            .send_to(&header(id, RESPONSE_UPDATE, SERVFAIL), from)
            .await
            .unwrap();
    };
    let p = provider(addr);
    let (f, ()) = tokio::join!(publish(&p), answer);
    assert_eq!(
        f.class,
        ErrorClass::Transient,
        "a forged REFUSED was believed: {}",
        f.message
    );
    assert!(f.message.contains("SERVFAIL"), "{}", f.message);
}

// See: #9
#[tokio::test]
async fn issue_9_a_truncated_udp_reply_is_redone_over_tcp() {
    // UDP and TCP on the same port, as a DNS server listens.
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let udp = UdpSocket::bind(addr).await.unwrap();
    let answer_udp = async {
        let mut buf = [0u8; 1024];
        let (n, from) = udp.recv_from(&mut buf).await.unwrap();
        let reply = header([buf[0], buf[1]], RESPONSE_UPDATE | TRUNCATED, NOERROR);
        udp.send_to(&reply, from).await.unwrap();
        buf[..n].to_vec()
    };
    let answer_tcp = async {
        let (mut stream, _) = tcp.accept().await.unwrap();
        let len = stream.read_u16().await.unwrap();
        let mut request = vec![0u8; usize::from(len)];
        stream.read_exact(&mut request).await.unwrap();
        let reply = header([request[0], request[1]], RESPONSE_UPDATE, SERVFAIL);
        stream
            .write_u16(u16::try_from(reply.len()).unwrap())
            .await
            .unwrap();
        stream.write_all(&reply).await.unwrap();
        // Keep the connection open until the client is done with it.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        request
    };
    let p = provider(addr);
    let (f, over_udp, over_tcp) = tokio::join!(publish(&p), answer_udp, answer_tcp);
    // A truncated NOERROR is not a success: the TCP answer (SERVFAIL) decides.
    assert_eq!(f.class, ErrorClass::Transient, "{}", f.message);
    assert!(f.message.contains("SERVFAIL"), "{}", f.message);
    // The same signed update went over both (same ID, same body).
    assert_eq!(
        over_udp[..2],
        over_tcp[..2],
        "the TCP retry is the same message"
    );
}

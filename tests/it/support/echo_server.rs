//! A public-IP echo service on loopback with the reply formats and failure modes of
//! protocols/echo-services.md ("Test server modes"): bare address with and without `\n`,
//! Cloudflare trace, checkip HTML, two addresses, wrong family, IPv4-mapped IPv6, 64 KiB and
//! 10 MB bodies, empty, 500, slow. The address is settable, so two instances can disagree.
//! It answers on every path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http_server::{HttpServer, Recorded, Response};

/// How the service answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoMode {
    /// `198.51.100.7` (ipify: no trailing newline).
    Bare,
    /// `198.51.100.7\n` (icanhazip).
    BareNewline,
    /// Cloudflare `/cdn-cgi/trace` `key=value` lines; `h` is the Host header's host.
    Trace,
    /// checkip.dyndns.org's HTML page.
    Html,
    /// The address and another one of its family, one per line.
    TwoAddresses,
    /// An address of the other family.
    WrongFamily,
    /// `::ffff:a.b.c.d` (the IPv4 address as IPv4-mapped IPv6; a fixed one for IPv6).
    Ipv4Mapped,
    /// The address, then spaces up to 64 KiB (a reader that parses a prefix would accept it).
    Body64KiB,
    /// The same up to 10 MB.
    Body10MB,
    /// HTTP 200 with an empty body.
    Empty,
    /// HTTP 500.
    ServerError,
    /// `Bare`, after this delay.
    Slow(Duration),
}

/// A documentation-free public IPv4 address used when the mode needs a second one.
const OTHER_V4: Ipv4Addr = Ipv4Addr::new(81, 2, 69, 160);
/// Likewise for IPv6.
const OTHER_V6: Ipv6Addr = Ipv6Addr::new(0x2a02, 0x898, 1, 0, 0, 0, 0, 7);

struct State {
    mode: EchoMode,
    address: IpAddr,
}

/// A running echo service; derefs to its [`HttpServer`] for the request log.
pub struct EchoServer {
    http: HttpServer,
    state: Arc<Mutex<State>>,
}

impl EchoServer {
    /// Starts a service that answers `address` as a bare address (`EchoMode::Bare`).
    pub fn start(address: IpAddr) -> EchoServer {
        EchoServer::start_with(address, EchoMode::Bare)
    }

    /// Starts a service in `mode`.
    pub fn start_with(address: IpAddr, mode: EchoMode) -> EchoServer {
        let state = Arc::new(Mutex::new(State { mode, address }));
        let handler_state = Arc::clone(&state);
        let http = HttpServer::start(move |request| {
            let state = handler_state.lock().unwrap();
            answer(state.mode, state.address, request)
        });
        EchoServer { http, state }
    }

    /// `http://127.0.0.1:PORT/` (any path works; `/cdn-cgi/trace` reads naturally for trace).
    pub fn base_url(&self) -> String {
        self.http.url("/")
    }

    /// Changes the answered address.
    pub fn set_address(&self, address: IpAddr) {
        self.state.lock().unwrap().address = address;
    }

    /// Changes the mode.
    pub fn set_mode(&self, mode: EchoMode) {
        self.state.lock().unwrap().mode = mode;
    }
}

impl Deref for EchoServer {
    type Target = HttpServer;

    fn deref(&self) -> &HttpServer {
        &self.http
    }
}

/// Another address of the same family as `address`.
fn sibling(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(a) => {
            let [x, y, z, w] = a.octets();
            IpAddr::V4(Ipv4Addr::new(x, y, z, w ^ 1))
        }
        IpAddr::V6(a) => {
            let mut s = a.segments();
            s[7] ^= 1;
            IpAddr::V6(Ipv6Addr::from(s))
        }
    }
}

fn padded(address: IpAddr, size: usize) -> Vec<u8> {
    let mut body = format!("{address}\n").into_bytes();
    body.resize(size.max(body.len()), b' ');
    body
}

fn answer(mode: EchoMode, address: IpAddr, request: &Recorded) -> Response {
    let plain = |body: &[u8]| Response::with(200, &[("Content-Type", "text/plain")], body);
    match mode {
        EchoMode::Bare => plain(address.to_string().as_bytes()),
        EchoMode::BareNewline => plain(format!("{address}\n").as_bytes()),
        EchoMode::Trace => {
            let host = request.header("host").unwrap_or("");
            // Drop the port: `127.0.0.1:8080` → `127.0.0.1`, `[::1]:8080` → `[::1]`.
            let host = match host.rsplit_once(':') {
                Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
                _ => host,
            };
            let body = format!(
                "fl=123f45\nh={host}\nip={address}\nts=1795411149.853\nvisit_scheme=http\n\
                 uag={}\ncolo=FRA\nsliver=none\nhttp=http/1.1\nloc=DE\ntls=off\nsni=off\n\
                 warp=off\ngateway=off\nrbi=off\nkex=none\n",
                request.header("user-agent").unwrap_or("")
            );
            plain(body.as_bytes())
        }
        EchoMode::Html => Response::with(
            200,
            &[("Content-Type", "text/html")],
            format!(
                "<html><head><title>Current IP Check</title></head><body>Current IP Address: \
                 {address}</body></html>"
            ),
        ),
        EchoMode::TwoAddresses => plain(format!("{address}\n{}\n", sibling(address)).as_bytes()),
        EchoMode::WrongFamily => {
            let other = match address {
                IpAddr::V4(_) => IpAddr::V6(OTHER_V6),
                IpAddr::V6(_) => IpAddr::V4(OTHER_V4),
            };
            plain(format!("{other}\n").as_bytes())
        }
        EchoMode::Ipv4Mapped => {
            let v4 = match address {
                IpAddr::V4(a) => a,
                IpAddr::V6(_) => OTHER_V4,
            };
            plain(format!("{}\n", v4.to_ipv6_mapped()).as_bytes())
        }
        EchoMode::Body64KiB => plain(&padded(address, 64 * 1024)),
        EchoMode::Body10MB => plain(&padded(address, 10 * 1024 * 1024)),
        EchoMode::Empty => plain(b""),
        EchoMode::ServerError => Response::text(500, "internal server error"),
        EchoMode::Slow(delay) => plain(address.to_string().as_bytes()).after(delay),
    }
}

#[cfg(test)]
mod tests {
    use super::super::http_server::raw_get;
    use super::*;

    fn get(server: &EchoServer, path: &str) -> (String, Vec<u8>) {
        let reply = raw_get(server.addr(), path, &[("User-Agent", "t/1")]);
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(reply[..split].to_vec()).unwrap();
        (head, reply[split + 4..].to_vec())
    }

    fn body(server: &EchoServer) -> String {
        String::from_utf8(get(server, "/").1).unwrap()
    }

    #[test]
    fn every_mode_answers_as_documented() {
        let server = EchoServer::start("81.2.69.160".parse().unwrap());
        let cases: &[(EchoMode, &str)] = &[
            (EchoMode::Bare, "81.2.69.160"),
            (EchoMode::BareNewline, "81.2.69.160\n"),
            (
                EchoMode::Html,
                "<html><head><title>Current IP Check</title></head><body>Current IP Address: \
                 81.2.69.160</body></html>",
            ),
            (EchoMode::TwoAddresses, "81.2.69.160\n81.2.69.161\n"),
            (EchoMode::WrongFamily, "2a02:898:1::7\n"),
            (EchoMode::Ipv4Mapped, "::ffff:81.2.69.160\n"),
            (EchoMode::Empty, ""),
            (EchoMode::ServerError, "internal server error"),
        ];
        for (mode, expected) in cases {
            server.set_mode(*mode);
            assert_eq!(body(&server), *expected, "{mode:?}");
        }
        server.set_mode(EchoMode::Trace);
        let (_, trace) = get(&server, "/cdn-cgi/trace");
        let trace = String::from_utf8(trace).unwrap();
        assert!(trace.contains("\nh=127.0.0.1\nip=81.2.69.160\n"), "{trace}");
        assert!(
            trace.ends_with("warp=off\ngateway=off\nrbi=off\nkex=none\n"),
            "{trace}"
        );
        server.set_mode(EchoMode::Body64KiB);
        let (head, big) = get(&server, "/");
        assert!(head.contains("Content-Length: 65536"), "{head}");
        assert!(big.starts_with(b"81.2.69.160\n  "));
        server.set_mode(EchoMode::Body10MB);
        let (head, huge) = get(&server, "/");
        assert!(head.contains("Content-Length: 10485760"), "{head}");
        assert_eq!(huge.len(), 10 * 1024 * 1024);
        server.set_mode(EchoMode::ServerError);
        assert!(get(&server, "/").0.starts_with("HTTP/1.1 500 "));
        server.set_mode(EchoMode::Bare);
        server.set_address("2a02:898:1::7".parse().unwrap());
        assert_eq!(body(&server), "2a02:898:1::7");
        assert_eq!(server.count(), cases.len() + 5);
    }
}

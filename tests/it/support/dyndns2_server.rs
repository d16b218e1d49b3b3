//! A dyndns2 update server on loopback, as protocols/dyndns2.md describes it: Basic auth
//! (`badauth` as HTTP 200, or as 401 + `WWW-Authenticate` like No-IP), a per-host address
//! table (`nohost` for names it does not know), one `good IP` / `nochg IP` line per host in
//! request order, a missing `myip` filled from the peer address, and failure modes (`911`,
//! `dnserr`, 500, 429 + `Retry-After`, slow, or any fixed reply).
//! Replies are `text/plain` with a correct `Content-Length`; lines are joined by `\n` with no
//! trailing newline (the protocol pages leave the line ending open).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use super::http_server::{Connector, HttpServer, Recorded, Response};

/// The update path Dyn and No-IP use.
pub const UPDATE_PATH: &str = "/nic/update";

/// How the server answers a request (after nothing else has failed first, for `Normal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The protocol: auth, agent, hostnames, per-host state.
    Normal,
    /// `911` once (HTTP 200): maintenance.
    Maintenance,
    /// `dnserr` once (HTTP 200): server-side DNS error.
    Dnserr,
    /// HTTP 500 with an HTML page.
    ServerError,
    /// HTTP 429 with `Retry-After: SECS`.
    TooManyRequests { retry_after_secs: u64 },
    /// Exactly this status and body, whatever the request.
    Always { status: u16, body: String },
    /// Answer as `Normal`, after this delay.
    Slow(Duration),
}

/// How a wrong or missing login is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// `badauth` with HTTP 200 (Dyn).
    Body200,
    /// HTTP 401, `WWW-Authenticate: Basic realm="..."`, body `badauth` (No-IP).
    Challenge401,
}

/// What the server has for one hostname.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostState {
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

struct State {
    user: String,
    password: String,
    auth_failure: AuthFailure,
    mode: Mode,
    hosts: BTreeMap<String, HostState>,
}

/// A running dyndns2 server; derefs to its [`HttpServer`] for `requests()`, `count()` and
/// `wait_for_requests()`.
pub struct Dyndns2Server {
    http: HttpServer,
    state: Arc<Mutex<State>>,
}

impl Dyndns2Server {
    /// Starts a server accepting `user`:`password` that knows `hosts` (no address yet).
    pub fn start(user: &str, password: &str, hosts: &[&str]) -> Dyndns2Server {
        Dyndns2Server::start_with(user, password, hosts, HttpServer::start)
    }

    /// Like `start`, on `listener` (e.g. inside a network namespace); `connect` must reach it
    /// from where it listens (see [`HttpServer::start_on`]).
    pub fn start_on(
        listener: TcpListener,
        connect: Connector,
        user: &str,
        password: &str,
        hosts: &[&str],
    ) -> Dyndns2Server {
        Dyndns2Server::start_with(user, password, hosts, |handler| {
            HttpServer::start_on(listener, connect, handler)
        })
    }

    fn start_with(
        user: &str,
        password: &str,
        hosts: &[&str],
        serve: impl FnOnce(Box<dyn Fn(&Recorded) -> Response + Send + Sync>) -> HttpServer,
    ) -> Dyndns2Server {
        let state = Arc::new(Mutex::new(State {
            user: user.into(),
            password: password.into(),
            auth_failure: AuthFailure::Body200,
            mode: Mode::Normal,
            hosts: hosts
                .iter()
                .map(|h| (h.to_string(), HostState::default()))
                .collect(),
        }));
        let handler_state = Arc::clone(&state);
        let http = serve(Box::new(move |request| {
            let mut state = handler_state.lock().unwrap();
            answer(&mut state, request)
        }));
        Dyndns2Server { http, state }
    }

    /// The update URL: `http://127.0.0.1:PORT/nic/update`.
    pub fn update_url(&self) -> String {
        self.http.url(UPDATE_PATH)
    }

    /// Switches the answering mode.
    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    /// Chooses how bad logins are answered.
    pub fn set_auth_failure(&self, auth_failure: AuthFailure) {
        self.state.lock().unwrap().auth_failure = auth_failure;
    }

    /// What the server has for `host` (`None` when it does not know the host).
    pub fn host(&self, host: &str) -> Option<HostState> {
        self.state.lock().unwrap().hosts.get(host).copied()
    }

    /// Sets the address of its family for `host`, adding the host if needed.
    pub fn set_address(&self, host: &str, address: IpAddr) {
        let mut state = self.state.lock().unwrap();
        let entry = state.hosts.entry(host.to_string()).or_default();
        match address {
            IpAddr::V4(a) => entry.ipv4 = Some(a),
            IpAddr::V6(a) => entry.ipv6 = Some(a),
        }
    }

    /// `Basic base64(user:password)`, as a client must send it.
    pub fn expected_authorization(user: &str, password: &str) -> String {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}")
    }
}

impl Deref for Dyndns2Server {
    type Target = HttpServer;

    fn deref(&self) -> &HttpServer {
        &self.http
    }
}

fn text(body: &str) -> Response {
    Response::text(200, body)
}

fn answer(state: &mut State, request: &Recorded) -> Response {
    match state.mode.clone() {
        Mode::Normal => update(state, request),
        Mode::Maintenance => text("911"),
        Mode::Dnserr => text("dnserr"),
        Mode::ServerError => Response::with(
            500,
            &[("Content-Type", "text/html")],
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
        ),
        Mode::TooManyRequests { retry_after_secs } => Response::with(
            429,
            &[
                ("Content-Type", "text/plain"),
                ("Retry-After", &retry_after_secs.to_string()),
            ],
            "",
        ),
        Mode::Always { status, body } => Response::text(status, &body),
        Mode::Slow(delay) => update(state, request).after(delay),
    }
}

/// The protocol proper (dyndns2.md §1–2).
fn update(state: &mut State, request: &Recorded) -> Response {
    if request.path != UPDATE_PATH {
        return Response::text(404, "not found");
    }
    // A bad method or a missing agent is `badagent` (dyndns2.md §2).
    let agent = request.header("user-agent").unwrap_or("").trim();
    if request.method != "GET" || agent.is_empty() {
        return text("badagent");
    }
    let expected = Dyndns2Server::expected_authorization(&state.user, &state.password);
    if request.header("authorization") != Some(expected.as_str()) {
        return match state.auth_failure {
            AuthFailure::Body200 => text("badauth"),
            AuthFailure::Challenge401 => Response::with(
                401,
                &[
                    ("Content-Type", "text/plain"),
                    ("WWW-Authenticate", "Basic realm=\"No-IP DNS Update API\""),
                ],
                "badauth",
            ),
        };
    }
    let hostnames: Vec<String> = request
        .query_param("hostname")
        .unwrap_or_default()
        .split(',')
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    if hostnames.is_empty() {
        return text("notfqdn");
    }
    if hostnames.len() > 20 {
        return text("numhost");
    }
    // A missing `myip` means the connection's source address (dyndns2.md §1).
    let myip: Vec<IpAddr> = match request.query_param("myip") {
        None => vec![request.peer.ip()],
        Some(list) => match list.split(',').map(str::parse).collect() {
            Ok(addrs) => addrs,
            // Not in the protocol pages: a test server's own answer to a malformed address.
            Err(_) => return Response::text(400, "bad myip"),
        },
    };
    let shown: Vec<String> = myip.iter().map(IpAddr::to_string).collect();
    let shown = shown.join(",");
    let lines: Vec<String> = hostnames
        .iter()
        .map(|host| {
            if !host.contains('.') {
                return "notfqdn".to_string();
            }
            let Some(current) = state.hosts.get_mut(host) else {
                return "nohost".to_string();
            };
            let mut next = *current;
            for addr in &myip {
                match addr {
                    IpAddr::V4(a) => next.ipv4 = Some(*a),
                    IpAddr::V6(a) => next.ipv6 = Some(*a),
                }
            }
            let code = if next == *current { "nochg" } else { "good" };
            *current = next;
            format!("{code} {shown}")
        })
        .collect();
    text(&lines.join("\n"))
}

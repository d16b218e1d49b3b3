//! A DuckDNS update server on loopback, as protocols/dyndns2.md §3 describes it:
//! `GET /update?domains=a,b&token=T[&ip=V4|V6][&ipv6=V6][&verbose=true][&clear=true]` and the
//! path form `GET /update/DOMAIN/TOKEN[/IP]`; a wrong token or an unknown domain is `KO` (no
//! reason); a missing `ip` is the connection's IPv4 address unless `ipv6` is given; replies are
//! `text/plain`, `OK` / `KO`, or with `verbose=true` the four lines
//! `OK\n<ipv4 or empty>\n<ipv6 or empty>\nUPDATED|NOCHANGE`.
//! Domains are sub-names only (`myhome`, not `myhome.duckdns.org`), as the API documents.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use super::http_server::{HttpServer, Recorded, Response};

/// The token most tests use (DuckDNS tokens are UUIDs).
pub const TOKEN: &str = "a7c4d0ad-114e-40ef-ba1d-d217904a50f2";

/// What DuckDNS has for one domain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Domain {
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
}

struct State {
    token: String,
    domains: BTreeMap<String, Domain>,
    /// Answer every request with exactly this (status, body).
    always: Option<(u16, String)>,
}

/// A running DuckDNS server; derefs to its [`HttpServer`].
pub struct DuckdnsServer {
    http: HttpServer,
    state: Arc<Mutex<State>>,
}

impl DuckdnsServer {
    /// Starts a server accepting `token` for `domains` (sub-names).
    pub fn start(token: &str, domains: &[&str]) -> DuckdnsServer {
        let state = Arc::new(Mutex::new(State {
            token: token.into(),
            domains: domains
                .iter()
                .map(|d| (d.to_string(), Domain::default()))
                .collect(),
            always: None,
        }));
        let handler_state = Arc::clone(&state);
        let http = HttpServer::start(move |request| {
            let mut state = handler_state.lock().unwrap();
            if let Some((status, body)) = &state.always {
                return text(*status, body);
            }
            update(&mut state, request)
        });
        DuckdnsServer { http, state }
    }

    /// The update URL: `http://127.0.0.1:PORT/update`.
    pub fn update_url(&self) -> String {
        self.http.url("/update")
    }

    /// What the server has for `domain`.
    pub fn domain(&self, domain: &str) -> Option<Domain> {
        self.state.lock().unwrap().domains.get(domain).copied()
    }

    /// Answers every request with `status` and `body`.
    pub fn always(&self, status: u16, body: &str) {
        self.state.lock().unwrap().always = Some((status, body.into()));
    }
}

impl Deref for DuckdnsServer {
    type Target = HttpServer;

    fn deref(&self) -> &HttpServer {
        &self.http
    }
}

fn text(status: u16, body: &str) -> Response {
    Response::with(
        status,
        &[("Content-Type", "text/plain; charset=UTF-8")],
        body,
    )
}

/// The parameters of either form.
struct Params {
    domains: Vec<String>,
    token: String,
    ip: Option<String>,
    ipv6: Option<String>,
    is_verbose: bool,
    is_clear: bool,
}

fn params(request: &Recorded) -> Option<Params> {
    if request.path == "/update" {
        let get = |name: &str| request.query_param(name);
        return Some(Params {
            domains: get("domains")?.split(',').map(str::to_string).collect(),
            token: get("token")?,
            ip: get("ip").filter(|s| !s.is_empty()),
            ipv6: get("ipv6").filter(|s| !s.is_empty()),
            is_verbose: get("verbose").as_deref() == Some("true"),
            is_clear: get("clear").as_deref() == Some("true"),
        });
    }
    let rest = request.path.strip_prefix("/update/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (domain, token, ip) = match parts.as_slice() {
        [domain, token] => (*domain, *token, None),
        [domain, token, ip] => (*domain, *token, Some(ip.to_string())),
        _ => return None,
    };
    Some(Params {
        domains: vec![domain.to_string()],
        token: token.to_string(),
        ip,
        ipv6: None,
        is_verbose: false,
        is_clear: false,
    })
}

fn update(state: &mut State, request: &Recorded) -> Response {
    if request.method != "GET" {
        return text(405, "");
    }
    let Some(p) = params(request) else {
        return text(200, "KO");
    };
    if p.token != state.token || p.domains.iter().any(|d| !state.domains.contains_key(d)) {
        return text(200, "KO");
    }
    let parse = |s: &Option<String>| -> Result<Option<IpAddr>, ()> {
        s.as_deref().map(str::parse).transpose().map_err(|_| ())
    };
    let (Ok(ip), Ok(ipv6)) = (parse(&p.ip), parse(&p.ipv6)) else {
        return text(200, "KO");
    };
    if ipv6.is_some_and(|a| a.is_ipv4()) {
        return text(200, "KO");
    }
    let (mut v4, mut v6) = (None, None);
    if !p.is_clear {
        match ip {
            Some(a @ IpAddr::V4(_)) => v4 = Some(a),
            Some(a @ IpAddr::V6(_)) => v6 = Some(a),
            // Auto-detection only without `ipv6`, and only IPv4 (dyndns2.md §3).
            None if ipv6.is_none() && request.peer.ip().is_ipv4() => v4 = Some(request.peer.ip()),
            None => {}
        }
        if ipv6.is_some() {
            v6 = ipv6;
        }
    }
    let mut changed = false;
    for domain in &p.domains {
        let Some(current) = state.domains.get_mut(domain) else {
            continue;
        };
        let next = if p.is_clear {
            Domain::default()
        } else {
            Domain {
                ipv4: v4.or(current.ipv4),
                ipv6: v6.or(current.ipv6),
            }
        };
        changed |= next != *current;
        *current = next;
    }
    if !p.is_verbose {
        return text(200, "OK");
    }
    let show = |a: Option<IpAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let word = if changed { "UPDATED" } else { "NOCHANGE" };
    text(200, &format!("OK\n{}\n{}\n{word}", show(v4), show(v6)))
}

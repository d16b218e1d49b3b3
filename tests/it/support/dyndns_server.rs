//! An imitation of the Python `dyndns` 2.0.0 server (protocols/python-dyndns.md) on loopback,
//! built from its source and checked against the real package (`provider_dyndns_server_real`):
//! the routes `/`, `/update-by-path/SECRET/FQDN[/IP1[/IP2]]`, `/update-by-query?…` (pydantic's
//! parameter checks, first error only) and `/delete-by-path/SECRET/FQDN`; its exception
//! replies (`LEVEL: message\n` with 452–457/512 and reason phrase `UNKNOWN`, or 500 with the
//! exception's class name: `NOTFOUND`, `METHODNOTALLOWED`, `LIFETIMETIMEOUT`, …); Werkzeug's
//! framing (`text/html; charset=utf-8`, `Connection: close`); and its traps:
//! 1. an update deletes the family it does not carry (`AAAA 2001:db8::8 -> None`);
//! 2. with a nameserver that refuses updates, an update answers 200 `UNCHANGED` with the old
//!    address read back, and a delete answers "were deleted" while nothing is deleted.
//!
//! The nameserver behind it is a table of A/AAAA records per name plus a [`Nameserver`] mode.
//! `/check` is not imitated (dynipd never calls it).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use super::http_server::{HttpServer, Recorded, Response};

/// The secret most tests use (the server wants ≥ 8 ASCII letters or digits).
pub const SECRET: &str = "Sup3rSecret";
/// The zone most tests use.
pub const ZONE: &str = "dyndns.example.test";

/// How the nameserver behind the server behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nameserver {
    /// Reads and signed updates work.
    Serving,
    /// `allow-update { none; }`: reads work, every update is refused (REFUSED, unchecked).
    Refusing,
    /// Not answering: the first read fails after the resolver's lifetime (500).
    Down,
    /// Does not know the zone-named key: 512 `PeerBadKey`.
    UnknownKey,
    /// Has another secret for the key: 500 `PEERBADSIGNATURE`.
    BadSignature,
    /// Reads work, the TCP update times out: 512 `… timed out.`
    UpdateTimesOut,
}

/// One name's records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub a: Option<IpAddr>,
    pub aaaa: Option<IpAddr>,
    /// The TTL of the last add (the server always deletes and re-adds).
    pub ttl: Option<i64>,
}

struct State {
    secret: String,
    /// Zone names with their trailing dot, as configured.
    zones: Vec<String>,
    /// By lowercase FQDN with a trailing dot.
    records: BTreeMap<String, Records>,
    nameserver: Nameserver,
    /// Answer every update and delete with this exception: `(status, level, message)`.
    fail: Option<(u16, String, String)>,
}

/// A running imitation; derefs to its [`HttpServer`] for `requests()` and friends.
pub struct DyndnsServer {
    http: HttpServer,
    state: Arc<Mutex<State>>,
}

impl DyndnsServer {
    /// Starts a server with `secret` serving `zones` (e.g. `dyndns.example.test`).
    pub fn start(secret: &str, zones: &[&str]) -> DyndnsServer {
        let state = Arc::new(Mutex::new(State {
            secret: secret.into(),
            zones: zones.iter().map(|z| format!("{z}.")).collect(),
            records: BTreeMap::new(),
            nameserver: Nameserver::Serving,
            fail: None,
        }));
        let handler_state = Arc::clone(&state);
        let http = HttpServer::start(move |request| {
            let mut state = handler_state.lock().unwrap();
            match answer(&mut state, request) {
                Ok(body) => reply(200, &body),
                Err(Exception {
                    status,
                    level,
                    message,
                }) => reply(status, &format!("{level}: {message}\n")),
            }
        });
        DyndnsServer { http, state }
    }

    /// The base URL: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.http.url("")
    }

    /// Sets the nameserver's behaviour.
    pub fn set_nameserver(&self, nameserver: Nameserver) {
        self.state.lock().unwrap().nameserver = nameserver;
    }

    /// Makes every update and delete raise `LEVEL: message` with `status` (for the statuses no
    /// request can trigger on purpose: 452, 455, 457).
    pub fn fail_with(&self, status: u16, level: &str, message: &str) {
        self.state.lock().unwrap().fail = Some((status, level.into(), message.into()));
    }

    /// What the nameserver has at `fqdn` (no trailing dot needed).
    pub fn records(&self, fqdn: &str) -> Records {
        let key = key(fqdn);
        let state = self.state.lock().unwrap();
        state.records.get(&key).copied().unwrap_or_default()
    }

    /// Puts `addr` into the nameserver at `fqdn` (as a zone file would).
    pub fn set_record(&self, fqdn: &str, addr: IpAddr) {
        let mut state = self.state.lock().unwrap();
        let records = state.records.entry(key(fqdn)).or_default();
        match addr {
            IpAddr::V4(_) => records.a = Some(addr),
            IpAddr::V6(_) => records.aaaa = Some(addr),
        }
    }
}

impl Deref for DyndnsServer {
    type Target = HttpServer;

    fn deref(&self) -> &HttpServer {
        &self.http
    }
}

/// A Python exception as the app's error handler turns it into a reply.
struct Exception {
    status: u16,
    level: String,
    message: String,
}

fn raise(status: u16, level: &str, message: impl Into<String>) -> Exception {
    Exception {
        status,
        level: level.into(),
        message: message.into(),
    }
}

fn name_error(message: impl Into<String>) -> Exception {
    raise(453, "DNS_NAME_ERROR", message)
}

fn ip_error(message: impl Into<String>) -> Exception {
    raise(454, "IP_ADDRESS_ERROR", message)
}

/// Werkzeug's framing: reason `UNKNOWN` for the server's own statuses, HTML content type.
fn reply(status: u16, body: &str) -> Response {
    let reason = match status {
        200 => "OK",
        500 => "INTERNAL SERVER ERROR",
        _ => "UNKNOWN",
    };
    let raw = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: Werkzeug/3.1.9 Python/3.11.7\r\n\
         Content-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    Response::Bytes(raw.into_bytes())
}

fn key(fqdn: &str) -> String {
    format!("{}.", fqdn.trim_end_matches('.').to_ascii_lowercase())
}

/// The app's routes (`dyndns/webapp.py`).
fn answer(state: &mut State, request: &Recorded) -> Result<String, Exception> {
    let segments: Vec<String> = request.path[1..].split('/').map(percent_decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let known = match segments.as_slice() {
        [""] | ["update-by-query"] => true,
        ["update-by-path", rest @ ..] => (2..=4).contains(&rest.len()),
        ["delete-by-path", rest @ ..] => rest.len() == 2,
        _ => false,
    };
    if !known || segments[1..].iter().any(|s| s.is_empty()) {
        return Err(raise(
            500,
            "NOTFOUND",
            "404 Not Found: The requested URL was not found on the server. If you entered the \
             URL manually please check your spelling and try again.",
        ));
    }
    if request.method != "GET" {
        return Err(raise(
            500,
            "METHODNOTALLOWED",
            "405 Method Not Allowed: The method is not allowed for the requested URL.",
        ));
    }
    match segments.as_slice() {
        [""] => Ok("dyndns v2.0.0\n".into()),
        ["update-by-path", secret, fqdn, ips @ ..] => {
            authenticate(state, secret)?;
            let update = Update {
                fqdn: Some(fqdn.to_string()),
                ip_1: ips.first().map(|s| s.to_string()),
                ip_2: ips.get(1).map(|s| s.to_string()),
                // The path form has no TTL: the server's default.
                ttl: 300,
                ..Update::default()
            };
            update_record(state, &update, request.peer.ip())
        }
        ["update-by-query"] => {
            let update = query_params(request)?;
            authenticate(state, &update.secret)?;
            update_record(state, &update, request.peer.ip())
        }
        ["delete-by-path", secret, fqdn] => {
            authenticate(state, secret)?;
            delete_record(state, fqdn)
        }
        _ => Err(raise(500, "NOTFOUND", "unreachable")),
    }
}

fn authenticate(state: &State, secret: &str) -> Result<(), Exception> {
    if secret == state.secret {
        Ok(())
    } else {
        Err(raise(
            456,
            "PARAMETER_ERROR",
            "You specified a wrong secret key.",
        ))
    }
}

/// The parameters of an update (`UpdateQueryParams`; the path form fills some).
#[derive(Default)]
struct Update {
    secret: String,
    fqdn: Option<String>,
    ip_1: Option<String>,
    ip_2: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    ttl: i64,
}

/// pydantic with `extra="forbid"`: the first error, fields in declaration order, then extras.
fn query_params(request: &Recorded) -> Result<Update, Exception> {
    // `request.args.to_dict()`: the first value of each name.
    let mut args: Vec<(String, String)> = Vec::new();
    for (k, v) in request.query_pairs() {
        if !args.iter().any(|(name, _)| *name == k) {
            args.push((k, v));
        }
    }
    let get = |name: &str| args.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let param_error = |what: String| raise(456, "PARAMETER_ERROR", what);
    let Some(secret) = get("secret") else {
        let shown: Vec<String> = args.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
        return Err(param_error(format!(
            "missing: Field required ({{{}}}).",
            shown.join(", ")
        )));
    };
    let ttl = match get("ttl") {
        None => 300,
        Some(text) => text.trim().parse().map_err(|_| {
            param_error(format!(
                "int_parsing: Input should be a valid integer, unable to parse string as an \
                 integer ({text})."
            ))
        })?,
    };
    const FIELDS: &[&str] = &[
        "secret",
        "fqdn",
        "zone_name",
        "record_name",
        "ip_1",
        "ip_2",
        "ipv4",
        "ipv6",
        "ttl",
    ];
    if let Some((_, value)) = args.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
        return Err(param_error(format!(
            "extra_forbidden: Extra inputs are not permitted ({value})."
        )));
    }
    let fqdn = match (get("fqdn"), get("zone_name"), get("record_name")) {
        (Some(fqdn), _, _) => Some(fqdn),
        (None, Some(zone), Some(record)) => Some(format!("{record}.{zone}")),
        _ => None,
    };
    Ok(Update {
        secret,
        fqdn,
        ip_1: get("ip_1"),
        ip_2: get("ip_2"),
        ipv4: get("ipv4"),
        ipv6: get("ipv6"),
        ttl,
    })
}

/// `validate_name` then `ZonesCollection.split_fqdn`: the FQDN as given plus a dot, and the
/// zone it is in (the zone whose name is a substring of it leaving the shortest rest).
fn split_name(state: &State, fqdn: Option<&str>) -> Result<(String, String), Exception> {
    let Some(fqdn) = fqdn.filter(|f| !f.is_empty()) else {
        return Err(name_error("Value \"fqdn\" is required."));
    };
    let name = fqdn.strip_suffix('.').unwrap_or(fqdn);
    let labels: Vec<&str> = name.split('.').collect();
    if let Some(tld) = labels
        .last()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(name_error(format!(
            "The TLD '{tld}' of the DNS name '{name}' must be not purely numeric."
        )));
    }
    for label in &labels {
        let ok = (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(name_error(format!(
                "The label '{label}' of the DNS name '{name}' is invalid."
            )));
        }
    }
    let fqdn = format!("{name}.");
    let best = state
        .zones
        .iter()
        .filter(|zone| fqdn.contains(zone.as_str()))
        .map(|zone| (fqdn.replace(zone.as_str(), "").len(), zone))
        .min();
    let Some((record_len, zone)) = best else {
        return Err(name_error(format!(
            "The fully qualified domain name '{fqdn}' could not be split into a record and a \
             zone name."
        )));
    };
    if record_len == 0 {
        return Err(name_error("Value \"record_name\" is required."));
    }
    Ok((fqdn, zone.clone()))
}

/// `validate_ip_address_by_version`.
fn parse_ip(text: &str, version: Option<u8>) -> Result<IpAddr, Exception> {
    let addr: IpAddr = text
        .parse()
        .map_err(|_| ip_error(format!("Invalid IP address '{text}'.")))?;
    let actual = if addr.is_ipv4() { 4 } else { 6 };
    match version {
        Some(v) if v != actual => Err(ip_error(format!("IP version \"{v}\" does not match."))),
        _ => Ok(addr),
    }
}

/// `ConfiguredEnvironment.update_dns_record`.
fn update_record(state: &mut State, update: &Update, peer: IpAddr) -> Result<String, Exception> {
    let (fqdn, zone) = split_name(state, update.fqdn.as_deref())?;
    // IpAddressContainer: ipv4, ipv6, then ip_1 and ip_2 into their family's slot.
    let mut v4 = match update.ipv4.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(parse_ip(text, Some(4))?),
        None => None,
    };
    let mut v6 = match update.ipv6.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(parse_ip(text, Some(6))?),
        None => None,
    };
    let mut texts: Vec<&str> = [&update.ip_1, &update.ip_2]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let peer_text = peer.to_string();
    if texts.is_empty() && v4.is_none() && v6.is_none() {
        texts.push(&peer_text);
    }
    for text in texts {
        let addr = parse_ip(text, None)?;
        let (slot, attr) = if addr.is_ipv4() {
            (&mut v4, "ipv4")
        } else {
            (&mut v6, "ipv6")
        };
        if let Some(old) = slot {
            return Err(ip_error(format!(
                "The attribute \"{attr}\" is already set and has the value \"{old}\"."
            )));
        }
        *slot = Some(addr);
    }
    if let Some((status, level, message)) = &state.fail {
        return Err(raise(*status, level, message.clone()));
    }
    // A first, then AAAA; a family without an address is deleted (trap 1).
    let mut out = String::new();
    for (rtype, addr) in [("A", v4), ("AAAA", v6)] {
        let old = read(state, &fqdn, rtype)?;
        write(state, &zone)?;
        let refused = state.nameserver == Nameserver::Refusing;
        let records = state.records.entry(key(&fqdn)).or_default();
        let slot = if rtype == "A" {
            &mut records.a
        } else {
            &mut records.aaaa
        };
        if !refused {
            *slot = addr;
            if addr.is_some() {
                records.ttl = Some(update.ttl);
            }
        }
        // `add_record` reads the record back; `delete_record` just reports None.
        let new = if addr.is_some() { *slot } else { None };
        let show = |a: Option<IpAddr>| a.map_or("None".to_string(), |a| a.to_string());
        if old == new {
            out.push_str(&format!("UNCHANGED: {fqdn} {rtype} {}\n", show(new)));
        } else {
            out.push_str(&format!(
                "UPDATED: {fqdn} {rtype} {} -> {}\n",
                show(old),
                show(new)
            ));
        }
    }
    Ok(out)
}

/// `ConfiguredEnvironment.delete_dns_record`.
fn delete_record(state: &mut State, fqdn: &str) -> Result<String, Exception> {
    let (fqdn, zone) = split_name(state, Some(fqdn))?;
    if let Some((status, level, message)) = &state.fail {
        return Err(raise(*status, level, message.clone()));
    }
    let has_a = read(state, &fqdn, "A")?.is_some();
    let has_aaaa = read(state, &fqdn, "AAAA")?.is_some();
    if !(has_a || has_aaaa) {
        return Ok(format!(
            "UNCHANGED: The deletion of the domain name '{fqdn}' was not executed because there \
             were no A or AAAA records.\n"
        ));
    }
    write(state, &zone)?;
    if state.nameserver != Nameserver::Refusing {
        state.records.remove(&key(&fqdn));
    }
    Ok(format!(
        "UPDATED: The A and AAAA records of the domain name '{fqdn}' were deleted.\n"
    ))
}

/// An unsigned read (`DnsZone.read_record`).
fn read(state: &State, fqdn: &str, rtype: &str) -> Result<Option<IpAddr>, Exception> {
    if state.nameserver == Nameserver::Down {
        return Err(raise(
            500,
            "LIFETIMETIMEOUT",
            "The resolution lifetime expired after 5.404 seconds: Server Do53:127.0.0.1@53 \
             answered The DNS operation timed out.",
        ));
    }
    let records = state.records.get(&key(fqdn)).copied().unwrap_or_default();
    Ok(if rtype == "A" {
        records.a
    } else {
        records.aaaa
    })
}

/// A signed update over TCP (`DnsZone._query`); a REFUSED answer is not checked.
fn write(state: &State, zone: &str) -> Result<(), Exception> {
    match state.nameserver {
        Nameserver::UnknownKey => Err(raise(
            512,
            "DNS_SERVER_ERROR",
            format!(
                "The peer \"127.0.0.1\" didn't know the tsig key we used for the zone \"{zone}\"."
            ),
        )),
        Nameserver::BadSignature => Err(raise(
            500,
            "PEERBADSIGNATURE",
            "The peer didn't like the signature we sent",
        )),
        Nameserver::UpdateTimesOut => Err(raise(
            512,
            "DNS_SERVER_ERROR",
            "The DNS operation to the nameserver \"127.0.0.1\" timed out.",
        )),
        Nameserver::Serving | Nameserver::Refusing | Nameserver::Down => Ok(()),
    }
}

/// Werkzeug decodes `%XX` in the path before routing.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

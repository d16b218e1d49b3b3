//! A Dynu API server on loopback, as protocols/dynu-rest.md and dyndns2.md §4 describe it:
//! - `GET|POST /v2/oauth2/token` (Basic auth; snake_case reply with a settable `expires_in`)
//!   and `GET|POST /v1/oauth2/token` (camelCase reply); bad credentials give 401;
//! - the v2 API behind `API-Key` (header name in any case) or `Authorization: Bearer`:
//!   `GET /v2/dns`, `GET|POST /v2/dns/{id}`, `GET /v2/dns/getroot/{hostname}`,
//!   `GET /v2/dns/record/{hostname}?recordType=T`, `POST /v2/dns/{id}/record`,
//!   `GET|POST|DELETE /v2/dns/{id}/record/{rid}`, and `GET /v2/ping` (no auth);
//! - `statusCode` in every body, absent fields omitted (never null), a write answered exactly
//!   `{"statusCode":200}`, `updatedOn` without `Z`;
//! - errors in the flat, nested or combined shape (settable), with Dynu's types: 401
//!   Authentication, 404 Request, 501 Argument;
//! - `GET /nic/update` with Basic auth, `myip`/`myipv6`, `no` leaving a family alone and a
//!   missing one filled from the peer address;
//! - modes for 429 + `Retry-After`, 500, a drop without reply and `911`.
//!
//! Whether `POST /dns/{id}` keeps or resets the writable fields a body leaves out is unknown
//! (dynu-rest.md §3); this server resets them, the stricter reading, so a client relying on
//! omission is caught.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::http_server::{HttpServer, Recorded, Response};

type Object = Map<String, Value>;

/// The domain fields a `POST /v2/dns/{id}` writes.
const DOMAIN_WRITABLE: &[&str] = &[
    "name",
    "group",
    "ipv4Address",
    "ipv6Address",
    "ttl",
    "ipv4",
    "ipv6",
    "ipv4WildcardAlias",
    "ipv6WildcardAlias",
    "allowZoneTransfer",
    "dnssec",
];

/// How error bodies look (dynu-rest.md §4: a client must accept all three).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"statusCode":501,"type":"…","message":"…"}`
    Flat,
    /// `{"exception":{"statusCode":401,"type":"…","message":"…"}}`
    Nested,
    /// `{"statusCode":401,"exception":{…}}`
    Combined,
}

/// How the server answers (token and ping requests included, except in `Normal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// 429 with `Retry-After: SECS` and an error body.
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// 500 `Server Exception`.
    ServerError,
    /// Close the connection without a reply.
    Drop,
    /// `/nic/update` answers `911`.
    Maintenance,
}

/// The logins the server accepts.
#[derive(Clone, Debug)]
pub struct Logins {
    pub api_key: String,
    pub client_id: String,
    pub client_secret: String,
    /// IP Update Protocol username and password.
    pub username: String,
    pub password: String,
}

struct State {
    logins: Logins,
    shape: ErrorShape,
    mode: Mode,
    token_lifetime_secs: u64,
    tokens: Vec<(String, Instant)>,
    issued: u64,
    next_id: u64,
    domains: BTreeMap<u64, Object>,
    /// Record id → record object (with `domainId`).
    records: BTreeMap<u64, Object>,
}

/// A running Dynu server; derefs to its [`HttpServer`] for `requests()` and `count()`.
pub struct DynuServer {
    http: HttpServer,
    state: Arc<Mutex<State>>,
}

impl DynuServer {
    /// Starts a server accepting `logins`, with no domains, nested errors and tokens that
    /// live 28800 s.
    pub fn start(logins: Logins) -> DynuServer {
        let state = Arc::new(Mutex::new(State {
            logins,
            shape: ErrorShape::Nested,
            mode: Mode::Normal,
            token_lifetime_secs: 28800,
            tokens: Vec::new(),
            issued: 0,
            next_id: 358_362,
            domains: BTreeMap::new(),
            records: BTreeMap::new(),
        }));
        let handler_state = Arc::clone(&state);
        let http = HttpServer::start(move |request| {
            let mut state = handler_state.lock().unwrap();
            answer(&mut state, request)
        });
        DynuServer { http, state }
    }

    /// `http://127.0.0.1:PORT`, the `base-url`.
    pub fn base_url(&self) -> String {
        self.http.url("")
    }

    /// Adds a domain (as the spec's example: group, state, token, dates, flags) and returns
    /// its id.
    pub fn add_domain(&self, name: &str, ipv4: Option<&str>, ipv6: Option<&str>) -> u64 {
        let mut state = self.state.lock().unwrap();
        let id = state.take_id();
        let mut domain = json!({
            "id": id, "name": name, "unicodeName": name, "token": "yc0bia6g92p49061wko1",
            "state": "Complete", "group": "Office", "ttl": 300,
            "ipv4": ipv4.is_some(), "ipv6": ipv6.is_some(),
            "ipv4WildcardAlias": false, "ipv6WildcardAlias": false,
            "allowZoneTransfer": false, "dnssec": false,
            "createdOn": "2012-08-09T10:20:50.52", "updatedOn": "2018-07-19T13:42:08.52"
        });
        let object = domain.as_object_mut().unwrap();
        if let Some(a) = ipv4 {
            object.insert("ipv4Address".into(), a.into());
        }
        if let Some(a) = ipv6 {
            object.insert("ipv6Address".into(), a.into());
        }
        state.domains.insert(id, object.clone());
        id
    }

    /// Adds an A or AAAA record `node` under domain `domain_id`; returns its id.
    pub fn add_record(&self, domain_id: u64, node: &str, address: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        let mut body = json!({"nodeName": node, "recordType": record_type(address), "ttl": 300,
            "state": true, "group": ""});
        let body = body.as_object_mut().unwrap();
        body.insert(address_key(address).into(), address.into());
        let Ok((record, _)) = state.create_record(domain_id, body) else {
            panic!("cannot add record {node} to domain {domain_id}");
        };
        record["id"].as_u64().unwrap()
    }

    /// A domain as the server has it.
    pub fn domain(&self, id: u64) -> Object {
        self.state.lock().unwrap().domains[&id].clone()
    }

    /// A record as the server has it (`None` when there is none).
    pub fn record(&self, id: u64) -> Option<Object> {
        self.state.lock().unwrap().records.get(&id).cloned()
    }

    /// Every record the server has.
    pub fn records(&self) -> Vec<Object> {
        self.state
            .lock()
            .unwrap()
            .records
            .values()
            .cloned()
            .collect()
    }

    /// Removes a domain (its records too), as if deleted in Dynu's web UI.
    pub fn remove_domain(&self, id: u64) {
        let mut state = self.state.lock().unwrap();
        state.domains.remove(&id);
        state
            .records
            .retain(|_, r| r["domainId"].as_u64() != Some(id));
    }

    /// Changes a field of a domain, as the web UI or another client would.
    pub fn set_domain_field(&self, id: u64, key: &str, value: Value) {
        let mut state = self.state.lock().unwrap();
        state
            .domains
            .get_mut(&id)
            .unwrap()
            .insert(key.into(), value);
    }

    pub fn set_shape(&self, shape: ErrorShape) {
        self.state.lock().unwrap().shape = shape;
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    /// The `expires_in` of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.state.lock().unwrap().token_lifetime_secs = secs;
    }

    /// Forgets every token issued so far (they get 401 from now on).
    pub fn revoke_tokens(&self) {
        self.state.lock().unwrap().tokens.clear();
    }

    /// Changes the OAuth2 client secret (old credentials get 401).
    pub fn set_client_secret(&self, secret: &str) {
        self.state.lock().unwrap().logins.client_secret = secret.into();
    }

    /// How many tokens were issued.
    pub fn tokens_issued(&self) -> u64 {
        self.state.lock().unwrap().issued
    }

    /// `METHOD path` of every request so far, e.g. `GET /v2/dns`.
    pub fn calls(&self) -> Vec<String> {
        self.http
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// `Basic base64(user:password)`.
    pub fn basic(user: &str, password: &str) -> String {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}")
    }
}

impl Deref for DynuServer {
    type Target = HttpServer;

    fn deref(&self) -> &HttpServer {
        &self.http
    }
}

fn record_type(address: &str) -> &'static str {
    if address.contains(':') { "AAAA" } else { "A" }
}

fn address_key(address: &str) -> &'static str {
    if address.contains(':') {
        "ipv6Address"
    } else {
        "ipv4Address"
    }
}

fn json_reply(status: u16, body: &Value) -> Response {
    Response::with(
        status,
        &[("Content-Type", "application/json; charset=utf-8")],
        body.to_string(),
    )
}

/// `{"statusCode":200, …fields}`.
fn ok(fields: &Object) -> Response {
    let mut body = Map::new();
    body.insert("statusCode".into(), 200.into());
    body.extend(fields.clone());
    json_reply(200, &Value::Object(body))
}

fn text(body: &str) -> Response {
    Response::text(200, body)
}

impl State {
    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn error_body(&self, status: u16, kind: &str, message: &str) -> Value {
        let inner = json!({"statusCode": status, "type": kind, "message": message});
        match self.shape {
            ErrorShape::Flat => inner,
            ErrorShape::Nested => json!({ "exception": inner }),
            ErrorShape::Combined => json!({"statusCode": status, "exception": inner}),
        }
    }

    fn error(&self, status: u16, kind: &str, message: &str) -> Response {
        json_reply(status, &self.error_body(status, kind, message))
    }

    fn unauthorized(&self) -> Response {
        self.error(401, "Authentication Exception", "Failed.")
    }

    fn argument(&self, message: &str) -> Response {
        self.error(501, "Argument Exception", message)
    }

    fn not_found(&self) -> Response {
        self.error(404, "Request Exception", "Not found.")
    }

    /// Creates a record from a create body; the error is the reply to send.
    fn create_record(&mut self, domain_id: u64, body: &Object) -> Result<(Object, u64), Response> {
        let Some(domain) = self.domains.get(&domain_id) else {
            return Err(self.not_found());
        };
        let domain_name = domain["name"].as_str().unwrap_or("").to_string();
        let node = body.get("nodeName").and_then(Value::as_str).unwrap_or("");
        let Some(kind) = body.get("recordType").and_then(Value::as_str) else {
            return Err(self.argument("Record type is required."));
        };
        let hostname = if node.is_empty() {
            domain_name.clone()
        } else {
            format!("{node}.{domain_name}")
        };
        let id = self.take_id();
        let mut record = json!({"id": id, "domainId": domain_id, "domainName": domain_name,
            "nodeName": node, "hostname": hostname, "recordType": kind, "ttl": 300,
            "state": true, "group": "", "updatedOn": "2020-03-10T04:00:36.923"})
        .as_object()
        .cloned()
        .unwrap();
        self.write_record(&mut record, body)?;
        self.records.insert(id, record.clone());
        Ok((record, id))
    }

    /// Applies an update body to a record; checks the address.
    fn write_record(&self, record: &mut Object, body: &Object) -> Result<(), Response> {
        for key in ["ttl", "state", "group", "ipv4Address", "ipv6Address"] {
            if let Some(v) = body.get(key) {
                record.insert(key.into(), v.clone());
            }
        }
        let kind = record["recordType"].as_str().unwrap_or("").to_string();
        let key = if kind == "AAAA" {
            "ipv6Address"
        } else {
            "ipv4Address"
        };
        let valid = match record.get(key).and_then(Value::as_str) {
            Some(a) => a
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_ipv6() == (kind == "AAAA")),
            None => kind != "A" && kind != "AAAA",
        };
        if !valid {
            return Err(self.argument("Invalid IP address."));
        }
        let address = record
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let fqdn = format!("{}.", record["hostname"].as_str().unwrap_or(""));
        let ttl = record["ttl"].as_u64().unwrap_or(300);
        record.insert(
            "content".into(),
            format!("{fqdn} {ttl} IN {kind} {address}").into(),
        );
        Ok(())
    }
}

fn answer(state: &mut State, request: &Recorded) -> Response {
    match state.mode.clone() {
        Mode::Normal | Mode::Maintenance => {}
        Mode::TooManyRequests { retry_after_secs } => {
            let body = state.error_body(429, "Rate Limit Exception", "Too many requests.");
            return Response::with(
                429,
                &[
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Retry-After", &retry_after_secs.to_string()),
                ],
                body.to_string(),
            );
        }
        Mode::ServerError => return state.error(500, "Server Exception", "Unexpected."),
        Mode::Drop => return Response::Close,
    }
    let path = request.path.as_str();
    let method = request.method.as_str();
    if path == "/nic/update" {
        return nic_update(state, request);
    }
    if method == "GET" && path == "/v2/ping" {
        let message = request.query_param("message").unwrap_or_default();
        return ok(json!({ "message": message }).as_object().unwrap());
    }
    if let Some(version) = ["/v1", "/v2"]
        .into_iter()
        .find(|v| path == format!("{v}/oauth2/token"))
    {
        return token(state, request, version == "/v1");
    }
    if !authorized(state, request) {
        return state.unauthorized();
    }
    let Some(rest) = path.strip_prefix("/v2/dns") else {
        return state.not_found();
    };
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let body: Option<Object> = if request.body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(o)) => Some(o),
            _ => return state.error(502, "Parse Exception", "Unreadable body."),
        }
    };
    match (method, parts.as_slice()) {
        ("GET", []) => {
            let domains: Vec<Value> = state.domains.values().cloned().map(Value::Object).collect();
            ok(json!({ "domains": domains }).as_object().unwrap())
        }
        ("GET", ["getroot", hostname]) => getroot(state, hostname),
        ("GET", ["record", hostname]) => {
            let Some(kind) = request.query_param("recordType") else {
                return state.argument("Record type is required.");
            };
            let records: Vec<Value> = state
                .records
                .values()
                .filter(|r| {
                    r["hostname"]
                        .as_str()
                        .is_some_and(|h| h.eq_ignore_ascii_case(hostname))
                        && r["recordType"] == kind.as_str()
                })
                .cloned()
                .map(Value::Object)
                .collect();
            ok(json!({ "dnsRecords": records }).as_object().unwrap())
        }
        (_, [id, ..]) if id.parse::<u64>().is_err() => state.not_found(),
        ("GET", [id]) => match state.domains.get(&id.parse().unwrap()) {
            Some(domain) => ok(domain),
            None => state.not_found(),
        },
        ("POST", [id]) => update_domain(state, id.parse().unwrap(), body.as_ref()),
        ("POST", [id, "record"]) => {
            let Some(body) = body else {
                return state.argument("Body is required.");
            };
            match state.create_record(id.parse().unwrap(), &body) {
                Ok((record, _)) => ok(&record),
                Err(reply) => reply,
            }
        }
        (_, [id, "record", rid]) => {
            let (id, Ok(rid)) = (id.parse::<u64>().unwrap(), rid.parse::<u64>()) else {
                return state.not_found();
            };
            let Some(record) = state
                .records
                .get(&rid)
                .filter(|r| r["domainId"].as_u64() == Some(id))
                .cloned()
            else {
                return state.not_found();
            };
            match method {
                "GET" => ok(&record),
                "DELETE" => {
                    state.records.remove(&rid);
                    ok(&Map::new())
                }
                "POST" => {
                    let Some(body) = body else {
                        return state.argument("Body is required.");
                    };
                    let mut record = record;
                    if let Err(reply) = state.write_record(&mut record, &body) {
                        return reply;
                    }
                    state.records.insert(rid, record.clone());
                    ok(&record)
                }
                _ => state.not_found(),
            }
        }
        _ => state.not_found(),
    }
}

/// The API-Key header (any case) or a live bearer token.
fn authorized(state: &mut State, request: &Recorded) -> bool {
    if request.header("api-key") == Some(state.logins.api_key.as_str()) {
        return true;
    }
    let now = Instant::now();
    state.tokens.retain(|(_, until)| *until > now);
    request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| state.tokens.iter().any(|(token, _)| token == t))
}

fn token(state: &mut State, request: &Recorded, v1: bool) -> Response {
    let expected = DynuServer::basic(&state.logins.client_id, &state.logins.client_secret);
    let form_ok =
        request.method == "GET" || request.body_text().trim() == "grant_type=client_credentials";
    if !matches!(request.method.as_str(), "GET" | "POST") || !form_ok {
        return state.argument("grant_type=client_credentials is required.");
    }
    if request.header("authorization") != Some(expected.as_str()) {
        return state.unauthorized();
    }
    state.issued += 1;
    let token = format!("b1946ac92492d2347c6235b4d26111{:02}", state.issued);
    let life = state.token_lifetime_secs;
    state
        .tokens
        .push((token.clone(), Instant::now() + Duration::from_secs(life)));
    // Token replies carry no statusCode in the notes; they are OAuth2, not the envelope.
    let body = if v1 {
        json!({"scope": "https://api.dynu.com/v1/DNS/.* https://api.dynu.com/v1/Domain/.*",
            "accessToken": token, "tokenType": "Bearer", "expiresIn": life, "roles": ["user"]})
    } else {
        json!({"access_token": token, "token_type": "bearer", "expires_in": life,
            "roles": ["user"]})
    };
    json_reply(200, &body)
}

fn getroot(state: &State, hostname: &str) -> Response {
    let lower = hostname.to_ascii_lowercase();
    let found = state.domains.values().find_map(|d| {
        let name = d["name"].as_str()?.to_ascii_lowercase();
        if lower == name {
            return Some((d, String::new()));
        }
        let node = lower.strip_suffix(&format!(".{name}"))?;
        Some((d, node.to_string()))
    });
    match found {
        Some((d, node)) => ok(json!({"id": d["id"], "hostname": hostname,
            "domainName": d["name"], "node": node})
        .as_object()
        .unwrap()),
        None => state.not_found(),
    }
}

/// `POST /v2/dns/{id}`: writable fields replaced, fields left out reset.
fn update_domain(state: &mut State, id: u64, body: Option<&Object>) -> Response {
    let Some(domain) = state.domains.get(&id).cloned() else {
        return state.not_found();
    };
    let Some(body) = body else {
        return state.argument("Body is required.");
    };
    if body.get("name") != domain.get("name") {
        return state.argument("Domain name does not match.");
    }
    for (key, v6) in [("ipv4Address", false), ("ipv6Address", true)] {
        if let Some(a) = body.get(key) {
            let valid = a
                .as_str()
                .and_then(|a| a.parse::<IpAddr>().ok())
                .is_some_and(|ip| ip.is_ipv6() == v6);
            if !valid {
                return state.argument("Invalid IP address.");
            }
        }
    }
    let mut updated = domain;
    for key in DOMAIN_WRITABLE {
        match body.get(*key) {
            Some(v) => updated.insert(key.to_string(), v.clone()),
            None => updated.remove(*key),
        };
    }
    updated.insert("updatedOn".into(), "2026-01-01T00:00:00.0".into());
    state.domains.insert(id, updated);
    // Exactly this (dynu-rest.md §2).
    Response::with(
        200,
        &[("Content-Type", "application/json")],
        r#"{"statusCode":200}"#,
    )
}

/// `GET /nic/update` (dyndns2.md §4).
fn nic_update(state: &mut State, request: &Recorded) -> Response {
    if state.mode == Mode::Maintenance {
        return text("911");
    }
    let expected = DynuServer::basic(&state.logins.username, &state.logins.password);
    if request.method != "GET" || request.header("authorization") != Some(expected.as_str()) {
        return text("badauth");
    }
    let Some(hostname) = request.query_param("hostname") else {
        return text("notfqdn");
    };
    let Some(domain) = state.domains.values_mut().find(|d| {
        d["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(&hostname))
    }) else {
        return text("nohost");
    };
    let peer = request.peer.ip();
    let mut changed = false;
    let mut shown = Vec::new();
    for (param, key, switch, v6) in [
        ("myip", "ipv4Address", "ipv4", false),
        ("myipv6", "ipv6Address", "ipv6", true),
    ] {
        // A missing parameter is filled from the connection's source address.
        let value = match request.query_param(param) {
            Some(v) if v == "no" => continue,
            Some(v) => v,
            None if peer.is_ipv6() == v6 => peer.to_string(),
            None => continue,
        };
        let Ok(ip) = value.parse::<IpAddr>() else {
            return text("unknown");
        };
        if ip.is_ipv6() != v6 {
            return text("unknown");
        }
        shown.push(ip.to_string());
        changed |= domain.get(key).and_then(Value::as_str) != Some(ip.to_string().as_str());
        domain.insert(key.into(), ip.to_string().into());
        domain.insert(switch.into(), true.into());
    }
    let code = if changed { "good" } else { "nochg" };
    text(&format!("{code} {}", shown.join(",")))
}

//! A raw HTTP/1.1 server on `127.0.0.1:0` for integration tests: it records every request
//! (method, path, query, headers, body, peer, time) and answers with whatever bytes a handler
//! returns, so tests can send exact replies, odd statuses, slow replies, closes and resets.
//!
//! Plain std threads (one for accepting, one per connection), so it works from `#[test]` and
//! `#[tokio::test]` alike. Keep-alive is honoured (reqwest pools connections); request bodies
//! need `Content-Length` (no chunked uploads). Dropping the server closes the listener and
//! every open connection.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The request-target as sent (`/nic/update?hostname=a`).
    pub target: String,
    /// The target up to `?`.
    pub path: String,
    /// The raw query string after `?`, if any (not decoded).
    pub query: Option<String>,
    /// Header names as sent, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
    pub at: Instant,
}

impl Recorded {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query as decoded `(name, value)` pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.query.as_deref().unwrap_or("");
        url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The decoded value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Response {
    /// Write these bytes exactly (status line, headers and body), then keep the connection
    /// open unless they say `Connection: close`.
    Bytes(Vec<u8>),
    /// Wait, then do the inner response (the connection closes early if the server stops).
    After(Duration, Box<Response>),
    /// Close the connection without answering.
    Close,
    /// Reset the connection (RST) without answering.
    Reset,
    /// Write these bytes (e.g. a head and half a body), then do the inner response on the same
    /// connection (`Reset` mid-body, `stall()` mid-body, ...). See: #9.
    Then(Vec<u8>, Box<Response>),
    /// Write these bytes one at a time, `every` apart (slowloris), then close.
    Drip(Vec<u8>, Duration),
    /// Write `head`, then `len` bytes of body in 64 KiB chunks without ever holding them in
    /// memory (a 100 MB reply), then close.
    Stream { head: Vec<u8>, len: u64 },
}

impl Response {
    /// A well-formed reply: status line, `headers`, a correct `Content-Length`, `body`.
    pub fn with(status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Response {
        let body = body.as_ref();
        let mut raw = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut raw = raw.into_bytes();
        raw.extend_from_slice(body);
        Response::Bytes(raw)
    }

    /// A `text/plain` reply.
    pub fn text(status: u16, body: &str) -> Response {
        Response::with(status, &[("Content-Type", "text/plain")], body)
    }

    /// This response after `delay`.
    pub fn after(self, delay: Duration) -> Response {
        Response::After(delay, Box::new(self))
    }

    /// Never answers: holds the connection until the server stops.
    pub fn stall() -> Response {
        Response::Close.after(Duration::from_secs(24 * 3600))
    }

    /// Writes `bytes`, then does `next`.
    pub fn then(bytes: impl AsRef<[u8]>, next: Response) -> Response {
        Response::Then(bytes.as_ref().to_vec(), Box::new(next))
    }
}

/// The reason phrase of common statuses (clients ignore it; it keeps replies realistic).
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

type Handler = dyn Fn(&Recorded) -> Response + Send + Sync;

/// Opens (and drops) a connection to the server's address, from wherever the server listens:
/// how `Drop` wakes the accept loop. A server in a network namespace needs one that connects
/// from inside it (`support::netns`).
pub type Connector = Box<dyn Fn(SocketAddr) + Send + Sync>;

struct Shared {
    log: Mutex<Vec<Recorded>>,
    arrived: Condvar,
    stopping: AtomicBool,
    /// A handle on every open connection, to cut them when the server stops.
    open: Mutex<BTreeMap<u64, TcpStream>>,
    handler: Box<Handler>,
}

/// A running server; stopped on drop.
pub struct HttpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepter: Option<JoinHandle<()>>,
    connect: Connector,
}

impl HttpServer {
    /// Starts a server on `127.0.0.1:0` answering every request with `handler`.
    pub fn start(handler: impl Fn(&Recorded) -> Response + Send + Sync + 'static) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let connect: Connector = Box::new(|addr| {
            let _ = TcpStream::connect(addr);
        });
        HttpServer::start_on(listener, connect, handler)
    }

    /// Starts a server on `listener` (e.g. one bound inside a network namespace); `connect`
    /// must reach it from where it listens.
    pub fn start_on(
        listener: TcpListener,
        connect: Connector,
        handler: impl Fn(&Recorded) -> Response + Send + Sync + 'static,
    ) -> HttpServer {
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            stopping: AtomicBool::new(false),
            open: Mutex::new(BTreeMap::new()),
            handler: Box::new(handler),
        });
        let accept_shared = Arc::clone(&shared);
        let accepter = thread::spawn(move || {
            for (id, stream) in (0..).zip(listener.incoming()) {
                if accept_shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(clone) = stream.try_clone() {
                    accept_shared.open.lock().unwrap().insert(id, clone);
                }
                let conn_shared = Arc::clone(&accept_shared);
                thread::spawn(move || {
                    let ending = serve(&stream, &conn_shared);
                    // Every other handle on the socket must be gone before a reset, or the
                    // kernel keeps it open.
                    conn_shared.open.lock().unwrap().remove(&id);
                    match ending {
                        Ending::Reset => reset(stream),
                        Ending::Close => {
                            let _ = stream.shutdown(Shutdown::Both);
                        }
                    }
                });
            }
        });
        HttpServer {
            addr,
            shared,
            accepter: Some(accepter),
            connect,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap().clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }

    /// Waits until at least `n` requests arrived and returns all of them; panics after
    /// `timeout` (never sleep to synchronise: STYLE.md §7).
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let log = self.shared.log.lock().unwrap();
        let (log, result) = self
            .shared
            .arrived
            .wait_timeout_while(log, timeout, |log| log.len() < n)
            .unwrap();
        assert!(
            !result.timed_out(),
            "expected {n} requests within {timeout:?}, got {}: {log:#?}",
            log.len()
        );
        log.clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop, then cut every open connection.
        (self.connect)(self.addr);
        if let Some(accepter) = self.accepter.take() {
            let _ = accepter.join();
        }
        for stream in self.shared.open.lock().unwrap().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Sends `GET target` with `headers` and `Connection: close` over a fresh connection and
/// returns the raw reply: for tests of the test servers themselves.
pub fn raw_get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect to the test server");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    reply
}

/// How a connection ends.
enum Ending {
    Close,
    Reset,
}

/// Serves one connection: request after request until the client closes it, a response ends
/// it, or the server stops.
fn serve(stream: &TcpStream, shared: &Shared) -> Ending {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let (Ok(peer), Ok(read_half)) = (stream.peer_addr(), stream.try_clone()) else {
        return Ending::Close;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader, peer) {
        {
            let mut log = shared.log.lock().unwrap();
            log.push(request.clone());
            shared.arrived.notify_all();
        }
        let mut response = (shared.handler)(&request);
        loop {
            match response {
                Response::After(delay, inner) => {
                    let until = Instant::now() + delay;
                    while Instant::now() < until {
                        if shared.stopping.load(Ordering::SeqCst) {
                            return Ending::Close;
                        }
                        thread::sleep(Duration::from_millis(10).min(until - Instant::now()));
                    }
                    response = *inner;
                }
                Response::Close => return Ending::Close,
                Response::Reset => return Ending::Reset,
                Response::Then(bytes, inner) => {
                    if writer
                        .write_all(&bytes)
                        .and_then(|()| writer.flush())
                        .is_err()
                    {
                        return Ending::Close;
                    }
                    response = *inner;
                }
                Response::Drip(bytes, every) => {
                    for byte in bytes {
                        if shared.stopping.load(Ordering::SeqCst)
                            || writer
                                .write_all(&[byte])
                                .and_then(|()| writer.flush())
                                .is_err()
                        {
                            return Ending::Close;
                        }
                        thread::sleep(every);
                    }
                    return Ending::Close;
                }
                Response::Stream { head, len } => {
                    let chunk = vec![b'1'; 64 * 1024];
                    if writer.write_all(&head).is_err() {
                        return Ending::Close;
                    }
                    let mut left = len;
                    while left > 0 && !shared.stopping.load(Ordering::SeqCst) {
                        let n = usize::try_from(left.min(chunk.len() as u64)).unwrap();
                        if writer.write_all(&chunk[..n]).is_err() {
                            return Ending::Close;
                        }
                        left -= n as u64;
                    }
                    return Ending::Close;
                }
                Response::Bytes(bytes) => {
                    if writer
                        .write_all(&bytes)
                        .and_then(|()| writer.flush())
                        .is_err()
                    {
                        return Ending::Close;
                    }
                    let head_end = bytes
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .unwrap_or(bytes.len());
                    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
                    let client_closes = request
                        .header("connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    if client_closes || head.contains("\r\nconnection: close") {
                        return Ending::Close;
                    }
                    break;
                }
            }
        }
    }
    Ending::Close
}

/// Reads one request; `None` at EOF or on anything malformed.
fn read_request(reader: &mut BufReader<TcpStream>, peer: SocketAddr) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut head_bytes = line.len();
    loop {
        let mut header = String::new();
        let read = reader.read_line(&mut header).ok()?;
        head_bytes += read;
        if read == 0 || head_bytes > 64 * 1024 {
            return None;
        }
        let header = header.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(Some(0), |(_, v)| v.parse().ok())?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    Some(Recorded {
        method,
        target,
        path,
        query,
        headers,
        body,
        peer,
        at,
    })
}

/// Closes with RST: `SO_LINGER` 0 (std has no stable setter; tokio's needs its reactor).
fn reset(stream: TcpStream) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        return;
    };
    let _guard = runtime.enter();
    if stream.set_nonblocking(true).is_ok()
        && let Ok(stream) = tokio::net::TcpStream::from_std(stream)
    {
        let _ = stream.set_zero_linger();
    }
}

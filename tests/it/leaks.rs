//! The secret leak check (#9): every provider kind in every error path, at `--log-level trace`,
//! with distinctive secrets; no secret may appear — raw, URL-encoded, base64 or inside a Basic
//! credential — in stdout, stderr, the state file or `status --json`. The servers make it hard:
//! some echo the whole request (query, Authorization header) back in the reply body, one
//! redirects to the URL with the token in it.

use std::fs;
use std::net::UdpSocket;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::support::daemon::Daemon;
use crate::support::http_server::{HttpServer, Recorded, Response};
use crate::support::named::Named;
use crate::support::scenario::{Scenario, text};
use crate::support::{dynipd, free_port};

const USER: &str = "leak-user";
/// Characters that URL encoding and base64 both change.
const DYNDNS2_PASSWORD: &str = "Dd2-S3cr3t P@ss/wd+x";
const HTTP_TOKEN: &str = "Tok3n+Http/Sec ret&y";
const HTTP_PASSWORD: &str = "HttpB@sic-Pw=z";
/// A TSIG secret: `secret-tsig-key-for-leak-tests` in base64.
const TSIG_RAW: &str = "secret-tsig-key-for-leak-tests";

/// The paths of the error server: one failure mode each.
const PATHS: [&str; 11] = [
    "good", "badauth", "401", "403", "429", "500", "echo", "stall", "reset", "redirect", "chunked",
];

/// Everything the request carried, as a reply body: a server that echoes credentials.
fn echo(req: &Recorded) -> String {
    let mut body = format!("{} {}\n", req.method, req.target);
    for (name, value) in &req.headers {
        body.push_str(&format!("{name}: {value}\n"));
    }
    body.push_str(&req.body_text());
    body
}

fn answer(req: &Recorded) -> Response {
    let mode = req
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    match mode {
        "good" => Response::text(200, "good 81.2.69.160"),
        "badauth" => Response::text(200, &format!("badauth\n{}", echo(req))),
        "401" => Response::with(
            401,
            &[("WWW-Authenticate", "Basic realm=\"leak\"")],
            format!("badauth {}", echo(req)),
        ),
        "403" => Response::text(403, &echo(req)),
        "429" => Response::with(429, &[("Retry-After", "60")], echo(req)),
        "500" => Response::text(500, &echo(req)),
        "echo" => Response::text(200, &echo(req)),
        "stall" => Response::stall(),
        "reset" => Response::Reset,
        "redirect" => Response::with(302, &[("Location", &req.target)], echo(req)),
        "chunked" => Response::then(
            format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n",
                echo(req)
            ),
            Response::Close,
        ),
        _ => Response::text(404, "no such mode"),
    }
}

/// Every form of `secret` that must never be seen.
fn forms(secret: &str, user: Option<&str>) -> Vec<String> {
    let mut out = vec![
        secret.to_string(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(secret.as_bytes())
            .collect::<String>()
            .replace('+', "%20"),
        BASE64.encode(secret),
    ];
    if let Some(user) = user {
        out.push(BASE64.encode(format!("{user}:{secret}")));
    }
    out
}

/// A UDP "DNS server" answering every datagram with the datagram itself (garbage as a reply).
fn udp_echo() -> (UdpSocket, std::net::SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let clone = socket.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = clone.recv_from(&mut buf) {
            let _ = clone.send_to(&buf[..n], peer);
        }
    });
    (socket, addr)
}

fn run(s: &Scenario, args: &[&str]) -> String {
    let out = dynipd()
        .arg("--config")
        .arg(&s.config)
        .args(args)
        .output()
        .unwrap();
    format!(
        "$ dynipd {args:?} (exit {:?})\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

// See: #9
#[test]
fn issue_9_no_secret_in_any_output_of_any_provider_error_path_at_trace() {
    let server = HttpServer::start(answer);
    let base = server.url("");
    let refused = format!("http://127.0.0.1:{}", free_port());
    let (_udp, garbage_dns) = udp_echo();
    let silent_dns = format!("127.0.0.1:{}", free_port());
    let named = Named::new();

    let mut body = String::new();
    let mut records = Vec::new();
    let mut add = |provider: String, name: String, body: &mut String| {
        body.push_str(&provider);
        body.push_str(&format!(
            "[[records]]\nname = \"{name}\"\nprovider = \"{}\"\nsource = \"cmd\"\n\
             families = [\"ipv4\"]\n\n",
            name.split('.').next().unwrap()
        ));
        records.push(name);
    };
    let mut urls: Vec<(String, String)> = PATHS
        .iter()
        .map(|p| (p.to_string(), format!("{base}/{p}")))
        .collect();
    urls.push(("refused".into(), refused.clone()));
    for (mode, url) in &urls {
        let dd = format!("dd-{mode}");
        add(
            format!(
                "[providers.{dd}]\nkind = \"dyndns2\"\nurl = \"{url}/nic/update\"\n\
                 username = \"{USER}\"\npassword-file = \"dyndns2.pass\"\n\n"
            ),
            format!("{dd}.example.org"),
            &mut body,
        );
        let h = format!("h-{mode}");
        add(
            format!(
                "[providers.{h}]\nkind = \"http\"\nmethod = \"POST\"\n\
                 url = \"{url}/update?host={{name}}&ip={{ipv4}}&token={{token}}\"\n\
                 body = \"token={{token}}&ip={{ipv4}}\"\nusername = \"{USER}\"\n\
                 password = \"{HTTP_PASSWORD}\"\ntoken = \"{HTTP_TOKEN}\"\n\n\
                 [providers.{h}.headers]\nX-Api-Key = \"{{token}}\"\n\n"
            ),
            format!("{h}.example.org"),
            &mut body,
        );
    }
    let mut dns_servers = vec![
        ("garbage".to_string(), garbage_dns.to_string()),
        ("silent".to_string(), silent_dns),
    ];
    if let Some(named) = &named {
        // The right key name with the wrong secret: BADSIG.
        dns_servers.push(("badsig".to_string(), named.addr().to_string()));
    }
    for (mode, server) in &dns_servers {
        let name = format!("dns-{mode}");
        add(
            format!(
                "[providers.{name}]\nkind = \"rfc2136\"\nserver = \"{server}\"\n\
                 zone = \"example.test\"\nkey-name = \"dynipd-sha256\"\n\
                 key-secret-file = \"tsig.key\"\n\n"
            ),
            format!("{name}.example.test"),
            &mut body,
        );
    }
    let s = Scenario::new(
        "request-timeout = \"1s\"\ncheck-interval = \"1s\"\nretry-min = \"1s\"\nretry-max = \"2s\"",
        &body,
    );
    fs::write(
        s.dir.path().join("dyndns2.pass"),
        format!("{DYNDNS2_PASSWORD}\n"),
    )
    .unwrap();
    fs::write(
        s.dir.path().join("tsig.key"),
        format!("{}\n", BASE64.encode(TSIG_RAW)),
    )
    .unwrap();
    // The world-readable config with inline secrets draws a warning: it must not quote them.
    let mut perms = fs::metadata(&s.config).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    fs::set_permissions(&s.config, perms).unwrap();

    let mut outputs = vec![
        run(&s, &["check"]),
        run(&s, &["--log-level", "trace", "once", "--dry-run"]),
        run(&s, &["--log-level", "trace", "once"]),
        run(&s, &["--log-level", "trace", "once", "--force"]),
        run(&s, &["--log-level", "trace", "detect"]),
    ];
    let daemon = Daemon::start(&s.config, "trace");
    daemon.wait_for_log("started", Duration::from_secs(10));
    let before = server.count();
    daemon.signal("USR1");
    server.wait_for_requests(before + 2 * PATHS.len(), Duration::from_secs(20));
    // A reload with a broken config (errors quote source lines with secrets in them).
    let good = fs::read_to_string(&s.config).unwrap();
    fs::write(
        &s.config,
        good.replace(
            &format!("token = \"{HTTP_TOKEN}\""),
            &format!("token = \"{HTTP_TOKEN}\"\ntoken-file = \"also.txt\""),
        ),
    )
    .unwrap();
    daemon.signal("HUP");
    daemon.wait_for_log("keeping the running one", Duration::from_secs(10));
    outputs.push(run(&s, &["check"]));
    fs::write(&s.config, &good).unwrap();
    let (_, log) = daemon.stop();
    outputs.push(log);
    outputs.push(run(&s, &["status", "--json"]));
    outputs.push(run(&s, &["status"]));
    outputs.push(fs::read_to_string(s.state_file()).unwrap());

    // The error paths were really taken.
    let all = outputs.join("\n");
    for needle in [
        "badauth",
        "401",
        "403",
        "429",
        "500",
        "not a dyndns2 answer",
        "does not match the success pattern",
        "no reply from",
        "could not connect",
        "redirects are not followed",
        "keeping the running one",
        "inline secrets",
    ] {
        assert!(
            all.contains(needle),
            "error path {needle:?} not exercised:\n{all}"
        );
    }
    if named.is_some() {
        assert!(all.contains("BADSIG"), "BADSIG not exercised:\n{all}");
    }

    let mut secrets = forms(DYNDNS2_PASSWORD, Some(USER));
    secrets.extend(forms(HTTP_TOKEN, None));
    secrets.extend(forms(HTTP_PASSWORD, Some(USER)));
    secrets.extend(forms(TSIG_RAW, None));
    for (i, out) in outputs.iter().enumerate() {
        for secret in &secrets {
            assert!(
                !out.contains(secret.as_str()),
                "output {i} contains {secret:?}:\n{out}"
            );
        }
    }
    eprintln!(
        "leak check: {} providers, {} outputs ({} bytes) searched for {} secret forms",
        records.len(),
        outputs.len(),
        all.len(),
        secrets.len()
    );
}

// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.
use std::collections::BTreeMap;

use crate::config::HttpMethod;
use crate::core::Addresses;

use super::*;

fn values<'a>(token: Option<&'a Secret<String>>, ipv6: bool) -> Values<'a> {
    Values {
        name: "home.example.org",
        host: "home",
        zone: "example.org",
        ipv4: Some("81.2.69.160".parse().unwrap()),
        ipv6: ipv6.then(|| "2a02:898:1::7".parse().unwrap()),
        ip: None,
        ttl: Duration::from_secs(300),
        token,
    }
}

#[test]
fn render_table() {
    let token = Secret::new("t0k/en+ =&".to_string());
    let both = values(Some(&token), true);
    let v4only = values(None, false);
    let mut per_family = values(None, true);
    per_family.ip = per_family.ipv6.map(std::net::IpAddr::V6);
    // (template, values, place, expected)
    let table: &[(&str, &Values<'_>, Place, &str)] = &[
        (
            "https://x.example/u?h={name}&a={ipv4}&b={ipv6}&ttl={ttl}",
            &both,
            Place::Url,
            "https://x.example/u?h=home.example.org&a=81.2.69.160&b=2a02%3A898%3A1%3A%3A7&ttl=300",
        ),
        (
            "https://x.example/u/{token}?t={token}",
            &both,
            Place::Url,
            "https://x.example/u/t0k%2Fen%2B%20%3D%26?t=t0k%2Fen%2B%20%3D%26",
        ),
        (
            "{\"ip\":\"{ipv4}\",\"ip6\":\"{ipv6}\",\"key\":\"{token}\"}",
            &both,
            Place::Raw,
            "{\"ip\":\"81.2.69.160\",\"ip6\":\"2a02:898:1::7\",\"key\":\"t0k/en+ =&\"}",
        ),
        // A family without an address, and an absent token, render empty.
        (
            "a={ipv4}&b={ipv6}&t={token}",
            &v4only,
            Place::Url,
            "a=81.2.69.160&b=&t=",
        ),
        // Unknown placeholders, stray braces and literal `+` stay as written.
        (
            "{nope} {name {{name}} }{ a+b",
            &v4only,
            Place::Url,
            "{nope} {name {home.example.org} }{ a+b",
        ),
        ("", &v4only, Place::Raw, ""),
        ("no placeholders", &v4only, Place::Raw, "no placeholders"),
        // Host and zone; {ip} and {type} are empty outside a per-family request.
        (
            "/zones/{zone}/records/{host}?ip={ip}&type={type}",
            &v4only,
            Place::Url,
            "/zones/example.org/records/home?ip=&type=",
        ),
        (
            "/r?ip={ip}&type={type}",
            &per_family,
            Place::Url,
            "/r?ip=2a02%3A898%3A1%3A%3A7&type=AAAA",
        ),
        // A form body encodes values the form way: a space is `+`, `+` is `%2B`.
        (
            "h={name}&ip6={ipv6}&k={token}",
            &both,
            Place::Form,
            "h=home.example.org&ip6=2a02%3A898%3A1%3A%3A7&k=t0k%2Fen%2B+%3D%26",
        ),
    ];
    for (template, values, place, expected) in table {
        assert_eq!(render(template, values, *place), *expected, "{template}");
    }
}

#[test]
fn url_encoded_token_is_the_form_redaction_masks() {
    let token = Secret::new("t0k/en+ =&~*".to_string());
    let rendered = render(
        "https://x.example/?t={token}",
        &values(Some(&token), false),
        Place::Url,
    );
    assert_eq!(
        crate::redact::mask_secrets(&rendered, &[token]),
        "https://x.example/?t=***"
    );
}

#[test]
fn classify_table() {
    use ErrorClass::*;
    let wait = Some(Duration::from_secs(90));
    // (status, Retry-After, body matches, expected)
    let table: &[(u16, Option<Duration>, bool, Option<ErrorClass>)] = &[
        (200, None, true, None),
        (204, None, true, None),
        (200, None, false, Some(Protocol)),
        (429, wait, false, Some(RateLimited { retry_after: wait })),
        (429, None, true, Some(RateLimited { retry_after: None })),
        (500, None, true, Some(Transient)),
        (503, wait, false, Some(Transient)),
        (401, None, false, Some(Rejected)),
        (403, None, true, Some(Rejected)),
        (400, None, false, Some(Rejected)),
        (404, None, false, Some(Rejected)),
        (302, None, true, Some(Protocol)),
        (101, None, true, Some(Protocol)),
    ];
    for (status, retry_after, matched, expected) in table {
        let got = classify(*status, *retry_after, *matched).err().map(|e| e.0);
        assert_eq!(got, *expected, "{status} {matched}");
    }
}

fn config(url: &str) -> HttpProviderConfig {
    HttpProviderConfig {
        method: HttpMethod::Post,
        url: url.into(),
        body: Some("{\"name\":\"{name}\",\"ip\":\"{ipv4}\",\"key\":\"{token}\"}".into()),
        content_type: Some("application/json".into()),
        headers: vec![
            ("X-Api-Key".into(), "{token}".into()),
            ("X-Record".into(), "{name}".into()),
        ],
        username: Some("me".into()),
        password: Some(Secret::new("pa55word".into())),
        token: Some(Secret::new("t0ken-xyz".into())),
        success: regex_lite::Regex::new("^ok").unwrap(),
        nochg: None,
        zone: None,
    }
}

fn target() -> Target {
    Target {
        name: "home.example.org".into(),
        families: crate::core::Families::IPV4,
        ttl: Duration::from_secs(60),
        addresses: Addresses {
            ipv4: Some("81.2.69.160".parse().unwrap()),
            ipv6: None,
        },
        cache: BTreeMap::new(),
    }
}

fn provider(config: HttpProviderConfig) -> HttpProvider {
    let clients = HttpClients::new(Duration::from_secs(5)).unwrap();
    HttpProvider::new(config, clients, Duration::from_secs(5)).with_name("custom")
}

#[test]
fn plan_is_the_exact_request_with_secrets_masked() {
    let p = provider(config(
        "https://x.example/update/{token}?host={name}&ip={ipv4}&ip6={ipv6}&ttl={ttl}",
    ));
    let plan = p.plan(&[target()]);
    assert_eq!(
        plan,
        vec![format!(
            "POST https://x.example/update/***?host=home.example.org&ip=81.2.69.160&ip6=&ttl=60\n    \
             User-Agent: {}\n    \
             Content-Type: application/json\n    \
             X-Api-Key: ***\n    \
             X-Record: home.example.org\n    \
             Authorization: Basic ***\n    \
             \n    \
             {{\"name\":\"home.example.org\",\"ip\":\"81.2.69.160\",\"key\":\"***\"}}",
            crate::USER_AGENT
        )]
    );
    let shown = format!("{plan:?} {p:?}");
    assert!(
        !shown.contains("t0ken-xyz") && !shown.contains("pa55word"),
        "{shown}"
    );
}

#[test]
fn bad_templates_are_rejections_that_never_quote_the_token() {
    let p = provider(config("not a url {token}"));
    let plan = p.plan(&[target()]);
    assert!(plan[0].starts_with("error: http provider \"custom\" cannot build the request for home.example.org: the url template gives no valid URL"), "{plan:?}");
    assert!(plan[0].ends_with("fix providers.custom.url, then reload or run dynipd retry"));
    assert!(!plan[0].contains("t0ken"));

    let mut c = config("https://x.example/");
    c.headers = vec![("X-Bad".into(), "a\r\nInjected: {token}".into())];
    let plan = provider(c).plan(&[target()]);
    assert!(
        plan[0].contains("header \"X-Bad\" is not a valid HTTP header"),
        "{plan:?}"
    );
    assert!(!plan[0].contains("t0ken"));
}

#[test]
fn host_and_zone_split() {
    // (name, zone, host, zone)
    let table: &[(&str, Option<&str>, &str, &str)] = &[
        ("home.example.org", None, "home", "example.org"),
        ("a.b.example.co.uk", None, "a", "b.example.co.uk"),
        (
            "a.b.example.co.uk",
            Some("example.co.uk"),
            "a.b",
            "example.co.uk",
        ),
        (
            "Home.Example.ORG",
            Some("example.org"),
            "Home",
            "Example.ORG",
        ),
        ("example.org", Some("example.org"), "@", "example.org"),
        // Not inside the zone (config validation forbids it): the default split.
        (
            "home.example.net",
            Some("example.org"),
            "home",
            "example.net",
        ),
        ("xexample.org", Some("example.org"), "xexample", "org"),
    ];
    for (name, zone, host, expected_zone) in table {
        assert_eq!(
            host_and_zone(name, *zone),
            (*host, *expected_zone),
            "{name} {zone:?}"
        );
    }
}

#[test]
fn per_family_templates_send_one_request_per_family() {
    let mut c = config("https://x.example/dns/{zone}/{host}/{type}?content={ip}&ttl={ttl}");
    c.method = HttpMethod::Get;
    c.body = None;
    c.content_type = None;
    c.headers = Vec::new();
    c.username = None;
    c.password = None;
    let mut t = target();
    t.families = crate::core::Families::BOTH;
    t.addresses.ipv6 = Some("2001:db8::7".parse().unwrap());
    let plan: Vec<String> = provider(c)
        .plan(&[t])
        .iter()
        .map(|r| r.lines().next().unwrap().to_string())
        .collect();
    assert_eq!(
        plan,
        vec![
            "GET https://x.example/dns/example.org/home/A?content=81.2.69.160&ttl=60",
            "GET https://x.example/dns/example.org/home/AAAA?content=2001%3Adb8%3A%3A7&ttl=60",
        ]
    );
}

#[test]
fn a_form_content_type_form_encodes_the_body() {
    let mut c = config("https://x.example/");
    c.body = Some("host={name}&ip6={ipv6}&key={token}".into());
    c.content_type = Some("application/x-www-form-urlencoded; charset=utf-8".into());
    let mut t = target();
    t.addresses.ipv6 = Some("2001:db8::7".parse().unwrap());
    let plan = provider(c).plan(&[t]);
    assert!(
        plan[0].ends_with("\n    host=home.example.org&ip6=2001%3Adb8%3A%3A7&key=***"),
        "{plan:?}"
    );
}

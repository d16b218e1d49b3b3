// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.
use std::collections::BTreeMap;

use crate::config::HttpMethod;
use crate::core::Addresses;

use super::*;

fn values<'a>(token: Option<&'a Secret<String>>, ipv6: bool) -> Values<'a> {
    Values {
        name: "home.example.org",
        ipv4: Some("81.2.69.160".parse().unwrap()),
        ipv6: ipv6.then(|| "2a02:898:1::7".parse().unwrap()),
        ttl: Duration::from_secs(300),
        token,
    }
}

#[test]
fn render_table() {
    let token = Secret::new("t0k/en+ =&".to_string());
    let both = values(Some(&token), true);
    let v4only = values(None, false);
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

// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use std::collections::BTreeMap;

use crate::core::Families;

use super::reply::error_status;
use super::*;

const NAME: &str = "home.dyndns.example.test";
const SECRET: &str = "Sup3rSecret";

fn addrs(v4: Option<&str>, v6: Option<&str>) -> Addresses {
    Addresses {
        ipv4: v4.map(|a| a.parse().unwrap()),
        ipv6: v6.map(|a| a.parse().unwrap()),
    }
}

#[test]
fn update_replies() {
    let both = addrs(Some("198.51.100.7"), Some("2001:db8::7"));
    let v4 = addrs(Some("198.51.100.7"), None);
    let v6 = addrs(None, Some("2001:db8::7"));
    let updated = "UPDATED: home.dyndns.example.test. A 192.0.2.1 -> 198.51.100.7\n\
                   UPDATED: home.dyndns.example.test. AAAA 2001:db8::1 -> 2001:db8::7\n";
    let unchanged = "UNCHANGED: home.dyndns.example.test. A 198.51.100.7\n\
                     UNCHANGED: home.dyndns.example.test. AAAA 2001:db8::7\n";
    // Trap 2: a refused update reads back the old addresses.
    let refused = "UNCHANGED: home.dyndns.example.test. A 192.0.2.1\n\
                   UNCHANGED: home.dyndns.example.test. AAAA 2001:db8::1\n";
    let v4_deletes_aaaa = "UPDATED: home.dyndns.example.test. A None -> 198.51.100.7\n\
                           UPDATED: home.dyndns.example.test. AAAA 2001:db8::8 -> None\n";
    let v6_only = "UNCHANGED: home.dyndns.example.test. A None\n\
                   UPDATED: home.dyndns.example.test. AAAA None -> 2001:db8::7\n";
    // (body, sent, expected class; None = published)
    let table: &[(&str, Addresses, Option<ErrorClass>)] = &[
        (updated, both, None),
        (unchanged, both, None),
        (refused, both, Some(ErrorClass::Unconfirmed)),
        (refused, v4, Some(ErrorClass::Unconfirmed)),
        (v4_deletes_aaaa, v4, None),
        (v6_only, v6, None),
        // A line for the family sent is missing.
        (v6_only, both, Some(ErrorClass::Unconfirmed)),
        (
            "UPDATED: home.dyndns.example.test. A 192.0.2.1 -> 198.51.100.7\n",
            both,
            Some(ErrorClass::Protocol),
        ),
        // Updated to something else than sent.
        (
            "UPDATED: home.dyndns.example.test. A None -> 198.51.100.8\n",
            v4,
            Some(ErrorClass::Unconfirmed),
        ),
        // Another name, a bad address, an unknown level, garbage.
        (
            "UPDATED: other.dyndns.example.test. A None -> 198.51.100.7\n",
            v4,
            Some(ErrorClass::Protocol),
        ),
        (
            "UPDATED: home.dyndns.example.test. A None -> 198.51.100.777\n",
            v4,
            Some(ErrorClass::Protocol),
        ),
        (
            "UPDATED: home.dyndns.example.test. AAAA None -> 198.51.100.7\n",
            v4,
            Some(ErrorClass::Protocol),
        ),
        (
            "INFO: home.dyndns.example.test. A 198.51.100.7\n",
            v4,
            Some(ErrorClass::Protocol),
        ),
        ("dyndns v2.0.0\n", v4, Some(ErrorClass::Protocol)),
        ("", v4, Some(ErrorClass::Protocol)),
    ];
    for (body, sent, expected) in table {
        let got = classify_update(200, None, body, NAME, *sent);
        assert_eq!(got.err().map(|r| r.class), *expected, "{body:?} / {sent}");
    }
    // The trailing dot and the case of the name do not matter.
    let upper = "UNCHANGED: HOME.dyndns.example.test A 198.51.100.7\n";
    assert!(classify_update(200, None, upper, NAME, v4).is_ok());
}

#[test]
fn trap_2_says_why() {
    let refused = "UNCHANGED: home.dyndns.example.test. A 192.0.2.1\n\
                   UNCHANGED: home.dyndns.example.test. AAAA 2001:db8::7\n";
    let sent = addrs(Some("198.51.100.7"), Some("2001:db8::7"));
    let refusal = classify_update(200, None, refused, NAME, sent).unwrap_err();
    assert_eq!(refusal.class, ErrorClass::Unconfirmed);
    assert!(
        refusal.meaning.starts_with(
            "the server reports A unchanged at 192.0.2.1 although 198.51.100.7 was sent"
        ),
        "{}",
        refusal.meaning
    );
    assert!(refusal.meaning.contains("nameserver refuses"));
}

#[test]
fn error_statuses() {
    let rl = ErrorClass::RateLimited {
        retry_after: Some(Duration::from_secs(7)),
    };
    let table: &[(u16, &str, ErrorClass)] = &[
        (
            452,
            "DYNDNSERROR: No ip addresses set.\n",
            ErrorClass::Protocol,
        ),
        (
            453,
            "DNS_NAME_ERROR: Value \"record_name\" is required.\n",
            ErrorClass::Rejected,
        ),
        (
            454,
            "IP_ADDRESS_ERROR: Invalid IP address '999.1.1.1'.\n",
            ErrorClass::Protocol,
        ),
        (455, "CONFIGURATION_ERROR: x\n", ErrorClass::Rejected),
        (
            456,
            "PARAMETER_ERROR: You specified a wrong secret key.\n",
            ErrorClass::Rejected,
        ),
        (
            456,
            "PARAMETER_ERROR: extra_forbidden: Extra inputs are not permitted (1).\n",
            ErrorClass::Protocol,
        ),
        (457, "CHECK_ERROR: check failed\n", ErrorClass::Protocol),
        (
            512,
            "DNS_SERVER_ERROR: The DNS operation to the nameserver \"127.0.0.1\" timed out.\n",
            ErrorClass::Transient,
        ),
        (
            512,
            "DNS_SERVER_ERROR: The peer \"127.0.0.1\" didn't know the tsig key we used for \
             the zone \"dyndns.example.test.\".\n",
            ErrorClass::Rejected,
        ),
        (
            500,
            "LIFETIMETIMEOUT: The resolution lifetime expired after 5.404 seconds\n",
            ErrorClass::Transient,
        ),
        (
            500,
            "PEERBADSIGNATURE: The peer didn't like the signature we sent\n",
            ErrorClass::Rejected,
        ),
        (500, "NOTFOUND: 404 Not Found: …\n", ErrorClass::Protocol),
        (500, "METHODNOTALLOWED: 405 …\n", ErrorClass::Protocol),
        (500, "NORESOLVERCONFIGURATION: …\n", ErrorClass::Protocol),
        (
            500,
            "<html>Internal Server Error</html>",
            ErrorClass::Transient,
        ),
        (503, "", ErrorClass::Transient),
        (429, "", rl),
        (401, "", ErrorClass::Rejected),
        (404, "not found", ErrorClass::Rejected),
        (301, "", ErrorClass::Protocol),
    ];
    for (status, body, class) in table {
        let got = error_status(*status, Some(Duration::from_secs(7)), body);
        assert_eq!(got.class, *class, "{status} {body:?}");
        // The same classes for update and delete replies.
        let update = classify_update(
            *status,
            Some(Duration::from_secs(7)),
            body,
            NAME,
            addrs(Some("192.0.2.1"), None),
        );
        assert_eq!(update.unwrap_err().class, *class);
        let delete = classify_delete(*status, Some(Duration::from_secs(7)), body);
        assert_eq!(delete.unwrap_err().class, *class);
    }
}

#[test]
fn delete_replies() {
    assert_eq!(
        classify_delete(
            200,
            None,
            "UPDATED: The A and AAAA records of the domain name 'www.dyndns.example.test.' \
             were deleted.\n"
        ),
        Ok(Deleted::Removed)
    );
    assert_eq!(
        classify_delete(
            200,
            None,
            "UNCHANGED: The deletion of the domain name 'www.dyndns.example.test.' was not \
             executed because there were no A or AAAA records.\n"
        ),
        Ok(Deleted::Absent)
    );
    let garbage = classify_delete(200, None, "UPDATED: home. A None -> 192.0.2.1\n");
    assert_eq!(garbage.unwrap_err().class, ErrorClass::Protocol);
}

fn provider(method: DyndnsServerMethod, base: &str) -> DyndnsServerProvider {
    let config = DyndnsServerProviderConfig {
        url: Url::parse(base).unwrap(),
        secret: Secret::new(SECRET.into()),
        method,
    };
    let timeout = Duration::from_secs(1);
    DyndnsServerProvider::new(config, HttpClients::new(timeout).unwrap(), timeout).with_name("ds")
}

fn target(families: Families, addresses: Addresses) -> Target {
    Target {
        name: NAME.into(),
        families,
        ttl: Duration::from_secs(60),
        addresses,
        cache: BTreeMap::new(),
    }
}

#[test]
fn requests_per_method_and_family() {
    let both = addrs(Some("198.51.100.7"), Some("2001:db8::7"));
    let path = provider(DyndnsServerMethod::Path, "https://h.example/dyn/");
    let query = provider(DyndnsServerMethod::Query, "https://h.example");
    let cases = [
        (
            &path,
            Families::BOTH,
            "https://h.example/dyn/update-by-path/Sup3rSecret/home.dyndns.example.test/198.51.100.7/2001:db8::7",
        ),
        (
            &path,
            Families::IPV4,
            "https://h.example/dyn/update-by-path/Sup3rSecret/home.dyndns.example.test/198.51.100.7",
        ),
        (
            &path,
            Families::IPV6,
            "https://h.example/dyn/update-by-path/Sup3rSecret/home.dyndns.example.test/2001:db8::7",
        ),
        (
            &query,
            Families::BOTH,
            "https://h.example/update-by-query?secret=Sup3rSecret&fqdn=home.dyndns.example.test&ipv4=198.51.100.7&ipv6=2001%3Adb8%3A%3A7&ttl=60",
        ),
        (
            &query,
            Families::IPV6,
            "https://h.example/update-by-query?secret=Sup3rSecret&fqdn=home.dyndns.example.test&ipv6=2001%3Adb8%3A%3A7&ttl=60",
        ),
    ];
    for (provider, families, url) in cases {
        let t = target(families, both.restricted_to(families));
        assert_eq!(provider.update_request(&t).url.as_str(), url);
        let plan = provider.plan(&[t]).join("\n");
        assert!(!plan.contains(SECRET), "{plan}");
        assert!(plan.starts_with("GET https://h.example/"), "{plan}");
    }
    let t = target(Families::BOTH, both);
    assert_eq!(
        path.delete_request(&t).url.as_str(),
        "https://h.example/dyn/delete-by-path/Sup3rSecret/home.dyndns.example.test"
    );
    assert_eq!(
        path.plan_delete(&t),
        vec![format!(
            "GET https://h.example/dyn/delete-by-path/***/home.dyndns.example.test\n    \
             User-Agent: {}",
            crate::USER_AGENT
        )]
    );
}

#[test]
fn a_dual_stack_record_is_held_back_until_both_families_are_known() {
    let p = provider(DyndnsServerMethod::Path, "https://h.example");
    let half = target(Families::BOTH, addrs(Some("198.51.100.7"), None));
    let failure = p.check_sendable(&half).unwrap_err();
    assert_eq!(failure.class, ErrorClass::Transient);
    assert!(
        failure.message.starts_with(
            "dyndns-server provider \"ds\" holds back home.dyndns.example.test: no AAAA \
             address is known yet"
        ),
        "{}",
        failure.message
    );
    assert!(
        failure.message.ends_with(
            "will retry with backoff (if that family never comes, set families = [\"ipv4\"] \
             on the record)"
        ),
        "{}",
        failure.message
    );
    assert!(p.plan(&[half])[0].starts_with("not sent: "));
    let none = target(Families::IPV4, Addresses::default());
    assert!(p.check_sendable(&none).is_err());
    let v4 = target(Families::IPV4, addrs(Some("198.51.100.7"), None));
    assert!(p.check_sendable(&v4).is_ok());
}

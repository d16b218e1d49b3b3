// Test-only module: compiled under #[cfg(test)] from its parent's `mod` line.

use serde_json::json;

use super::*;

fn object(value: Value) -> Object {
    match value {
        Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    }
}

/// The spec's example account plus a second domain and one nested below the first.
fn listing() -> Listing {
    Listing::read(&object(json!({"statusCode":200,"domains":[
        {"id":358362,"name":"workplace.mywire.org","unicodeName":"workplace.mywire.org",
         "token":"yc0bia6g92p49061wko1","state":"Complete","group":"Office",
         "ipv4Address":"207.52.45.12","ttl":300,"ipv4":true,"ipv6":false,
         "ipv4WildcardAlias":false,"createdOn":"2012-08-09T10:20:50.52Z",
         "updatedOn":"2018-07-19T13:42:08.52Z"},
        {"id":7,"name":"Example.ORG","ttl":120},
        {"id":8,"name":"lab.example.org"}
    ]})))
    .unwrap()
}

#[test]
fn exact_name_is_the_apex_with_only_writable_fields() {
    let Ok(Place::Apex { domain_id, fields }) = listing().find("workplace.mywire.org") else {
        panic!("expected the apex");
    };
    assert_eq!(domain_id, 358362);
    assert_eq!(
        Value::Object(fields),
        json!({"name":"workplace.mywire.org","group":"Office","ipv4Address":"207.52.45.12",
               "ttl":300,"ipv4":true,"ipv6":false,"ipv4WildcardAlias":false})
    );
    // Case does not matter; the token, state and dates are never kept.
    assert!(matches!(
        listing().find("EXAMPLE.org"),
        Ok(Place::Apex { domain_id: 7, .. })
    ));
}

#[test]
fn a_name_below_is_a_node_of_the_longest_domain() {
    assert_eq!(
        listing().find("pi.lab.example.org"),
        Ok(Place::Node {
            domain_id: 8,
            node: "pi".into(),
            a: None,
            aaaa: None
        })
    );
    assert_eq!(
        listing().find("a.b.example.org"),
        Ok(Place::Node {
            domain_id: 7,
            node: "a.b".into(),
            a: None,
            aaaa: None
        })
    );
}

#[test]
fn no_domain_lists_the_account() {
    let e = listing().find("home.example.net").unwrap_err();
    assert_eq!(
        e.account_has,
        ["workplace.mywire.org", "Example.ORG", "lab.example.org"]
    );
    // A suffix that is not at a label boundary is no match.
    assert!(listing().find("myexample.org").is_err());
}

#[test]
fn unusable_lists_name_the_problem() {
    for (reply, why) in [
        (json!({"statusCode":200}), "no \"domains\""),
        (json!({"domains":[1]}), "not an object"),
        (json!({"domains":[{"id":1}]}), "no name"),
        (
            json!({"domains":[{"name":"a.b","id":"1","token":"t0k"}]}),
            "numeric id",
        ),
    ] {
        let e = Listing::read(&object(reply)).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
    assert_eq!(
        Listing::read(&object(json!({"domains":[]})))
            .unwrap()
            .find("a.example.org")
            .unwrap_err()
            .account_has,
        Vec::<String>::new()
    );
}

#[test]
fn domain_body_writes_carried_families_and_keeps_the_rest() {
    let fields = object(
        json!({"name":"h.example.org","group":"g","ipv4Address":"192.0.2.1",
        "ipv6Address":"2001:db8::1","ttl":300,"ipv4":true,"ipv6":true,"dnssec":false}),
    );
    let v6_only = Addresses {
        ipv4: None,
        ipv6: Some("2a02:898:1::7".parse().unwrap()),
    };
    assert_eq!(
        Value::Object(domain_body(&fields, v6_only, 60)),
        json!({"name":"h.example.org","group":"g","ipv4Address":"192.0.2.1",
               "ipv6Address":"2a02:898:1::7","ttl":60,"ipv4":true,"ipv6":true,"dnssec":false})
    );
    let v4_only = Addresses {
        ipv4: Some("81.2.69.160".parse().unwrap()),
        ipv6: None,
    };
    let minimal = object(json!({"name":"h.example.org","ipv6":false}));
    assert_eq!(
        Value::Object(domain_body(&minimal, v4_only, 90)),
        json!({"name":"h.example.org","ipv4Address":"81.2.69.160","ipv4":true,"ipv6":false,
               "ttl":90})
    );
}

#[test]
fn record_bodies() {
    let address: IpAddr = "2a02:898:1::7".parse().unwrap();
    assert_eq!(
        Value::Object(record_body(None, "pi", address, 60)),
        json!({"nodeName":"pi","recordType":"AAAA","ttl":60,"state":true,"group":"",
               "ipv6Address":"2a02:898:1::7"})
    );
    let existing = object(
        json!({"nodeName":"pi","recordType":"A","ttl":300,"state":false,
        "group":"home","ipv4Address":"192.0.2.1"}),
    );
    assert_eq!(
        Value::Object(record_body(
            Some(&existing),
            "pi",
            "81.2.69.160".parse().unwrap(),
            60
        )),
        json!({"nodeName":"pi","recordType":"A","ttl":60,"state":true,"group":"home",
               "ipv4Address":"81.2.69.160"})
    );
}

#[test]
fn find_record_of_one_type() {
    let reply = object(json!({"statusCode":200,"dnsRecords":[
        {"id":1,"domainId":8,"nodeName":"pi","hostname":"pi.lab.example.org","recordType":"A",
         "ttl":300,"state":true,"group":"","ipv4Address":"192.0.2.1",
         "content":"pi.lab.example.org. 300 IN A 192.0.2.1","updatedOn":"2020-03-10T04:00:36.923"},
        {"id":2,"nodeName":"pi","hostname":"pi.lab.example.org","recordType":"TXT","textData":"x"}
    ]}));
    let found = find_record(&reply, "pi.lab.example.org", Family::Ipv4)
        .unwrap()
        .unwrap();
    assert_eq!(found.id, 1);
    assert_eq!(
        Value::Object(found.fields),
        json!({"nodeName":"pi","recordType":"A","ttl":300,"state":true,"group":"",
               "ipv4Address":"192.0.2.1"})
    );
    assert_eq!(
        find_record(&reply, "pi.lab.example.org", Family::Ipv6),
        Ok(None)
    );
    let none = object(json!({"statusCode":200,"dnsRecords":[]}));
    assert_eq!(
        find_record(&none, "pi.lab.example.org", Family::Ipv4),
        Ok(None)
    );
    let two = object(json!({"dnsRecords":[
        {"id":1,"recordType":"A","hostname":"pi.lab.example.org"},
        {"id":3,"recordType":"A","hostname":"pi.lab.example.org"}
    ]}));
    assert!(find_record(&two, "pi.lab.example.org", Family::Ipv4).is_err());
    assert!(find_record(&object(json!({})), "x", Family::Ipv4).is_err());
}

#[test]
fn cache_round_trips_and_rejects_what_it_cannot_use() {
    let apex = listing().find("workplace.mywire.org").unwrap();
    let cache = apex.to_cache();
    assert_eq!(cache["domain-id"], "358362");
    assert!(
        !cache["domain"].contains("yc0bia6g92p49061wko1"),
        "no token kept"
    );
    assert_eq!(
        Place::from_cache(&cache, "WorkPlace.mywire.org"),
        Some(apex)
    );
    // A cache for another name, or garbage, is not used.
    assert_eq!(Place::from_cache(&cache, "other.mywire.org"), None);
    let mut broken = cache.clone();
    broken.insert("domain-id".into(), "x".into());
    assert_eq!(Place::from_cache(&broken, "workplace.mywire.org"), None);
    assert_eq!(Place::from_cache(&BTreeMap::new(), "a.b"), None);

    let node = Place::Node {
        domain_id: 8,
        node: "pi".into(),
        a: Some(RecordSnapshot {
            id: 1,
            fields: object(json!({"nodeName":"pi","recordType":"A","ipv4Address":"192.0.2.1"})),
        }),
        aaaa: None,
    };
    let cache = node.to_cache();
    assert_eq!(
        cache.keys().collect::<Vec<_>>(),
        ["a-record", "domain-id", "node"]
    );
    assert_eq!(Place::from_cache(&cache, "pi.lab.example.org"), Some(node));
    assert_eq!(
        Place::from_cache(&cache, "pi.lab.example.org").map(|p| p.domain_id()),
        Some(8)
    );
}

//! The fuzz targets' checks (#9), replayed over the committed seeds and every crash input in
//! `fuzz/regressions/<target>/`, without libFuzzer: a crash found once stays a test.
//! Keep each function in step with `fuzz/fuzz_targets/<target>.rs`.

use std::path::Path;
use std::time::Duration;

use dynipd::core::Family;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(Path::new("fuzz").join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn config_loader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent/dynipd-fuzz/dynipd.toml");
    match dynipd::config::load_str(path, text) {
        Ok(config) => {
            let _ = config.record_specs();
            let _ = config.source_specs();
            let _ = config.provider_specs();
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
}

fn echo_body(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let family = if flags & 1 == 0 {
        Family::Ipv4
    } else {
        Family::Ipv6
    };
    if let Ok(addr) =
        dynipd::source::web::parse_echo_body(body, family, flags & 2 != 0, flags & 4 != 0)
    {
        assert_eq!(Family::of(&addr), family, "wrong family accepted");
        assert!(!addr.is_loopback() && !addr.is_unspecified() && !addr.is_multicast());
    }
}

fn dyndns2_reply(data: &[u8]) {
    let [a, b, c, d, rest @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*a, *b]) % 1000;
    let retry_after = (*c != 0).then(|| Duration::from_secs(u64::from(*c) * 60));
    let hosts = usize::from(*d % 25);
    let body = String::from_utf8_lossy(rest);
    let verdicts = dynipd::provider::dyndns2::classify(status, retry_after, &body, hosts);
    assert_eq!(verdicts.len(), hosts.max(1), "one verdict per host");
    if !(200..300).contains(&status) {
        assert!(
            verdicts.iter().all(Result::is_err),
            "success under HTTP {status}"
        );
    }
}

fn dynu_reply(data: &[u8]) {
    let [a, b, c, rest @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*a, *b]) % 1000;
    let retry_after = (*c != 0).then(|| Duration::from_secs(u64::from(*c)));
    let body = String::from_utf8_lossy(rest);
    let verdict = dynipd::provider::dynu::errors::classify(status, retry_after, &body);
    if !(200..300).contains(&status) {
        assert!(verdict.is_err(), "success under HTTP {status}");
    }
}

fn state_file(data: &[u8]) {
    if let Ok(state) = dynipd::state::model::decode(data) {
        let bytes = dynipd::state::model::encode(&state).unwrap();
        let again = dynipd::state::model::decode(&bytes).unwrap();
        assert_eq!(again, state, "save/load roundtrip");
    }
}

// See: #9
#[test]
fn issue_9_fuzz_seeds_and_regressions_replay() {
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 5] = [
        ("config_loader", config_loader),
        ("echo_body", echo_body),
        ("dyndns2_reply", dyndns2_reply),
        ("dynu_reply", dynu_reply),
        ("state_file", state_file),
    ];
    for (target, check) in targets {
        let inputs = inputs(target);
        assert!(!inputs.is_empty(), "no seeds for {target}");
        for (name, data) in inputs {
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {name} panics");
        }
    }
}

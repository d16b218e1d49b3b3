//! `dynipd detect [SOURCE] [--json]`: every candidate address with its verdict and reason, and
//! where the source knows them (Linux interface sources) its kernel flags and lifetimes.

use std::fmt::Write as _;
use std::path::Path;

use crate::config;
use crate::core::Families;
use crate::core::select::Verdict;
use crate::daemon::AppError;
use crate::http::HttpClients;
use crate::source::{AnySource, Explanation};

/// Runs detection for one source (or all) and prints the explanations.
pub fn detect(config_path: &Path, only: Option<&str>, json: bool) -> Result<i32, AppError> {
    let config = config::load(config_path)?;
    if let Some(name) = only
        && !config.sources.contains_key(name)
    {
        let defined: Vec<String> = config.sources.keys().map(|k| format!("\"{k}\"")).collect();
        return Err(AppError::Usage(format!(
            "no source named \"{name}\" (defined: {})",
            defined.join(", ")
        )));
    }
    let timeout = config.daemon.request_timeout;
    let clients = HttpClients::new(timeout).map_err(AppError::Internal)?;
    let wanted: std::collections::BTreeMap<String, Families> = config
        .source_specs()
        .into_iter()
        .map(|s| (s.name, s.families))
        .collect();
    let rt = crate::daemon::runtime()?;
    let mut all = Vec::new();
    for (name, source_config) in &config.sources {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        // A source no record uses is still shown, for both families.
        let families = wanted.get(name).copied().unwrap_or(Families::BOTH);
        let source = AnySource::new(name, source_config, clients.clone(), timeout);
        let (explanations, _) = rt.block_on(source.explain(families));
        all.extend(explanations);
    }
    if json {
        println!("{}", render_json(&all));
    } else {
        println!("{}", render_table(&all));
    }
    Ok(crate::exit::OK)
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Chosen => "chosen",
        Verdict::Accepted => "accepted",
        Verdict::Rejected => "rejected",
    }
}

fn lifetime(d: Option<std::time::Duration>) -> String {
    d.map_or_else(|| "forever".to_string(), |d| format!("{}s", d.as_secs()))
}

/// The lifetime columns: known when the source read flags (the kernel gives both together) or
/// any lifetime; `-` otherwise.
fn lifetimes(r: &Explanation) -> (String, String) {
    if r.flags.is_empty() && r.preferred_lifetime.is_none() && r.valid_lifetime.is_none() {
        ("-".into(), "-".into())
    } else {
        (lifetime(r.preferred_lifetime), lifetime(r.valid_lifetime))
    }
}

const HEADINGS: [&str; 7] = [
    "VERDICT",
    "INTERFACE",
    "ADDRESS",
    "FLAGS",
    "PREFERRED",
    "VALID",
    "REASON",
];

/// A plain-text table per source, columns aligned: verdict, interface (or the echo URL /
/// command), address, flags, preferred and valid lifetime, reason.
pub fn render_table(rows: &[Explanation]) -> String {
    if rows.is_empty() {
        return "no candidates".to_string();
    }
    let mut out = String::new();
    let mut start = 0;
    while start < rows.len() {
        let source = &rows[start].source;
        let end = rows[start..]
            .iter()
            .position(|r| &r.source != source)
            .map_or(rows.len(), |n| start + n);
        let _ = writeln!(out, "source \"{source}\":");
        let cells: Vec<[String; 7]> = rows[start..end].iter().map(cells).collect();
        let mut widths = HEADINGS.map(str::len);
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let headings = HEADINGS.map(str::to_string);
        for row in std::iter::once(&headings).chain(&cells) {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(widths) {
                let _ = write!(line, "  {cell:<width$}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        start = end;
    }
    out.trim_end().to_string()
}

fn cells(r: &Explanation) -> [String; 7] {
    let place = r
        .interface
        .as_deref()
        .or(r.origin.as_deref())
        .unwrap_or("-");
    let (preferred, valid) = lifetimes(r);
    [
        verdict_word(r.verdict).to_string(),
        place.to_string(),
        r.address.map_or_else(|| "-".to_string(), |a| a.to_string()),
        if r.flags.is_empty() {
            "-".to_string()
        } else {
            r.flags.join(",")
        },
        preferred,
        valid,
        r.reason.clone(),
    ]
}

/// `{"candidates": [...]}` with the keys of DESIGN.md; keys absent where there is no fact.
pub fn render_json(rows: &[Explanation]) -> String {
    let candidates: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            m.insert("source".into(), r.source.clone().into());
            if let Some(i) = &r.interface {
                m.insert("interface".into(), i.clone().into());
            }
            if let Some(o) = &r.origin {
                m.insert("origin".into(), o.clone().into());
            }
            if let Some(a) = r.address {
                m.insert("address".into(), a.to_string().into());
            }
            if let Some(f) = r.family {
                m.insert("family".into(), f.as_str().into());
            }
            if !r.flags.is_empty() {
                m.insert("flags".into(), r.flags.clone().into());
            }
            if let Some(d) = r.preferred_lifetime {
                m.insert("preferred-lifetime".into(), d.as_secs().into());
            }
            if let Some(d) = r.valid_lifetime {
                m.insert("valid-lifetime".into(), d.as_secs().into());
            }
            m.insert("verdict".into(), verdict_word(r.verdict).into());
            m.insert("reason".into(), r.reason.clone().into());
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::json!({ "candidates": candidates }).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::Family;

    fn row(source: &str, place: &str, address: &str, flags: &[&str]) -> Explanation {
        let address: std::net::IpAddr = address.parse().unwrap();
        Explanation {
            source: source.into(),
            interface: (source == "lan").then(|| place.to_string()),
            origin: (source != "lan").then(|| place.to_string()),
            family: Some(Family::of(&address)),
            address: Some(address),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            preferred_lifetime: None,
            valid_lifetime: None,
            verdict: Verdict::Rejected,
            reason: "why".into(),
        }
    }

    #[test]
    fn table_aligns_columns_and_shows_flags_and_lifetimes() {
        let mut temporary = row("lan", "eth0", "2a02:898:2::9", &["temporary"]);
        temporary.preferred_lifetime = Some(Duration::from_secs(86_357));
        temporary.valid_lifetime = Some(Duration::from_secs(604_800));
        temporary.verdict = Verdict::Chosen;
        let rows = [
            row("lan", "eth0", "81.2.69.160", &["permanent"]),
            temporary,
            row("web", "https://api.ipify.org", "81.2.69.161", &[]),
        ];
        let want = "\
source \"lan\":
  VERDICT   INTERFACE  ADDRESS        FLAGS      PREFERRED  VALID    REASON
  rejected  eth0       81.2.69.160    permanent  forever    forever  why
  chosen    eth0       2a02:898:2::9  temporary  86357s     604800s  why
source \"web\":
  VERDICT   INTERFACE              ADDRESS      FLAGS  PREFERRED  VALID  REASON
  rejected  https://api.ipify.org  81.2.69.161  -      -          -      why";
        assert_eq!(render_table(&rows), want);
    }

    #[test]
    fn json_carries_flags_and_lifetimes() {
        let mut r = row("lan", "eth0", "2a02:898:2::9", &["temporary", "deprecated"]);
        r.preferred_lifetime = Some(Duration::ZERO);
        r.valid_lifetime = Some(Duration::from_secs(3600));
        let json: serde_json::Value = serde_json::from_str(&render_json(&[r])).unwrap();
        let c = &json["candidates"][0];
        assert_eq!(c["flags"], serde_json::json!(["temporary", "deprecated"]));
        assert_eq!(c["preferred-lifetime"], 0);
        assert_eq!(c["valid-lifetime"], 3600);
        assert_eq!(c["interface"], "eth0");
        assert_eq!(c["verdict"], "rejected");
    }
}

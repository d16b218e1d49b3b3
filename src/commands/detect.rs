//! `dynipd detect [SOURCE] [--json]`: every candidate address with its verdict and reason.

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

/// A plain-text table, one candidate per line, columns aligned per source.
pub fn render_table(rows: &[Explanation]) -> String {
    if rows.is_empty() {
        return "no candidates".to_string();
    }
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let flags = if r.flags.is_empty() {
                "-".to_string()
            } else {
                r.flags.join(",")
            };
            let lifetimes = if r.preferred_lifetime.is_some() || r.valid_lifetime.is_some() {
                format!(
                    "pref={} valid={}",
                    lifetime(r.preferred_lifetime),
                    lifetime(r.valid_lifetime)
                )
            } else {
                "-".to_string()
            };
            [
                verdict_word(r.verdict).to_string(),
                r.interface
                    .as_deref()
                    .or(r.origin.as_deref())
                    .unwrap_or("-")
                    .to_string(),
                r.address.map_or_else(|| "-".to_string(), |a| a.to_string()),
                flags,
                lifetimes,
            ]
        })
        .collect();
    let header = ["verdict", "where", "address", "flags", "lifetimes"].map(String::from);
    let mut widths = [0usize; 5];
    for row in cells.iter().chain([&header]) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut current_source = "";
    for (r, row) in rows.iter().zip(&cells) {
        if r.source != current_source {
            current_source = &r.source;
            let _ = writeln!(out, "source \"{}\":", r.source);
            let mut line = String::from(" ");
            for (cell, w) in header.iter().zip(widths) {
                let _ = write!(line, " {cell:<w$}");
            }
            let _ = writeln!(out, "{line}  reason");
        }
        let mut line = String::from(" ");
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(line, " {cell:<w$}");
        }
        let _ = writeln!(out, "{line}  {}", r.reason);
    }
    out.trim_end().to_string()
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

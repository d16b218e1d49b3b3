//! `dynipd status [--json]`: what the state file says about each configured record.

use std::path::Path;

use crate::config;
use crate::core::PersistedRecord;
use crate::daemon::AppError;
use crate::state::StateStore;

fn time(t: Option<std::time::SystemTime>) -> Option<String> {
    t.map(|t| humantime::format_rfc3339_seconds(t).to_string())
}

/// Prints per record: published addresses, when, last error, attempts, next attempt, parked.
pub fn status(config_path: &Path, json: bool) -> Result<i32, AppError> {
    let config = config::load(config_path)?;
    let records = if config.daemon.state_dir.join("state.json").exists() {
        StateStore::existing(&config.daemon.state_dir)?.peek()?
    } else {
        std::collections::BTreeMap::new()
    };
    let empty = PersistedRecord::default();
    if json {
        let list: Vec<serde_json::Value> = config
            .records
            .iter()
            .map(|r| {
                let s = records.get(&r.name).unwrap_or(&empty);
                serde_json::json!({
                    "name": r.name,
                    "provider": r.provider,
                    "source": r.source,
                    "published": {
                        "ipv4": s.published.ipv4.map(|a| a.to_string()),
                        "ipv6": s.published.ipv6.map(|a| a.to_string()),
                    },
                    "published-at": time(s.published_at),
                    "attempts": s.attempts,
                    "next-attempt": time(s.next_attempt),
                    "parked": s.parked,
                    "last-error": s.last_error.as_ref().map(|e| serde_json::json!({"class": e.class.as_str(), "message": e.message})),
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "records": list }));
        return Ok(crate::exit::OK);
    }
    if config.records.is_empty() {
        println!("no records configured");
    }
    for r in &config.records {
        let s = records.get(&r.name).unwrap_or(&empty);
        println!(
            "{} (provider \"{}\", source \"{}\")",
            r.name, r.provider, r.source
        );
        match time(s.published_at) {
            Some(at) => println!("  published: {} at {at}", s.published),
            None if !s.published.is_empty() => {
                println!("  published: {} (time unknown)", s.published)
            }
            None => println!("  published: nothing yet"),
        }
        if let Some(reason) = &s.parked {
            println!("  PARKED: {reason}");
            println!(
                "  (fix the config and reload, or run: dynipd retry {})",
                r.name
            );
        }
        if let Some(e) = &s.last_error {
            println!("  last error ({}): {}", e.class, e.message);
        }
        if s.attempts > 0 {
            println!("  failed attempts: {}", s.attempts);
        }
        if let Some(next) = time(s.next_attempt) {
            println!("  next attempt: {next}");
        }
    }
    Ok(crate::exit::OK)
}

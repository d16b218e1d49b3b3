//! The subcommands other than `run` and `once`, and the dispatcher `main.rs` calls.

pub mod delete;
pub mod detect;
pub mod generate;
pub mod retry;
pub mod status;

use crate::cli::{Cli, Command};
use crate::daemon::{self, AppError, OnceOptions};
use crate::exit;

/// Runs the parsed command line; returns the process exit code.
pub fn execute(cli: Cli) -> i32 {
    crate::logging::init(cli.log_level);
    let config = cli.config.as_path();
    let result = match cli.command.unwrap_or(Command::Run) {
        Command::Run => daemon::run(config).map(|()| exit::OK),
        Command::Once { dry_run, force } => daemon::once(config, OnceOptions { dry_run, force })
            .map(|all_published| {
                if all_published {
                    exit::OK
                } else {
                    exit::NOT_PUBLISHED
                }
            }),
        Command::Check => check(config),
        Command::Detect { source, json } => detect::detect(config, source.as_deref(), json),
        Command::Status { json } => status::status(config, json),
        Command::Retry { record } => retry::retry(config, record.as_deref()),
        Command::Delete { record, dry_run } => delete::delete(config, &record, dry_run),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", error_text(&e));
            e.exit_code()
        }
    }
}

fn error_text(e: &AppError) -> String {
    match e {
        // Config diagnostics are self-describing (`path:line:col: key: message`).
        AppError::Config(_) => e.to_string(),
        _ => format!("dynipd: {e}"),
    }
}

/// `dynipd check`: 0 when valid (warnings printed), 78 with every error otherwise.
fn check(path: &std::path::Path) -> Result<i32, AppError> {
    let config = crate::config::load(path)?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    if config.records.is_empty() {
        tracing::info!(config = %path.display(), "no records configured; nothing to publish");
    }
    println!(
        "{}: ok ({} record{}, {} source{}, {} provider{})",
        path.display(),
        config.records.len(),
        plural(config.records.len()),
        config.sources.len(),
        plural(config.sources.len()),
        config.providers.len(),
        plural(config.providers.len())
    );
    Ok(exit::OK)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

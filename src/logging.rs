//! Log output: tracing to stderr; no ANSI and no timestamps under journald (`JOURNAL_STREAM`),
//! colour only on a terminal (STYLE.md §6).

use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;

use crate::cli::LogLevel;

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(level: LogLevel) {
    let filter = match level {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Trace => LevelFilter::TRACE,
    };
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(!under_journald && std::io::stderr().is_terminal());
    // A second init (tests) fails harmlessly: the first subscriber stays.
    let _ = if under_journald {
        builder.without_time().try_init()
    } else {
        builder.try_init()
    };
}

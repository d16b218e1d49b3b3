//! Command-line definitions (clap). `main.rs` parses, the library acts.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// dynipd keeps DNS records pointed at a host whose addresses change.
#[derive(Debug, Parser)]
#[command(name = "dynipd", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, short = 'c', global = true, value_name = "PATH", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,

    /// Log verbosity (logs go to stderr).
    #[arg(long, global = true, value_name = "LEVEL", default_value = "info")]
    pub log_level: LogLevel,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands (DESIGN.md "Command line").
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Run,
    /// One detection and publish round, then exit: 0 when every record is published, 1 if not.
    Once {
        /// Print the exact requests that would be sent; send nothing, write no state.
        #[arg(long)]
        dry_run: bool,
        /// Republish every record even if unchanged, parked or backing off.
        #[arg(long)]
        force: bool,
    },
    /// Validate the configuration (exit 0, or 78 with every error).
    Check,
    /// Show every candidate address and why it was accepted or rejected.
    Detect {
        /// Only this source.
        source: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show what the state file says about each record.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Clear parking and backoff of a record (all records when none is named).
    Retry {
        /// The record's name.
        record: Option<String>,
    },
    /// Delete a record's A and AAAA records at its provider (dyndns-server, rfc2136):
    /// 0 when deleted or already absent, 1 if not.
    Delete {
        /// The record's name, as configured.
        record: String,
        /// Print the exact request that would be sent; send nothing, write no state.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `--log-level` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

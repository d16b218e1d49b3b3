//! dynipd: a dynamic-DNS updater daemon.
//!
//! A functional core (`core`: pure decisions, `now` passed in) inside an imperative shell
//! (`daemon`, `source`, `provider`, `state`, `notify`, `signals`, `logging`). See DESIGN.md.

pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod daemon;
pub mod exit;
pub mod http;
pub mod logging;
pub mod notify;
pub mod provider;
pub mod redact;
pub mod secret;
pub mod signals;
pub mod source;
pub mod state;

/// The User-Agent every HTTP request carries (dyndns2 requires one; see protocols/dyndns2.md §1).
pub const USER_AGENT: &str = concat!("dynipd/", env!("CARGO_PKG_VERSION"));

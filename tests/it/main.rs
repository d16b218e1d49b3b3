//! dynipd's one integration-test binary (STYLE.md §7): a module per area, shared `support/`.

// clippy.toml allows these in `#[test]` fns only; in this binary's helpers a failed unwrap is a
// failed test just the same.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test binary: a panic is a test failure"
)]

mod cli;
mod config_golden;
#[cfg(target_os = "linux")]
mod interface_events;
#[cfg(target_os = "linux")]
mod interface_select;
mod provider_dyndns2;
mod provider_http;
mod support;

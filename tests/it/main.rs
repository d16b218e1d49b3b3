//! dynipd's one integration-test binary (STYLE.md §7): a module per area, shared `support/`.

// clippy.toml allows these in `#[test]` fns only; in this binary's helpers a failed unwrap is a
// failed test just the same.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test binary: a panic is a test failure"
)]

mod abuse;
mod cli;
mod cli_delete;
mod clock;
mod config_golden;
mod crash;
mod dynu_once;
mod e2e;
mod e2e_rfc2136;
mod faults;
mod fuzz_regressions;
mod hup_corpus;
mod interface_events;
mod interface_select;
mod leaks;
mod notify;
mod provider_duckdns;
mod provider_dyndns2;
mod provider_dyndns_server;
mod provider_dyndns_server_real;
mod provider_dynu;
mod provider_http;
mod provider_rfc2136;
mod rfc2136_faults;
mod support;

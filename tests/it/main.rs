//! dynipd's one integration-test binary (STYLE.md §7): a module per area, shared `support/`.

mod support;

mod provider_rfc2136;

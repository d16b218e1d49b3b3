//! Process exit codes (sysexits.h), as DESIGN.md and STYLE.md §3 fix them.

/// Everything went well.
pub const OK: i32 = 0;
/// `once`: at least one record is not published.
pub const NOT_PUBLISHED: i32 = 1;
/// Bad command line (EX_USAGE).
pub const USAGE: i32 = 64;
/// Internal error (EX_SOFTWARE).
pub const INTERNAL: i32 = 70;
/// State directory unusable (EX_CANTCREAT).
pub const STATE_DIR: i32 = 73;
/// Configuration error (EX_CONFIG).
pub const CONFIG: i32 = 78;

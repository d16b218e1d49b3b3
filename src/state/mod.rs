//! The state file: what dynipd published, persisted across restarts (DESIGN.md "State").
//! `model` is the versioned serde form; `file` does atomic saves and quarantine.

pub mod file;
pub mod model;

pub use file::{StateError, StateStore};

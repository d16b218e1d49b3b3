//! The state file: what dynipd published, persisted across restarts (DESIGN.md "State").
//! `model` is the versioned serde form; `file` does atomic saves, quarantine and retry requests.

pub mod file;
pub mod model;

pub use file::{Loaded, StateError, StateStore};

//! The imperative shell around the core: turns timers, task results and signals into
//! `core::Event`s and carries out the `core::Action`s. `run` is the daemon; `once` is one round.
//! Decisions live in `core::scheduler`, not here.

mod interface_events;
mod once;
mod report;
mod run;
mod shell;

pub use once::{OnceOptions, once};
pub use run::run;
pub use shell::Mode;

use crate::config::ConfigErrors;
use crate::state::StateError;

/// Why a command could not do its job; each maps to an exit code (`crate::exit`).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Config(ConfigErrors),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Internal(String),
}

impl From<ConfigErrors> for AppError {
    fn from(e: ConfigErrors) -> Self {
        AppError::Config(e)
    }
}

impl AppError {
    /// The sysexits code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Config(_) => crate::exit::CONFIG,
            AppError::State(_) => crate::exit::STATE_DIR,
            AppError::Usage(_) => crate::exit::USAGE,
            AppError::Internal(_) => crate::exit::INTERNAL,
        }
    }
}

/// A single-threaded tokio runtime (DESIGN.md: one runtime, `current_thread`).
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Internal(format!("cannot start the async runtime: {e}")))
}

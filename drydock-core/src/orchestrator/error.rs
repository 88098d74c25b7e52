//! The orchestrator's errors.

use crate::design::Diagnostics;
use crate::store::StoreError;
use crate::task::TaskId;

/// Why the orchestrator could not do what was asked. Failures of drivers on nodes are not
/// errors: they are recorded in the task's result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrchestratorError {
    /// The builder was given an unusable configuration.
    #[error("invalid orchestrator configuration: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The task is already running in this orchestrator.
    #[error("task {0} is already running")]
    AlreadyRunning(TaskId),
    /// No such task.
    #[error("task {0} does not exist")]
    TaskNotFound(TaskId),
    /// No such design snapshot.
    #[error("design {0} does not exist in the store")]
    DesignNotFound(String),
    /// The design does not read or compile.
    #[error("the design cannot be used:\n{0}")]
    Design(Diagnostics),
    /// A driver (or other code the run called) panicked; the task can be run again.
    #[error("the run panicked: {0}")]
    Panicked(String),
}

impl OrchestratorError {
    /// Whether running the same call again may succeed without a change elsewhere: a store
    /// error that is transient, or a panic (its cause may be gone). Configuration, missing
    /// tasks and designs, and a task already running are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            OrchestratorError::Store(e) => e.is_retryable(),
            OrchestratorError::Panicked(_) => true,
            _ => false,
        }
    }
}

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
}

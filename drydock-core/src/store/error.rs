//! The store's classified error.

use std::fmt;

use crate::task::TaskId;

/// What kind of failure a store met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The record does not exist.
    NotFound,
    /// A record with that id exists.
    AlreadyExists,
    /// Held by someone else (a design lock, a lease).
    Conflict,
    /// A stored record cannot be read.
    Corrupt,
    /// The store was written by a newer format version.
    Incompatible,
    /// The store cannot be used right now (I/O error, locked by another process).
    Unavailable,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub struct StoreError {
    /// The classification.
    pub kind: StoreErrorKind,
    /// What happened.
    pub message: String,
    /// The task concerned, when known.
    pub task: Option<TaskId>,
    /// The underlying error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A new error of `kind`.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            message: message.into(),
            task: None,
            source: None,
        }
    }

    /// Attaches the task concerned.
    pub fn for_task(mut self, task: TaskId) -> Self {
        self.task = Some(task);
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == StoreErrorKind::Unavailable
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.message)?;
        if let Some(t) = self.task {
            write!(f, " (task {t})")?;
        }
        Ok(())
    }
}

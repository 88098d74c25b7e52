//! The error every driver returns, classified so the orchestrator knows whether to retry.

use std::fmt;

use super::Operation;

/// What kind of failure a driver met. Decides the orchestrator's reaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DriverErrorKind {
    /// Worth retrying with backoff (a network hiccup, a busy service, a 503).
    Transient,
    /// Will fail again the same way (bad data, a failed deployment).
    Permanent,
    /// The driver cannot do this at all.
    Unsupported,
    /// Credentials were refused.
    Unauthorized,
    /// The thing to act on does not exist (a node unknown to the provisioner).
    NotFound,
    /// The operation did not finish in time.
    TimedOut,
    /// The peer could not be reached at all (connection refused, no route, no answer to the
    /// first message): nothing was done. Retryable, and a reason for
    /// [`FallbackOob`](super::FallbackOob) to try the node's next protocol.
    Unreachable,
}

impl DriverErrorKind {
    /// Whether retrying the same call can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            DriverErrorKind::Transient | DriverErrorKind::TimedOut | DriverErrorKind::Unreachable
        )
    }
}

impl fmt::Display for DriverErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriverErrorKind::Transient => "transient",
            DriverErrorKind::Permanent => "permanent",
            DriverErrorKind::Unsupported => "unsupported",
            DriverErrorKind::Unauthorized => "unauthorized",
            DriverErrorKind::NotFound => "not found",
            DriverErrorKind::TimedOut => "timed out",
            DriverErrorKind::Unreachable => "unreachable",
        })
    }
}

/// A driver failure with its context: which driver, which operation, which node.
///
/// Drivers keep their own error types private and convert them into this one.
#[derive(Debug, thiserror::Error)]
pub struct DriverError {
    /// The classification.
    pub kind: DriverErrorKind,
    /// The driver's name (`ipmi`, `maas`, `sim`).
    pub driver: &'static str,
    /// The operation that failed.
    pub operation: Operation,
    /// The node concerned, if any.
    pub node: Option<String>,
    /// What happened, for people (never holds secrets).
    pub message: String,
    /// The underlying error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DriverError {
    /// A new error of `kind` in `driver` during `operation`.
    pub fn new(
        kind: DriverErrorKind,
        driver: &'static str,
        operation: Operation,
        message: impl Into<String>,
    ) -> Self {
        DriverError {
            kind,
            driver,
            operation,
            node: None,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the node concerned.
    pub fn for_node(mut self, node: impl Into<String>) -> Self {
        self.node = Some(node.into());
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether retrying can succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} driver: {} failed", self.driver, self.operation)?;
        if let Some(node) = &self.node {
            write!(f, " for node {node}")?;
        }
        write!(f, " ({}): {}", self.kind, self.message)
    }
}

//! Fault injection: make chosen requests fail the way MAAS (or the network) fails.

use std::time::Duration;

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// 503 with `Retry-After` (rack controller unreachable); nothing is applied.
    Unavailable {
        /// `Retry-After` seconds (`None`: header absent).
        retry_after: Option<u64>,
    },
    /// 409 with `Retry-After` and an HTML body (database serialisation failure); nothing is
    /// applied.
    TransientConflict {
        /// `Retry-After` seconds.
        retry_after: u64,
    },
    /// The request is applied, then answered with 504 (RPC timeout / proxy timeout).
    GatewayTimeoutAfterWrite,
    /// The connection is dropped before anything is applied.
    DropConnection,
    /// The request is applied, then the connection is dropped mid-answer.
    DropAfterWrite,
    /// The answer is delayed by this long (to exceed a client's read timeout).
    Delay(Duration),
}

/// A fault: which requests it hits, what it does, how many times.
///
/// ```
/// use drydock_driver_maas::fake::{Fault, FaultAction};
/// let f = Fault::on("POST", "machines/", Some("allocate"))
///     .action(FaultAction::GatewayTimeoutAfterWrite)
///     .times(1);
/// assert!(f.matches("POST", "machines/", "allocate"));
/// assert!(!f.matches("GET", "machines/", ""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    method: Option<String>,
    path_prefix: String,
    op: Option<String>,
    action: FaultAction,
    remaining: u32,
}

impl Fault {
    /// A fault for requests with `method` (`"*"` for any) whose path (relative to
    /// `/MAAS/api/2.0/`) starts with `path_prefix` and whose `op` is `op` (`None`: any op).
    /// Defaults: 503 with `Retry-After: 1`, once.
    pub fn on(method: &str, path_prefix: &str, op: Option<&str>) -> Self {
        Self {
            method: (method != "*").then(|| method.to_owned()),
            path_prefix: path_prefix.to_owned(),
            op: op.map(str::to_owned),
            action: FaultAction::Unavailable {
                retry_after: Some(1),
            },
            remaining: 1,
        }
    }

    /// Sets what the fault does.
    pub fn action(mut self, action: FaultAction) -> Self {
        self.action = action;
        self
    }

    /// Sets how many matching requests it hits.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = n;
        self
    }

    /// Whether a request matches.
    pub fn matches(&self, method: &str, path: &str, op: &str) -> bool {
        self.remaining > 0
            && self.method.as_deref().is_none_or(|m| m == method)
            && path.starts_with(&self.path_prefix)
            && self.op.as_deref().is_none_or(|o| o == op)
    }

    /// Takes the first matching fault's action, counting one hit.
    pub(crate) fn take(
        faults: &mut Vec<Fault>,
        method: &str,
        path: &str,
        op: &str,
    ) -> Option<FaultAction> {
        let f = faults.iter_mut().find(|f| f.matches(method, path, op))?;
        f.remaining -= 1;
        let action = f.action.clone();
        faults.retain(|f| f.remaining > 0);
        Some(action)
    }
}

//! Tasks: what the embedding orchestrator starts, watches and retries.
//!
//! A [`Task`] carries one [`Action`] over the nodes a node filter selects, a [`TaskStatus`]
//! (where it is in its life) and a [`TaskResult`] (how it went, node by node). The result algebra
//! is the reference's (`drydock.md` §3.4), which Shipyard reads: a node reported as a success
//! and another as a failure make the task a `partial_success`.

mod result;

pub use result::{ContextType, MessageLevel, ResultStatus, TaskMessage, TaskResult};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::design::NodeFilterSet;
use crate::store::DesignId;

/// A task's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub uuid::Uuid);

impl TaskId {
    /// A fresh random id.
    pub fn new() -> Self {
        TaskId(uuid::Uuid::new_v4())
    }
}

impl Default for TaskId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The actions an embedding orchestrator can start (the reference's top-level actions).
///
/// Parsed from and displayed as the reference's names (`deploy_nodes`):
///
/// ```
/// use drydock_core::task::Action;
/// let action: Action = "deploy_nodes".parse().unwrap();
/// assert_eq!(action, Action::DeployNodes);
/// assert_eq!(action.to_string(), "deploy_nodes");
/// let err = "deploy".parse::<Action>().unwrap_err();
/// assert!(err.to_string().contains("deploy_nodes"), "{err}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Ingest, compile and validate the design.
    ValidateDesign,
    /// Check that the drivers' services are usable.
    VerifySite,
    /// Prepare the provisioner for the site: networks, credentials, repositories.
    PrepareSite,
    /// Check each node's BMC.
    VerifyNodes,
    /// Get each node known to the provisioner and commissioned.
    PrepareNodes,
    /// Configure and deploy each node.
    DeployNodes,
    /// Release and remove each node.
    DestroyNodes,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 7] = [
        Action::ValidateDesign,
        Action::VerifySite,
        Action::PrepareSite,
        Action::VerifyNodes,
        Action::PrepareNodes,
        Action::DeployNodes,
        Action::DestroyNodes,
    ];

    /// The action's name (`deploy_nodes`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ValidateDesign => "validate_design",
            Action::VerifySite => "verify_site",
            Action::PrepareSite => "prepare_site",
            Action::VerifyNodes => "verify_nodes",
            Action::PrepareNodes => "prepare_nodes",
            Action::DeployNodes => "deploy_nodes",
            Action::DestroyNodes => "destroy_nodes",
        }
    }

    /// Parses an action name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// An action name that is not one of [`Action::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown action '{name}'; expected one of: {}", Action::ALL.map(Action::as_str).join(", "))]
pub struct UnknownAction {
    /// The name given.
    pub name: String,
}

impl std::str::FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::from_name(s).ok_or_else(|| UnknownAction { name: s.to_owned() })
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a task is in its life. Displayed as the reference's names (`running`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskStatus {
    /// Created.
    Requested,
    /// Waiting to run.
    Queued,
    /// Running.
    Running,
    /// Cancelled; in-flight steps are finishing.
    Terminating,
    /// Ended by cancellation.
    Terminated,
    /// Ended.
    Complete,
}

impl TaskStatus {
    /// The status's name in the reference's API (`running`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Requested => "requested",
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Terminating => "terminating",
            TaskStatus::Terminated => "terminated",
            TaskStatus::Complete => "complete",
        }
    }

    /// Whether the task has ended.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Terminated | TaskStatus::Complete)
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task: built by [`Task::new`] (or the orchestrator's `create_task`), read field by field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Task {
    /// Identity.
    pub id: TaskId,
    /// What it does.
    pub action: Action,
    /// The design snapshot it works on (a content hash; see the store).
    pub design_id: DesignId,
    /// The nodes it applies to (`None`: all nodes of the design).
    pub node_filter: Option<NodeFilterSet>,
    /// The task that started this one.
    pub parent: Option<TaskId>,
    /// Tasks this one started.
    pub subtasks: Vec<TaskId>,
    /// Where it is in its life.
    pub status: TaskStatus,
    /// How it went.
    pub result: TaskResult,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When it last changed.
    pub updated: Option<DateTime<Utc>>,
    /// When it was terminated.
    pub terminated: Option<DateTime<Utc>>,
    /// Who terminated it.
    pub terminated_by: Option<String>,
    /// Whether termination was requested.
    pub terminate: bool,
    /// How many times it was retried.
    pub retry: u32,
}

impl Task {
    /// A new task (status `requested`, result `incomplete`).
    pub fn new(
        action: Action,
        design_id: impl Into<DesignId>,
        node_filter: Option<NodeFilterSet>,
        created_by: impl Into<String>,
    ) -> Self {
        Task {
            id: TaskId::new(),
            action,
            design_id: design_id.into(),
            node_filter,
            parent: None,
            subtasks: Vec::new(),
            status: TaskStatus::Requested,
            result: TaskResult::default(),
            created: Utc::now(),
            created_by: created_by.into(),
            updated: None,
            terminated: None,
            terminated_by: None,
            terminate: false,
            retry: 0,
        }
    }

    /// The task in the reference's JSON shape (`drydock.md` §3.7), as Shipyard reads it.
    pub fn to_reference_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "Task",
            "apiVersion": "v1",
            "task_id": self.id,
            "action": self.action,
            "parent_task_id": self.parent,
            "design_ref": self.design_id,
            "status": self.status,
            "result": self.result.to_reference_json(),
            "node_filter": self.node_filter,
            "subtask_id_list": self.subtasks,
            "created": self.created,
            "created_by": self.created_by,
            "updated": self.updated,
            "terminated": self.terminated,
            "terminated_by": self.terminated_by,
            "terminate": self.terminate,
            "retry": self.retry,
        })
    }
}

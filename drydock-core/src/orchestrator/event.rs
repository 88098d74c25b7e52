//! Progress events, for the embedder to render.

use serde::{Deserialize, Serialize};

use crate::store::{Step, StepOutcome};
use crate::task::{ResultStatus, TaskId, TaskMessage, TaskStatus};

/// Something that happened in a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// The task's status changed.
    Status {
        /// The task.
        task: TaskId,
        /// The new status.
        status: TaskStatus,
    },
    /// The task knows its nodes.
    Planned {
        /// The task.
        task: TaskId,
        /// Nodes in scope.
        nodes: usize,
        /// Steps to execute in all (without those journaled as done).
        steps: usize,
    },
    /// A step started.
    StepStarted {
        /// The task.
        task: TaskId,
        /// The node, for per-node steps.
        node: Option<String>,
        /// The step.
        step: Step,
    },
    /// A step ended (after its retries).
    StepFinished {
        /// The task.
        task: TaskId,
        /// The node, for per-node steps.
        node: Option<String>,
        /// The step.
        step: Step,
        /// How it ended.
        outcome: StepOutcome,
    },
    /// A step was skipped: the journal says it is done.
    StepSkipped {
        /// The task.
        task: TaskId,
        /// The node, for per-node steps.
        node: Option<String>,
        /// The step.
        step: Step,
    },
    /// A message was added to the task.
    Message {
        /// The task.
        task: TaskId,
        /// The message.
        message: TaskMessage,
    },
    /// The task ended.
    Finished {
        /// The task.
        task: TaskId,
        /// Its final status.
        status: TaskStatus,
        /// Its result.
        result: ResultStatus,
    },
}

impl Event {
    /// The task the event belongs to.
    pub fn task(&self) -> TaskId {
        match self {
            Event::Status { task, .. }
            | Event::Planned { task, .. }
            | Event::StepStarted { task, .. }
            | Event::StepFinished { task, .. }
            | Event::StepSkipped { task, .. }
            | Event::Message { task, .. }
            | Event::Finished { task, .. } => *task,
        }
    }
}

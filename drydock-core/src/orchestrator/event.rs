//! Progress events, for the embedder to render.
//!
//! Each task has its own event channel. A consumer can count progress exactly: after
//! [`Event::Planned`], every planned step comes back once, as [`Event::StepFinished`] or as
//! [`Event::StepSkipped`] (journaled earlier, not needed on this node, or abandoned after a
//! failure or a cancellation). The stream of [`crate::orchestrator::Orchestrator::subscribe`]
//! ends after [`Event::Finished`] (the task ended) or [`Event::Interrupted`] (the run stopped on
//! an error, the task can be resumed). A consumer too slow for the channel is told how many
//! events it missed ([`Event::Lagged`]) and can read the counts so far with
//! [`crate::orchestrator::Orchestrator::progress`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Step, StepOutcome};
use crate::task::{ResultStatus, TaskId, TaskMessage, TaskStatus};

/// Something that happened in a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum Event {
    /// The task's status changed.
    Status {
        /// The task.
        task: TaskId,
        /// The new status.
        status: TaskStatus,
    },
    /// The task knows its nodes and its steps.
    Planned {
        /// The task.
        task: TaskId,
        /// Nodes in scope (0 for a site action).
        nodes: usize,
        /// Steps in the plan, those the journal says are done included: each comes back once,
        /// finished or skipped.
        steps: usize,
        /// Of those, the steps the journal says are done (they come back as skipped).
        journaled: usize,
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
    /// A step ended (after its retries), and its journal entry is durable: a success here is
    /// never executed again for this task.
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
    /// A planned step will not run in this run.
    StepSkipped {
        /// The task.
        task: TaskId,
        /// The node, for per-node steps.
        node: Option<String>,
        /// The step.
        step: Step,
        /// Why.
        reason: SkipReason,
    },
    /// A step failed with a transient error and is tried again after `wait_ms`.
    StepRetrying {
        /// The task.
        task: TaskId,
        /// The node, for per-node steps.
        node: Option<String>,
        /// The step.
        step: Step,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Why it failed.
        error: String,
        /// The wait before the next attempt, in milliseconds.
        wait_ms: u64,
    },
    /// A long step started waiting on something outside drydock (enlistment, commissioning,
    /// deployment, the node's boot action reports).
    Waiting {
        /// The task.
        task: TaskId,
        /// The node.
        node: Option<String>,
        /// The step.
        step: Step,
        /// What it waits for, in words.
        what: String,
        /// When the step gives up.
        until: DateTime<Utc>,
    },
    /// This subscriber was too slow and missed `missed` of the task's events; read
    /// [`crate::orchestrator::Orchestrator::progress`] to resynchronise.
    Lagged {
        /// The task.
        task: TaskId,
        /// Events missed.
        missed: u64,
    },
    /// A message was added to the task.
    Message {
        /// The task.
        task: TaskId,
        /// The message.
        message: TaskMessage,
    },
    /// The run stopped on an error before the task ended (the store failed, a driver
    /// panicked). The task's leases are released and the task can be run again: it resumes.
    Interrupted {
        /// The task.
        task: TaskId,
        /// The error.
        error: String,
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
            | Event::StepRetrying { task, .. }
            | Event::Waiting { task, .. }
            | Event::Lagged { task, .. }
            | Event::Message { task, .. }
            | Event::Interrupted { task, .. }
            | Event::Finished { task, .. } => *task,
        }
    }

    /// Whether this is the last event of a run ([`Event::Finished`] or [`Event::Interrupted`]).
    pub fn is_last(&self) -> bool {
        matches!(self, Event::Finished { .. } | Event::Interrupted { .. })
    }
}

/// Why a planned step did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipReason {
    /// The journal says it succeeded in an earlier run.
    Journaled,
    /// Not needed on this node (PrepareNodes: a node the provisioner already knows needs no
    /// PXE boot, power cycle or enlistment wait).
    NotNeeded,
    /// The node failed an earlier step, or the task was cancelled.
    Abandoned,
    /// The step ran, but its outcome is not journaled, so a resumed run does it again
    /// (PrepareNodes asking the provisioner about a node it does not know yet).
    Unjournaled,
}

/// A task's progress so far in the current run, for a consumer that lagged or joined late.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Progress {
    /// Steps in the plan (0 until planned).
    pub planned: usize,
    /// Steps finished successfully.
    pub succeeded: usize,
    /// Steps finished with a failure.
    pub failed: usize,
    /// Steps skipped.
    pub skipped: usize,
}

impl Progress {
    /// Steps accounted for: finished or skipped.
    pub fn accounted(&self) -> usize {
        self.succeeded + self.failed + self.skipped
    }
}

/// One task's channel and its counters, shared by the run and the subscribers.
#[derive(Debug)]
pub(crate) struct TaskEvents {
    pub(crate) tx: tokio::sync::broadcast::Sender<Event>,
    /// Live subscriptions: read on every step, where asking the channel takes its lock.
    pub(crate) subscribers: std::sync::atomic::AtomicUsize,
    pub(crate) planned: std::sync::atomic::AtomicUsize,
    pub(crate) succeeded: std::sync::atomic::AtomicUsize,
    pub(crate) failed: std::sync::atomic::AtomicUsize,
    pub(crate) skipped: std::sync::atomic::AtomicUsize,
}

impl TaskEvents {
    pub(crate) fn new(capacity: usize) -> Self {
        TaskEvents {
            tx: tokio::sync::broadcast::channel(capacity.max(1)).0,
            subscribers: Default::default(),
            planned: Default::default(),
            succeeded: Default::default(),
            failed: Default::default(),
            skipped: Default::default(),
        }
    }

    /// Counts `event` and sends it.
    pub(crate) fn send(&self, event: Event) {
        use std::sync::atomic::Ordering::Relaxed;
        match &event {
            Event::Planned { steps, .. } => {
                self.planned.store(*steps, Relaxed);
                self.succeeded.store(0, Relaxed);
                self.failed.store(0, Relaxed);
                self.skipped.store(0, Relaxed);
            }
            Event::StepFinished { outcome, .. } => {
                let counter = match outcome {
                    StepOutcome::Succeeded => &self.succeeded,
                    _ => &self.failed,
                };
                counter.fetch_add(1, Relaxed);
            }
            Event::StepSkipped { .. } => {
                self.skipped.fetch_add(1, Relaxed);
            }
            _ => {}
        }
        let _ = self.tx.send(event);
    }

    /// Counts a step event without building it (nobody subscribes).
    pub(crate) fn count_only(&self, succeeded: Option<bool>) {
        use std::sync::atomic::Ordering::Relaxed;
        match succeeded {
            Some(true) => self.succeeded.fetch_add(1, Relaxed),
            Some(false) => self.failed.fetch_add(1, Relaxed),
            None => self.skipped.fetch_add(1, Relaxed),
        };
    }

    pub(crate) fn progress(&self) -> Progress {
        use std::sync::atomic::Ordering::Relaxed;
        Progress {
            planned: self.planned.load(Relaxed),
            succeeded: self.succeeded.load(Relaxed),
            failed: self.failed.load(Relaxed),
            skipped: self.skipped.load(Relaxed),
        }
    }
}

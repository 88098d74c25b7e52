//! A task's result: its status, the nodes it succeeded and failed on, and its messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a task went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// Nothing decided yet.
    #[default]
    Incomplete,
    /// Everything succeeded.
    Success,
    /// Some nodes (or steps) succeeded and some failed.
    PartialSuccess,
    /// Everything failed.
    Failure,
}

impl ResultStatus {
    /// The status's name in the reference's API (`partial_success`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::Incomplete => "incomplete",
            ResultStatus::Success => "success",
            ResultStatus::PartialSuccess => "partial_success",
            ResultStatus::Failure => "failure",
        }
    }
}

impl std::fmt::Display for ResultStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageLevel {
    /// Informational.
    Info,
    /// Something to look at.
    Warning,
    /// Something failed.
    Error,
}

/// What a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextType {
    /// Nothing in particular (the reference's `NA`).
    #[serde(rename = "NA")]
    None,
    /// A task.
    Task,
    /// A node.
    Node,
    /// A network.
    Network,
    /// A network link.
    NetworkLink,
    /// A boot action.
    Bootaction,
    /// A design document.
    Document,
}

/// A message of a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMessage {
    /// The text.
    pub message: String,
    /// How serious.
    pub level: MessageLevel,
    /// What it is about.
    pub context_type: ContextType,
    /// Which one (a node name, a task id, ...).
    pub context: String,
    /// When.
    pub ts: DateTime<Utc>,
}

impl TaskMessage {
    /// A message about `context` of `context_type`, stamped now.
    pub fn new(
        level: MessageLevel,
        context_type: ContextType,
        context: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        TaskMessage {
            message: message.into(),
            level,
            context_type,
            context: context.into(),
            ts: Utc::now(),
        }
    }

    /// Whether the message reports an error.
    pub fn is_error(&self) -> bool {
        self.level == MessageLevel::Error
    }
}

/// A task's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResult {
    /// The status.
    pub status: ResultStatus,
    /// A summary.
    pub message: String,
    /// Why, in a word or two.
    pub reason: String,
    /// Nodes (or entities) the task succeeded on, in order, without repeats.
    pub successes: Vec<String>,
    /// Nodes the task failed on, in order, without repeats.
    pub failures: Vec<String>,
    /// The messages.
    pub messages: Vec<TaskMessage>,
}

impl TaskResult {
    /// Records a success (of `focus`, when given): success, or partial success after a failure.
    ///
    /// ```
    /// use drydock_core::task::{ResultStatus, TaskResult};
    /// let mut r = TaskResult::default();
    /// r.success(Some("n1"));
    /// assert_eq!(r.status, ResultStatus::Success);
    /// r.failure(Some("n2"));
    /// assert_eq!(r.status, ResultStatus::PartialSuccess);
    /// assert_eq!((r.successes.as_slice(), r.failures.as_slice()), (&["n1".to_string()][..], &["n2".to_string()][..]));
    /// ```
    pub fn success(&mut self, focus: Option<&str>) {
        self.status = match self.status {
            ResultStatus::Failure | ResultStatus::PartialSuccess => ResultStatus::PartialSuccess,
            ResultStatus::Incomplete | ResultStatus::Success => ResultStatus::Success,
        };
        if let Some(f) = focus.filter(|f| !self.successes.iter().any(|s| s == f)) {
            self.successes.push(f.to_owned());
        }
    }

    /// Records a failure (of `focus`, when given): failure, or partial success after a success.
    pub fn failure(&mut self, focus: Option<&str>) {
        self.status = match self.status {
            ResultStatus::Success | ResultStatus::PartialSuccess => ResultStatus::PartialSuccess,
            ResultStatus::Incomplete | ResultStatus::Failure => ResultStatus::Failure,
        };
        if let Some(f) = focus.filter(|f| !self.failures.iter().any(|s| s == f)) {
            self.failures.push(f.to_owned());
        }
    }

    /// Records a node's success without checking for a repeat (the orchestrator's hot path: each
    /// node finishes once per run). Call [`TaskResult::dedup`] afterwards.
    pub(crate) fn note_success(&mut self, node: String) {
        self.success(None);
        self.successes.push(node);
    }

    /// Records a node's failure without checking for a repeat; see [`TaskResult::note_success`].
    pub(crate) fn note_failure(&mut self, node: String) {
        self.failure(None);
        self.failures.push(node);
    }

    /// Removes repeated names from `successes` and `failures`, keeping the first of each.
    pub(crate) fn dedup(&mut self) {
        for list in [&mut self.successes, &mut self.failures] {
            let mut seen = std::collections::HashSet::with_capacity(list.len());
            list.retain(|n| seen.insert(n.clone()));
        }
    }

    /// Adds a message.
    pub fn add_message(&mut self, message: TaskMessage) {
        self.messages.push(message);
    }

    /// Number of error messages.
    pub fn error_count(&self) -> usize {
        self.messages.iter().filter(|m| m.is_error()).count()
    }

    /// The result in the reference's JSON shape (`drydock.md` §3.7).
    pub fn to_reference_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1.0",
            "metadata": {},
            "message": self.message,
            "reason": self.reason,
            "status": self.status,
            "successes": self.successes,
            "failures": self.failures,
            "links": [],
            "details": {
                "errorCount": self.error_count(),
                "messageList": self.messages.iter().map(|m| serde_json::json!({
                    "message": m.message,
                    "error": m.is_error(),
                    "context_type": m.context_type,
                    "context": m.context,
                    "ts": m.ts,
                    "extra": {},
                })).collect::<Vec<_>>(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_up_follows_the_reference_algebra() {
        let mut r = TaskResult::default();
        r.failure(Some("a"));
        assert_eq!(r.status, ResultStatus::Failure);
        r.failure(Some("a"));
        assert_eq!(r.failures, ["a"], "no repeats");
        r.success(Some("b"));
        assert_eq!(r.status, ResultStatus::PartialSuccess);
        r.success(None);
        assert_eq!(
            r.status,
            ResultStatus::PartialSuccess,
            "partial success is sticky"
        );

        let mut all_ok = TaskResult::default();
        all_ok.success(Some("x"));
        all_ok.success(Some("y"));
        assert_eq!(all_ok.status, ResultStatus::Success);
    }

    #[test]
    fn reference_json_shape() {
        let mut r = TaskResult::default();
        r.failure(Some("n1"));
        r.add_message(TaskMessage::new(
            MessageLevel::Error,
            ContextType::Node,
            "n1",
            "deploy failed",
        ));
        r.add_message(TaskMessage::new(
            MessageLevel::Info,
            ContextType::None,
            "",
            "started",
        ));
        let j = r.to_reference_json();
        assert_eq!(j["status"], "failure");
        assert_eq!(j["details"]["errorCount"], 1);
        assert_eq!(j["details"]["messageList"][0]["context_type"], "node");
        assert_eq!(j["details"]["messageList"][1]["context_type"], "NA");
        assert_eq!(j["failures"][0], "n1");
    }
}

//! The BootactionReport step of DeployNodes (`drydock.md` §3.2): after a node is deployed,
//! wait until each of its signalling boot actions reported a final status, or the deadline.

use std::sync::atomic::Ordering;

use super::{NodeEnd, Runner, Tally, until};
use crate::bootaction::{BootActionRecord, BootActionStatus, BootActions, actions_for_node};
use crate::design::CompiledNode;
use crate::driver::{DriverError, DriverErrorKind, Operation};
use crate::orchestrator::{Event, Result, SkipReason};
use crate::store::Step;
use crate::task::{Action, ContextType, MessageLevel};

impl Runner {
    /// Whether the node's deployment ends with BootactionReport: a DeployNodes task and at
    /// least one signalling boot action applying to the node.
    pub(super) fn waits_for_bootactions(&self, node: &CompiledNode) -> bool {
        self.action == Action::DeployNodes
            && actions_for_node(&self.design, &node.name)
                .iter()
                .any(|ba| ba.signaling)
    }

    /// Creates the node's boot action records for this task (or finds those created before).
    pub(super) async fn create_bootactions(
        &self,
        node: &CompiledNode,
    ) -> Result<Vec<BootActionRecord>> {
        let records = BootActions::new(self.orch.inner.store.clone())
            .create_for_node(&self.design, &self.design_id, self.id, &node.name)
            .await
            .map_err(|e| e.for_task(self.id))?;
        Ok(records)
    }

    /// Runs (or skips, when journaled) the node's BootactionReport step.
    pub(super) async fn bootaction_report(&self, node: &CompiledNode) -> Result<NodeEnd> {
        let name = node.name.as_str();
        let step = Step::BootactionReport;
        if self.done.contains(Some(name), step) {
            self.skip(Some(name), step, SkipReason::Journaled);
            let snapshot = {
                let mut t = self.task_lock();
                t.result.success(Some(name));
                // Only when no step outcome in memory waits for its journal entry.
                (self.unjournaled.load(Ordering::Relaxed) == 0).then(|| t.clone())
            };
            if let Some(t) = snapshot {
                self.orch.inner.store.update_task(&t).await?;
            }
            return Ok(NodeEnd::Succeeded);
        }
        self.executed.fetch_add(1, Ordering::Relaxed);
        self.emit_with(Tally::Nothing, || Event::StepStarted {
            task: self.id,
            node: Some(name.to_owned()),
            step,
        });
        // Idempotent: the records made before Deploy (or by an earlier run of the task).
        let created = self.create_bootactions(node).await?;
        let wait = self.orch.inner.config.timeouts.bootaction_final_status;
        self.emit_with(Tally::Nothing, || Event::Waiting {
            task: self.id,
            node: Some(name.to_owned()),
            step,
            what: format!(
                "the node's boot action reports ({} signalling)",
                created.iter().filter(|r| r.signaling).count()
            ),
            until: until(wait),
        });
        let Some(records) = self.wait_final(name, created).await? else {
            self.task_lock().result.failure(Some(name));
            self.skip(Some(name), step, SkipReason::Abandoned);
            return Ok(NodeEnd::Cancelled);
        };
        let mut problems = Vec::new();
        for r in records.iter().filter(|r| r.signaling) {
            let (level, text) = match r.status {
                BootActionStatus::Success => (
                    MessageLevel::Info,
                    format!(
                        "Boot action {} on node {name} completed with status success",
                        r.action_name
                    ),
                ),
                BootActionStatus::Failure => {
                    problems.push(format!("{} failed", r.action_name));
                    (
                        MessageLevel::Error,
                        format!(
                            "Boot action {} on node {name} completed with status failure",
                            r.action_name
                        ),
                    )
                }
                _ => {
                    problems.push(format!("{} timed out", r.action_name));
                    (
                        MessageLevel::Error,
                        format!("Boot action {} on node {name} timed out.", r.action_name),
                    )
                }
            };
            self.message(level, ContextType::Node, name, text).await?;
        }
        let outcome = if problems.is_empty() {
            Ok(None)
        } else {
            let kind = if records
                .iter()
                .any(|r| r.status == BootActionStatus::Failure)
            {
                DriverErrorKind::Permanent
            } else {
                DriverErrorKind::TimedOut
            };
            let text = format!("boot actions on node {name}: {}", problems.join(", "));
            Err((
                DriverError::new(kind, "orchestrator", Operation::Deploy, text).for_node(name),
                1,
            ))
        };
        let ok = outcome.is_ok();
        self.journal(Some(name), step, outcome, |t| {
            if ok {
                t.result.success(Some(name))
            } else {
                t.result.failure(Some(name))
            }
        })
        .await?;
        Ok(if ok {
            NodeEnd::Succeeded
        } else {
            NodeEnd::Failed
        })
    }

    /// Polls the node's records of this task every `poll_interval` until every signalling one
    /// is final or `timeouts.bootaction_final_status` passed; `None` when cancelled.
    async fn wait_final(
        &self,
        node: &str,
        mut records: Vec<BootActionRecord>,
    ) -> Result<Option<Vec<BootActionRecord>>> {
        let cfg = &self.orch.inner.config;
        let deadline = crate::driver::deadline_after(cfg.timeouts.bootaction_final_status);
        loop {
            if records.iter().all(|r| !r.signaling || r.status.is_final()) {
                return Ok(Some(records));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Some(records));
            }
            let wait = cfg.poll_interval.min(deadline - now);
            let mut cancel = self.cancel.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.wait_for(|c| *c) => return Ok(None),
            }
            records = self.orch.inner.store.bootactions_for_node(node).await?;
            records.retain(|r| r.task == self.id);
        }
    }
}

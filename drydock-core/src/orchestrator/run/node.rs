//! One node's pipeline: PrepareNodes' identification branch, journaling of each step.

use std::pin::Pin;

use super::step::{AttemptTimer, attempt_timer};
use super::*;

impl Runner {
    /// Runs one node's pipeline.
    pub(super) async fn node(&self, node: &CompiledNode) -> Result<NodeEnd> {
        let span = tracing::info_span!("node", node = %node.name);
        async {
            let name = Some(node.name.as_str());
            let steps = node_pipeline(self.action);
            // With signalling boot actions, BootactionReport (after the pipeline) decides.
            let report = self.waits_for_bootactions(node);
            let mut known = false;
            let mut timer = std::pin::pin!(attempt_timer());
            for (i, &step) in steps.iter().enumerate() {
                if self.cancelled() {
                    self.task_lock().result.note_failure(node.name.clone());
                    self.skip_rest(name, &steps[i..], report);
                    return Ok(NodeEnd::Cancelled);
                }
                let last = i + 1 == steps.len() && !report;
                if self.action == Action::PrepareNodes {
                    let done = |st: Step| self.done.contains(name, st);
                    if step == Step::IdentifyNode {
                        if done(Step::IdentifyNode) {
                            // Found in the provisioner earlier: the OOB path is not needed.
                            self.skip(name, step, SkipReason::Journaled);
                            known = true;
                        } else if done(Step::SetPxeBoot)
                            || done(Step::PowerCycle)
                            || done(Step::WaitIdentified)
                        {
                            // The node was on the enlistment path: the journal goes on with it.
                            self.skip(name, step, SkipReason::NotNeeded);
                        } else {
                            // Boxed: PrepareNodes only, and larger than a step.
                            match Box::pin(self.identify(node, timer.as_mut())).await? {
                                Some(true) => known = true,
                                Some(false) => {}
                                None => {
                                    self.skip_rest(name, &steps[i + 1..], report);
                                    return Ok(NodeEnd::Failed);
                                }
                            }
                        }
                        continue;
                    }
                    if known
                        && matches!(
                            step,
                            Step::SetPxeBoot | Step::PowerCycle | Step::WaitIdentified
                        )
                    {
                        self.skip(name, step, SkipReason::NotNeeded);
                        continue;
                    }
                }
                if self.done.contains(name, step) {
                    self.skip(name, step, SkipReason::Journaled);
                    if last {
                        self.task_lock().result.note_success(node.name.clone());
                    }
                    continue;
                }
                // The node's boot action ids and key exist before it is deployed, and go to
                // the provisioner with the Deploy step.
                let records = if step == Step::Deploy {
                    self.create_bootactions(node).await?
                } else {
                    Vec::new()
                };
                let outcome = self.step(Some(node), step, &records, timer.as_mut()).await;
                if outcome.is_err() && self.cancelled() {
                    // Abandoned by cancellation (or failed while cancelling): not journaled, the
                    // task ends terminated.
                    self.task_lock().result.note_failure(node.name.clone());
                    self.skip_rest(name, &steps[i..], report);
                    return Ok(NodeEnd::Cancelled);
                }
                let ok = outcome.is_ok();
                self.journal(name, step, outcome, |t| {
                    if !ok {
                        t.result.note_failure(node.name.clone());
                    } else if last {
                        t.result.note_success(node.name.clone());
                    }
                })
                .await?;
                if !ok {
                    self.skip_rest(name, &steps[i + 1..], report);
                    return Ok(NodeEnd::Failed);
                }
            }
            if report {
                return Box::pin(self.bootaction_report(node)).await;
            }
            Ok(NodeEnd::Succeeded)
        }
        .instrument(span)
        .await
    }

    /// Asks the provisioner about a node. Some(true): known (journaled); Some(false): unknown;
    /// None: failed (journaled).
    pub(super) async fn identify(
        &self,
        node: &CompiledNode,
        timer: Pin<&mut AttemptTimer>,
    ) -> Result<Option<bool>> {
        let name = Some(node.name.as_str());
        match self.step(Some(node), Step::IdentifyNode, &[], timer).await {
            Ok(Some(Identification::Known { .. })) => {
                self.journal(name, Step::IdentifyNode, Ok(None), |_| {})
                    .await?;
                self.message(
                    MessageLevel::Info,
                    ContextType::Node,
                    &node.name,
                    "Node found in provisioner, skipping OOB management".into(),
                )
                .await?;
                Ok(Some(true))
            }
            Ok(_) => {
                // Not journaled: a resumed task asks again.
                self.skip(name, Step::IdentifyNode, SkipReason::Unjournaled);
                Ok(Some(false))
            }
            Err(e) => {
                let n = node.name.clone();
                self.journal(name, Step::IdentifyNode, Err(e), |t| {
                    t.result.note_failure(n)
                })
                .await?;
                Ok(None)
            }
        }
    }

    /// Journals a step's outcome, with the task change made under the task lock.
    pub(super) async fn journal(
        &self,
        node: Option<&str>,
        step: Step,
        outcome: std::result::Result<Option<Identification>, (DriverError, u32)>,
        change: impl FnOnce(&mut Task),
    ) -> Result<()> {
        let (outcome, attempts) = match &outcome {
            Ok(_) => (StepOutcome::Succeeded, 1),
            Err((e, attempts)) => (
                StepOutcome::Failed {
                    kind: e.kind,
                    message: e.to_string(),
                },
                *attempts,
            ),
        };
        let (entry, snapshot) = {
            let mut t = self.task_lock();
            let entry = JournalEntry {
                task: self.id,
                node: node.map(str::to_owned),
                step,
                outcome,
                attempts,
                retry: t.retry,
                at: Utc::now(),
            };
            if self.cancelled() {
                t.terminate = true; // never overwrite the flag `cancel` stored
            }
            let before = (
                t.result.status,
                t.result.successes.len(),
                t.result.failures.len(),
            );
            change(&mut t);
            let changed = before
                != (
                    t.result.status,
                    t.result.successes.len(),
                    t.result.failures.len(),
                );
            // This change is in memory before its entry is journaled: no other step persists
            // the task until it is.
            let alone = self.unjournaled.fetch_add(1, Ordering::Relaxed) == 0;
            // The journal is the source of truth for node outcomes; the task record follows it
            // at most about once a second (and at the end), so that large tasks stay cheap to
            // write.
            let persist = changed && alone && {
                let mut last = lock(&self.last_persist);
                let due = last.elapsed() >= Duration::from_secs(1);
                if due {
                    *last = std::time::Instant::now();
                }
                due
            };
            if persist {
                t.updated = Some(Utc::now());
            }
            // Boxed: rare, and a task is large to keep in every pipeline's state.
            (entry, persist.then(|| Box::new(t.clone())))
        };
        let written = self
            .orch
            .inner
            .store
            .record_step(&entry, snapshot.as_deref())
            .await;
        self.unjournaled.fetch_sub(1, Ordering::Relaxed);
        written.map_err(|e: StoreError| e.for_task(self.id))?;
        if let StepOutcome::Failed { message, .. } = &entry.outcome {
            let context = node.unwrap_or_default();
            let ctx = if node.is_some() {
                ContextType::Node
            } else {
                ContextType::None
            };
            let message = Box::pin(store_message(
                &self.orch,
                self.id,
                MessageLevel::Error,
                ctx,
                context,
                message.clone(),
            ))
            .await?;
            self.task_lock().result.messages.push(message);
        }
        let tally = match entry.outcome {
            StepOutcome::Succeeded => Tally::Succeeded,
            _ => Tally::Failed,
        };
        self.emit_with(tally, || Event::StepFinished {
            task: self.id,
            node: entry.node,
            step,
            outcome: entry.outcome,
        });
        Ok(())
    }
}

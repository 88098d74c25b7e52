//! One node's pipeline: PrepareNodes' identification branch, journaling of each step.

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
            for (i, &step) in steps.iter().enumerate() {
                if self.cancelled() {
                    let mut t = self.task.lock().await;
                    t.result.note_failure(node.name.clone());
                    return Ok(NodeEnd::Cancelled);
                }
                let last = i + 1 == steps.len() && !report;
                if self.action == Action::PrepareNodes {
                    let done = |st: Step| self.done.contains(&(Some(node.name.clone()), st));
                    if step == Step::IdentifyNode {
                        if done(Step::IdentifyNode) {
                            // Found in the provisioner earlier: the OOB path is not needed.
                            self.skip(name, step);
                            known = true;
                        } else if !(done(Step::SetPxeBoot)
                            || done(Step::PowerCycle)
                            || done(Step::WaitIdentified))
                        {
                            match self.identify(node).await? {
                                Some(true) => known = true,
                                Some(false) => {}
                                None => return Ok(NodeEnd::Failed),
                            }
                        }
                        // Otherwise the node was on the enlistment path: the journal goes on with it.
                        continue;
                    }
                    if known
                        && matches!(
                            step,
                            Step::SetPxeBoot | Step::PowerCycle | Step::WaitIdentified
                        )
                    {
                        continue;
                    }
                }
                if self.done.contains(&(Some(node.name.clone()), step)) {
                    self.skip(name, step);
                    if last {
                        self.task
                            .lock()
                            .await
                            .result
                            .note_success(node.name.clone());
                    }
                    continue;
                }
                if step == Step::Deploy {
                    // The node's boot action ids and key exist before it is deployed.
                    self.create_bootactions(node).await?;
                }
                let outcome = self.step(Some(node), step).await;
                if outcome.is_err() && self.cancelled() {
                    // Abandoned by cancellation (or failed while cancelling): not journaled, the
                    // task ends terminated.
                    self.task
                        .lock()
                        .await
                        .result
                        .note_failure(node.name.clone());
                    return Ok(NodeEnd::Cancelled);
                }
                let ok = outcome.is_ok();
                let node_name = node.name.clone();
                self.journal(name, step, outcome, |t| {
                    if !ok {
                        t.result.note_failure(node_name);
                    } else if last {
                        t.result.note_success(node_name);
                    }
                })
                .await?;
                if !ok {
                    return Ok(NodeEnd::Failed);
                }
            }
            if report {
                return self.bootaction_report(node).await;
            }
            Ok(NodeEnd::Succeeded)
        }
        .instrument(span)
        .await
    }

    /// Asks the provisioner about a node. Some(true): known (journaled); Some(false): unknown;
    /// None: failed (journaled).
    pub(super) async fn identify(&self, node: &CompiledNode) -> Result<Option<bool>> {
        let name = Some(node.name.as_str());
        match self.step(Some(node), Step::IdentifyNode).await {
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
            Ok(_) => Ok(Some(false)),
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
        let mut t = self.task.lock().await;
        let entry = JournalEntry {
            task: self.id,
            node: node.map(str::to_owned),
            step,
            outcome: outcome.clone(),
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
        // The journal is the source of truth for node outcomes; the task record follows it at
        // most about once a second (and at the end), so that large tasks stay cheap to write.
        let persist = changed && {
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
        self.orch
            .inner
            .store
            .record_step(&entry, persist.then_some(&*t))
            .await
            .map_err(|e: StoreError| e.for_task(self.id))?;
        if let StepOutcome::Failed { message, .. } = &outcome {
            let context = node.unwrap_or_default();
            let ctx = if node.is_some() {
                ContextType::Node
            } else {
                ContextType::None
            };
            add_message(
                &self.orch,
                &mut t,
                MessageLevel::Error,
                ctx,
                context,
                message.clone(),
            )
            .await?;
        }
        drop(t);
        self.orch.emit(Event::StepFinished {
            task: self.id,
            node: node.map(str::to_owned),
            step,
            outcome,
        });
        Ok(())
    }
}

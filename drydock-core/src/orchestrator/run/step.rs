//! One step: retries with backoff, the step timeout, cancellation, and the driver calls.

use std::pin::Pin;

use super::*;
use crate::bootaction::BootActionRecord;
use crate::driver::{DeployBootActions, deadline_after};

pub(super) fn operation(step: Step) -> Operation {
    match step {
        Step::ValidateDesign | Step::ValidateNodeServices => Operation::ValidateNodeServices,
        Step::ValidateOobServices => Operation::ValidateOobServices,
        Step::CreateNetworkTemplate => Operation::CreateNetworkTemplate,
        Step::ConfigureUserCredentials => Operation::ConfigureUserCredentials,
        Step::ConfigureProvisioner => Operation::ConfigureProvisioner,
        Step::InterrogateOob => Operation::InterrogateOob,
        Step::IdentifyNode | Step::WaitIdentified => Operation::IdentifyNode,
        Step::SetPxeBoot => Operation::SetBootDevice,
        Step::PowerCycle => Operation::SetPower,
        Step::ConfigureHardware => Operation::ConfigureHardware,
        Step::InterrogateNode => Operation::InterrogateNode,
        Step::ApplyNetworking => Operation::ApplyNetworking,
        Step::ApplyStorage => Operation::ApplyStorage,
        Step::ApplyPlatform => Operation::ApplyPlatform,
        Step::Deploy | Step::BootactionReport => Operation::Deploy,
        Step::Destroy => Operation::Destroy,
    }
}

/// The timer of a pipeline's step timeouts, set again at each attempt.
///
/// One timer serves all the attempts of a node's pipeline: registering a tokio timer takes the
/// timer driver's lock, and so does dropping a registered one, while moving a registered timer
/// to a later deadline is an atomic store. Create it with [`attempt_timer`] and pin it.
pub(super) type AttemptTimer = tokio::time::Sleep;

/// A timer for [`Runner::step`] (its deadline is set at each attempt).
pub(super) fn attempt_timer() -> AttemptTimer {
    tokio::time::sleep_until(tokio::time::Instant::now())
}

impl Runner {
    /// Runs a step with its timeout (on `timer`) and retries. Ok carries identify's answer.
    /// `bootactions`: the node's records for Deploy (empty otherwise).
    pub(super) async fn step(
        &self,
        node: Option<&CompiledNode>,
        step: Step,
        bootactions: &[BootActionRecord],
        mut timer: Pin<&mut AttemptTimer>,
    ) -> std::result::Result<Option<Identification>, (DriverError, u32)> {
        let cfg = &self.orch.inner.config;
        let timeout = cfg.timeouts.for_step(step);
        self.executed.fetch_add(1, Ordering::Relaxed);
        let node_name = || node.map(|n| n.name.clone());
        self.emit_with(Tally::Nothing, || Event::StepStarted {
            task: self.id,
            node: node_name(),
            step,
        });
        if let Some(what) = waits_for(step) {
            self.emit_with(Tally::Nothing, || Event::Waiting {
                task: self.id,
                node: node_name(),
                step,
                what: what.to_owned(),
                until: until(timeout),
            });
        }
        // Under AbortInFlight, ends when the task is cancelled (boxed: it would more than
        // double every step's state, and most tasks finish what they started).
        let mut cancelled = (cfg.cancel == CancelPolicy::AbortInFlight).then(|| {
            let mut rx = self.cancel.clone();
            Box::pin(async move {
                let _ = rx.wait_for(|c| *c).await;
            })
        });
        let mut cancelled = std::future::poll_fn(move |cx| match cancelled.as_mut() {
            Some(c) => c.as_mut().poll(cx),
            None => std::task::Poll::Pending,
        });
        let abandoned = |attempt| {
            let e = DriverError::new(
                DriverErrorKind::Permanent,
                "orchestrator",
                operation(step),
                "cancelled while running",
            );
            Err((e, attempt))
        };
        // The step's timeout bounds the whole step, its retries and their waits included: one
        // budget, however the driver below retries.
        let deadline = deadline_after(timeout);
        let mut attempt = 0;
        loop {
            attempt += 1;
            timer.as_mut().reset(deadline);
            let res = tokio::select! {
                // A call that ends at its deadline counts as finished, as with
                // `tokio::time::timeout`, and so does one that ends as the task is cancelled.
                biased;
                out = self.call(node, step, bootactions) => out,
                () = timer.as_mut() => Err(DriverError::new(
                    DriverErrorKind::TimedOut,
                    "orchestrator",
                    operation(step),
                    format!("{step:?} did not finish within {timeout:?}"),
                )),
                () = &mut cancelled => return abandoned(attempt),
            };
            match res {
                Ok(v) => return Ok(v),
                Err(e)
                    if e.is_retryable()
                        && attempt < cfg.retry.max_attempts
                        && !self.cancelled() =>
                {
                    let wait = self.backoff(node, step, attempt);
                    let resume = tokio::time::Instant::now().checked_add(wait);
                    if resume.is_none_or(|r| r >= deadline) {
                        // No time left for another attempt within the step's timeout.
                        return Err((e, attempt));
                    }
                    tracing::warn!(error = %e, attempt, ?wait, "step failed, retrying");
                    self.emit_with(Tally::Nothing, || Event::StepRetrying {
                        task: self.id,
                        node: node_name(),
                        step,
                        attempt,
                        error: e.to_string(),
                        wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    });
                    // The step's timer serves the wait, which ends early when an aborting task
                    // is cancelled.
                    timer.as_mut().reset(deadline_after(wait));
                    tokio::select! {
                        biased;
                        () = &mut cancelled => return Err((e, attempt)),
                        () = timer.as_mut() => {}
                    }
                }
                Err(e) => return Err((e, attempt)),
            }
        }
    }

    pub(super) fn backoff(
        &self,
        node: Option<&CompiledNode>,
        step: Step,
        attempt: u32,
    ) -> Duration {
        let policy = &self.orch.inner.config.retry;
        let base = policy.backoff(attempt);
        if !policy.jitter {
            return base;
        }
        // Deterministic jitter in [0.5, 1.0] of the wait, from the task, node, step and attempt.
        let mut h: u64 = self.id.0.as_u64_pair().0 ^ u64::from(attempt) ^ ((step as u64) << 32);
        for b in node.map(|n| n.name.as_bytes()).unwrap_or_default() {
            h = h.rotate_left(5) ^ u64::from(*b);
        }
        h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        base.mul_f64(0.5 + (h >> 11) as f64 / (1u64 << 53) as f64 * 0.5)
    }

    pub(super) fn node_driver(&self) -> std::result::Result<&Arc<dyn NodeDriver>, DriverError> {
        self.orch.inner.node_driver.as_ref().ok_or_else(|| {
            DriverError::new(
                DriverErrorKind::Unsupported,
                "orchestrator",
                Operation::ValidateNodeServices,
                "no node driver is configured",
            )
        })
    }

    pub(super) fn oob(
        &self,
        node: &CompiledNode,
        op: Operation,
    ) -> std::result::Result<(&Arc<dyn OobDriver>, OobTarget), DriverError> {
        let unsupported = |msg: String| {
            DriverError::new(DriverErrorKind::Unsupported, "orchestrator", op, msg)
                .for_node(&node.name)
        };
        let target = OobTarget::in_design(node, &self.design)
            .ok_or_else(|| unsupported(format!("node {} has no OOB type", node.name)))?;
        let driver = self
            .orch
            .inner
            .oob_drivers
            .iter()
            .find(|d| d.capabilities().oob_types.contains(&target.kind))
            .ok_or_else(|| {
                unsupported(format!(
                    "Node {} OOB type {} is not supported.",
                    node.name, target.kind
                ))
            })?;
        Ok((driver, target))
    }

    /// One attempt of a step: the driver calls.
    ///
    /// The common steps (one driver call) run inline; the others run in a boxed future, so
    /// that the state of every node's pipeline stays small (it is moved at each step).
    pub(super) async fn call(
        &self,
        node: Option<&CompiledNode>,
        step: Step,
        bootactions: &[BootActionRecord],
    ) -> std::result::Result<Option<Identification>, DriverError> {
        let Some(node) = node else {
            return Box::pin(self.call_site(step)).await.map(|()| None);
        };
        let mut job = NodeJob::new(node, &self.design);
        if !bootactions.is_empty() {
            job = job.with_bootactions(DeployBootActions {
                records: bootactions,
                report_url: &self.orch.inner.config.bootaction_report_url,
            });
        }
        match step {
            Step::IdentifyNode => return Ok(Some(self.node_driver()?.identify_node(job).await?)),
            Step::ConfigureHardware => self.node_driver()?.configure_hardware(job).await?,
            Step::ApplyNetworking => self.node_driver()?.apply_networking(job).await?,
            Step::ApplyStorage => self.node_driver()?.apply_storage(job).await?,
            Step::ApplyPlatform => self.node_driver()?.apply_platform(job).await?,
            Step::Deploy => self.node_driver()?.deploy(job).await?,
            Step::Destroy => self.node_driver()?.destroy(job).await?,
            _ => Box::pin(self.call_node_other(node, step)).await?,
        }
        Ok(None)
    }

    /// One attempt of a site-wide step.
    async fn call_site(&self, step: Step) -> std::result::Result<(), DriverError> {
        let site = SiteJob {
            design: &self.design,
        };
        match step {
            Step::ValidateNodeServices => self.node_driver()?.validate_services().await?,
            Step::ValidateOobServices => {
                for d in &self.orch.inner.oob_drivers {
                    d.validate_services().await?;
                }
            }
            Step::CreateNetworkTemplate => {
                self.node_driver()?.create_network_template(site).await?
            }
            Step::ConfigureUserCredentials => {
                self.node_driver()?.configure_user_credentials(site).await?
            }
            Step::ConfigureProvisioner => self.node_driver()?.configure_provisioner(site).await?,
            _ => return Err(misplaced(step, "is a per-node step")),
        }
        Ok(())
    }

    /// One attempt of a per-node step that is more than one node driver call.
    async fn call_node_other(
        &self,
        node: &CompiledNode,
        step: Step,
    ) -> std::result::Result<(), DriverError> {
        let job = NodeJob::new(node, &self.design);
        match step {
            Step::InterrogateOob => {
                let (d, t) = self.oob(node, Operation::InterrogateOob)?;
                let facts = d.interrogate(&t).await?;
                let data = crate::driver::BuildData {
                    generator: format!("{}:oob", d.name()),
                    format: "application/json".into(),
                    data: serde_json::to_string(&facts).unwrap_or_default(),
                };
                self.put_build_data(node, data).await?;
            }
            Step::SetPxeBoot => {
                let (d, t) = self.oob(node, Operation::SetBootDevice)?;
                d.set_boot_device(&t, BootDevice::Pxe, BootPersistence::OneTime)
                    .await?;
            }
            Step::PowerCycle => {
                let (d, t) = self.oob(node, Operation::SetPower)?;
                d.set_power(&t, PowerAction::Cycle).await?;
            }
            Step::WaitIdentified => {
                // Bounded by the step's timeout, which abandons this loop.
                loop {
                    if let Identification::Known { .. } =
                        self.node_driver()?.identify_node(job).await?
                    {
                        return Ok(());
                    }
                    tokio::time::sleep(self.orch.inner.config.poll_interval).await;
                }
            }
            Step::InterrogateNode => {
                for data in self.node_driver()?.interrogate_node(job).await? {
                    self.put_build_data(node, data).await?;
                }
            }
            _ => return Err(misplaced(step, "is not a per-node step")),
        }
        Ok(())
    }

    pub(super) async fn put_build_data(
        &self,
        node: &CompiledNode,
        data: crate::driver::BuildData,
    ) -> std::result::Result<(), DriverError> {
        let record = BuildDataRecord {
            node: node.name.clone(),
            task: self.id,
            collected: Utc::now(),
            data,
        };
        self.orch
            .inner
            .store
            .put_build_data(&record)
            .await
            .map_err(|e| {
                DriverError::new(
                    DriverErrorKind::Transient,
                    "orchestrator",
                    Operation::InterrogateNode,
                    "cannot store build data",
                )
                .for_node(&node.name)
                .with_source(e)
            })
    }
}

/// What a long step waits for, in words (for [`Event::Waiting`]).
fn waits_for(step: Step) -> Option<&'static str> {
    Some(match step {
        Step::WaitIdentified => "the node to enlist in the provisioner after its PXE boot",
        Step::ConfigureHardware => "the provisioner to commission the node",
        Step::Deploy => "the provisioner to deploy the node",
        Step::Destroy => "the provisioner to release the node",
        _ => return None,
    })
}

/// The error for a step asked of the wrong kind of call (a bug, never retried).
fn misplaced(step: Step, what: &str) -> DriverError {
    DriverError::new(
        DriverErrorKind::Unsupported,
        "orchestrator",
        operation(step),
        format!("{step:?} {what}"),
    )
}

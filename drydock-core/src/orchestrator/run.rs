//! Carrying out one task: plan, journal, steps with retries and timeouts, roll-up.

mod done;
mod node;
mod report;
mod step;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use done::Done;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio::sync::watch;
use tracing::Instrument;

use super::event::TaskEvents;
use super::{
    CancelPolicy, Event, LeaseConflict, Orchestrator, OrchestratorError, RUNNING_HERE, Result,
    SkipReason, is_running_here, lock,
};
use crate::design::{CompiledDesign, CompiledNode};
use crate::driver::{
    BootDevice, BootPersistence, DriverError, DriverErrorKind, Identification, NodeDriver, NodeJob,
    OobDriver, OobTarget, Operation, PowerAction, SiteJob,
};
use crate::store::{BuildDataRecord, DesignId, JournalEntry, Step, StepOutcome, StoreError};
use crate::task::{
    Action, ContextType, MessageLevel, ResultStatus, Task, TaskId, TaskMessage, TaskStatus,
};
use crate::validation::{ValidationContext, validate};

/// What a run did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunSummary {
    /// The task as it ended (with its messages).
    pub task: Task,
    /// Steps executed in this run.
    pub steps_executed: usize,
    /// Steps skipped because the journal says they were done.
    pub steps_skipped: usize,
}

/// The steps of an action's per-node pipeline, in order.
///
/// PrepareNodes branches: a node the provisioner already knows skips `SetPxeBoot`,
/// `PowerCycle` and `WaitIdentified`. `IdentifyNode` is journaled only when it finds the node,
/// so a resumed task asks the provisioner again about a node it did not know.
pub fn node_pipeline(action: Action) -> &'static [Step] {
    match action {
        Action::PrepareNodes => &[
            Step::IdentifyNode,
            Step::SetPxeBoot,
            Step::PowerCycle,
            Step::WaitIdentified,
            Step::ConfigureHardware,
            Step::InterrogateNode,
        ],
        Action::DeployNodes => &[
            Step::ApplyNetworking,
            Step::ApplyStorage,
            Step::ApplyPlatform,
            Step::Deploy,
        ],
        Action::DestroyNodes => &[Step::Destroy],
        Action::VerifyNodes => &[Step::InterrogateOob],
        Action::ValidateDesign | Action::VerifySite | Action::PrepareSite => &[],
    }
}

/// The site-wide steps of an action, in order.
pub fn site_steps(action: Action) -> &'static [Step] {
    match action {
        Action::VerifySite => &[Step::ValidateNodeServices, Step::ValidateOobServices],
        Action::PrepareSite => &[
            Step::CreateNetworkTemplate,
            Step::ConfigureUserCredentials,
            Step::ConfigureProvisioner,
        ],
        _ => &[],
    }
}

/// How a node's pipeline ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeEnd {
    Succeeded,
    Failed,
    Cancelled,
}

struct Runner {
    orch: Orchestrator,
    id: TaskId,
    action: Action,
    design: Arc<CompiledDesign>,
    design_id: DesignId,
    /// The task as it stands in memory. Never held across an await.
    task: std::sync::Mutex<Task>,
    /// Step outcomes applied to `task` whose journal entries are not yet written: while there
    /// are any, `task` is not persisted, so that the stored task never runs ahead of the journal.
    unjournaled: AtomicUsize,
    done: Done,
    cancel: watch::Receiver<bool>,
    /// The task was being cancelled when this run began.
    cancelled_before: bool,
    last_persist: std::sync::Mutex<std::time::Instant>,
    executed: AtomicUsize,
    skipped: AtomicUsize,
    /// The task's event channel.
    events: Arc<TaskEvents>,
}

/// What an event adds to the task's progress counts.
#[derive(Clone, Copy)]
enum Tally {
    Nothing,
    Succeeded,
    Failed,
    Skipped,
}

/// While a run lives: the task is marked running (here and in this process) and has a channel.
struct RunGuard(Orchestrator, TaskId);

impl Drop for RunGuard {
    fn drop(&mut self) {
        lock(&self.0.inner.cancels).remove(&self.1);
        lock(&RUNNING_HERE).remove(&self.1);
        lock(&self.0.inner.channels).remove(&self.1);
    }
}

pub(super) async fn run(orch: Orchestrator, id: TaskId) -> Result<RunSummary> {
    let task = orch.get_task(id).await?;
    if task.status.is_final() {
        return Ok(RunSummary {
            task,
            steps_executed: 0,
            steps_skipped: 0,
        });
    }
    let span = tracing::info_span!("task", task_id = %id, action = %task.action);
    let (tx, rx) = watch::channel(task.terminate);
    {
        let mut running = lock(&orch.inner.cancels);
        if running.contains_key(&id) || !lock(&RUNNING_HERE).insert(id) {
            return Err(OrchestratorError::AlreadyRunning(id));
        }
        running.insert(id, tx);
    }
    let _guard = RunGuard(orch.clone(), id);
    let events = orch.channel(id);
    // Every way a run ends sends a last event: Finished from `finish`, Interrupted here for an
    // error or a panic, after which the task is left to resume and holds no node.
    let ran = std::panic::AssertUnwindSafe(run_task(&orch, task, rx, events.clone()))
        .catch_unwind()
        .instrument(span)
        .await;
    let out = ran.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        Err(OrchestratorError::Panicked(what))
    });
    if let Err(e) = &out {
        tracing::error!(task_id = %id, error = %e, "task run interrupted; it can be resumed");
        if let Err(release) = orch.inner.store.release_nodes(id).await {
            tracing::error!(task_id = %id, error = %release, "cannot release the task's leases");
        }
        events.send(Event::Interrupted {
            task: id,
            error: e.to_string(),
        });
    }
    out
}

async fn run_task(
    orch: &Orchestrator,
    mut task: Task,
    cancel: watch::Receiver<bool>,
    events: Arc<TaskEvents>,
) -> Result<RunSummary> {
    let store = &orch.inner.store;
    let id = task.id;
    if task.terminate {
        // Cancelled while not running: it ends without starting anything.
        return finish(orch, task, true, 0, 0).await;
    }
    let design_id = task.design_id.clone();
    let design = match orch.design(&design_id).await {
        Ok(d) => d,
        Err(OrchestratorError::Design(diags)) => {
            for d in diags.iter() {
                let message = store_message(
                    orch,
                    id,
                    MessageLevel::Error,
                    ContextType::Document,
                    "design",
                    d.to_string(),
                )
                .await?;
                task.result.messages.push(message);
            }
            task.result.failure(None);
            task.result.reason = "Invalid design.".into();
            return finish(orch, task, false, 0, 0).await;
        }
        Err(e) => return Err(e),
    };
    let journal = store.journal(id).await?;
    rebuild_node_results(&mut task, &journal);
    let done = Done::from_journal(journal);
    if task.status != TaskStatus::Running {
        task.status = TaskStatus::Running;
        task.updated = Some(Utc::now());
        store.update_task(&task).await?;
        orch.emit(Event::Status {
            task: id,
            status: TaskStatus::Running,
        });
    }
    let cancelled_before = *cancel.borrow();
    let runner = Runner {
        orch: orch.clone(),
        id,
        action: task.action,
        design,
        design_id,
        task: std::sync::Mutex::new(task),
        unjournaled: AtomicUsize::new(0),
        done,
        cancelled_before,
        cancel,
        last_persist: std::sync::Mutex::new(std::time::Instant::now()),
        executed: AtomicUsize::new(0),
        skipped: AtomicUsize::new(0),
        events,
    };
    let cancelled = runner.execute().await?;
    let mut task = runner.task.into_inner().unwrap_or_else(|e| e.into_inner());
    // Report nodes once each, in design order, whatever order they finished in.
    in_design_order(&mut task.result.successes, &runner.design);
    in_design_order(&mut task.result.failures, &runner.design);
    let (executed, skipped) = (runner.executed.into_inner(), runner.skipped.into_inner());
    finish(orch, task, cancelled, executed, skipped).await
}

/// The wall-clock time `d` from now (far in the future when out of range).
fn until(d: Duration) -> chrono::DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC)
}

/// Puts node names in design order and removes repeats, with one look-up per name and no
/// sorting (names the design does not have come last, in their first order).
fn in_design_order(names: &mut Vec<String>, design: &CompiledDesign) {
    let mut slots: Vec<Option<String>> = Vec::new();
    slots.resize_with(design.nodes.len(), || None);
    let mut unknown = Vec::new();
    let mut seen_unknown = HashSet::new();
    for name in names.drain(..) {
        match design.nodes.get_index_of(&name) {
            // The first of equal names stays.
            Some(i) if slots[i].is_none() => slots[i] = Some(name),
            Some(_) => {}
            None if seen_unknown.insert(name.clone()) => unknown.push(name),
            None => {}
        }
    }
    names.extend(slots.into_iter().flatten());
    names.append(&mut unknown);
}

/// Recomputes a task's per-node results from its journal (the source of truth): nodes whose
/// last pipeline step succeeded (in any retry), and nodes that failed a step in the current retry.
fn rebuild_node_results(task: &mut Task, journal: &[JournalEntry]) {
    let Some(&last) = node_pipeline(task.action).last() else {
        return;
    };
    for e in journal {
        let Some(node) = &e.node else { continue };
        match &e.outcome {
            StepOutcome::Succeeded if e.step == last => task.result.note_success(node.clone()),
            StepOutcome::Failed { .. } if e.retry == task.retry => {
                task.result.note_failure(node.clone())
            }
            _ => {}
        }
    }
    task.result.dedup();
    let succeeded: HashSet<&String> = task.result.successes.iter().collect();
    let failures: Vec<String> = task
        .result
        .failures
        .iter()
        .filter(|f| !succeeded.contains(f))
        .cloned()
        .collect();
    task.result.failures = failures;
}

/// Stores a message and sends it to subscribers; the caller adds it to the task in memory.
async fn store_message(
    orch: &Orchestrator,
    task: TaskId,
    level: MessageLevel,
    context_type: ContextType,
    context: impl Into<String>,
    text: impl Into<String>,
) -> Result<TaskMessage> {
    let message = TaskMessage::new(level, context_type, context, text);
    orch.inner.store.add_message(task, &message).await?;
    orch.emit(Event::Message {
        task,
        message: message.clone(),
    });
    Ok(message)
}

async fn finish(
    orch: &Orchestrator,
    mut task: Task,
    cancelled: bool,
    executed: usize,
    skipped: usize,
) -> Result<RunSummary> {
    let store = &orch.inner.store;
    // `cancel` writes the termination fields to the store while the task runs.
    if let Some(stored) = store.get_task(task.id).await?
        && stored.terminate
    {
        task.terminate = true;
        task.terminated = stored.terminated;
        task.terminated_by = stored.terminated_by;
    }
    if task.result.status == ResultStatus::Incomplete && !cancelled {
        task.result.success(None);
    }
    task.status = if cancelled || task.terminate {
        TaskStatus::Terminated
    } else {
        TaskStatus::Complete
    };
    let (ok, failed) = (task.result.successes.len(), task.result.failures.len());
    task.result.message = match task.status {
        TaskStatus::Terminated => format!("Terminated: {ok} succeeded, {failed} failed."),
        _ => format!("{ok} succeeded, {failed} failed."),
    };
    task.updated = Some(Utc::now());
    // Leases first: a crash between the two leaves a task that resumes (and leases again), never a
    // finished task holding nodes.
    store.release_nodes(task.id).await?;
    store.update_task(&task).await?;
    orch.emit(Event::Finished {
        task: task.id,
        status: task.status,
        result: task.result.status,
    });
    tracing::info!(status = ?task.status, result = ?task.result.status, executed, skipped, "task finished");
    let task = orch.get_task(task.id).await?;
    Ok(RunSummary {
        task,
        steps_executed: executed,
        steps_skipped: skipped,
    })
}

impl Runner {
    /// Sends the event `make` builds when someone subscribes, and counts it in the task's
    /// progress either way (per-step events are the hot path of large tasks).
    fn emit_with(&self, tally: Tally, make: impl FnOnce() -> Event) {
        if self.events.subscribers.load(Ordering::Relaxed) > 0 {
            self.events.send(make());
            return;
        }
        match tally {
            Tally::Nothing => {}
            Tally::Succeeded => self.events.count_only(Some(true)),
            Tally::Failed => self.events.count_only(Some(false)),
            Tally::Skipped => self.events.count_only(None),
        }
    }

    fn cancelled(&self) -> bool {
        // `cancel` only ever sends `true`, so a new version means cancelled; reading the
        // version is an atomic load where reading the value takes the channel's lock.
        self.cancelled_before
            || self
                .cancel
                .has_changed()
                .unwrap_or_else(|_| *self.cancel.borrow())
    }

    /// The task in memory, locked: never hold it across an await.
    fn task_lock(&self) -> std::sync::MutexGuard<'_, Task> {
        lock(&self.task)
    }

    async fn message(
        &self,
        level: MessageLevel,
        ctx: ContextType,
        context: &str,
        text: String,
    ) -> Result<()> {
        let message = store_message(&self.orch, self.id, level, ctx, context, text).await?;
        self.task_lock().result.messages.push(message);
        Ok(())
    }

    /// Runs the action. Returns whether it was cancelled.
    async fn execute(&self) -> Result<bool> {
        match self.action {
            Action::ValidateDesign => self.validate_design().await.map(|_| false),
            Action::VerifySite | Action::PrepareSite => self.site().await,
            Action::VerifyNodes
            | Action::PrepareNodes
            | Action::DeployNodes
            | Action::DestroyNodes => self.nodes().await,
        }
    }

    async fn validate_design(&self) -> Result<()> {
        let mut cx = ValidationContext::default();
        if let Some(driver) = &self.orch.inner.node_driver {
            match driver.available_platforms().await {
                Ok(catalog) => cx.platform = Some(catalog),
                Err(e) => {
                    self.message(
                        MessageLevel::Warning,
                        ContextType::None,
                        "",
                        format!("platform selection not checked: {e}"),
                    )
                    .await?
                }
            }
        }
        let report = validate(&self.design, &cx);
        self.findings(&report, |_| true).await?;
        let mut t = self.task_lock();
        if report.is_valid() {
            t.result.success(None)
        } else {
            t.result.failure(None)
        }
        t.result.reason = report.message().to_owned();
        Ok(())
    }

    /// Adds the findings of `report` that `keep` accepts to the task's messages.
    async fn findings(
        &self,
        report: &crate::validation::ValidationReport,
        keep: impl Fn(&crate::validation::Finding) -> bool,
    ) -> Result<()> {
        for f in report.findings.iter().filter(|f| keep(f)) {
            let level = match f.level {
                crate::design::Severity::Error => MessageLevel::Error,
                crate::design::Severity::Warning => MessageLevel::Warning,
                crate::design::Severity::Info => MessageLevel::Info,
            };
            let context = f
                .documents
                .first()
                .map(|d| d.name.clone())
                .unwrap_or_default();
            self.message(level, ContextType::Document, &context, f.message.clone())
                .await?;
        }
        Ok(())
    }

    /// Whether the design passes validation, for the actions that change machines; if not,
    /// the task fails with the design's errors and no driver is called.
    async fn design_is_valid(&self) -> Result<bool> {
        if !matches!(
            self.action,
            Action::PrepareNodes | Action::DeployNodes | Action::DestroyNodes
        ) {
            return Ok(true);
        }
        let report = self.orch.validate(&self.design_id).await?;
        if report.is_valid() {
            return Ok(true);
        }
        self.findings(&report, |f| f.level == crate::design::Severity::Error)
            .await?;
        let mut t = self.task_lock();
        t.result.failure(None);
        t.result.reason = "Unable to render effective site design.".into();
        Ok(false)
    }

    /// Whether a node driver is configured; if not, the task fails with the reference's message.
    async fn has_node_driver(&self) -> Result<bool> {
        if self.orch.inner.node_driver.is_some() {
            return Ok(true);
        }
        let text = "No node driver enabled, ending task.".to_owned();
        self.message(MessageLevel::Error, ContextType::None, "", text)
            .await?;
        self.task_lock().result.failure(None);
        Ok(false)
    }

    async fn site(&self) -> Result<bool> {
        if !self.has_node_driver().await? {
            return Ok(false);
        }
        let store = &self.orch.inner.store;
        if self.action == Action::PrepareSite
            && let Err(e) = store.lock_design(&self.design_id, self.id).await
        {
            self.message(
                MessageLevel::Error,
                ContextType::None,
                "",
                format!("cannot lock the design: {e}"),
            )
            .await?;
            self.task_lock().result.failure(None);
            return Ok(false);
        }
        let mut timer = std::pin::pin!(step::attempt_timer());
        let steps = site_steps(self.action);
        self.events.send(Event::Planned {
            task: self.id,
            nodes: 0,
            steps: steps.len(),
            journaled: steps
                .iter()
                .filter(|&&s| self.done.contains(None, s))
                .count(),
        });
        for (i, &step) in steps.iter().enumerate() {
            if self.cancelled() {
                self.skip_rest(None, &steps[i..], false);
                return Ok(true);
            }
            if self.done.contains(None, step) {
                self.skip(None, step, SkipReason::Journaled);
                continue;
            }
            let outcome = self.step(None, step, &[], timer.as_mut()).await;
            if outcome.is_err() && self.cancelled() {
                self.task_lock().result.failure(None);
                self.skip_rest(None, &steps[i..], false);
                return Ok(true);
            }
            let ok = outcome.is_ok();
            self.journal(None, step, outcome, |t| {
                if ok {
                    t.result.success(None)
                } else {
                    t.result.failure(None)
                }
            })
            .await?;
        }
        Ok(false)
    }

    async fn nodes(&self) -> Result<bool> {
        let needs_node_driver = self.action != Action::VerifyNodes;
        if needs_node_driver && !self.has_node_driver().await? {
            return Ok(false);
        }
        if !self.design_is_valid().await? {
            return Ok(false);
        }
        let filter = self.task_lock().node_filter.clone();
        if let Some(filter) = &filter {
            let unknown = filter.unknown_node_names(|n| self.design.nodes.contains_key(n));
            if !unknown.is_empty() {
                let text = format!(
                    "the node filter names nodes the design does not have: {}",
                    unknown.join(", ")
                );
                self.message(MessageLevel::Error, ContextType::None, "", text)
                    .await?;
                let mut t = self.task_lock();
                t.result.failure(None);
                t.result.reason = "Unknown nodes in the node filter.".into();
                return Ok(false);
            }
        }
        let targets = self.design.select(filter.as_ref());
        if targets.is_empty() {
            self.message(
                MessageLevel::Info,
                ContextType::None,
                "",
                "No nodes in scope, no work to do.".into(),
            )
            .await?;
            return Ok(false);
        }
        if !self.oob_served(&targets).await? {
            return Ok(false);
        }
        if !self.lease(&targets).await? {
            return Ok(false);
        }
        let steps = node_pipeline(self.action);
        let planned = targets.len() * steps.len()
            + targets
                .iter()
                .filter(|n| self.waits_for_bootactions(n))
                .count();
        self.events.send(Event::Planned {
            task: self.id,
            nodes: targets.len(),
            steps: planned,
            journaled: self.done.node_steps().min(planned),
        });
        let limit = match self.orch.inner.config.concurrency {
            0 => targets.len(),
            n => n,
        };
        let pipelines: Vec<BoxFuture<'_, Result<NodeEnd>>> =
            targets.iter().map(|n| self.node(n).boxed()).collect();
        let ends: Vec<Result<NodeEnd>> = futures::stream::iter(pipelines)
            .buffer_unordered(limit)
            .collect()
            .await;
        let mut cancelled = false;
        for end in ends {
            cancelled |= end? == NodeEnd::Cancelled;
        }
        Ok(cancelled)
    }

    /// For the actions that need nodes' BMCs (VerifyNodes, PrepareNodes): whether a registered
    /// OOB driver serves every target's OOB type; if not, the task fails before any driver
    /// call with one message naming every such node.
    async fn oob_served(&self, targets: &[&CompiledNode]) -> Result<bool> {
        if !matches!(self.action, Action::VerifyNodes | Action::PrepareNodes) {
            return Ok(true);
        }
        let unserved = crate::driver::unserved_oob(&self.orch.inner.oob_drivers, targets);
        if unserved.is_empty() {
            return Ok(true);
        }
        let list: Vec<String> = unserved.iter().map(|(n, t)| format!("{n} ({t})")).collect();
        let text = format!(
            "No registered OOB driver serves the OOB type of node(s) {}.",
            list.join(", ")
        );
        self.message(MessageLevel::Error, ContextType::None, "", text)
            .await?;
        self.task_lock().result.failure(None);
        Ok(false)
    }

    /// Leases every target node; false (with a message) when the task cannot have them.
    async fn lease(&self, targets: &[&CompiledNode]) -> Result<bool> {
        let cfg = &self.orch.inner.config;
        let names: Vec<String> = targets.iter().map(|n| n.name.clone()).collect();
        let deadline = crate::driver::deadline_after(cfg.timeouts.default);
        loop {
            let Some((node, other)) = self.orch.inner.store.acquire_nodes(&names, self.id).await?
            else {
                return Ok(true);
            };
            let holder = self.orch.inner.store.get_task(other).await?;
            if let Some(why) = self.stale_holder(holder.as_ref()) {
                // Left by a task that ended, vanished, or whose process is gone: take it over.
                tracing::warn!(node = %node, holder = %other, why, "taking over stale node leases");
                self.orch.inner.store.release_nodes(other).await?;
                if holder.is_some_and(|h| !h.status.is_final()) {
                    let text = format!(
                        "took over the node leases of task {other} ({why}); that task resumes \
                         if it is run again"
                    );
                    self.message(MessageLevel::Warning, ContextType::None, "", text)
                        .await?;
                }
                continue;
            }
            let give_up = cfg.lease_conflict == LeaseConflict::Fail
                || tokio::time::Instant::now() >= deadline;
            if give_up {
                let what = holder
                    .map(|h| format!("{} task {other}, {}", h.action, h.status))
                    .unwrap_or_else(|| format!("task {other}"));
                let text = format!(
                    "node {node} is in use by {what}; wait for it to end, cancel it \
                     (Orchestrator::cancel), or set lease_conflict to wait"
                );
                self.message(MessageLevel::Error, ContextType::Node, &node, text)
                    .await?;
                let mut t = self.task_lock();
                t.result.failure(None);
                t.result.reason = "Nodes in use by another task.".into();
                return Ok(false);
            }
            tokio::time::sleep(cfg.poll_interval).await;
        }
    }

    /// Why a lease holder's leases are stale: it is gone, it ended, or no live process runs it
    /// (a store only one process can open, and no orchestrator of this process runs it).
    fn stale_holder(&self, holder: Option<&Task>) -> Option<&'static str> {
        match holder {
            None => Some("the task no longer exists"),
            Some(t) if t.status.is_final() => Some("the task has ended"),
            Some(t) if self.orch.inner.store.exclusive_to_process() && !is_running_here(t.id) => {
                Some("no running orchestrator holds it: its process is gone")
            }
            Some(_) => None,
        }
    }

    fn skip(&self, node: Option<&str>, step: Step, reason: SkipReason) {
        if reason == SkipReason::Journaled {
            self.skipped.fetch_add(1, Ordering::Relaxed);
        }
        self.emit_with(Tally::Skipped, || Event::StepSkipped {
            task: self.id,
            node: node.map(str::to_owned),
            step,
            reason,
        });
    }

    /// Skips `steps` (abandoned: the node failed or the task is cancelled), and the node's
    /// boot action report when `report`.
    fn skip_rest(&self, node: Option<&str>, steps: &[Step], report: bool) {
        for &step in steps {
            self.skip(node, step, SkipReason::Abandoned);
        }
        if report {
            self.skip(node, Step::BootactionReport, SkipReason::Abandoned);
        }
    }
}

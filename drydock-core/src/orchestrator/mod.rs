//! The orchestrator: runs tasks, step by step, through the drivers, journaling each step so a
//! task resumes after a failure or a crash with only the steps still needed.
//!
//! # Expected flow
//! 1. [`Orchestrator::put_design`] stores the design's documents (content-addressed).
//! 2. [`Orchestrator::create_task`] queues an [`Action`] over the nodes a filter selects.
//! 3. [`Orchestrator::run`] (or [`Orchestrator::spawn`]) carries it out; [`Orchestrator::subscribe`]
//!    streams its progress. After a crash, [`Orchestrator::resume_all`] picks up every unfinished
//!    task; [`Orchestrator::retry`] re-runs a finished task's failed nodes.
//!
//! # Guarantees
//! * A step is journaled (durably, as the store defines it) before the next step of its node
//!   starts, and a journaled success is never executed again for that task.
//! * A step in flight at a crash may run again: driver operations are idempotent (a node already
//!   in the target state is a success without changes).
//! * Every step runs under a timeout; transient failures are retried with exponential backoff
//!   and jitter; other failures end the node's pipeline and the other nodes go on.
//! * Two tasks never drive the same node at once (node leases in the store), and one
//!   orchestrator never runs a task twice at once ([`OrchestratorError::AlreadyRunning`]).
//!   Running one store from several processes at once is the embedder's to prevent.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use drydock_core::design::Source;
//! use drydock_core::orchestrator::Orchestrator;
//! use drydock_core::store::MemoryStore;
//! use drydock_core::sim::{SimConfig, SimWorld};
//! use drydock_core::task::{Action, ResultStatus};
//!
//! let world = SimWorld::new(SimConfig { preenlisted: true, ..SimConfig::default() });
//! let orch = Orchestrator::builder()
//!     .store(Arc::new(MemoryStore::new()))
//!     .oob_driver(Arc::new(world.oob_driver()))
//!     .node_driver(Arc::new(world.node_driver()))
//!     .build()
//!     .unwrap();
//! // A valid design: node actions refuse one that fails validation.
//! let site = "\
//! schema: drydock/Network/v1
//! metadata: {name: oob}
//! data: {cidr: 10.0.0.0/24}
//! ---
//! schema: drydock/BaremetalNode/v1
//! metadata: {name: n1}
//! data:
//!   addressing: [{network: oob, address: 10.0.0.11}]
//!   oob: {type: ipmi, network: oob, account: admin, credential: pw}
//!   storage:
//!     physical_devices:
//!       sda: {partitions: [{name: root, size: 30g, filesystem: {mountpoint: /}}]}
//! ";
//! let design = orch.put_design(&[Source::new("site.yaml", site)]).await.unwrap();
//! for action in [Action::PrepareNodes, Action::DeployNodes] {
//!     let task = orch.create_task(action, &design, None, "example").await.unwrap();
//!     let done = orch.run(task.id).await.unwrap();
//!     assert_eq!(done.task.result.status, ResultStatus::Success);
//! }
//! assert_eq!(world.machine("n1").unwrap().deploys, 1);
//! # });
//! ```

mod config;
mod error;
mod event;
mod run;

pub use config::{CancelPolicy, LeaseConflict, OrchestratorConfig, RetryPolicy, Timeouts};
pub use error::OrchestratorError;
pub use event::{Event, Progress, SkipReason};
pub use run::{RunSummary, node_pipeline, site_steps};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use chrono::Utc;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::{broadcast, watch};

use event::TaskEvents;

use crate::bootaction::{
    BootActionError, BootActions, LocationResolver, build_tarball, node_assets,
};
use crate::design::{AssetType, CompiledDesign, NodeFilterSet, Source, compile, ingest_sources};
use crate::driver::{NodeDriver, OobDriver};
use crate::store::{DesignId, DesignSnapshot, Store, TaskQuery};
use crate::task::{Action, Task, TaskId, TaskStatus};
use crate::validation::ValidationReport;

/// Result of orchestrator calls.
pub type Result<T, E = OrchestratorError> = std::result::Result<T, E>;

struct Inner {
    store: Arc<dyn Store>,
    oob_drivers: Vec<Arc<dyn OobDriver>>,
    node_driver: Option<Arc<dyn NodeDriver>>,
    config: OrchestratorConfig,
    /// Each task's event channel, while it runs or has subscribers.
    channels: Mutex<HashMap<TaskId, Arc<TaskEvents>>>,
    designs: Mutex<HashMap<DesignId, Arc<CompiledDesign>>>,
    /// Reports of [`Orchestrator::validate`], by design.
    reports: Mutex<HashMap<DesignId, Arc<ValidationReport>>>,
    cancels: Mutex<HashMap<TaskId, watch::Sender<bool>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("store", &self.store)
            .field(
                "oob_drivers",
                &self
                    .oob_drivers
                    .iter()
                    .map(|d| d.name())
                    .collect::<Vec<_>>(),
            )
            .field("node_driver", &self.node_driver.as_ref().map(|d| d.name()))
            .field("config", &self.config)
            .finish()
    }
}

/// Runs drydock tasks. Cheap to clone; clones share everything.
#[derive(Clone, Debug)]
pub struct Orchestrator {
    inner: Arc<Inner>,
}

/// Builds an [`Orchestrator`]; [`OrchestratorBuilder::build`] is the only fallible step.
#[derive(Default)]
pub struct OrchestratorBuilder {
    store: Option<Arc<dyn Store>>,
    oob_drivers: Vec<Arc<dyn OobDriver>>,
    node_driver: Option<Arc<dyn NodeDriver>>,
    config: OrchestratorConfig,
}

impl std::fmt::Debug for OrchestratorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrchestratorBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OrchestratorBuilder {
    /// The store (required).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Adds an OOB driver; nodes use the first whose capabilities list their OOB type.
    pub fn oob_driver(mut self, driver: Arc<dyn OobDriver>) -> Self {
        self.oob_drivers.push(driver);
        self
    }

    /// The node driver (required by every action but ValidateDesign and VerifyNodes).
    pub fn node_driver(mut self, driver: Arc<dyn NodeDriver>) -> Self {
        self.node_driver = Some(driver);
        self
    }

    /// The settings.
    pub fn config(mut self, config: OrchestratorConfig) -> Self {
        self.config = config;
        self
    }

    /// The orchestrator.
    pub fn build(self) -> Result<Orchestrator> {
        let store = self
            .store
            .ok_or_else(|| OrchestratorError::Config("a store is required".into()))?;
        if self.config.retry.max_attempts == 0 {
            return Err(OrchestratorError::Config(
                "retry.max_attempts must be at least 1".into(),
            ));
        }
        if self.config.poll_interval.is_zero() {
            return Err(OrchestratorError::Config(
                "poll_interval must be positive".into(),
            ));
        }
        if self.config.event_capacity == 0 {
            return Err(OrchestratorError::Config(
                "event_capacity must be at least 1".into(),
            ));
        }
        Ok(Orchestrator {
            inner: Arc::new(Inner {
                store,
                oob_drivers: self.oob_drivers,
                node_driver: self.node_driver,
                config: self.config,
                channels: Mutex::default(),
                designs: Mutex::default(),
                reports: Mutex::default(),
                cancels: Mutex::default(),
            }),
        })
    }
}

/// Counts a subscription while its stream lives; the last one of a task that is not running
/// removes its channel.
struct Subscribed {
    inner: Weak<Inner>,
    events: Weak<TaskEvents>,
    task: TaskId,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        let Some(events) = self.events.upgrade() else {
            return;
        };
        let last = events.subscribers.fetch_sub(1, Ordering::Relaxed) == 1;
        if last
            && !is_running_here(self.task)
            && let Some(inner) = self.inner.upgrade()
        {
            let mut channels = lock(&inner.channels);
            if channels
                .get(&self.task)
                .is_some_and(|c| Arc::ptr_eq(c, &events))
                && events.subscribers.load(Ordering::Relaxed) == 0
            {
                channels.remove(&self.task);
            }
        }
    }
}

/// Tasks running in this process, by any orchestrator: with a store only one process can open
/// ([`Store::exclusive_to_process`]), an unfinished task not in this set was left by a process
/// that is gone, and its node leases are free to take.
static RUNNING_HERE: LazyLock<Mutex<HashSet<TaskId>>> = LazyLock::new(Mutex::default);

fn is_running_here(task: TaskId) -> bool {
    lock(&RUNNING_HERE).contains(&task)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Orchestrator {
    /// A builder.
    pub fn builder() -> OrchestratorBuilder {
        OrchestratorBuilder::default()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The settings.
    pub fn config(&self) -> &OrchestratorConfig {
        &self.inner.config
    }

    /// The node driver, if one was given (what a health check asks whether the provisioner
    /// answers).
    pub fn node_driver(&self) -> Option<&Arc<dyn NodeDriver>> {
        self.inner.node_driver.as_ref()
    }

    /// Boot action records and status reports, over this orchestrator's store: what the
    /// embedder's report endpoint calls ([`BootActions::report`]).
    pub fn bootactions(&self) -> BootActions {
        BootActions::new(self.inner.store.clone())
    }

    /// The gzipped tar of `node`'s rendered assets of `kind` (units or files) for its latest
    /// deployment, once `key` proved to be the node's (the embedder's asset endpoint).
    ///
    /// Errors say what to answer ([`BootActionError::http_status`]): no records for the node,
    /// missing or wrong key, an asset that does not render.
    pub async fn bootaction_tarball(
        &self,
        node: &str,
        kind: AssetType,
        key: Option<&str>,
        resolver: Option<&dyn LocationResolver>,
    ) -> std::result::Result<Vec<u8>, BootActionError> {
        let records = self.bootactions().authorize_node(node, key).await?;
        let design = self
            .design(&records[0].design)
            .await
            .map_err(|e| BootActionError::Design(e.to_string()))?;
        let assets = node_assets(
            &design,
            &records,
            kind,
            &self.inner.config.bootaction_report_url,
            resolver,
        )?;
        build_tarball(&assets).map_err(BootActionError::Tarball)
    }

    /// Stores a design's documents and returns its id (the same documents give the same id).
    ///
    /// The documents are stored as given and read when used: call [`Orchestrator::validate`]
    /// (or [`Orchestrator::design`]) to learn whether they read, compile and validate. A task
    /// on a design that does not compile ends `complete`/`failure` ("Invalid design.") with the
    /// problems as messages, and node actions also refuse a design that fails validation.
    pub async fn put_design(&self, sources: &[Source]) -> Result<DesignId> {
        let snapshot = DesignSnapshot::new(sources);
        self.inner.store.put_design(&snapshot).await?;
        Ok(snapshot.id)
    }

    /// The compiled design `id` (compiled once, then cached).
    pub async fn design(&self, id: &DesignId) -> Result<Arc<CompiledDesign>> {
        if let Some(d) = lock(&self.inner.designs).get(id) {
            return Ok(d.clone());
        }
        let snapshot = self
            .inner
            .store
            .get_design(id)
            .await?
            .ok_or_else(|| OrchestratorError::DesignNotFound(id.to_string()))?;
        let site = ingest_sources(&snapshot.to_sources()).map_err(OrchestratorError::Design)?;
        let design = Arc::new(compile(site).map_err(OrchestratorError::Design)?);
        lock(&self.inner.designs).insert(id.clone(), design.clone());
        Ok(design)
    }

    /// Validates design `id` (compiled and validated once, then cached). PrepareNodes,
    /// DeployNodes and DestroyNodes refuse a design whose report is not valid, without
    /// calling a driver. Platform selection is checked by the ValidateDesign action, which asks
    /// the node driver for its catalog; here it only warns.
    pub async fn validate(&self, id: &DesignId) -> Result<Arc<ValidationReport>> {
        if let Some(r) = lock(&self.inner.reports).get(id) {
            return Ok(r.clone());
        }
        let design = self.design(id).await?;
        let report = Arc::new(crate::validation::validate(
            &design,
            &crate::validation::ValidationContext::default(),
        ));
        lock(&self.inner.reports).insert(id.clone(), report.clone());
        Ok(report)
    }

    /// Creates a queued task.
    pub async fn create_task(
        &self,
        action: Action,
        design: &DesignId,
        node_filter: Option<NodeFilterSet>,
        created_by: &str,
    ) -> Result<Task> {
        if self.inner.store.get_design(design).await?.is_none() {
            return Err(OrchestratorError::DesignNotFound(design.to_string()));
        }
        let mut task = Task::new(action, design.clone(), node_filter, created_by);
        task.status = TaskStatus::Queued;
        self.inner.store.create_task(&task).await?;
        Ok(task)
    }

    /// A task, with its messages.
    pub async fn get_task(&self, id: TaskId) -> Result<Task> {
        self.inner
            .store
            .get_task(id)
            .await?
            .ok_or(OrchestratorError::TaskNotFound(id))
    }

    /// Runs a task until it ends; a task interrupted earlier resumes, skipping journaled steps.
    pub async fn run(&self, id: TaskId) -> Result<RunSummary> {
        run::run(self.clone(), id).await
    }

    /// Runs a task in the background.
    pub fn spawn(&self, id: TaskId) -> tokio::task::JoinHandle<Result<RunSummary>> {
        let this = self.clone();
        tokio::spawn(async move { this.run(id).await })
    }

    /// Starts every unfinished top-level task (queued, running or terminating), for start-up
    /// after a crash.
    pub async fn resume_all(
        &self,
    ) -> Result<Vec<(TaskId, tokio::task::JoinHandle<Result<RunSummary>>)>> {
        let query = TaskQuery {
            statuses: vec![
                TaskStatus::Queued,
                TaskStatus::Running,
                TaskStatus::Terminating,
            ],
            top_level_only: true,
            ..TaskQuery::default()
        };
        let tasks = self.inner.store.list_tasks(&query).await?;
        Ok(tasks
            .into_iter()
            .map(|t| (t.id, self.spawn(t.id)))
            .collect())
    }

    /// Runs a finished task again over its failed nodes: journaled successes are kept and
    /// skipped; the failures of the previous attempt are forgotten. A terminated (cancelled)
    /// task is taken up again the same way: its cancellation is lifted. A task that has not
    /// finished is simply run (it resumes). [`Orchestrator::reopen`] then
    /// [`Orchestrator::run`], for a caller that subscribes in between.
    pub async fn retry(&self, id: TaskId) -> Result<RunSummary> {
        self.reopen(id).await?;
        self.run(id).await
    }

    /// Makes a task that ended without full success (failed nodes, or a failure of the task
    /// itself such as nodes in use), or was terminated, runnable again (queued, its failures
    /// forgotten, its retry count raised, a cancellation lifted), without running it; any
    /// other task is left as it is. Returns the task as it now stands.
    pub async fn reopen(&self, id: TaskId) -> Result<Task> {
        let mut task = self.get_task(id).await?;
        let terminated = task.status == TaskStatus::Terminated;
        let failed = task.status == TaskStatus::Complete
            && task.result.status != crate::task::ResultStatus::Success;
        if !terminated && !failed {
            return Ok(task);
        }
        if terminated {
            task.terminate = false;
            task.terminated = None;
            task.terminated_by = None;
        }
        task.retry += 1;
        task.status = TaskStatus::Queued;
        task.result.failures.clear();
        task.result.status = if task.result.successes.is_empty() {
            crate::task::ResultStatus::Incomplete
        } else {
            crate::task::ResultStatus::Success
        };
        self.inner.store.update_task(&task).await?;
        Ok(task)
    }

    /// Cancels a task: no new step starts; steps in flight finish or are abandoned as the
    /// configuration says; the task ends `terminated`. A task not running now ends when next run.
    pub async fn cancel(&self, id: TaskId, by: &str) -> Result<()> {
        let mut task = self.get_task(id).await?;
        if task.status.is_final() {
            return Ok(());
        }
        task.terminate = true;
        task.terminated_by = Some(by.to_owned());
        task.terminated = Some(Utc::now());
        self.inner.store.update_task(&task).await?;
        if let Some(tx) = lock(&self.inner.cancels).get(&id) {
            let _ = tx.send(true);
        }
        Ok(())
    }

    /// The task's progress events from now on (see [`Event`] for how to count progress).
    ///
    /// The stream ends after the run's last event ([`Event::Finished`] or
    /// [`Event::Interrupted`]), at once with a `Finished` event if the task has already ended,
    /// or when the orchestrator is dropped. A subscriber that falls more than
    /// [`OrchestratorConfig::event_capacity`] events behind receives [`Event::Lagged`] with the
    /// number it missed, and [`Orchestrator::progress`] gives the counts so far.
    pub fn subscribe(&self, id: TaskId) -> BoxStream<'static, Event> {
        let events = self.channel(id);
        let rx = events.tx.subscribe();
        events.subscribers.fetch_add(1, Ordering::Relaxed);
        let live = Subscribed {
            inner: Arc::downgrade(&self.inner),
            events: Arc::downgrade(&events),
            task: id,
        };
        drop(events);
        let store = self.inner.store.clone();
        let state = (rx, Some(store), false, live);
        futures::stream::unfold(state, move |(mut rx, store, done, live)| async move {
            if done {
                return None;
            }
            let received = match store {
                // First poll: what the channel holds comes first; with nothing there, a task
                // that has already ended is said to have ended.
                Some(store) => match rx.try_recv() {
                    Ok(e) => Ok(e),
                    Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                        Err(broadcast::error::RecvError::Lagged(missed))
                    }
                    Err(_) => {
                        if let Ok(Some(task)) = store.get_task(id).await
                            && task.status.is_final()
                            && !is_running_here(id)
                            && rx.is_empty()
                        {
                            let e = Event::Finished {
                                task: id,
                                status: task.status,
                                result: task.result.status,
                            };
                            return Some((e, (rx, None, true, live)));
                        }
                        rx.recv().await
                    }
                },
                None => rx.recv().await,
            };
            match received {
                Ok(e) => {
                    let last = e.is_last();
                    Some((e, (rx, None, last, live)))
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let e = Event::Lagged { task: id, missed };
                    Some((e, (rx, None, false, live)))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
        .boxed()
    }

    /// The progress of a task running in this orchestrator (counts of its planned, finished
    /// and skipped steps in the current run); `None` when it is not running here.
    pub fn progress(&self, id: TaskId) -> Option<Progress> {
        if !lock(&self.inner.cancels).contains_key(&id) {
            return None;
        }
        lock(&self.inner.channels).get(&id).map(|c| c.progress())
    }

    /// The event channel of task `id`, made when first asked for.
    fn channel(&self, id: TaskId) -> Arc<TaskEvents> {
        lock(&self.inner.channels)
            .entry(id)
            .or_insert_with(|| Arc::new(TaskEvents::new(self.inner.config.event_capacity)))
            .clone()
    }

    /// Sends an event of a task (messages, status changes: the rare ones; steps go through the
    /// run's own handle on the channel).
    fn emit(&self, event: Event) {
        let channel = lock(&self.inner.channels).get(&event.task()).cloned();
        if let Some(c) = channel {
            c.send(event);
        }
    }
}

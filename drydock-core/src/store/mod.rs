//! Persistence: the [`Store`] trait that keeps tasks, their step journal, their messages, design
//! snapshots, build data and node leases, and [`MemoryStore`], its in-memory implementation.
//!
//! The orchestrator journals every finished step before it starts the next, so that after a
//! crash a task resumes with only the steps still needed. The journal is the source of truth for
//! what happened to each node: a task's `successes` and `failures` are derived from it (and
//! recomputed from it when a task resumes); the task record is written at status changes, at the
//! end, and at most about once a second while the task runs, so that writing it stays cheap for
//! tasks over thousands of nodes. A store must make a journal entry and
//! the task update that goes with it durable together ([`Store::record_step`]), and must not
//! report a write done before it is durable (for an in-memory store, before it is visible).

mod error;
mod memory;
mod types;

pub use error::{StoreError, StoreErrorKind};
pub use memory::MemoryStore;
pub use types::{
    BuildDataRecord, DesignId, DesignSnapshot, JournalEntry, LeaseOutcome, Step, StepOutcome,
    TaskQuery,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::bootaction::{ActionId, BootActionDetail, BootActionRecord, BootActionStatus};
use crate::task::{Task, TaskId, TaskMessage};

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Where drydock keeps its state.
///
/// Every method is atomic on its own. Implementations must be safe to share between tasks
/// (`Send + Sync`) and must run the conformance suite (`drydock_core::testing::store`).
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Stores a new task (its messages too). `AlreadyExists` if the id is taken.
    async fn create_task(&self, task: &Task) -> StoreResult<()>;
    /// Replaces a task's fields. Its messages are not touched: they are added with
    /// [`Store::add_message`]. `NotFound` if the task does not exist.
    async fn update_task(&self, task: &Task) -> StoreResult<()>;
    /// A task with all its messages.
    async fn get_task(&self, id: TaskId) -> StoreResult<Option<Task>>;
    /// Tasks matching `query`, oldest first, with their messages.
    async fn list_tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>>;
    /// Deletes tasks created before `cutoff` with their journals, messages, build data,
    /// leases and boot action records; returns how many tasks were deleted.
    async fn delete_tasks_before(&self, cutoff: DateTime<Utc>) -> StoreResult<usize>;
    /// Appends a message to a task. `NotFound` if the task does not exist.
    async fn add_message(&self, task: TaskId, message: &TaskMessage) -> StoreResult<()>;
    /// Appends a journal entry and, in the same atomic write, replaces the task when given.
    /// Returns the entry's sequence number (increasing within the task, from 1).
    async fn record_step(&self, entry: &JournalEntry, task: Option<&Task>) -> StoreResult<u64>;
    /// A task's journal, in sequence order.
    async fn journal(&self, task: TaskId) -> StoreResult<Vec<JournalEntry>>;
    /// Stores a design snapshot (a no-op if one with the same id exists).
    async fn put_design(&self, design: &DesignSnapshot) -> StoreResult<()>;
    /// A design snapshot.
    async fn get_design(&self, id: &DesignId) -> StoreResult<Option<DesignSnapshot>>;
    /// Locks a design for `holder`. `Conflict` if another task holds it; a no-op if `holder` does.
    async fn lock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()>;
    /// Releases `holder`'s lock on a design (a no-op if it holds none).
    async fn unlock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()>;
    /// The task holding a design's lock.
    async fn design_lock(&self, id: &DesignId) -> StoreResult<Option<TaskId>>;
    /// Stores facts a driver collected about a node.
    async fn put_build_data(&self, record: &BuildDataRecord) -> StoreResult<()>;
    /// A node's build data, oldest first.
    async fn build_data(&self, node: &str) -> StoreResult<Vec<BuildDataRecord>>;
    /// Leases `node` to `task`, unless another task holds it.
    async fn acquire_node(&self, node: &str, task: TaskId) -> StoreResult<LeaseOutcome>;
    /// Leases all of `nodes` to `task` in one atomic step, or none: `None` when the task now
    /// holds them all, else the first node held by another task and that task.
    async fn acquire_nodes(
        &self,
        nodes: &[String],
        task: TaskId,
    ) -> StoreResult<Option<(String, TaskId)>>;
    /// Releases every lease `task` holds.
    async fn release_nodes(&self, task: TaskId) -> StoreResult<()>;

    /// Stores the boot action records of one node for one task, unless that task already has
    /// records for that node; returns the records the store holds for the task and node
    /// afterwards (the existing ones, unchanged, in that case), in the order given.
    ///
    /// Atomic: a task's records for a node are created together, once, even when two callers
    /// race. `records` must all have the same `task` and `node` (`Conflict` otherwise); an
    /// empty slice stores nothing and returns nothing.
    async fn put_bootactions(
        &self,
        records: &[BootActionRecord],
    ) -> StoreResult<Vec<BootActionRecord>>;
    /// The record of a boot action.
    async fn get_bootaction(&self, id: ActionId) -> StoreResult<Option<BootActionRecord>>;
    /// Every boot action record of a node, of every task, oldest first (creation order).
    async fn bootactions_for_node(&self, node: &str) -> StoreResult<Vec<BootActionRecord>>;
    /// Sets a boot action's status, appends `details` and stamps `updated`; returns the record
    /// as stored. `NotFound` for an unknown id; `Conflict` (and no change at all) when the
    /// stored status is final ([`BootActionStatus::is_final`]): the check and the write are one
    /// atomic step, so two racing final reports cannot both succeed.
    async fn set_bootaction_status(
        &self,
        id: ActionId,
        status: BootActionStatus,
        details: &[BootActionDetail],
    ) -> StoreResult<BootActionRecord>;

    /// Whether no other process can use this store while this one has it open (sled's
    /// directory lock; a `MemoryStore` lives in one process). Then an unfinished task that no
    /// orchestrator of this process is running was left by a process that is gone, and the
    /// orchestrator takes over its node leases. `false` (the default) for a store shared by
    /// several processes, where only the store can tell which holders are alive.
    fn exclusive_to_process(&self) -> bool {
        false
    }
}

//! A store wrapper whose writes can be made to fail, as on a full disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::bootaction::{ActionId, BootActionDetail, BootActionRecord, BootActionStatus};
use crate::store::{
    BuildDataRecord, DesignId, DesignSnapshot, JournalEntry, LeaseOutcome, Store, StoreError,
    StoreErrorKind, StoreResult, TaskQuery,
};
use crate::task::{Task, TaskId, TaskMessage};

/// Wraps a store; while [`FaultyStore::set_full`] is on (or once
/// [`FaultyStore::fill_after_writes`] writes have passed), every write fails with
/// `Unavailable` ("No space left on device") and changes nothing, while reads and lease
/// releases go through, as they do on a full disk.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use drydock_core::store::{MemoryStore, Store};
/// use drydock_core::task::{Action, Task};
/// use drydock_core::testing::FaultyStore;
///
/// let store = FaultyStore::new(Arc::new(MemoryStore::new()));
/// store.set_full(true);
/// let task = Task::new(Action::DeployNodes, "design", None, "doc");
/// let err = store.create_task(&task).await.unwrap_err();
/// assert!(err.is_retryable() && err.to_string().contains("No space left"));
/// store.set_full(false);
/// store.create_task(&task).await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    full: AtomicBool,
    /// Writes allowed before the store fills up (`u64::MAX`: never).
    budget: AtomicU64,
}

impl FaultyStore {
    /// Wraps `inner`, every write going through.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        FaultyStore {
            inner,
            full: AtomicBool::new(false),
            budget: AtomicU64::new(u64::MAX),
        }
    }

    /// Makes every write fail (`true`) or go through again (`false`, which also lifts a
    /// budget set by [`FaultyStore::fill_after_writes`]).
    pub fn set_full(&self, full: bool) {
        self.full.store(full, Ordering::SeqCst);
        if !full {
            self.budget.store(u64::MAX, Ordering::SeqCst);
        }
    }

    /// Lets `n` more writes through, then fails every write.
    pub fn fill_after_writes(&self, n: u64) {
        self.budget.store(n, Ordering::SeqCst);
    }

    /// Whether writes fail now.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::SeqCst)
    }

    fn write(&self) -> StoreResult<()> {
        if !self.full.load(Ordering::SeqCst) {
            let left = self
                .budget
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| match b {
                    u64::MAX => Some(u64::MAX),
                    0 => None,
                    b => Some(b - 1),
                });
            if left.is_ok() {
                return Ok(());
            }
            self.full.store(true, Ordering::SeqCst);
        }
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "No space left on device (os error 28)",
        ))
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn create_task(&self, task: &Task) -> StoreResult<()> {
        self.write()?;
        self.inner.create_task(task).await
    }
    async fn update_task(&self, task: &Task) -> StoreResult<()> {
        self.write()?;
        self.inner.update_task(task).await
    }
    async fn get_task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        self.inner.get_task(id).await
    }
    async fn list_tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        self.inner.list_tasks(query).await
    }
    async fn delete_tasks_before(&self, cutoff: DateTime<Utc>) -> StoreResult<usize> {
        self.write()?;
        self.inner.delete_tasks_before(cutoff).await
    }
    async fn add_message(&self, task: TaskId, message: &TaskMessage) -> StoreResult<()> {
        self.write()?;
        self.inner.add_message(task, message).await
    }
    async fn record_step(&self, entry: &JournalEntry, task: Option<&Task>) -> StoreResult<u64> {
        self.write()?;
        self.inner.record_step(entry, task).await
    }
    async fn journal(&self, task: TaskId) -> StoreResult<Vec<JournalEntry>> {
        self.inner.journal(task).await
    }
    async fn put_design(&self, design: &DesignSnapshot) -> StoreResult<()> {
        self.write()?;
        self.inner.put_design(design).await
    }
    async fn get_design(&self, id: &DesignId) -> StoreResult<Option<DesignSnapshot>> {
        self.inner.get_design(id).await
    }
    async fn lock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()> {
        self.write()?;
        self.inner.lock_design(id, holder).await
    }
    async fn unlock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()> {
        self.inner.unlock_design(id, holder).await
    }
    async fn design_lock(&self, id: &DesignId) -> StoreResult<Option<TaskId>> {
        self.inner.design_lock(id).await
    }
    async fn put_build_data(&self, record: &BuildDataRecord) -> StoreResult<()> {
        self.write()?;
        self.inner.put_build_data(record).await
    }
    async fn build_data(&self, node: &str) -> StoreResult<Vec<BuildDataRecord>> {
        self.inner.build_data(node).await
    }
    async fn acquire_node(&self, node: &str, task: TaskId) -> StoreResult<LeaseOutcome> {
        self.write()?;
        self.inner.acquire_node(node, task).await
    }
    async fn acquire_nodes(
        &self,
        nodes: &[String],
        task: TaskId,
    ) -> StoreResult<Option<(String, TaskId)>> {
        self.write()?;
        self.inner.acquire_nodes(nodes, task).await
    }
    async fn release_nodes(&self, task: TaskId) -> StoreResult<()> {
        // Deleting frees space: it goes through on a full disk.
        self.inner.release_nodes(task).await
    }
    async fn put_bootactions(
        &self,
        records: &[BootActionRecord],
    ) -> StoreResult<Vec<BootActionRecord>> {
        self.write()?;
        self.inner.put_bootactions(records).await
    }
    async fn get_bootaction(&self, id: ActionId) -> StoreResult<Option<BootActionRecord>> {
        self.inner.get_bootaction(id).await
    }
    async fn bootactions_for_node(&self, node: &str) -> StoreResult<Vec<BootActionRecord>> {
        self.inner.bootactions_for_node(node).await
    }
    async fn set_bootaction_status(
        &self,
        id: ActionId,
        status: BootActionStatus,
        details: &[BootActionDetail],
    ) -> StoreResult<BootActionRecord> {
        self.write()?;
        self.inner.set_bootaction_status(id, status, details).await
    }
    fn exclusive_to_process(&self) -> bool {
        self.inner.exclusive_to_process()
    }
}

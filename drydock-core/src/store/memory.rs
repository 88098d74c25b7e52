//! [`MemoryStore`]: a complete store in memory, for tests, examples and embedders that need no
//! durability.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    BuildDataRecord, DesignId, DesignSnapshot, JournalEntry, LeaseOutcome, Store, StoreError,
    StoreErrorKind, StoreResult, TaskQuery,
};
use crate::bootaction::{ActionId, BootActionDetail, BootActionRecord, BootActionStatus};
use crate::task::{Task, TaskId, TaskMessage};

#[derive(Debug, Default)]
struct State {
    /// Tasks without their messages.
    tasks: FxHashMap<TaskId, Task>,
    messages: FxHashMap<TaskId, Vec<TaskMessage>>,
    journals: FxHashMap<TaskId, Vec<JournalEntry>>,
    designs: HashMap<DesignId, DesignSnapshot>,
    design_locks: HashMap<DesignId, TaskId>,
    build_data: BTreeMap<String, Vec<BuildDataRecord>>,
    leases: FxHashMap<String, TaskId>,
    /// Boot action records in creation order.
    bootactions: Vec<BootActionRecord>,
}

/// A store in memory. Everything is lost when it is dropped.
///
/// ```
/// # tokio_test_block_on(async {
/// use drydock_core::store::{MemoryStore, Store};
/// use drydock_core::task::{Action, Task};
/// let store = MemoryStore::new();
/// let task = Task::new(Action::DeployNodes, "design", None, "doc");
/// store.create_task(&task).await.unwrap();
/// assert_eq!(store.get_task(task.id).await.unwrap().unwrap().action, Action::DeployNodes);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the store: recover the guard.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn without_messages(task: &Task) -> Task {
    let mut t = task.clone();
    t.result.messages = Vec::new();
    t
}

fn not_found(id: TaskId) -> StoreError {
    StoreError::new(
        StoreErrorKind::NotFound,
        format!("task {id} does not exist"),
    )
    .for_task(id)
}

impl State {
    fn full(&self, id: TaskId) -> Option<Task> {
        let mut t = self.tasks.get(&id)?.clone();
        t.result.messages = self.messages.get(&id).cloned().unwrap_or_default();
        Some(t)
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn exclusive_to_process(&self) -> bool {
        true
    }

    async fn create_task(&self, task: &Task) -> StoreResult<()> {
        let mut s = self.lock();
        if s.tasks.contains_key(&task.id) {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                format!("task {} exists", task.id),
            )
            .for_task(task.id));
        }
        s.tasks.insert(task.id, without_messages(task));
        s.messages.insert(task.id, task.result.messages.clone());
        Ok(())
    }

    async fn update_task(&self, task: &Task) -> StoreResult<()> {
        let mut s = self.lock();
        match s.tasks.get_mut(&task.id) {
            Some(slot) => {
                *slot = without_messages(task);
                Ok(())
            }
            None => Err(not_found(task.id)),
        }
    }

    async fn get_task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        Ok(self.lock().full(id))
    }

    async fn list_tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        let s = self.lock();
        let mut out: Vec<Task> = s
            .tasks
            .values()
            .filter(|t| query.statuses.is_empty() || query.statuses.contains(&t.status))
            .filter(|t| query.created_after.is_none_or(|after| t.created >= after))
            .filter(|t| !query.top_level_only || t.parent.is_none())
            .filter_map(|t| s.full(t.id))
            .collect();
        out.sort_by_key(|t| (t.created, t.id));
        Ok(out)
    }

    async fn delete_tasks_before(&self, cutoff: DateTime<Utc>) -> StoreResult<usize> {
        let mut s = self.lock();
        let old: Vec<TaskId> = s
            .tasks
            .values()
            .filter(|t| t.created < cutoff)
            .map(|t| t.id)
            .collect();
        for id in &old {
            s.tasks.remove(id);
            s.messages.remove(id);
            s.journals.remove(id);
            s.leases.retain(|_, holder| holder != id);
            s.design_locks.retain(|_, holder| holder != id);
            for records in s.build_data.values_mut() {
                records.retain(|r| r.task != *id);
            }
            s.bootactions.retain(|r| r.task != *id);
        }
        s.build_data.retain(|_, v| !v.is_empty());
        Ok(old.len())
    }

    async fn add_message(&self, task: TaskId, message: &TaskMessage) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.tasks.contains_key(&task) {
            return Err(not_found(task));
        }
        s.messages.entry(task).or_default().push(message.clone());
        Ok(())
    }

    async fn record_step(&self, entry: &JournalEntry, task: Option<&Task>) -> StoreResult<u64> {
        let mut s = self.lock();
        if !s.tasks.contains_key(&entry.task) {
            return Err(not_found(entry.task));
        }
        if let Some(t) = task {
            if t.id != entry.task {
                return Err(StoreError::new(
                    StoreErrorKind::Conflict,
                    "journal entry and task update are for different tasks",
                )
                .for_task(entry.task));
            }
            s.tasks.insert(t.id, without_messages(t));
        }
        let journal = s.journals.entry(entry.task).or_default();
        journal.push(entry.clone());
        Ok(journal.len() as u64)
    }

    async fn journal(&self, task: TaskId) -> StoreResult<Vec<JournalEntry>> {
        Ok(self.lock().journals.get(&task).cloned().unwrap_or_default())
    }

    async fn put_design(&self, design: &DesignSnapshot) -> StoreResult<()> {
        self.lock()
            .designs
            .entry(design.id.clone())
            .or_insert_with(|| design.clone());
        Ok(())
    }

    async fn get_design(&self, id: &DesignId) -> StoreResult<Option<DesignSnapshot>> {
        Ok(self.lock().designs.get(id).cloned())
    }

    async fn lock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()> {
        let mut s = self.lock();
        if !s.designs.contains_key(id) {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                format!("design {id} does not exist"),
            ));
        }
        match s.design_locks.get(id) {
            Some(h) if *h != holder => Err(StoreError::new(
                StoreErrorKind::Conflict,
                format!("design {id} is locked by task {h}"),
            )
            .for_task(holder)),
            _ => {
                s.design_locks.insert(id.clone(), holder);
                Ok(())
            }
        }
    }

    async fn unlock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()> {
        let mut s = self.lock();
        if s.design_locks.get(id) == Some(&holder) {
            s.design_locks.remove(id);
        }
        Ok(())
    }

    async fn design_lock(&self, id: &DesignId) -> StoreResult<Option<TaskId>> {
        Ok(self.lock().design_locks.get(id).copied())
    }

    async fn put_build_data(&self, record: &BuildDataRecord) -> StoreResult<()> {
        self.lock()
            .build_data
            .entry(record.node.clone())
            .or_default()
            .push(record.clone());
        Ok(())
    }

    async fn build_data(&self, node: &str) -> StoreResult<Vec<BuildDataRecord>> {
        Ok(self
            .lock()
            .build_data
            .get(node)
            .cloned()
            .unwrap_or_default())
    }

    async fn acquire_node(&self, node: &str, task: TaskId) -> StoreResult<LeaseOutcome> {
        let mut s = self.lock();
        match s.leases.get(node) {
            Some(holder) if *holder != task => Ok(LeaseOutcome::HeldBy(*holder)),
            _ => {
                s.leases.insert(node.to_owned(), task);
                Ok(LeaseOutcome::Acquired)
            }
        }
    }

    async fn acquire_nodes(
        &self,
        nodes: &[String],
        task: TaskId,
    ) -> StoreResult<Option<(String, TaskId)>> {
        let mut s = self.lock();
        for n in nodes {
            if let Some(holder) = s.leases.get(n).filter(|h| **h != task) {
                return Ok(Some((n.clone(), *holder)));
            }
        }
        s.leases.reserve(nodes.len());
        for n in nodes {
            s.leases.insert(n.clone(), task);
        }
        Ok(None)
    }

    async fn release_nodes(&self, task: TaskId) -> StoreResult<()> {
        self.lock().leases.retain(|_, holder| *holder != task);
        Ok(())
    }

    async fn put_bootactions(
        &self,
        records: &[BootActionRecord],
    ) -> StoreResult<Vec<BootActionRecord>> {
        let Some(first) = BootActionRecord::check_batch(records)? else {
            return Ok(Vec::new());
        };
        let mut s = self.lock();
        let existing: Vec<BootActionRecord> = s
            .bootactions
            .iter()
            .filter(|r| r.task == first.task && r.node == first.node)
            .cloned()
            .collect();
        if !existing.is_empty() {
            return Ok(existing);
        }
        if let Some(dup) = records
            .iter()
            .find(|r| s.bootactions.iter().any(|x| x.action_id == r.action_id))
        {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                format!("boot action {} exists", dup.action_id),
            ));
        }
        s.bootactions.extend(records.iter().cloned());
        Ok(records.to_vec())
    }

    async fn get_bootaction(&self, id: ActionId) -> StoreResult<Option<BootActionRecord>> {
        Ok(self
            .lock()
            .bootactions
            .iter()
            .find(|r| r.action_id == id)
            .cloned())
    }

    async fn bootactions_for_node(&self, node: &str) -> StoreResult<Vec<BootActionRecord>> {
        Ok(self
            .lock()
            .bootactions
            .iter()
            .filter(|r| r.node == node)
            .cloned()
            .collect())
    }

    async fn set_bootaction_status(
        &self,
        id: ActionId,
        status: BootActionStatus,
        details: &[BootActionDetail],
    ) -> StoreResult<BootActionRecord> {
        let mut s = self.lock();
        let Some(record) = s.bootactions.iter_mut().find(|r| r.action_id == id) else {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                format!("boot action {id} does not exist"),
            ));
        };
        record.apply_status(status, details)?;
        Ok(record.clone())
    }
}

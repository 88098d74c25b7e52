//! [`SledStore`]: the [`Store`] trait on sled.

mod retention;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use drydock_core::bootaction::{ActionId, BootActionDetail, BootActionRecord, BootActionStatus};
use drydock_core::store::{
    BuildDataRecord, DesignId, DesignSnapshot, JournalEntry, LeaseOutcome, Store, StoreError,
    StoreErrorKind, StoreResult, TaskQuery,
};
use drydock_core::task::{Task, TaskId, TaskMessage};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use crate::ack::{self, DataLoss, Ledger, META_WRITES, TaskMark, task_gen_key};
use crate::codec::{
    FORMAT_VERSION, META_FORMAT, decode, encode, node_prefix, seq_key, seq_of_key, sled_error,
    task_key, task_of_key, tx_error,
};
use crate::config::{Durability, OnLoss, SledConfig};
use crate::flusher::GroupCommit;
use crate::perms;

/// One tree per record kind.
#[derive(Debug)]
struct Trees {
    /// Task id → task without its messages.
    tasks: sled::Tree,
    /// Task id ++ sequence → message.
    messages: sled::Tree,
    /// Task id ++ sequence → journal entry.
    journal: sled::Tree,
    /// Design id → snapshot.
    designs: sled::Tree,
    /// Design id → holding task id.
    design_locks: sled::Tree,
    /// Node name (length-prefixed) ++ sequence → build data record.
    build_data: sled::Tree,
    /// Node name → holding task id.
    leases: sled::Tree,
    /// Store-wide facts: the format version.
    meta: sled::Tree,
    /// Boot action records by action id.
    bootactions: sled::Tree,
    /// Per-node index of boot action ids, in insertion order.
    bootaction_index: sled::Tree,
}

/// A durable store in a directory, on sled.
///
/// Every mutating call returns only once its write is on disk (see [`Durability`]). Writes are
/// serialized by one lock held while the write is applied in memory, never across the flush, so
/// concurrent writers share flushes. Reads take no lock.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use drydock_core::store::Store;
/// use drydock_core::task::{Action, Task};
/// use drydock_store_sled::{SledConfig, SledStore};
/// let dir = tempfile::tempdir().unwrap();
/// let task = Task::new(Action::DeployNodes, "design", None, "doc");
/// {
///     let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
///     store.create_task(&task).await.unwrap();
/// }
/// let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
/// assert_eq!(store.get_task(task.id).await.unwrap(), Some(task));
/// # });
/// ```
pub struct SledStore {
    trees: Trees,
    path: PathBuf,
    durability: Durability,
    /// The group-commit flusher, under [`Durability::GroupCommit`].
    group: Option<GroupCommit>,
    /// Serializes writes (read-check-write sequences and sequence numbers), and keeps flushes
    /// apart from writes: in sled 0.34 a flush concurrent with a transaction can deadlock.
    /// Holds the counters of the acknowledgement mark.
    writes: Arc<Mutex<Ledger>>,
    /// Acknowledged data found missing on open (under [`OnLoss::ReadOnly`] or
    /// [`OnLoss::Accept`]).
    loss: Option<DataLoss>,
    db: sled::Db,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

/// Locks the write lock. A panic while holding it leaves sled consistent and the ledger's
/// counters at most behind sled (the mark then claims less, never more), so a poisoned lock is
/// recovered.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Flushes sled and then records the flushed writes in the acknowledgement mark. Called with
/// the write lock held; no covered write is acknowledged before this returns.
pub(crate) fn flush_and_mark(db: &sled::Db, ledger: &mut Ledger) -> Result<(), String> {
    db.flush().map_err(|e| e.to_string())?;
    ledger
        .persist()
        .map_err(|e| format!("writing the acknowledgement mark: {e}"))
}

fn not_found(id: TaskId) -> StoreError {
    StoreError::new(
        StoreErrorKind::NotFound,
        format!("task {id} does not exist"),
    )
    .for_task(id)
}

fn without_messages(task: &Task) -> Task {
    let mut t = task.clone();
    t.result.messages = Vec::new();
    t
}

fn io_error(path: &Path, doing: &str, e: std::io::Error) -> StoreError {
    StoreError::new(
        StoreErrorKind::Unavailable,
        format!("{doing} {}: {e}", path.display()),
    )
    .with_source(e)
}

impl SledStore {
    /// Opens (or creates) the store in `config.path`.
    ///
    /// Fails with `Unavailable` naming the path when the directory cannot be created or is
    /// already open (sled holds an exclusive lock on it, in this process or another), and with
    /// `Incompatible` naming both versions when a newer drydock wrote it. Sets owner-only
    /// permissions on the directory and its files.
    pub fn open(config: SledConfig) -> StoreResult<Self> {
        let path = config.path;
        perms::create_private_dir(&path)
            .map_err(|e| io_error(&path, "creating the store directory", e))?;
        // No background flushing: every flush is ours, and none runs during a write (sled 0.34
        // can deadlock when a flush and a transaction meet). sled's recovery may panic on some
        // damaged files: that is reported as damage, not passed on.
        let opened = std::panic::catch_unwind(|| {
            sled::Config::new().path(&path).flush_every_ms(None).open()
        });
        let db = match opened {
            Ok(db) => {
                db.map_err(|e| sled_error(e, &format!("opening the store at {}", path.display())))?
            }
            Err(_) => {
                return Err(StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!(
                        "opening the store at {}: sled's recovery failed on damaged files",
                        path.display()
                    ),
                ));
            }
        };
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|e| sled_error(e, &format!("opening tree {name}")))
        };
        let trees = Trees {
            tasks: tree("tasks")?,
            messages: tree("messages")?,
            journal: tree("journal")?,
            designs: tree("designs")?,
            design_locks: tree("design_locks")?,
            build_data: tree("build_data")?,
            leases: tree("leases")?,
            meta: tree("meta")?,
            bootactions: tree("bootactions")?,
            bootaction_index: tree("bootaction_index")?,
        };
        check_format(&trees.meta, &path)?;
        let held = ack::scan(&trees.tasks, &trees.journal, &trees.messages, &trees.meta);
        let (mut ledger, missing) = ack::check(&path, held)?;
        let loss = (!missing.is_empty()).then(|| DataLoss {
            path: path.clone(),
            missing,
        });
        if let Some(loss) = &loss {
            match config.on_loss {
                OnLoss::Refuse => {
                    return Err(StoreError::new(StoreErrorKind::Corrupt, loss.to_string())
                        .with_source(loss.clone()));
                }
                OnLoss::ReadOnly => {
                    tracing::error!(%loss, "drydock sled store: opened read-only after a loss");
                    ledger.read_only = true;
                }
                OnLoss::Accept => {
                    tracing::error!(%loss, "drydock sled store: going on without lost data");
                }
            }
        }
        if !ledger.read_only {
            // What the store holds now (including writes that were in flight at a crash and
            // landed) becomes the acknowledged state.
            flush_and_mark(&db, &mut ledger).map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("opening the store at {}: {e}", path.display()),
                )
            })?;
        }
        perms::restrict_tree(&path)
            .map_err(|e| io_error(&path, "restricting permissions under", e))?;
        let writes = Arc::new(Mutex::new(ledger));
        let group = match config.durability {
            Durability::FlushEveryWrite => None,
            Durability::GroupCommit { max_delay_ms } => Some(
                GroupCommit::start(
                    db.clone(),
                    Arc::clone(&writes),
                    Duration::from_millis(max_delay_ms),
                )
                .map_err(|e| io_error(&path, "starting the flusher for", e))?,
            ),
        };
        Ok(SledStore {
            trees,
            path,
            durability: config.durability,
            group,
            writes,
            loss,
            db,
        })
    }

    /// Acknowledged data found missing when the store was opened with [`OnLoss::ReadOnly`] or
    /// [`OnLoss::Accept`]; `None` when nothing was missing.
    pub fn loss(&self) -> Option<&DataLoss> {
        self.loss.as_ref()
    }

    /// Whether the store was opened read-only ([`OnLoss::ReadOnly`] after a loss).
    pub fn is_read_only(&self) -> bool {
        lock(&self.writes).read_only
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn bootaction_tree(&self) -> &sled::Tree {
        &self.trees.bootactions
    }

    pub(crate) fn bootaction_index(&self) -> &sled::Tree {
        &self.trees.bootaction_index
    }

    /// Takes the write lock; fails when the store is read-only.
    pub(crate) fn write_lock(&self) -> StoreResult<MutexGuard<'_, Ledger>> {
        let w = lock(&self.writes);
        if w.read_only {
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                format!(
                    "the store at {} is open read-only: acknowledged data was found missing",
                    self.path.display()
                ),
            ));
        }
        Ok(w)
    }

    /// Counts a write made outside a transaction (after it, under the same lock).
    pub(crate) fn count(&self, w: &mut Ledger) -> StoreResult<()> {
        let n = w.next_write();
        self.trees
            .meta
            .insert(META_WRITES, &n.to_be_bytes())
            .map_err(|e| sled_error(e, "counting a write"))?;
        w.acks.writes = n;
        Ok(())
    }

    /// Waits until every write applied so far is on disk.
    async fn durable(&self) -> StoreResult<()> {
        if let Some(group) = &self.group {
            return group.wait_durable().await;
        }
        let (db, writes) = (self.db.clone(), Arc::clone(&self.writes));
        let flush = move || {
            let mut w = lock(&writes);
            flush_and_mark(&db, &mut w).map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("flushing the store: {e}"),
                )
            })
        };
        // The flush blocks on the disk: off the async workers when there is a Tokio runtime.
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle.spawn_blocking(flush).await.map_err(|e| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("flushing the store: {e}"),
                )
            })?,
            Err(_) => flush(),
        }
    }

    fn read_task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        let Some(bytes) = self
            .trees
            .tasks
            .get(task_key(id))
            .map_err(|e| sled_error(e, &format!("reading task {id}")))?
        else {
            return Ok(None);
        };
        let mut task: Task = decode(&bytes, &format!("task {id}"), Some(id))?;
        task.result.messages = self.read_messages(id)?;
        Ok(Some(task))
    }

    fn read_messages(&self, id: TaskId) -> StoreResult<Vec<TaskMessage>> {
        self.trees
            .messages
            .scan_prefix(task_key(id))
            .map(|item| {
                let (_, v) =
                    item.map_err(|e| sled_error(e, &format!("reading messages of {id}")))?;
                decode(&v, &format!("message of task {id}"), Some(id))
            })
            .collect()
    }

    fn task_exists(&self, id: TaskId) -> StoreResult<bool> {
        self.trees
            .tasks
            .contains_key(task_key(id))
            .map_err(|e| sled_error(e, &format!("reading task {id}")))
    }

    /// The next sequence number under `prefix` in `tree` (1 when empty).
    pub(crate) fn next_seq(tree: &sled::Tree, prefix: &[u8]) -> StoreResult<u64> {
        match tree.scan_prefix(prefix).next_back() {
            None => Ok(1),
            Some(item) => {
                let (key, _) = item.map_err(|e| sled_error(e, "reading the last sequence"))?;
                let seq = seq_of_key(&key).ok_or_else(|| {
                    StoreError::new(StoreErrorKind::Corrupt, "a sequence key is malformed")
                })?;
                Ok(seq + 1)
            }
        }
    }

    fn holder(&self, tree: &sled::Tree, key: &[u8], what: &str) -> StoreResult<Option<TaskId>> {
        tree.get(key)
            .map_err(|e| sled_error(e, &format!("reading {what}")))?
            .map(|v| decode(&v, what, None))
            .transpose()
    }

    fn create_now(&self, task: &Task) -> StoreResult<()> {
        let mut w = self.write_lock()?;
        let n = w.next_write();
        let gen_key = task_gen_key(task.id);
        let key = task_key(task.id);
        let record = encode(&without_messages(task));
        let messages: Vec<([u8; 24], Vec<u8>)> = task
            .result
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| (seq_key(task.id, i as u64 + 1), encode(m)))
            .collect();
        (&self.trees.tasks, &self.trees.messages, &self.trees.meta)
            .transaction(|(tasks, msgs, meta)| {
                if tasks.get(key)?.is_some() {
                    return Err(ConflictableTransactionError::Abort(
                        StoreError::new(
                            StoreErrorKind::AlreadyExists,
                            format!("task {} exists", task.id),
                        )
                        .for_task(task.id),
                    ));
                }
                tasks.insert(&key[..], record.as_slice())?;
                for (k, v) in &messages {
                    msgs.insert(&k[..], v.as_slice())?;
                }
                meta.insert(&gen_key[..], &n.to_be_bytes())?;
                meta.insert(META_WRITES, &n.to_be_bytes())?;
                Ok(())
            })
            .map_err(|e| tx_error(e, "creating a task"))?;
        w.acks.writes = n;
        let mark = TaskMark {
            record: n,
            journal: 0,
            messages: messages.len() as u64,
        };
        w.acks.tasks.insert(task.id, mark);
        Ok(())
    }

    fn update_now(&self, task: &Task) -> StoreResult<()> {
        let mut w = self.write_lock()?;
        if !self.task_exists(task.id)? {
            return Err(not_found(task.id));
        }
        let n = w.next_write();
        let (key, gen_key) = (task_key(task.id), task_gen_key(task.id));
        let value = encode(&without_messages(task));
        (&self.trees.tasks, &self.trees.meta)
            .transaction(|(tasks, meta)| {
                tasks.insert(&key[..], value.as_slice())?;
                meta.insert(&gen_key[..], &n.to_be_bytes())?;
                meta.insert(META_WRITES, &n.to_be_bytes())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| tx_error(e, &format!("updating task {}", task.id)))?;
        w.acks.writes = n;
        w.acks.tasks.entry(task.id).or_default().record = n;
        Ok(())
    }

    fn add_message_now(&self, id: TaskId, message: &TaskMessage) -> StoreResult<()> {
        let mut w = self.write_lock()?;
        if !self.task_exists(id)? {
            return Err(not_found(id));
        }
        let seq = Self::next_seq(&self.trees.messages, &task_key(id))?;
        self.trees
            .messages
            .insert(seq_key(id, seq), encode(message))
            .map_err(|e| sled_error(e, &format!("adding a message to task {id}")))?;
        self.count(&mut w)?;
        w.acks.tasks.entry(id).or_default().messages = seq;
        Ok(())
    }

    fn record_now(&self, entry: &JournalEntry, task: Option<&Task>) -> StoreResult<u64> {
        let mut w = self.write_lock()?;
        let id = entry.task;
        if !self.task_exists(id)? {
            return Err(not_found(id));
        }
        if task.is_some_and(|t| t.id != id) {
            return Err(StoreError::new(
                StoreErrorKind::Conflict,
                "journal entry and task update are for different tasks",
            )
            .for_task(id));
        }
        let seq = Self::next_seq(&self.trees.journal, &task_key(id))?;
        let entry_key = seq_key(id, seq);
        let entry_value = encode(entry);
        let task_value = task.map(|t| encode(&without_messages(t)));
        let key = task_key(id);
        let (n, gen_key) = (w.next_write(), task_gen_key(id));
        (&self.trees.tasks, &self.trees.journal, &self.trees.meta)
            .transaction(|(tasks, journal, meta)| {
                if tasks.get(key)?.is_none() {
                    return Err(ConflictableTransactionError::Abort(not_found(id)));
                }
                journal.insert(&entry_key[..], entry_value.as_slice())?;
                if let Some(v) = &task_value {
                    tasks.insert(&key[..], v.as_slice())?;
                    meta.insert(&gen_key[..], &n.to_be_bytes())?;
                }
                meta.insert(META_WRITES, &n.to_be_bytes())?;
                Ok(())
            })
            .map_err(|e| tx_error(e, &format!("journaling a step of task {id}")))?;
        w.acks.writes = n;
        let mark = w.acks.tasks.entry(id).or_default();
        mark.journal = seq;
        if task_value.is_some() {
            mark.record = n;
        }
        Ok(seq)
    }
}

/// Checks the store's format version, recording it in a new store.
fn check_format(meta: &sled::Tree, path: &Path) -> StoreResult<()> {
    let found = meta
        .get(META_FORMAT)
        .map_err(|e| sled_error(e, "reading the format version"))?;
    match found.as_deref() {
        None => {
            meta.insert(META_FORMAT, &[FORMAT_VERSION])
                .map_err(|e| sled_error(e, "recording the format version"))?;
            Ok(())
        }
        Some([v]) if *v <= FORMAT_VERSION => Ok(()),
        Some([v]) => Err(StoreError::new(
            StoreErrorKind::Incompatible,
            format!(
                "the store at {} has format version {v}; this drydock reads format versions up \
                 to {FORMAT_VERSION}: open it with a newer drydock",
                path.display()
            ),
        )),
        Some(other) => Err(StoreError::new(
            StoreErrorKind::Corrupt,
            format!(
                "the store at {} has a malformed format version ({} bytes)",
                path.display(),
                other.len()
            ),
        )),
    }
}

#[async_trait]
impl Store for SledStore {
    fn exclusive_to_process(&self) -> bool {
        true
    }

    async fn create_task(&self, task: &Task) -> StoreResult<()> {
        self.create_now(task)?;
        self.durable().await
    }

    async fn update_task(&self, task: &Task) -> StoreResult<()> {
        self.update_now(task)?;
        self.durable().await
    }

    async fn get_task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        self.read_task(id)
    }

    /// Damaged tasks (a task or one of its messages that does not decode) are left out of the
    /// listing and logged at error level naming the task, so one damaged record cannot stop an
    /// orchestrator from resuming the others; [`SledStore::check`] lists them.
    async fn list_tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        let mut out = Vec::new();
        for item in self.trees.tasks.iter() {
            let (key, _) = item.map_err(|e| sled_error(e, "listing tasks"))?;
            let Some(id) = task_of_key(&key) else {
                tracing::error!(key = ?key, "drydock sled store: a task key is malformed");
                continue;
            };
            let task = match self.read_task(id) {
                Ok(Some(task)) => task,
                Ok(None) => continue, // deleted since the iteration began
                Err(e) if e.kind == StoreErrorKind::Corrupt => {
                    tracing::error!(task = %id, error = %e, "drydock sled store: listing skips a damaged task");
                    continue;
                }
                Err(e) => return Err(e),
            };
            if (query.statuses.is_empty() || query.statuses.contains(&task.status))
                && query
                    .created_after
                    .is_none_or(|after| task.created >= after)
                && (!query.top_level_only || task.parent.is_none())
            {
                out.push(task);
            }
        }
        out.sort_by_key(|t| (t.created, t.id));
        Ok(out)
    }

    /// Each task goes in one transaction with its journal, messages, build data, leases and
    /// design locks. Then the store is flushed and its files' permissions tightened again; sled
    /// reclaims the freed space in the background (0.34 has no explicit compaction call).
    async fn put_bootactions(
        &self,
        records: &[BootActionRecord],
    ) -> StoreResult<Vec<BootActionRecord>> {
        let stored = self.put_bootactions_now(records)?;
        self.durable().await?;
        Ok(stored)
    }

    async fn get_bootaction(&self, id: ActionId) -> StoreResult<Option<BootActionRecord>> {
        self.get_bootaction_now(id)
    }

    async fn bootactions_for_node(&self, node: &str) -> StoreResult<Vec<BootActionRecord>> {
        self.bootactions_of_node(node)
    }

    async fn set_bootaction_status(
        &self,
        id: ActionId,
        status: BootActionStatus,
        details: &[BootActionDetail],
    ) -> StoreResult<BootActionRecord> {
        let record = self.set_bootaction_status_now(id, status, details)?;
        self.durable().await?;
        Ok(record)
    }

    async fn delete_tasks_before(&self, cutoff: DateTime<Utc>) -> StoreResult<usize> {
        let deleted = self.delete_now(cutoff)?;
        self.durable().await?;
        perms::restrict_tree(&self.path)
            .map_err(|e| io_error(&self.path, "restricting permissions under", e))?;
        Ok(deleted)
    }

    async fn add_message(&self, task: TaskId, message: &TaskMessage) -> StoreResult<()> {
        self.add_message_now(task, message)?;
        self.durable().await
    }

    async fn record_step(&self, entry: &JournalEntry, task: Option<&Task>) -> StoreResult<u64> {
        let seq = self.record_now(entry, task)?;
        self.durable().await?;
        Ok(seq)
    }

    async fn journal(&self, task: TaskId) -> StoreResult<Vec<JournalEntry>> {
        self.trees
            .journal
            .scan_prefix(task_key(task))
            .map(|item| {
                let (_, v) =
                    item.map_err(|e| sled_error(e, &format!("reading the journal of {task}")))?;
                decode(&v, &format!("journal entry of task {task}"), Some(task))
            })
            .collect()
    }

    async fn put_design(&self, design: &DesignSnapshot) -> StoreResult<()> {
        // Content-addressed: an existing snapshot with this id is the same one; keep it.
        {
            let mut w = self.write_lock()?;
            let _ = self
                .trees
                .designs
                .compare_and_swap(design.id.0.as_bytes(), None::<&[u8]>, Some(encode(design)))
                .map_err(|e| sled_error(e, &format!("storing design {}", design.id)))?;
            self.count(&mut w)?;
        }
        self.durable().await
    }

    async fn get_design(&self, id: &DesignId) -> StoreResult<Option<DesignSnapshot>> {
        self.trees
            .designs
            .get(id.0.as_bytes())
            .map_err(|e| sled_error(e, &format!("reading design {id}")))?
            .map(|v| decode(&v, &format!("design {id}"), None))
            .transpose()
    }

    async fn lock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()> {
        {
            let mut w = self.write_lock()?;
            let exists = self
                .trees
                .designs
                .contains_key(id.0.as_bytes())
                .map_err(|e| sled_error(e, &format!("reading design {id}")))?;
            if !exists {
                return Err(StoreError::new(
                    StoreErrorKind::NotFound,
                    format!("design {id} does not exist"),
                ));
            }
            let what = format!("the lock of design {id}");
            match self.holder(&self.trees.design_locks, id.0.as_bytes(), &what)? {
                Some(h) if h != holder => {
                    return Err(StoreError::new(
                        StoreErrorKind::Conflict,
                        format!("design {id} is locked by task {h}"),
                    )
                    .for_task(holder));
                }
                Some(_) => return Ok(()),
                None => {
                    self.trees
                        .design_locks
                        .insert(id.0.as_bytes(), encode(&holder))
                        .map_err(|e| sled_error(e, &format!("locking design {id}")))?;
                    self.count(&mut w)?;
                }
            }
        }
        self.durable().await
    }

    async fn unlock_design(&self, id: &DesignId, holder: TaskId) -> StoreResult<()> {
        {
            let mut w = self.write_lock()?;
            let what = format!("the lock of design {id}");
            if self.holder(&self.trees.design_locks, id.0.as_bytes(), &what)? != Some(holder) {
                return Ok(());
            }
            self.trees
                .design_locks
                .remove(id.0.as_bytes())
                .map_err(|e| sled_error(e, &format!("unlocking design {id}")))?;
            self.count(&mut w)?;
        }
        self.durable().await
    }

    async fn design_lock(&self, id: &DesignId) -> StoreResult<Option<TaskId>> {
        let what = format!("the lock of design {id}");
        self.holder(&self.trees.design_locks, id.0.as_bytes(), &what)
    }

    async fn put_build_data(&self, record: &BuildDataRecord) -> StoreResult<()> {
        {
            let mut w = self.write_lock()?;
            let mut key = node_prefix(&record.node);
            let seq = Self::next_seq(&self.trees.build_data, &key)?;
            key.extend_from_slice(&seq.to_be_bytes());
            self.trees
                .build_data
                .insert(key, encode(record))
                .map_err(|e| sled_error(e, &format!("storing build data of {}", record.node)))?;
            self.count(&mut w)?;
        }
        self.durable().await
    }

    async fn build_data(&self, node: &str) -> StoreResult<Vec<BuildDataRecord>> {
        self.trees
            .build_data
            .scan_prefix(node_prefix(node))
            .map(|item| {
                let (_, v) =
                    item.map_err(|e| sled_error(e, &format!("reading build data of {node}")))?;
                decode(&v, &format!("build data of node {node}"), None)
            })
            .collect()
    }

    async fn acquire_node(&self, node: &str, task: TaskId) -> StoreResult<LeaseOutcome> {
        {
            let mut w = self.write_lock()?;
            let what = format!("the lease of node {node}");
            match self.holder(&self.trees.leases, node.as_bytes(), &what)? {
                Some(h) if h != task => return Ok(LeaseOutcome::HeldBy(h)),
                Some(_) => return Ok(LeaseOutcome::Acquired),
                None => {
                    self.trees
                        .leases
                        .insert(node.as_bytes(), encode(&task))
                        .map_err(|e| sled_error(e, &format!("leasing node {node}")))?;
                    self.count(&mut w)?;
                }
            }
        }
        self.durable().await?;
        Ok(LeaseOutcome::Acquired)
    }

    async fn acquire_nodes(
        &self,
        nodes: &[String],
        task: TaskId,
    ) -> StoreResult<Option<(String, TaskId)>> {
        {
            let mut w = self.write_lock()?;
            for n in nodes {
                match self.holder(
                    &self.trees.leases,
                    n.as_bytes(),
                    &format!("the lease of node {n}"),
                )? {
                    Some(h) if h != task => return Ok(Some((n.clone(), h))),
                    _ => {}
                }
            }
            let value = encode(&task);
            let mut batch = sled::Batch::default();
            for n in nodes {
                batch.insert(n.as_bytes(), value.as_slice());
            }
            self.trees
                .leases
                .apply_batch(batch)
                .map_err(|e| sled_error(e, "leasing nodes"))?;
            self.count(&mut w)?;
        }
        self.durable().await?;
        Ok(None)
    }

    async fn release_nodes(&self, task: TaskId) -> StoreResult<()> {
        {
            let mut w = self.write_lock()?;
            let mut batch = sled::Batch::default();
            for item in self.trees.leases.iter() {
                let (key, value) = item.map_err(|e| sled_error(e, "reading leases"))?;
                if decode::<TaskId>(&value, "a lease", None).ok() == Some(task) {
                    batch.remove(key);
                }
            }
            self.trees
                .leases
                .apply_batch(batch)
                .map_err(|e| sled_error(e, &format!("releasing the nodes of task {task}")))?;
            self.count(&mut w)?;
        }
        self.durable().await
    }
}

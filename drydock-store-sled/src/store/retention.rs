//! Reading everything back ([`SledStore::check`]) and retention ([`SledStore::delete_now`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use drydock_core::store::{BuildDataRecord, JournalEntry, StoreError, StoreResult};
use drydock_core::task::{Task, TaskId, TaskMessage};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::SledStore;
use crate::ack::{META_WRITES, task_gen_key};
use crate::codec::{decode, sled_error, task_key, task_of_key, tx_error};

impl SledStore {
    /// Reads every task, message and journal entry, and returns an error for each record that
    /// does not decode (each naming its task). Empty when the store is sound.
    ///
    /// [`Store::list_tasks`](drydock_core::store::Store::list_tasks) skips damaged tasks (logging each); this is how to find them.
    pub fn check(&self) -> Vec<StoreError> {
        let mut errors = Vec::new();
        type Check = fn(&[u8], &str, Option<TaskId>) -> StoreResult<()>;
        let checks: [(&sled::Tree, &str, Check); 3] = [
            (&self.trees.tasks, "task", |v, l, t| {
                decode::<Task>(v, l, t).map(drop)
            }),
            (&self.trees.messages, "message", |v, l, t| {
                decode::<TaskMessage>(v, l, t).map(drop)
            }),
            (&self.trees.journal, "journal entry", |v, l, t| {
                decode::<JournalEntry>(v, l, t).map(drop)
            }),
        ];
        for (tree, what, check) in checks {
            for item in tree.iter() {
                let (key, value) = match item {
                    Ok(kv) => kv,
                    Err(e) => {
                        errors.push(sled_error(e, &format!("reading {what}s")));
                        continue;
                    }
                };
                let task = task_of_key(&key);
                let label = match task {
                    Some(t) => format!("{what} of task {t}"),
                    None => format!("{what} with a malformed key"),
                };
                if let Err(e) = check(&value, &label, task) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    pub(super) fn delete_now(&self, cutoff: DateTime<Utc>) -> StoreResult<usize> {
        let mut w = self.write_lock()?;
        let t = &self.trees;
        let mut old = HashSet::new();
        for item in t.tasks.iter() {
            let (key, value) = item.map_err(|e| sled_error(e, "reading tasks"))?;
            let Some(id) = task_of_key(&key) else {
                continue;
            };
            match decode::<Task>(&value, &format!("task {id}"), Some(id)) {
                Ok(task) if task.created < cutoff => {
                    old.insert(id);
                }
                Ok(_) => {}
                // Its age is unknown: keep it, and say so.
                Err(e) => tracing::error!(task = %id, error = %e, "retention skips a damaged task"),
            }
        }
        self.delete_bootactions_of(&old)?;
        self.count(&mut w)?;
        // Records held by old tasks, found by value: design locks, leases, build data.
        let mut held: HashMap<TaskId, Vec<(usize, sled::IVec)>> = HashMap::new();
        for (index, tree) in [(0, &t.design_locks), (1, &t.leases)] {
            for item in tree.iter() {
                let (key, value) = item.map_err(|e| sled_error(e, "reading holders"))?;
                if let Ok(holder) = decode::<TaskId>(&value, "holder", None)
                    && old.contains(&holder)
                {
                    held.entry(holder).or_default().push((index, key));
                }
            }
        }
        for item in t.build_data.iter() {
            let (key, value) = item.map_err(|e| sled_error(e, "reading build data"))?;
            if let Ok(record) = decode::<BuildDataRecord>(&value, "build data", None)
                && old.contains(&record.task)
            {
                held.entry(record.task).or_default().push((2, key));
            }
        }
        for id in &old {
            let prefix = task_key(*id);
            let scan = |tree: &sled::Tree| -> StoreResult<Vec<sled::IVec>> {
                tree.scan_prefix(prefix)
                    .keys()
                    .collect::<Result<_, _>>()
                    .map_err(|e| sled_error(e, &format!("reading records of task {id}")))
            };
            let journal = scan(&t.journal)?;
            let messages = scan(&t.messages)?;
            let others = held.remove(id).unwrap_or_default();
            let (n, gen_key) = (w.next_write(), task_gen_key(*id));
            // One transaction per task: a crash leaves each task whole or gone.
            (
                &t.tasks,
                &t.journal,
                &t.messages,
                &t.design_locks,
                &t.leases,
                &t.build_data,
                &t.meta,
            )
                .transaction(|(tasks, jt, mt, locks, leases, build, meta)| {
                    for k in &journal {
                        jt.remove(k)?;
                    }
                    for k in &messages {
                        mt.remove(k)?;
                    }
                    for (index, k) in &others {
                        [locks, leases, build][*index].remove(k)?;
                    }
                    tasks.remove(&prefix[..])?;
                    meta.remove(&gen_key[..])?;
                    meta.insert(META_WRITES, &n.to_be_bytes())?;
                    Ok::<_, ConflictableTransactionError<StoreError>>(())
                })
                .map_err(|e| tx_error(e, &format!("deleting task {id}")))?;
            w.acks.writes = n;
            w.acks.tasks.remove(id);
        }
        Ok(old.len())
    }
}

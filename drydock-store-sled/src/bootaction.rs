//! Boot action records: one tree keyed by action id, and a per-node index in insertion order.

use std::collections::HashSet;

use drydock_core::bootaction::{ActionId, BootActionDetail, BootActionRecord, BootActionStatus};
use drydock_core::store::{StoreError, StoreErrorKind, StoreResult};
use drydock_core::task::TaskId;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use crate::codec::{decode, encode, node_prefix, sled_error, tx_error};
use crate::store::SledStore;

fn action_key(id: ActionId) -> [u8; 16] {
    id.0.0.to_be_bytes()
}

impl SledStore {
    fn read_action(&self, key: &[u8]) -> StoreResult<Option<BootActionRecord>> {
        self.bootaction_tree()
            .get(key)
            .map_err(|e| sled_error(e, "reading a boot action"))?
            .map(|v| decode::<BootActionRecord>(&v, "boot action record", None))
            .transpose()
    }

    /// Records of `node`, oldest first.
    pub(crate) fn bootactions_of_node(&self, node: &str) -> StoreResult<Vec<BootActionRecord>> {
        let mut out = Vec::new();
        for item in self.bootaction_index().scan_prefix(node_prefix(node)) {
            let (_, id) =
                item.map_err(|e| sled_error(e, &format!("reading boot actions of {node}")))?;
            if let Some(r) = self.read_action(&id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Stores a node's records for a task once; returns the stored ones.
    pub(crate) fn put_bootactions_now(
        &self,
        records: &[BootActionRecord],
    ) -> StoreResult<Vec<BootActionRecord>> {
        let Some(first) = BootActionRecord::check_batch(records)? else {
            return Ok(Vec::new());
        };
        let mut w = self.write_lock()?;
        let existing: Vec<BootActionRecord> = self
            .bootactions_of_node(&first.node)?
            .into_iter()
            .filter(|r| r.task == first.task)
            .collect();
        if !existing.is_empty() {
            return Ok(existing);
        }
        for r in records {
            if self.read_action(&action_key(r.action_id))?.is_some() {
                return Err(StoreError::new(
                    StoreErrorKind::AlreadyExists,
                    format!("boot action {} exists", r.action_id),
                ));
            }
        }
        let prefix = node_prefix(&first.node);
        let first_seq = Self::next_seq(self.bootaction_index(), &prefix)?;
        let entries: Vec<(Vec<u8>, [u8; 16], Vec<u8>)> = (first_seq..)
            .zip(records)
            .map(|(seq, r)| {
                let mut index_key = prefix.clone();
                index_key.extend_from_slice(&seq.to_be_bytes());
                (index_key, action_key(r.action_id), encode(r))
            })
            .collect();
        (self.bootaction_tree(), self.bootaction_index())
            .transaction(|(records_tree, index)| {
                for (index_key, key, value) in &entries {
                    records_tree.insert(&key[..], value.as_slice())?;
                    index.insert(index_key.as_slice(), &key[..])?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| tx_error(e, &format!("storing boot actions of {}", first.node)))?;
        self.count(&mut w)?;
        Ok(records.to_vec())
    }

    /// Changes a record's status unless it is final.
    pub(crate) fn set_bootaction_status_now(
        &self,
        id: ActionId,
        status: BootActionStatus,
        details: &[BootActionDetail],
    ) -> StoreResult<BootActionRecord> {
        let mut w = self.write_lock()?;
        let key = action_key(id);
        let Some(mut record) = self.read_action(&key)? else {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                format!("boot action {id} does not exist"),
            ));
        };
        record.apply_status(status, details)?;
        self.bootaction_tree()
            .insert(key, encode(&record))
            .map_err(|e| sled_error(e, &format!("updating boot action {id}")))?;
        self.count(&mut w)?;
        Ok(record)
    }

    /// A boot action record.
    pub(crate) fn get_bootaction_now(&self, id: ActionId) -> StoreResult<Option<BootActionRecord>> {
        self.read_action(&action_key(id))
    }

    /// Removes the boot action records of `tasks` (before the tasks themselves, so that a crash
    /// never leaves records of a deleted task).
    pub(crate) fn delete_bootactions_of(&self, tasks: &HashSet<TaskId>) -> StoreResult<()> {
        let mut doomed = Vec::new();
        for item in self.bootaction_index().iter() {
            let (index_key, id) =
                item.map_err(|e| sled_error(e, "reading the boot action index"))?;
            match self.read_action(&id) {
                Ok(Some(r)) if tasks.contains(&r.task) => doomed.push((index_key, id)),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "retention skips a damaged boot action record")
                }
            }
        }
        (self.bootaction_tree(), self.bootaction_index())
            .transaction(|(records_tree, index)| {
                for (index_key, id) in &doomed {
                    records_tree.remove(id)?;
                    index.remove(index_key)?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| tx_error(e, "deleting boot actions"))
    }
}

//! Record encoding, keys, and the one mapping from sled errors to [`StoreError`].
//!
//! Every value is one format-version byte followed by the record in JSON. Keys sort by owner and
//! time: a task's journal entries and messages are keyed by the task id's 16 bytes followed by
//! the big-endian sequence number, so a prefix scan reads them in order.

use drydock_core::store::{StoreError, StoreErrorKind};
use drydock_core::task::TaskId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::TransactionError;

/// The format this crate writes and the newest it reads.
pub(crate) const FORMAT_VERSION: u8 = 1;

/// Meta key of the store's format version (one byte).
pub(crate) const META_FORMAT: &[u8] = b"format_version";

/// Encodes a record: the format version byte, then JSON.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    // Serializing the store's own types to JSON cannot fail: they hold no maps with non-string
    // keys and no custom serializers that error.
    serde_json::to_writer(&mut out, value).expect("store records serialize to JSON");
    out
}

/// Decodes a record written by [`encode`]; `what` names it in errors, `task` is the task it
/// belongs to when known.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    task: Option<TaskId>,
) -> Result<T, StoreError> {
    let attach = |e: StoreError| match task {
        Some(t) => e.for_task(t),
        None => e,
    };
    let Some((&version, body)) = bytes.split_first() else {
        return Err(attach(StoreError::new(
            StoreErrorKind::Corrupt,
            format!("{what}: empty record"),
        )));
    };
    if version > FORMAT_VERSION {
        return Err(attach(StoreError::new(
            StoreErrorKind::Incompatible,
            format!(
                "{what}: record format version {version} is newer than {FORMAT_VERSION}, \
                 the newest this drydock reads"
            ),
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        attach(
            StoreError::new(
                StoreErrorKind::Corrupt,
                format!("{what}: record does not decode: {e}"),
            )
            .with_source(e),
        )
    })
}

/// The key of a task record, and the prefix of its journal entries and messages.
pub(crate) fn task_key(id: TaskId) -> [u8; 16] {
    *id.0.as_bytes()
}

/// The task a task-prefixed key belongs to.
pub(crate) fn task_of_key(key: &[u8]) -> Option<TaskId> {
    let bytes: [u8; 16] = key.get(..16)?.try_into().ok()?;
    Some(TaskId(uuid::Uuid::from_bytes(bytes)))
}

/// A task's record key followed by a big-endian sequence number.
pub(crate) fn seq_key(id: TaskId, seq: u64) -> [u8; 24] {
    let mut key = [0; 24];
    key[..16].copy_from_slice(&task_key(id));
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The sequence number at the end of a [`seq_key`]-shaped key.
pub(crate) fn seq_of_key(key: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// The prefix of a node's build data: the name's length (big-endian u32), then the name, so that
/// no node's prefix is a prefix of another's.
pub(crate) fn node_prefix(node: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(4 + node.len() + 8);
    key.extend_from_slice(&(node.len() as u32).to_be_bytes());
    key.extend_from_slice(node.as_bytes());
    key
}

/// Maps a sled error to the store's classified error; `doing` says what the store was doing.
///
/// This is the only place sled errors are translated.
pub(crate) fn sled_error(e: sled::Error, doing: &str) -> StoreError {
    let kind = match &e {
        sled::Error::Corruption { .. } => StoreErrorKind::Corrupt,
        sled::Error::Io(_)
        | sled::Error::CollectionNotFound(_)
        | sled::Error::Unsupported(_)
        | sled::Error::ReportableBug(_) => StoreErrorKind::Unavailable,
    };
    // sled reports a directory whose lock another open store holds as a plain I/O error.
    let locked =
        matches!(&e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"));
    let message = if locked {
        format!(
            "{doing}: the directory is in use by another open store (in this or another process): {e}"
        )
    } else {
        format!("{doing}: {e}")
    };
    StoreError::new(kind, message).with_source(e)
}

/// Unwraps a transaction's result: an abort carries the store error the transaction raised.
pub(crate) fn tx_error(e: TransactionError<StoreError>, doing: &str) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => sled_error(e, doing),
    }
}

//! The acknowledgement mark: an independent, durable record of what the store acknowledged, so
//! that a store which comes back from damage with acknowledged writes gone is never used as if
//! nothing happened.
//!
//! sled's recovery keeps the log up to its first damaged record and drops the rest, so a
//! damaged store opens without complaint with whole records missing; checksums on records
//! cannot see a record that is not there. The store therefore keeps, next to sled's files, a
//! small mark of what it acknowledged:
//!
//! * a store-wide **write counter**, bumped by every write and kept in sled's `meta` tree with
//!   the write;
//! * per task, the counter value of its **last task-record write** (also kept in `meta`, in the
//!   same transaction as the record), its highest **journal** sequence number and its highest
//!   **message** sequence number.
//!
//! Every flush that makes writes durable is followed, before any of them is acknowledged, by
//! writing the mark to the older of two slot files (`ack.0`, `ack.1`) and syncing it. Each slot
//! carries a generation number and a CRC-32 of its content; a torn or damaged slot is ignored
//! and the other one used (it is at most one flush older, so it claims less, never more).
//!
//! On open the store reads every task, journal entry and message and compares what it holds
//! against the newest valid mark. Everything in sled only grows (a write in flight at a crash
//! may make sled hold *more* than the mark), so any component below the mark is acknowledged
//! data that is gone.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use drydock_core::store::{StoreError, StoreErrorKind};
use drydock_core::task::TaskId;

use crate::codec::{seq_of_key, task_of_key};

/// Meta key of the store-wide write counter (u64, big-endian).
pub(crate) const META_WRITES: &[u8] = b"write_seq";
/// Prefix of the meta key holding a task's last record write (`t` ++ task id → u64 BE).
pub(crate) const META_TASK_GEN: u8 = b't';

const SLOTS: [&str; 2] = ["ack.0", "ack.1"];
const MAGIC: &[u8; 8] = b"DDACK\x00\x00\x01";
/// Bytes per task in a slot: id, record write, journal, messages.
const ENTRY: usize = 16 + 8 + 8 + 8;
const HEADER: usize = 8 + 8 + 8 + 4;

/// The meta key of `task`'s last record write.
pub(crate) fn task_gen_key(task: TaskId) -> [u8; 17] {
    let mut key = [0; 17];
    key[0] = META_TASK_GEN;
    key[1..].copy_from_slice(task.0.as_bytes());
    key
}

/// What one task has had acknowledged (or, read from sled, holds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskMark {
    /// Write counter value of the task record's last write (0 for a store older than marks).
    pub(crate) record: u64,
    /// Highest journal sequence number (0: none).
    pub(crate) journal: u64,
    /// Highest message sequence number (0: none).
    pub(crate) messages: u64,
}

/// Store-wide and per-task counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Acks {
    /// The write counter.
    pub(crate) writes: u64,
    /// Tasks that exist.
    pub(crate) tasks: HashMap<TaskId, TaskMark>,
}

/// State kept under the store's write lock: the counters of every applied write, and the mark
/// file that records them once durable.
#[derive(Debug)]
pub(crate) struct Ledger {
    /// Counters of every write applied so far (durable or not).
    pub(crate) acks: Acks,
    /// Set when the store was opened read-only after a detected loss.
    pub(crate) read_only: bool,
    dir: PathBuf,
    /// Generation of the newest slot written and its index.
    generation: u64,
    slot: usize,
    /// The write counter the newest slot records.
    marked: Option<u64>,
    /// Each slot's file, kept open once written (its directory entry then synced), with the
    /// length last written.
    files: [Option<(File, u64)>; 2],
}

impl Ledger {
    /// The next write counter value (not yet applied).
    pub(crate) fn next_write(&self) -> u64 {
        self.acks.writes + 1
    }

    /// Records that the sled writes up to `writes` are durable: writes the mark (if anything
    /// changed since the last one) and syncs it. Called after a successful flush, under the
    /// write lock, before any covered write is acknowledged.
    pub(crate) fn persist(&mut self) -> io::Result<()> {
        if self.read_only || self.marked == Some(self.acks.writes) {
            return Ok(());
        }
        let slot = 1 - self.slot;
        let generation = self.generation + 1;
        let bytes = encode_slot(generation, &self.acks);
        let (file, len) = match &mut self.files[slot] {
            Some(open) => open,
            none => {
                let file = open_slot(&self.dir.join(SLOTS[slot]))?;
                // The slot file may be new: make its directory entry durable too.
                File::open(&self.dir)?.sync_all()?;
                none.insert((file, u64::MAX))
            }
        };
        write_slot(file, &bytes, *len)?;
        *len = bytes.len() as u64;
        (self.generation, self.slot, self.marked) = (generation, slot, Some(self.acks.writes));
        Ok(())
    }
}

fn encode_slot(generation: u64, acks: &Acks) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + acks.tasks.len() * ENTRY + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&generation.to_be_bytes());
    out.extend_from_slice(&acks.writes.to_be_bytes());
    out.extend_from_slice(&(acks.tasks.len() as u32).to_be_bytes());
    for (id, m) in &acks.tasks {
        out.extend_from_slice(id.0.as_bytes());
        out.extend_from_slice(&m.record.to_be_bytes());
        out.extend_from_slice(&m.journal.to_be_bytes());
        out.extend_from_slice(&m.messages.to_be_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Decodes a slot; `None` when it is torn or damaged.
fn decode_slot(bytes: &[u8]) -> Option<(u64, Acks)> {
    let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if crc32fast::hash(body) != u32::from_be_bytes(crc.try_into().ok()?) || body.len() < HEADER {
        return None;
    }
    if &body[..8] != MAGIC {
        return None;
    }
    let generation = u64_at(body, 8);
    let writes = u64_at(body, 16);
    let count = u32::from_be_bytes(body[24..28].try_into().ok()?) as usize;
    if body.len() != HEADER + count.checked_mul(ENTRY)? {
        return None;
    }
    let mut tasks = HashMap::with_capacity(count);
    for e in body[HEADER..].chunks_exact(ENTRY) {
        let id = TaskId(uuid::Uuid::from_bytes(e[..16].try_into().ok()?));
        let mark = TaskMark {
            record: u64_at(e, 16),
            journal: u64_at(e, 24),
            messages: u64_at(e, 32),
        };
        tasks.insert(id, mark);
    }
    Some((generation, Acks { writes, tasks }))
}

fn open_slot(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Overwrites a slot in place and syncs its data; `old_len` is the length last written (the
/// file is cut only when it shrinks, so a same-size mark costs one data write and sync).
fn write_slot(file: &mut File, bytes: &[u8], old_len: u64) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)?;
    if old_len != bytes.len() as u64 {
        file.set_len(bytes.len() as u64)?;
    }
    file.sync_data()
}

/// What the slot files hold.
enum MarkRead {
    /// Neither slot file exists.
    Absent,
    /// At least one exists, none is valid.
    Damaged,
    /// The newest valid slot: its generation, index and content.
    Found(u64, usize, Acks),
}

fn read_mark(dir: &Path) -> io::Result<MarkRead> {
    let mut any = false;
    let mut best: Option<(u64, usize, Acks)> = None;
    for (i, name) in SLOTS.iter().enumerate() {
        let mut bytes = Vec::new();
        match File::open(dir.join(name)) {
            Ok(mut f) => {
                any = true;
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
        if let Some((generation, acks)) = decode_slot(&bytes)
            && best.as_ref().is_none_or(|b| generation > b.0)
        {
            best = Some((generation, i, acks));
        }
    }
    Ok(match best {
        Some((g, i, a)) => MarkRead::Found(g, i, a),
        None if any => MarkRead::Damaged,
        None => MarkRead::Absent,
    })
}

/// One acknowledged thing a damaged store no longer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Missing {
    /// The mark is gone while the store holds data written under marks: what was acknowledged
    /// cannot be known.
    MarkMissing,
    /// Both slots of the mark are damaged.
    MarkUnreadable,
    /// The store-wide write counter is behind: writes (of any kind: tasks, designs, locks,
    /// leases, build data, boot actions) were lost.
    Writes {
        /// Writes acknowledged.
        acknowledged: u64,
        /// Writes the store holds.
        found: u64,
    },
    /// A whole task is gone (its journal and messages with it).
    Task(TaskId),
    /// A task's record is older than its last acknowledged update (e.g. `Running` again).
    TaskUpdate {
        /// The task.
        task: TaskId,
        /// Write number of the last acknowledged update.
        acknowledged: u64,
        /// Write number of the record found.
        found: u64,
    },
    /// Journal entries `found + 1 ..= acknowledged` of a task are gone.
    Journal {
        /// The task.
        task: TaskId,
        /// Highest acknowledged sequence number.
        acknowledged: u64,
        /// Highest sequence number found.
        found: u64,
    },
    /// Messages `found + 1 ..= acknowledged` of a task are gone.
    Messages {
        /// The task.
        task: TaskId,
        /// Highest acknowledged sequence number.
        acknowledged: u64,
        /// Highest sequence number found.
        found: u64,
    },
    /// A task deleted by retention (acknowledged) is back.
    DeletionUndone(TaskId),
    /// A tree (or the write counter) cannot be read.
    Unreadable {
        /// What could not be read.
        what: String,
        /// The task it belongs to, when known.
        task: Option<TaskId>,
        /// Why.
        error: String,
    },
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::MarkMissing => f.write_str(
                "the acknowledgement mark (ack.0, ack.1) is missing, so what was acknowledged is unknown",
            ),
            Missing::MarkUnreadable => {
                f.write_str("both slots of the acknowledgement mark (ack.0, ack.1) are damaged")
            }
            Missing::Writes {
                acknowledged,
                found,
            } => write!(
                f,
                "{} acknowledged write(s) are gone (acknowledged up to write {acknowledged}, the \
                 store holds up to {found})",
                acknowledged - found
            ),
            Missing::Task(t) => write!(f, "task {t} is gone with its journal and messages"),
            Missing::TaskUpdate {
                task,
                acknowledged,
                found,
            } => write!(
                f,
                "task {task} is older than acknowledged (its update at write {acknowledged} is \
                 gone; the record found is from write {found})"
            ),
            Missing::Journal {
                task,
                acknowledged,
                found,
            } => write!(
                f,
                "journal entries {}..={acknowledged} of task {task} are gone",
                found + 1
            ),
            Missing::Messages {
                task,
                acknowledged,
                found,
            } => write!(
                f,
                "messages {}..={acknowledged} of task {task} are gone",
                found + 1
            ),
            Missing::DeletionUndone(t) => {
                write!(f, "task {t} was deleted (acknowledged) and is back")
            }
            Missing::Unreadable { what, error, .. } => write!(f, "{what} cannot be read: {error}"),
        }
    }
}

/// Acknowledged data a store no longer holds, found when it was opened.
///
/// Opening such a store fails (under [`OnLoss::Refuse`](crate::OnLoss::Refuse), the default)
/// with a [`StoreError`] of kind `Corrupt` whose source is this report; get it back with
/// [`DataLoss::of`]. [`SledStore::loss`](crate::SledStore::loss) gives it for a store opened
/// with [`OnLoss::ReadOnly`](crate::OnLoss::ReadOnly) or
/// [`OnLoss::Accept`](crate::OnLoss::Accept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLoss {
    /// The store's directory.
    pub path: PathBuf,
    /// What is gone, task by task.
    pub missing: Vec<Missing>,
}

impl DataLoss {
    /// The report carried by an error of [`SledStore::open`](crate::SledStore::open).
    pub fn of(error: &StoreError) -> Option<&DataLoss> {
        error.source.as_deref()?.downcast_ref::<DataLoss>()
    }

    /// The tasks named in the report.
    pub fn tasks(&self) -> Vec<TaskId> {
        let mut out: Vec<TaskId> = self
            .missing
            .iter()
            .filter_map(|m| match m {
                Missing::Task(t) | Missing::DeletionUndone(t) => Some(*t),
                Missing::TaskUpdate { task, .. }
                | Missing::Journal { task, .. }
                | Missing::Messages { task, .. } => Some(*task),
                Missing::Unreadable { task, .. } => *task,
                _ => None,
            })
            .collect();
        out.sort_by_key(|t| t.0);
        out.dedup();
        out
    }
}

/// At most this many items are spelled out in the message (all are in [`DataLoss::missing`]).
const SHOWN: usize = 20;

impl fmt::Display for DataLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the store at {} has lost acknowledged data: ",
            self.path.display()
        )?;
        for (i, m) in self.missing.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{m}")?;
        }
        if self.missing.len() > SHOWN {
            write!(f, "; and {} more", self.missing.len() - SHOWN)?;
        }
        f.write_str(
            ". Open it with OnLoss::ReadOnly to export what is left, or with OnLoss::Accept to \
             go on without the lost data",
        )
    }
}

impl std::error::Error for DataLoss {}

/// What sled holds, read on open.
pub(crate) struct Held {
    pub(crate) acks: Acks,
    /// Trees sled cannot read.
    pub(crate) unreadable: Vec<Missing>,
    /// Whether the meta tree holds a write counter or any task's record write.
    pub(crate) marked_format: bool,
}

fn unreadable(what: String, task: Option<TaskId>, error: impl fmt::Display) -> Missing {
    Missing::Unreadable {
        what,
        task,
        error: error.to_string(),
    }
}

/// Reads the keys of every task, journal entry and message, and the counters, in sled. A tree
/// that sled cannot read (its own checksums fail) is reported as unreadable.
pub(crate) fn scan(
    tasks: &sled::Tree,
    journal: &sled::Tree,
    messages: &sled::Tree,
    meta: &sled::Tree,
) -> Held {
    let mut held = Held {
        acks: Acks::default(),
        unreadable: Vec::new(),
        marked_format: false,
    };
    let bad = &mut held.unreadable;
    match meta.get(META_WRITES) {
        Ok(Some(v)) => {
            held.marked_format = true;
            match <[u8; 8]>::try_from(v.as_ref()) {
                Ok(b) => held.acks.writes = u64::from_be_bytes(b),
                Err(_) => bad.push(unreadable("the write counter".into(), None, "malformed")),
            }
        }
        Ok(None) => {}
        Err(e) => bad.push(unreadable("the write counter".into(), None, e)),
    }
    for item in tasks.iter() {
        let (key, _) = match item {
            Ok(kv) => kv,
            Err(e) => {
                bad.push(unreadable("the tasks tree".into(), None, e));
                break;
            }
        };
        // A malformed key or a record that does not decode is there, not lost: reading it
        // fails naming the task (and `SledStore::check` lists it), as before marks existed.
        if let Some(id) = task_of_key(&key) {
            held.acks.tasks.insert(id, TaskMark::default());
        }
    }
    for item in meta.scan_prefix([META_TASK_GEN]) {
        let (key, value) = match item {
            Ok(kv) => kv,
            Err(e) => {
                bad.push(unreadable("the meta tree".into(), None, e));
                break;
            }
        };
        held.marked_format = true;
        let (Some(id), Ok(g)) = (task_of_key(&key[1..]), <[u8; 8]>::try_from(value.as_ref()))
        else {
            bad.push(unreadable(
                "a task's write number".into(),
                None,
                "malformed",
            ));
            continue;
        };
        if let Some(m) = held.acks.tasks.get_mut(&id) {
            m.record = u64::from_be_bytes(g);
        }
    }
    for (tree, what, is_journal) in [(journal, "journal", true), (messages, "messages", false)] {
        for item in tree.iter() {
            let (key, _) = match item {
                Ok(kv) => kv,
                Err(e) => {
                    bad.push(unreadable(format!("the {what} tree"), None, e));
                    break;
                }
            };
            let (Some(id), Some(seq)) = (task_of_key(&key), seq_of_key(&key)) else {
                continue;
            };
            // Records of a task that is gone count for nothing: the task is reported.
            if let Some(m) = held.acks.tasks.get_mut(&id) {
                let slot = if is_journal {
                    &mut m.journal
                } else {
                    &mut m.messages
                };
                *slot = (*slot).max(seq);
            }
        }
    }
    held
}

/// Compares what sled holds with what was acknowledged.
fn compare(acked: &Acks, held: &Acks) -> Vec<Missing> {
    let mut out = Vec::new();
    if held.writes < acked.writes {
        out.push(Missing::Writes {
            acknowledged: acked.writes,
            found: held.writes,
        });
    }
    let mut ids: Vec<&TaskId> = acked.tasks.keys().collect();
    ids.sort_by_key(|t| t.0);
    for id in ids {
        let a = acked.tasks[id];
        let Some(h) = held.tasks.get(id) else {
            out.push(Missing::Task(*id));
            continue;
        };
        if h.record < a.record {
            out.push(Missing::TaskUpdate {
                task: *id,
                acknowledged: a.record,
                found: h.record,
            });
        }
        if h.journal < a.journal {
            out.push(Missing::Journal {
                task: *id,
                acknowledged: a.journal,
                found: h.journal,
            });
        }
        if h.messages < a.messages {
            out.push(Missing::Messages {
                task: *id,
                acknowledged: a.messages,
                found: h.messages,
            });
        }
    }
    let mut back: Vec<TaskId> = held
        .tasks
        .iter()
        .filter(|(id, h)| !acked.tasks.contains_key(id) && h.record <= acked.writes)
        .map(|(id, _)| *id)
        .collect();
    back.sort_by_key(|t| t.0);
    out.extend(back.into_iter().map(Missing::DeletionUndone));
    out
}

/// Opens the mark of the store in `dir` and checks `held` against it.
///
/// Returns the ledger to keep writing with (counters starting from what sled holds) and what
/// is missing (empty when nothing acknowledged is gone).
pub(crate) fn check(dir: &Path, held: Held) -> Result<(Ledger, Vec<Missing>), StoreError> {
    let read = read_mark(dir).map_err(|e| {
        StoreError::new(
            StoreErrorKind::Unavailable,
            format!("reading the acknowledgement mark in {}: {e}", dir.display()),
        )
        .with_source(e)
    })?;
    let mut missing = held.unreadable;
    let (generation, slot) = match read {
        MarkRead::Found(generation, slot, acked) => {
            missing.extend(compare(&acked, &held.acks));
            (generation, slot)
        }
        MarkRead::Damaged => {
            missing.insert(0, Missing::MarkUnreadable);
            (0, 1)
        }
        // A new store, or one written before marks existed: nothing to compare with.
        MarkRead::Absent if !held.marked_format => (0, 1),
        MarkRead::Absent => {
            missing.insert(0, Missing::MarkMissing);
            (0, 1)
        }
    };
    let ledger = Ledger {
        acks: held.acks,
        read_only: false,
        dir: dir.to_owned(),
        generation,
        slot,
        marked: None,
        files: [None, None],
    };
    Ok((ledger, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acks() -> Acks {
        let mut a = Acks {
            writes: 42,
            tasks: HashMap::new(),
        };
        a.tasks.insert(
            TaskId::new(),
            TaskMark {
                record: 40,
                journal: 7,
                messages: 3,
            },
        );
        a
    }

    #[test]
    fn a_slot_round_trips_and_any_flipped_bit_is_refused() {
        let a = acks();
        let bytes = encode_slot(9, &a);
        assert_eq!(decode_slot(&bytes), Some((9, a)));
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode_slot(&b), None, "bit {bit}");
        }
        for len in 0..bytes.len() {
            assert_eq!(decode_slot(&bytes[..len]), None, "truncated to {len}");
        }
    }

    #[test]
    fn the_newest_valid_slot_wins_and_a_torn_one_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (mut older, newer) = (acks(), acks());
        older.writes = 41;
        for (slot, generation, acks) in [(0, 1, &older), (1, 2, &newer)] {
            let mut file = open_slot(&dir.path().join(SLOTS[slot])).unwrap();
            write_slot(&mut file, &encode_slot(generation, acks), u64::MAX).unwrap();
        }
        assert!(matches!(read_mark(dir.path()).unwrap(), MarkRead::Found(2, 1, a) if a == newer));
        std::fs::write(dir.path().join(SLOTS[1]), b"torn").unwrap();
        assert!(matches!(read_mark(dir.path()).unwrap(), MarkRead::Found(1, 0, a) if a == older));
        std::fs::write(dir.path().join(SLOTS[0]), b"").unwrap();
        assert!(matches!(read_mark(dir.path()).unwrap(), MarkRead::Damaged));
    }

    #[test]
    fn less_than_acknowledged_is_named_more_is_not() {
        let acked = acks();
        let id = *acked.tasks.keys().next().unwrap();
        let mut held = acked.clone();
        held.writes += 3;
        held.tasks.get_mut(&id).unwrap().journal += 1;
        assert!(compare(&acked, &held).is_empty(), "in-flight writes landed");
        held.tasks.get_mut(&id).unwrap().journal = 5;
        held.tasks.get_mut(&id).unwrap().record = 12;
        assert_eq!(
            compare(&acked, &held),
            vec![
                Missing::TaskUpdate {
                    task: id,
                    acknowledged: 40,
                    found: 12
                },
                Missing::Journal {
                    task: id,
                    acknowledged: 7,
                    found: 5
                }
            ]
        );
        held.tasks.clear();
        held.writes = 2;
        assert_eq!(
            compare(&acked, &held),
            vec![
                Missing::Writes {
                    acknowledged: 42,
                    found: 2
                },
                Missing::Task(id)
            ]
        );
    }
}

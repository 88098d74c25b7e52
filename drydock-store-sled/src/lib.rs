//! # drydock-store-sled
//!
//! The durable embedded store of drydock: [`SledStore`], the core
//! [`Store`](drydock_core::store::Store) trait on [sled](https://docs.rs/sled/0.34.7) 0.34.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use drydock_core::store::Store;
//! use drydock_store_sled::{Durability, SledConfig, SledStore};
//! let dir = tempfile::tempdir().unwrap();
//! let config = SledConfig::new(dir.path().join("drydock-state"))
//!     .with_durability(Durability::GroupCommit { max_delay_ms: 2 });
//! let store = SledStore::open(config).unwrap();
//! assert!(store.list_tasks(&Default::default()).await.unwrap().is_empty());
//! # });
//! ```
//!
//! ## Layout
//!
//! One sled tree per record kind: `tasks` (without their messages), `messages`, `journal`,
//! `designs`, `design_locks`, `build_data`, `leases` and `meta`. A task's messages and journal
//! entries are keyed by the task id's 16 bytes followed by a big-endian sequence number (from
//! 1), so they sort by task and then by time; build data is keyed by the length-prefixed node
//! name and a sequence number. Every value is one format-version byte followed by JSON, and
//! `meta` records the store's format version.
//!
//! A journal entry and the task update that goes with it
//! ([`Store::record_step`](drydock_core::store::Store::record_step)) are written in one sled
//! transaction, as are a new task and its messages, and a deleted task with all its records.
//!
//! ## Durability: what a crash can lose
//!
//! No mutating call returns before its write is on disk, under either [`Durability`] setting;
//! a crash (SIGKILL, panic, power cut on a disk that honours `fsync`) therefore loses **nothing
//! that was acknowledged**. What it can lose is only writes still in flight: a call that had not
//! returned may or may not be found after a restart, and if found, it is whole (a journal entry
//! never appears without its task update, nor the reverse).
//!
//! * [`Durability::FlushEveryWrite`] (the default): each call flushes sled's log before
//!   returning. In flight at a crash: the calls that had not yet returned, one per writer.
//! * [`Durability::GroupCommit`]: each call waits for a background flusher that flushes at most
//!   `max_delay_ms` after the first write it has not covered, and wakes every writer it covered.
//!   In flight at a crash: every write of the last window (up to `max_delay_ms` plus one flush),
//!   none of which had been acknowledged. Cheaper per write when many tasks write at once.
//!
//! Writes are serialized by one lock, and every flush is taken under that lock too, with
//! sled's own background flusher off: in sled 0.34 a flush that meets a transaction can
//! deadlock. Flushes run on Tokio's blocking pool when a runtime is present. Dropping a store
//! under group commit waits for the flusher's last flush.
//!
//! ## Damage and versions
//!
//! * **Nothing acknowledged is lost silently.** sled's recovery keeps its log up to the first
//!   damaged record and drops the rest, so damaged files can open as an older store without a
//!   word. The store therefore keeps an acknowledgement mark beside sled's files (`ack.0` and
//!   `ack.1`: a write counter and, per task, the write number of its record and its highest
//!   journal and message sequence numbers; two slots with generation numbers and CRC-32, synced
//!   after every flush and before any write it covers is acknowledged). On open, what sled holds
//!   is compared with the mark; if anything acknowledged is gone, [`SledStore::open`] fails with
//!   kind `Corrupt` and a [`DataLoss`] (see [`DataLoss::of`]) naming the tasks, journal and
//!   message sequence numbers that are missing. [`SledConfig::on_loss`] offers the ways on:
//!   [`OnLoss::ReadOnly`] to export what is left, [`OnLoss::Accept`] to go on without it.
//!   The cost is one more small synced write per flush (see `benches/store.rs`) and reading
//!   every key once on open.
//! * A store written by a newer format fails to open with `Incompatible`, naming both versions.
//! * A record whose bytes do not decode fails the read with `Corrupt`, naming the task, never
//!   a panic; other tasks stay readable. [`Store::list_tasks`](drydock_core::store::Store::list_tasks)
//!   leaves damaged tasks out (logging each at error level) so an orchestrator can still resume
//!   the others; [`SledStore::check`] lists every damaged record.
//! * Opening a directory that is already open (sled holds an exclusive file lock, in this
//!   process or another) fails with `Unavailable`, naming the path.
//!
//! ## Permissions
//!
//! The store keeps design snapshots, which hold BMC credentials. Its directory is created with
//! mode 0700; on open and after retention every directory below it is set to 0700 and every
//! file to 0600, whatever the umask. Files sled creates in between get the umask's mode but sit
//! in a directory only the owner can enter.

mod ack;
mod bootaction;
mod codec;
mod config;
mod flusher;
mod perms;
mod store;

pub use ack::{DataLoss, Missing};
pub use config::{Durability, OnLoss, SledConfig};
pub use store::SledStore;

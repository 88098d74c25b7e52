//! [`SledConfig`] and [`Durability`]: where the store lives and when a write counts as done.

use std::path::PathBuf;

/// When a write is reported done.
///
/// Under both settings no write is reported done before it is on disk, so a crash (even a
/// SIGKILL or a power cut, given a disk that honours `fsync`) loses nothing that was
/// acknowledged. They differ in what a write costs and what an unacknowledged write may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every mutating call flushes sled's log to disk before it returns. Simple and the
    /// slowest: one `fsync` per write (concurrent writers may share one).
    #[default]
    FlushEveryWrite,
    /// Writers wait for a background flusher, which flushes at most `max_delay_ms` after the
    /// first write it has not yet covered and wakes every writer that flush covered. One
    /// `fsync` serves every write made in the window, at the price of up to `max_delay_ms` of
    /// added latency per write.
    GroupCommit {
        /// How long the flusher gathers writes before it flushes, in milliseconds (0: flush as
        /// soon as it wakes; writes arriving during a flush still share the next one).
        max_delay_ms: u64,
    },
}

/// What [`SledStore::open`](crate::SledStore::open) does when the store holds less than it
/// acknowledged (after damage to its files: see [`DataLoss`](crate::DataLoss)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnLoss {
    /// Refuse to open: the error (kind `Corrupt`) names what is missing. The default.
    #[default]
    Refuse,
    /// Open for reading only, to export what is left: every write fails with `Unavailable`.
    /// Nothing on disk is changed by drydock (sled itself may tidy its log).
    ReadOnly,
    /// Open, log the loss at error level, and go on from what the store holds: the lost steps
    /// will run again. The acknowledgement mark is reset to what the store holds.
    Accept,
}

/// How to open a [`SledStore`](crate::SledStore).
///
/// ```
/// use drydock_store_sled::{Durability, SledConfig};
/// let config = SledConfig::new("./drydock-state")
///     .with_durability(Durability::GroupCommit { max_delay_ms: 5 });
/// assert_eq!(config.durability, Durability::GroupCommit { max_delay_ms: 5 });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SledConfig {
    /// The store's directory; created (mode 0700) if missing.
    pub path: PathBuf,
    /// When a write is reported done.
    pub durability: Durability,
    /// What opening does when acknowledged data is found missing.
    pub on_loss: OnLoss,
}

impl SledConfig {
    /// A store in `path`, flushing every write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SledConfig {
            path: path.into(),
            durability: Durability::default(),
            on_loss: OnLoss::default(),
        }
    }

    /// Sets when a write is reported done.
    #[must_use]
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets what opening does when acknowledged data is found missing.
    #[must_use]
    pub fn with_on_loss(mut self, on_loss: OnLoss) -> Self {
        self.on_loss = on_loss;
        self
    }
}

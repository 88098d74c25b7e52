//! Group commit: a background thread that flushes sled for every writer waiting on it.
//!
//! A writer applies its write in memory, then takes a ticket (the number of writes applied so
//! far) and waits. The flusher, woken by the first uncovered ticket, waits up to the configured
//! delay, reads the newest ticket, flushes, and publishes that ticket as covered: every write
//! applied before the flush started is durable once the flush returns. A writer returns when a
//! successful flush covers its ticket, or with an error when a failed flush does.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use drydock_core::store::{StoreError, StoreErrorKind};
use tokio::sync::watch;

use crate::ack::Ledger;
use crate::store::flush_and_mark;

/// What the flusher last did.
#[derive(Clone, Debug, Default)]
struct Flushed {
    /// The newest ticket the last flush covered.
    through: u64,
    /// The error of the last flush, if it failed.
    error: Option<String>,
}

#[derive(Debug, Default)]
struct Requests {
    /// Tickets handed out so far.
    issued: u64,
    /// Set when the store is dropped.
    shutdown: bool,
}

#[derive(Debug)]
struct Shared {
    requests: Mutex<Requests>,
    wake: Condvar,
}

/// Handle on the flusher thread; dropping it stops the thread after a last flush.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
    flushed: watch::Receiver<Flushed>,
    thread: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts a flusher for `db` that gathers writes for `max_delay`.
    ///
    /// `writes` is the store's write lock: the flusher holds it while flushing, because in sled
    /// 0.34 a flush that meets a transaction can deadlock, and while it writes the
    /// acknowledgement mark after the flush.
    pub(crate) fn start(
        db: sled::Db,
        writes: Arc<Mutex<Ledger>>,
        max_delay: Duration,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Requests::default()),
            wake: Condvar::new(),
        });
        let (tx, rx) = watch::channel(Flushed::default());
        let thread = std::thread::Builder::new()
            .name("drydock-sled-flusher".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&db, &writes, &shared, &tx, max_delay)
            })?;
        Ok(GroupCommit {
            shared,
            flushed: rx,
            thread: Some(thread),
        })
    }

    /// Waits until every write applied before this call is on disk.
    pub(crate) async fn wait_durable(&self) -> Result<(), StoreError> {
        let ticket = {
            let mut r = lock(&self.shared.requests);
            r.issued += 1;
            r.issued
        };
        self.shared.wake.notify_one();
        let mut rx = self.flushed.clone();
        let seen = rx
            .wait_for(|f| f.through >= ticket)
            .await
            .map_err(|_| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    "the store's flusher has stopped",
                )
            })?
            .clone();
        match seen.error {
            None => Ok(()),
            Some(e) => Err(StoreError::new(
                StoreErrorKind::Unavailable,
                format!("flushing the store failed: {e}"),
            )),
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        lock(&self.shared.requests).shutdown = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // The thread holds a handle on the database: join it so the directory's lock is
            // released when the store is dropped.
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(
    db: &sled::Db,
    writes: &Mutex<Ledger>,
    shared: &Shared,
    tx: &watch::Sender<Flushed>,
    max_delay: Duration,
) {
    let mut covered = 0;
    loop {
        let shutdown = {
            let mut r = lock(&shared.requests);
            while r.issued == covered && !r.shutdown {
                r = shared.wake.wait(r).unwrap_or_else(|e| e.into_inner());
            }
            r.shutdown && r.issued == covered
        };
        if shutdown {
            return;
        }
        if !max_delay.is_zero() {
            std::thread::sleep(max_delay);
        }
        // Every ticket issued so far belongs to a write already applied in memory.
        let (through, error) = {
            let mut w = lock(writes);
            let through = lock(&shared.requests).issued;
            (through, flush_and_mark(db, &mut w).err())
        };
        if let Some(e) = &error {
            tracing::error!(error = %e, "drydock sled store: group commit flush failed");
        }
        covered = through;
        tx.send_replace(Flushed { through, error });
    }
}

//! Many writers at once: journal entries with task updates (sled transactions) racing flushes
//! must neither deadlock (sled 0.34 can, when a flush meets a transaction) nor lose an entry.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use drydock_core::store::{JournalEntry, Step, StepOutcome, Store};
use drydock_core::task::{Action, Task};
use drydock_store_sled::{Durability, SledConfig, SledStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_do_not_deadlock() {
    for durability in [
        Durability::FlushEveryWrite,
        Durability::GroupCommit { max_delay_ms: 1 },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = SledConfig::new(dir.path()).with_durability(durability);
        let store = Arc::new(SledStore::open(config).unwrap());
        let mut writers = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let store = Arc::clone(&store);
            writers.spawn(async move {
                let task = Task::new(Action::DeployNodes, "design", None, "test");
                store.create_task(&task).await.unwrap();
                for i in 0..20u64 {
                    let e = JournalEntry {
                        task: task.id,
                        node: Some(format!("n{i}")),
                        step: Step::Deploy,
                        outcome: StepOutcome::Succeeded,
                        attempts: 1,
                        retry: 0,
                        at: Utc::now(),
                    };
                    assert_eq!(store.record_step(&e, Some(&task)).await.unwrap(), i + 1);
                }
                assert_eq!(store.journal(task.id).await.unwrap().len(), 20);
            });
        }
        tokio::time::timeout(Duration::from_secs(60), writers.join_all())
            .await
            .expect("64 writers finish (a hang here is likely a deadlock)");
    }
}

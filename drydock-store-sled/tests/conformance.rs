//! The core Store conformance suite on `SledStore`, each case on a fresh directory, under both
//! durability settings.

use std::sync::{Arc, Mutex};

use drydock_core::store::Store;
use drydock_store_sled::{Durability, SledConfig, SledStore};

async fn run(durability: Durability) {
    // The directories outlive the stores opened in them; they go when the test ends.
    let dirs = Arc::new(Mutex::new(Vec::new()));
    let name = format!("sled ({durability:?})");
    drydock_core::testing::store::conformance(&name, || {
        let dirs = Arc::clone(&dirs);
        async move {
            let dir = tempfile::tempdir().expect("temp dir");
            let config = SledConfig::new(dir.path()).with_durability(durability);
            let store = SledStore::open(config).expect("open a fresh store");
            dirs.lock().unwrap().push(dir);
            Box::new(store) as Box<dyn Store>
        }
    })
    .await;
}

#[tokio::test]
async fn conformance_flush_every_write() {
    run(Durability::FlushEveryWrite).await;
}

#[tokio::test]
async fn conformance_group_commit() {
    run(Durability::GroupCommit { max_delay_ms: 2 }).await;
}

#[tokio::test]
async fn conformance_group_commit_without_delay() {
    run(Durability::GroupCommit { max_delay_ms: 0 }).await;
}

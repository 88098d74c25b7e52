//! `MemoryStore` passes the store conformance suite, and the suite reports every failed case.

use std::sync::Arc;

use drydock_core::store::{MemoryStore, Store};
use drydock_core::testing::FaultyStore;
use futures::FutureExt;

#[tokio::test]
async fn memory_store_conformance() {
    drydock_core::testing::store::conformance("memory", || async {
        Box::new(MemoryStore::new()) as Box<dyn Store>
    })
    .await;
}

#[tokio::test]
async fn the_suite_names_the_store_and_every_failed_case() {
    // A store whose every write fails as on a full disk fails every case.
    let suite = drydock_core::testing::store::conformance("always-full", || async {
        let store = FaultyStore::new(Arc::new(MemoryStore::new()));
        store.set_full(true);
        Box::new(store) as Box<dyn Store>
    });
    let panic = std::panic::AssertUnwindSafe(suite)
        .catch_unwind()
        .await
        .expect_err("a store that cannot write fails the suite");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.starts_with("store always-full: 12 of 12 conformance cases failed"),
        "{message}"
    );
    for case in [
        "tasks_round_trip",
        "node_leases_exclude_other_tasks",
        "retention_deletes_bootaction_records",
    ] {
        assert!(
            message.contains(&format!("\n  {case}: ")),
            "{case} missing: {message}"
        );
    }
}

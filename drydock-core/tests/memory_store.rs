//! `MemoryStore` passes the store conformance suite.

use drydock_core::store::{MemoryStore, Store};

#[tokio::test]
async fn memory_store_conformance() {
    drydock_core::testing::store::run_all(|| async {
        Box::new(MemoryStore::new()) as Box<dyn Store>
    })
    .await;
}

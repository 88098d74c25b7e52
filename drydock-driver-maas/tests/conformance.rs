//! `MaasDriver` passes the core's NodeDriver conformance suite against the fake MAAS.
#![cfg(feature = "fake")]

mod common;

use common::{design, driver, fake};
use drydock_driver_maas::MachineStatus;

#[tokio::test]
async fn the_node_conformance_suite_passes_against_the_fake() {
    let fake = fake(2).await;
    let design = design(2);
    let d = driver(&fake);
    drydock_core::testing::drivers::node_conformance(&d, &design, "n01").await;
    // n01's machine is deleted; the other machine was left alone.
    let left: Vec<(String, MachineStatus)> = fake
        .machines()
        .into_iter()
        .map(|m| (m.bmc_address, m.status))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].0, common::bmc(2));
}

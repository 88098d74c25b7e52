//! The simulated drivers pass the driver conformance suites.

use drydock_core::design::{compile, ingest_str};
use drydock_core::driver::OobTarget;
use drydock_core::sim::{SimConfig, SimWorld};
use drydock_core::testing::drivers::{node_conformance, oob_conformance};

const SITE: &str = "
schema: drydock/BaremetalNode/v1
metadata: {name: n1}
data:
  addressing: [{network: oob, address: 10.0.0.5}]
  oob: {type: ipmi, network: oob, account: admin, credential: not-shown-anywhere}
";

#[tokio::test]
async fn sim_drivers_conform() {
    let design = compile(ingest_str(SITE).unwrap()).unwrap();
    let world = SimWorld::new(SimConfig {
        preenlisted: true,
        ..SimConfig::default()
    });
    let target = OobTarget::from_node(design.node("n1").unwrap()).unwrap();
    oob_conformance(&world.oob_driver(), &target).await;
    node_conformance(&world.node_driver(), &design, "n1").await;
    assert_eq!(
        world.machine("n1").unwrap().deploys,
        0,
        "destroyed at the end"
    );
}

//! `FallbackOob` over the Redfish and IPMI drivers: a node whose Redfish service is down is
//! powered through IPMI (`ipmi_sim`), and refused Redfish credentials do not fall back.

mod common;
#[path = "../../drydock-driver-ipmi/tests/common/mod.rs"]
mod ipmi_common;

use std::sync::Arc;

use drydock_core::design::OobType;
use drydock_core::driver::{
    DriverErrorKind, FallbackOob, OobDriver, OobTarget, PowerAction, PowerState,
};
use drydock_driver_ipmi::{IpmiDriver, IpmiDriverConfig};
use drydock_driver_redfish::RedfishDriver;
use ipmi_common::Sim;

/// The password `ipmi_sim`'s configuration gives `admin`.
const IPMI_PASSWORD: &str = "password";

fn both() -> FallbackOob {
    let ipmi = IpmiDriver::new(IpmiDriverConfig {
        timeout_ms: 500,
        retries: 4,
        power_poll_interval_ms: 100,
        power_deadline_ms: 20_000,
        ..IpmiDriverConfig::default()
    });
    FallbackOob::new(vec![
        Arc::new(RedfishDriver::new(common::config())),
        Arc::new(ipmi),
    ])
}

/// A Redfish node on `redfish_port` whose BMC also speaks IPMI on `ipmi_port`.
fn node(redfish_port: u16, ipmi_port: u16, password: &str) -> OobTarget {
    let ipmi_port = ipmi_port.to_string();
    common::target(
        redfish_port,
        password,
        &[("fallback", "ipmi"), ("ipmi_port", ipmi_port.as_str())],
    )
}

#[tokio::test]
async fn a_node_whose_redfish_service_is_down_is_powered_through_ipmi() {
    let Some(sim) = Sim::start("redfish fallback to ipmi") else {
        return;
    };
    sim.set_state("power", "0");
    let driver = both();
    // Nothing listens on the Redfish port.
    let t = node(common::free_port(), sim.port, IPMI_PASSWORD);
    driver.set_power(&t, PowerAction::On).await.unwrap();
    assert_eq!(sim.state("power").as_deref(), Some("1"), "{}", sim.log());
    assert_eq!(driver.protocol("n1"), Some(OobType::Ipmi));
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::On);
    let facts = driver.interrogate(&t).await.unwrap();
    assert_eq!(facts.facts["oob_protocol"], "ipmi");
    driver.set_power(&t, PowerAction::Off).await.unwrap();
    assert_eq!(sim.state("power").as_deref(), Some("0"), "{}", sim.log());
    // Without a fallback the same node is unreachable.
    let mut alone = t.clone();
    alone.parameters.0.shift_remove("fallback");
    alone.node = "n2".into();
    let e = driver.power_state(&alone).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unreachable, "{e}");
}

#[tokio::test]
async fn refused_redfish_credentials_do_not_fall_back() {
    let Some(sim) = Sim::start("redfish unauthorized does not fall back") else {
        return;
    };
    sim.set_state("power", "0");
    // The mockup service refuses IPMI's password; IPMI would accept it.
    let (port, _state) = common::mockup::start().await;
    let mut t = node(port, sim.port, IPMI_PASSWORD);
    t.account = Some(common::mockup::USER.into());
    let driver = both();
    let e = driver.set_power(&t, PowerAction::On).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unauthorized, "{e}");
    assert_eq!(e.driver, "redfish");
    assert_eq!(
        sim.state("power").as_deref(),
        Some("0"),
        "IPMI was used: {}",
        sim.log()
    );
    assert_eq!(driver.protocol("n1"), None);
}

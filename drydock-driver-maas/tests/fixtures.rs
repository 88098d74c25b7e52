//! The client's models parse MAAS responses: the project's own (`tests/maas-responses/`,
//! written in MAAS's shapes) with their values checked, and the recorded responses of the
//! outside corpus (`maas-fixtures`) when it is there.

use std::path::Path;

use drydock_driver_maas::models::{
    BlockDevice, BootResource, Interface, LinkMode, Machine, RackController, ScriptResultSet,
    Subnet, Vlan, VolumeGroup,
};
use drydock_driver_maas::{MachineStatus, PowerState};
use serde::de::DeserializeOwned;

/// The project's own MAAS responses.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/maas-responses");

fn load_from<T: DeserializeOwned>(dir: &Path, name: &str) -> T {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn load<T: DeserializeOwned>(name: &str) -> T {
    load_from(Path::new(FIXTURES), name)
}

/// Parses every `.json` file of `dir` with its model; a file without a model fails. Returns
/// the names parsed.
fn parse_all(dir: &Path) -> Vec<String> {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") {
            continue;
        }
        match name.as_str() {
            "machine.json" => drop(load_from::<Machine>(dir, &name)),
            "interface.json" => drop(load_from::<Interface>(dir, &name)),
            "interfaces.json" => drop(load_from::<Vec<Interface>>(dir, &name)),
            "block_devices.json" => drop(load_from::<Vec<BlockDevice>>(dir, &name)),
            "boot_resources.json" => drop(load_from::<Vec<BootResource>>(dir, &name)),
            "node_results.json" => drop(load_from::<Vec<ScriptResultSet>>(dir, &name)),
            "rack_controllers.json" => drop(load_from::<Vec<RackController>>(dir, &name)),
            "subnets.json" => drop(load_from::<Vec<Subnet>>(dir, &name)),
            "vlans.json" => drop(load_from::<Vec<Vlan>>(dir, &name)),
            "volume_groups.json" => drop(load_from::<Vec<VolumeGroup>>(dir, &name)),
            other => panic!("fixture {other} has no model mapping in this test"),
        }
        seen.push(name);
    }
    seen.sort();
    seen
}

/// Every `.json` file of the project's responses is parsed by a model here; a new fixture
/// without a model fails this test.
#[test]
fn every_fixture_file_parses_with_the_client_models() {
    let seen = parse_all(Path::new(FIXTURES));
    assert_eq!(seen.len(), 10, "expected 10 fixtures, saw {seen:?}");
}

/// The same on the responses recorded from real MAAS servers (outside corpus; skipped visibly
/// when it is absent).
#[test]
fn every_recorded_maas_response_parses_with_the_client_models() {
    let Some(dir) = drydock_core::testing::corpus(
        "fixtures::every_recorded_maas_response_parses_with_the_client_models",
        "maas-fixtures",
    ) else {
        return;
    };
    let seen = parse_all(&dir);
    assert_eq!(
        seen.len(),
        10,
        "expected the 10 recorded responses, saw {seen:?}"
    );
    let subnets: Vec<Subnet> = load_from(&dir, "subnets.json");
    assert_eq!(subnets.len(), 7);
    let m: Machine = load_from(&dir, "machine.json");
    assert_eq!(m.status, MachineStatus::FailedExitingRescueMode);
}

#[test]
fn machine_fixture_fields_are_typed() {
    let m: Machine = load("machine.json");
    assert_eq!(m.system_id.len(), 6);
    // The fixture's machine is in status 20 with power state "error".
    assert_eq!(m.status, MachineStatus::FailedExitingRescueMode);
    assert!(m.status.is_failed());
    assert_eq!(
        m.status.label(),
        m.status_name,
        "status code and label agree"
    );
    assert_eq!(m.power_state, PowerState::Error);
    assert!(!m.interface_set.is_empty());
    // Inside a machine, interface `params` is the empty string.
    assert_eq!(m.interface_set[0].params, serde_json::json!(""));
    assert!(m.interface_set[0].params().is_none());
    assert!(m.boot_mac().is_some());
    assert!(m.domain.is_some());
    assert_eq!(m.blockdevice_set.len(), 2);
}

#[test]
fn interface_quirks_are_tolerated() {
    let single: Interface = load("interface.json");
    assert!(single.params().is_some(), "params {{}} in interface reads");
    assert!(
        single.vlan.is_none(),
        "disconnected interface has vlan null"
    );
    let list: Vec<Interface> = load("interfaces.json");
    assert!(
        list.iter().any(|i| i.discovered.is_none()) || list.iter().all(|i| i.discovered.is_some())
    );
    let links: Vec<_> = list.iter().flat_map(|i| &i.links).collect();
    assert!(
        links.iter().any(|l| l.ip_address.is_none()),
        "links without ip_address"
    );
    // Unlinked (`link_up`) links have neither subnet nor address; linked ones have a subnet.
    assert!(
        links
            .iter()
            .any(|l| l.mode == LinkMode::LinkUp && l.subnet.is_none())
    );
    assert!(
        links
            .iter()
            .filter(|l| l.mode != LinkMode::LinkUp)
            .all(|l| l.subnet.is_some())
    );
}

#[test]
fn rack_controller_health_is_computed_from_services() {
    let racks: Vec<RackController> = load("rack_controllers.json");
    assert_eq!(racks.len(), 1);
    let rack = &racks[0];
    assert!(rack.service_set.len() > 4);
    let required_present = RackController::REQUIRED_SERVICES
        .iter()
        .all(|n| rack.service_set.iter().any(|s| s.name == *n));
    assert!(required_present);
    let mut broken = rack.clone();
    for s in &mut broken.service_set {
        if s.name == "rackd" {
            s.status = "dead".to_owned().into();
        }
    }
    assert!(!broken.is_healthy());
}

#[test]
fn storage_and_network_fixtures_keep_their_values() {
    let bds: Vec<BlockDevice> = load("block_devices.json");
    assert!(bds.iter().any(|b| !b.partitions.is_empty()));
    let p = bds.iter().flat_map(|b| &b.partitions).next().unwrap();
    assert!(p.filesystem.as_ref().is_some_and(|f| !f.fstype.is_empty()));
    let vgs: Vec<VolumeGroup> = load("volume_groups.json");
    assert!(!vgs[0].devices.is_empty());
    let subnets: Vec<Subnet> = load("subnets.json");
    assert_eq!(subnets.len(), 3);
    assert!(
        subnets
            .iter()
            .all(|s| s.vlan.is_some() && s.cidr.contains('/'))
    );
    let boot: Vec<BootResource> = load("boot_resources.json");
    assert!(boot.iter().any(|b| b.kind == "Synced") && boot.iter().any(|b| b.kind == "Uploaded"));
    let results: Vec<ScriptResultSet> = load("node_results.json");
    assert!(results.iter().any(|r| !r.results.is_empty()));
}

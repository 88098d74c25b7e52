//! The client's models parse every recorded MAAS response in the shared fixture corpus.

use std::path::Path;

use drydock_driver_maas::models::{
    BlockDevice, BootResource, Interface, Machine, RackController, ScriptResultSet, Subnet, Vlan,
    VolumeGroup,
};
use drydock_driver_maas::{MachineStatus, PowerState};
use serde::de::DeserializeOwned;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/maas-fixtures"
);

fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = Path::new(FIXTURES).join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

/// Every `.json` file of the corpus is parsed by a model here; a new fixture without a model
/// fails this test.
#[test]
fn every_fixture_file_parses_with_the_client_models() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(FIXTURES).expect("fixture directory beside the repository") {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") {
            continue;
        }
        match name.as_str() {
            "machine.json" => drop(load::<Machine>(&name)),
            "interface.json" => drop(load::<Interface>(&name)),
            "interfaces.json" => drop(load::<Vec<Interface>>(&name)),
            "block_devices.json" => drop(load::<Vec<BlockDevice>>(&name)),
            "boot_resources.json" => drop(load::<Vec<BootResource>>(&name)),
            "node_results.json" => drop(load::<Vec<ScriptResultSet>>(&name)),
            "rack_controllers.json" => drop(load::<Vec<RackController>>(&name)),
            "subnets.json" => drop(load::<Vec<Subnet>>(&name)),
            "vlans.json" => drop(load::<Vec<Vlan>>(&name)),
            "volume_groups.json" => drop(load::<Vec<VolumeGroup>>(&name)),
            other => panic!("fixture {other} has no model mapping in this test"),
        }
        seen.push(name);
    }
    assert_eq!(
        seen.len(),
        10,
        "expected the 10 fixtures of the corpus, saw {seen:?}"
    );
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
    assert!(links.iter().all(|l| l.subnet.is_some()));
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
    assert_eq!(subnets.len(), 7);
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

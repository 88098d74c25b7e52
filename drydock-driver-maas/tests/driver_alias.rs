//! Interface slaves named by hardware-profile aliases (PCI bus addresses), resolved through the
//! machine's lshw commissioning data like Drydock's `apply_logicalnames`.
#![cfg(feature = "fake")]

mod common;

use std::time::Duration;

use common::{bmc, driver, job, site};
use drydock_core::design::{CompiledDesign, compile, ingest_str};
use drydock_core::driver::{DriverErrorKind, Identification, NodeDriver};
use drydock_driver_maas::MachineStatus as S;
use drydock_driver_maas::fake::{FakeMaas, FakeNic};
use drydock_driver_maas::models::{InterfaceType, LinkMode};

/// The test design for one node, its NICs named by the aliases of a hardware profile like the
/// demo site's `r650` (plus `extra` aliases), the PXE slave `pxe_slave`.
fn aliased_design(extra: &str, pxe_slave: &str) -> CompiledDesign {
    let text = common::design_text(1)
        .replace(
            "  primary_network: mgmt\n",
            "  hardware_profile: r650\n  primary_network: mgmt\n",
        )
        .replace("slaves: [eth0]", &format!("slaves: [{pxe_slave}]"))
        .replace("slaves: [eth1]", "slaves: [lom0, lom1]");
    let text = format!(
        r#"{text}---
schema: drydock/HardwareProfile/v1
metadata: {{schema: metadata/Document/v1, name: r650}}
data:
  vendor: Dell
  generation: '15'
  hw_version: '1'
  bios_version: '1.6.5'
  boot_mode: uefi
  bootstrap_protocol: pxe
  pxe_interface: 0
  device_aliases:
    lom0: {{address: '0000:19:00.0', dev_type: 'BCM57414 25GbE', bus_type: pci}}
    lom1: {{address: '0000:19:00.1', dev_type: 'BCM57414 25GbE', bus_type: pci}}
    nic0: {{address: '0000:3B:00.0', dev_type: 'X710 10GbE', bus_type: pci}}
{extra}"#
    );
    compile(ingest_str(&text).expect("design ingests")).expect("design compiles")
}

/// A fake with one machine for node 1 whose NICs have names unlike the aliases.
async fn fake_with_vendor_names() -> FakeMaas {
    let fake = FakeMaas::builder()
        .auto_tick(Duration::from_millis(5))
        .start()
        .await
        .expect("fake starts");
    fake.add_machine_with_nics(
        "enlisted-1",
        &bmc(1),
        &[
            FakeNic::new("eno12399np0", "0000:19:00.0"),
            FakeNic::new("eno12409np1", "0000:19:00.1"),
            FakeNic::new("ens3f0", "0000:3b:00.0"),
        ],
    );
    fake
}

async fn ready(d: &drydock_driver_maas::MaasDriver, design: &CompiledDesign) -> String {
    d.create_network_template(site(design)).await.unwrap();
    let n = job(design, "n01");
    let Identification::Known { provisioner_id } = d.identify_node(n).await.unwrap() else {
        panic!("n01 unknown");
    };
    d.configure_hardware(n).await.unwrap();
    provisioner_id
}

#[tokio::test]
async fn aliased_slaves_become_the_nics_at_their_bus_addresses() {
    let fake = fake_with_vendor_names().await;
    let d = driver(&fake);
    let design = aliased_design("", "nic0");
    let sid = ready(&d, &design).await;
    assert_eq!(fake.machine_status(&sid), Some(S::Ready));
    let n = job(&design, "n01");
    d.apply_networking(n).await.unwrap();
    assert_eq!(
        fake.op_requests("GET", &format!("machines/{sid}/"), "details"),
        1,
        "details read once per operation"
    );

    let c = fake.client();
    let ifaces = c.interfaces(&sid).list().await.unwrap();
    let by = |name: &str| {
        ifaces
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{name} in {ifaces:#?}"))
    };
    let bond = by("bond0");
    assert_eq!(bond.kind, InterfaceType::Bond);
    let mut parents = bond.parents.clone();
    parents.sort();
    assert_eq!(parents, ["eno12399np0", "eno12409np1"]);
    assert_eq!(bond.params().unwrap()["bond_mode"], "802.3ad");
    assert_eq!(bond.vlan.as_ref().unwrap().fabric, "data");
    let pxe = by("ens3f0");
    assert_eq!(pxe.vlan.as_ref().unwrap().fabric, "pxe");
    assert_eq!(pxe.links.len(), 1);
    assert_eq!(pxe.links[0].mode, LinkMode::Dhcp);

    // Again: nothing to write.
    let writes = fake.write_count();
    d.apply_networking(n).await.unwrap();
    assert_eq!(fake.write_count(), writes);
}

#[tokio::test]
async fn an_alias_missing_from_lshw_is_permanent_and_says_so() {
    let fake = fake_with_vendor_names().await;
    let d = driver(&fake);
    let extra = "    nic9: {address: '0000:af:00.0', dev_type: 'X710 10GbE', bus_type: pci}\n";
    let design = aliased_design(extra, "nic9");
    let sid = ready(&d, &design).await;
    let writes = fake.write_count();
    let e = d.apply_networking(job(&design, "n01")).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    let msg = e.to_string();
    for part in [
        "n01",
        "interface pxe",
        "nic9",
        "0000:af:00.0",
        "no network device",
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
    assert_eq!(fake.write_count(), writes, "nothing written: {sid}");
}

#[tokio::test]
async fn an_alias_missing_from_lshw_keeps_its_name_when_maas_has_it() {
    let fake = FakeMaas::builder()
        .auto_tick(Duration::from_millis(5))
        .nics(vec![
            FakeNic::new("eth0", "0000:00:03.0"),
            FakeNic::new("eno1", "0000:19:00.0"),
            FakeNic::new("eno2", "0000:19:00.1"),
        ])
        .start()
        .await
        .expect("fake starts");
    fake.add_machine("enlisted-1", &bmc(1));
    let d = driver(&fake);
    // The alias `eth0` points at an address lshw does not list; MAAS has an `eth0`.
    let extra = "    eth0: {address: '0000:99:00.0', dev_type: 'virtio', bus_type: pci}\n";
    let design = aliased_design(extra, "eth0");
    let sid = ready(&d, &design).await;
    d.apply_networking(job(&design, "n01")).await.unwrap();
    let ifaces = fake.client().interfaces(&sid).list().await.unwrap();
    let eth0 = ifaces.iter().find(|i| i.name == "eth0").unwrap();
    assert_eq!(eth0.vlan.as_ref().unwrap().fabric, "pxe");
    let bond = ifaces.iter().find(|i| i.name == "bond0").unwrap();
    let mut parents = bond.parents.clone();
    parents.sort();
    assert_eq!(parents, ["eno1", "eno2"]);
}

#[tokio::test]
async fn interrogation_returns_the_lshw_xml() {
    let fake = fake_with_vendor_names().await;
    let d = driver(&fake);
    let design = aliased_design("", "nic0");
    ready(&d, &design).await;
    let data = d.interrogate_node(job(&design, "n01")).await.unwrap();
    let lshw: Vec<_> = data.iter().filter(|b| b.generator == "maas:lshw").collect();
    assert_eq!(lshw.len(), 1, "{data:?}");
    assert_eq!(lshw[0].format, "application/xml");
    assert!(lshw[0].data.contains("<businfo>pci@0000:3b:00.0</businfo>"));
    assert!(lshw[0].data.contains("<logicalname>ens3f0</logicalname>"));
    assert!(
        data.iter()
            .any(|b| b.generator.starts_with("maas:commissioning:")),
        "{data:?}"
    );
}

//! Interface slaves and storage devices named by hardware-profile aliases (bus addresses and
//! `regexp:` addresses), resolved through the machine's lshw commissioning data (served by the
//! fake through `op=details`, as MAAS does) like Drydock's `apply_logicalnames`.
#![cfg(feature = "fake")]

mod common;

use std::time::Duration;

use common::{bmc, driver, job, site};
use drydock_core::design::{CompiledDesign, compile, ingest_str};
use drydock_core::driver::DriverError;
use drydock_core::driver::{DriverErrorKind, Identification, NodeDriver};
use drydock_driver_maas::MachineStatus as S;
use drydock_driver_maas::driver::alias::AliasError;
use drydock_driver_maas::fake::{FakeMaas, FakeNic};
use drydock_driver_maas::models::{InterfaceType, LinkMode};

/// The test design for one node, its NICs named by the aliases of a hardware profile like the
/// demo site's `r650` (plus `extra` aliases), the PXE slave `pxe_slave`.
fn aliased_design(extra: &str, pxe_slave: &str) -> CompiledDesign {
    let text = aliased_design_text(extra, pxe_slave);
    compile(ingest_str(&text).expect("design ingests")).expect("design compiles")
}

/// The YAML documents of [`aliased_design`].
fn aliased_design_text(extra: &str, pxe_slave: &str) -> String {
    let text = common::design_text(1)
        .replace(
            "  primary_network: mgmt\n",
            "  hardware_profile: r650\n  primary_network: mgmt\n",
        )
        .replace("slaves: [eth0]", &format!("slaves: [{pxe_slave}]"))
        .replace("slaves: [eth1]", "slaves: [lom0, lom1]");
    format!(
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
    )
}

/// A fake with one machine for node 1 with these NICs, listed by lshw in this order.
async fn fake_with_nics(nics: &[FakeNic]) -> FakeMaas {
    let fake = FakeMaas::builder()
        .auto_tick(Duration::from_millis(5))
        .start()
        .await
        .expect("fake starts");
    fake.add_machine_with_nics("enlisted-1", &bmc(1), nics);
    fake
}

/// A fake with one machine for node 1 whose NICs have names unlike the aliases.
async fn fake_with_vendor_names() -> FakeMaas {
    fake_with_nics(&[
        FakeNic::new("eno12399np0", "0000:19:00.0"),
        FakeNic::new("eno12409np1", "0000:19:00.1"),
        FakeNic::new("ens3f0", "0000:3b:00.0"),
    ])
    .await
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

/// A fake with one machine for node 1 with the two LOM ports the `r650` aliases name and three
/// add-in ports, listed by lshw in this order: `ens5f0` (5e:00.0), `ens3f0` (3b:00.0),
/// `ens3f1` (3b:00.1).
async fn fake_with_add_in_cards() -> FakeMaas {
    fake_with_nics(&[
        FakeNic::new("eno12399np0", "0000:19:00.0"),
        FakeNic::new("eno12409np1", "0000:19:00.1"),
        FakeNic::new("ens5f0", "0000:5e:00.0"),
        FakeNic::new("ens3f0", "0000:3b:00.0"),
        FakeNic::new("ens3f1", "0000:3b:00.1"),
    ])
    .await
}

/// The MAAS interfaces of machine `sid` linked to subnet `cidr`, by name.
async fn linked_to(fake: &FakeMaas, sid: &str, cidr: &str) -> Vec<String> {
    let ifaces = fake.client().interfaces(sid).list().await.unwrap();
    let mut names: Vec<String> = ifaces
        .into_iter()
        .filter(|i| {
            i.links
                .iter()
                .any(|l| l.subnet.as_ref().is_some_and(|s| s.cidr == cidr))
        })
        .map(|i| i.name)
        .collect();
    names.sort();
    names
}

/// Asserts that `e` is a permanent error whose message holds each of `parts`.
fn permanent_naming(e: &DriverError, parts: &[&str]) {
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    let msg = e.to_string();
    for part in parts {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
}

/// The typed alias error under a driver error.
fn alias_error(e: &DriverError) -> &AliasError {
    e.source
        .as_ref()
        .and_then(|s| s.downcast_ref::<AliasError>())
        .unwrap_or_else(|| panic!("no AliasError under {e:?}"))
}

/// Applies networking to node 1 over the add-in card machine, with `extra` aliasing its PXE
/// interface as `pxe_nic`: the error, once checked that nothing was written.
async fn pxe_alias_refused(extra: &str) -> DriverError {
    let fake = fake_with_add_in_cards().await;
    let d = driver(&fake);
    let design = aliased_design(extra, "pxe_nic");
    ready(&d, &design).await;
    let writes = fake.write_count();
    let e = d.apply_networking(job(&design, "n01")).await.unwrap_err();
    assert_eq!(fake.write_count(), writes, "nothing written");
    e
}

#[tokio::test]
async fn a_regexp_alias_is_the_first_matching_nic_in_lshw_order() {
    let fake = fake_with_add_in_cards().await;
    let d = driver(&fake);
    // Matches ens5f0, ens3f0 and ens3f1 (anchored at the start only); ens5f0 is listed first.
    let extra = "    pxe_nic: {address: 'regexp:0000:(3b|5e):00\\.', dev_type: 'any 10GbE', bus_type: pci}\n";
    let design = aliased_design(extra, "pxe_nic");
    let sid = ready(&d, &design).await;
    d.apply_networking(job(&design, "n01")).await.unwrap();
    assert_eq!(linked_to(&fake, &sid, "10.0.0.0/24").await, ["ens5f0"]);
    let ifaces = fake.client().interfaces(&sid).list().await.unwrap();
    let pxe = ifaces.iter().find(|i| i.name == "ens5f0").unwrap();
    assert_eq!(pxe.links.len(), 1, "{:?}", pxe.links);
    assert_eq!(pxe.links[0].mode, LinkMode::Dhcp);
    let bond = ifaces.iter().find(|i| i.name == "bond0").unwrap();
    let mut parents = bond.parents.clone();
    parents.sort();
    assert_eq!(parents, ["eno12399np0", "eno12409np1"]);

    // Again: the same NIC, nothing to write.
    let writes = fake.write_count();
    d.apply_networking(job(&design, "n01")).await.unwrap();
    assert_eq!(fake.write_count(), writes);
}

#[tokio::test]
async fn a_regexp_alias_matching_no_nic_is_permanent_and_names_it() {
    // 0000:19:00.0 would match unanchored (":00.0"), but not from the start.
    let extra =
        "    pxe_nic: {address: 'regexp:00\\.0|0000:af:', dev_type: 'any', bus_type: pci}\n";
    let e = pxe_alias_refused(extra).await;
    permanent_naming(
        &e,
        &[
            "n01",
            "interface pxe",
            "r650",
            "pxe_nic",
            "regexp:00\\.0|0000:af:",
            "no network device whose bus address matches",
            "ens5f0 at pci@0000:5e:00.0",
        ],
    );
    assert!(matches!(alias_error(&e), AliasError::Unresolved { .. }));
}

#[tokio::test]
async fn an_invalid_regexp_is_a_typed_permanent_error_naming_profile_alias_and_pattern() {
    let extra = "    pxe_nic: {address: 'regexp:0000:(3b|5e', dev_type: 'any', bus_type: pci}\n";
    let e = pxe_alias_refused(extra).await;
    permanent_naming(
        &e,
        &[
            "n01",
            "r650",
            "pxe_nic",
            "regexp:0000:(3b|5e",
            "not a valid",
        ],
    );
    match alias_error(&e) {
        AliasError::InvalidPattern {
            profile,
            alias,
            pattern,
            ..
        } => {
            assert_eq!(profile, "r650");
            assert_eq!(alias, "pxe_nic");
            assert_eq!(pattern, "0000:(3b|5e");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_aliases_resolving_to_one_nic_are_refused() {
    // The PXE alias finds the first LOM port, which the bond's lom0 names too.
    let extra = "    pxe_nic: {address: 'regexp:0000:19:00', dev_type: 'any', bus_type: pci}\n";
    let e = pxe_alias_refused(extra).await;
    permanent_naming(&e, &["pxe_nic", "lom0", "eno12399np0", "only once"]);
    assert_eq!(
        alias_error(&e),
        &AliasError::SameDevice {
            profile: "r650".into(),
            first: "pxe_nic".into(),
            second: "lom0".into(),
            device: "eno12399np0".into(),
        }
    );
}

/// [`aliased_design`] whose storage device `sda` is named `primary_boot` instead, with
/// `primary_boot` at `address` on the SCSI bus.
fn storage_alias_design(address: &str) -> CompiledDesign {
    let extra = format!(
        "    primary_boot: {{address: '{address}', dev_type: 'PERC H755', bus_type: scsi}}\n"
    );
    let text = aliased_design_text(&extra, "nic0");
    assert_eq!(text.matches("      sda:\n").count(), 1);
    let text = text.replace("      sda:\n", "      primary_boot:\n");
    compile(ingest_str(&text).expect("design ingests")).expect("design compiles")
}

#[tokio::test]
async fn a_storage_alias_is_applied_to_the_block_device_at_its_bus_address() {
    let fake = fake_with_vendor_names().await;
    let d = driver(&fake);
    let design = storage_alias_design("2:0.0.0");
    let sid = ready(&d, &design).await;
    let n = job(&design, "n01");
    d.apply_storage(n).await.unwrap();

    let c = fake.client();
    let blocks = c.block_devices(&sid).list().await.unwrap();
    let by = |name: &str| blocks.iter().find(|b| b.name == name).unwrap();
    // lshw lists sdb at scsi@2:0.0.0: the layout is on sdb, sda is untouched.
    assert!(by("sda").partitions.is_empty(), "{:?}", by("sda"));
    let sdb = by("sdb");
    let mounts: Vec<Option<String>> = sdb
        .partitions
        .iter()
        .map(|p| p.filesystem.as_ref().and_then(|f| f.mount_point.clone()))
        .collect();
    assert_eq!(mounts, [Some("/".into()), Some("/boot".into()), None]);
    let vgs = c.volume_groups(&sid).list().await.unwrap();
    assert_eq!(vgs.len(), 1);
    assert_eq!(vgs[0].devices[0].id, sdb.partitions[2].id);
    let m = c.machines().get(&sid).await.unwrap();
    assert_eq!(m.boot_disk.as_ref().map(|b| b.name.as_str()), Some("sdb"));

    // Again: the layout matches through the alias, nothing to write.
    let writes = fake.write_count();
    d.apply_storage(n).await.unwrap();
    assert_eq!(fake.write_count(), writes);
}

#[tokio::test]
async fn an_unknown_storage_alias_is_permanent_and_names_it() {
    let fake = fake_with_vendor_names().await;
    let d = driver(&fake);
    let design = storage_alias_design("7:0.0.0");
    ready(&d, &design).await;
    let writes = fake.write_count();
    let e = d.apply_storage(job(&design, "n01")).await.unwrap_err();
    permanent_naming(
        &e,
        &[
            "n01",
            "r650",
            "primary_boot",
            "no device at scsi@7:0.0.0",
            "sda at scsi@0:0.0.0",
            "sdb at scsi@2:0.0.0",
        ],
    );
    assert!(matches!(alias_error(&e), AliasError::Unresolved { .. }));
    assert_eq!(fake.write_count(), writes, "nothing written");
}

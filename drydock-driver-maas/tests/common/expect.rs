//! Assertions that a machine in the fake is configured as `super::design` asks for node `i`:
//! read back through the MAAS API, i.e. from the fake's state.

use drydock_driver_maas::models::{InterfaceType, LinkMode};
use drydock_driver_maas::{MaasClient, MachineStatus};

/// The machine `sid` holds node `n{i:02}`'s networking: the PXE NIC on DHCP, the 802.3ad bond
/// on the data fabric with mgmt as its native VLAN and a static mgmt address, the storage VLAN
/// interface with its static address, and the FQDN in the primary network's domain.
pub async fn networking(c: &MaasClient, sid: &str, i: usize) {
    let name = format!("n{i:02}");
    let m = c.machines().get(sid).await.unwrap();
    assert_eq!(m.hostname, name);
    assert_eq!(m.fqdn, format!("{name}.mgmt.test"));
    let ifaces = c.interfaces(sid).list().await.unwrap();
    let by = |iface: &str| {
        ifaces
            .iter()
            .find(|x| x.name == iface)
            .unwrap_or_else(|| panic!("{name}: {iface} in {ifaces:#?}"))
    };
    let bond = by("bond0");
    assert_eq!(bond.kind, InterfaceType::Bond);
    assert_eq!(bond.parents, ["eth1"]);
    assert_eq!(bond.params().unwrap()["bond_mode"], "802.3ad");
    assert_eq!(bond.params().unwrap()["bond_xmit_hash_policy"], "layer3+4");
    assert_eq!(bond.effective_mtu, 9000);
    assert_eq!(bond.vlan.as_ref().unwrap().fabric, "data");
    assert_eq!(
        bond.vlan.as_ref().unwrap().vid,
        110,
        "{name}: mgmt is the trunk's native network"
    );
    let link_of = |iface: &str| {
        let x = by(iface);
        assert_eq!(x.links.len(), 1, "{name} {iface}: {:?}", x.links);
        let l = &x.links[0];
        (
            l.mode.clone(),
            l.subnet.as_ref().map(|s| s.cidr.clone()),
            l.ip_address.clone(),
        )
    };
    let a = 10 + i;
    assert_eq!(
        link_of("bond0"),
        (
            LinkMode::Static,
            Some("10.42.0.0/24".into()),
            Some(format!("10.42.0.{a}"))
        )
    );
    assert_eq!(
        link_of("bond0.120"),
        (
            LinkMode::Static,
            Some("10.43.0.0/24".into()),
            Some(format!("10.43.0.{a}"))
        )
    );
    assert_eq!(
        link_of("eth0"),
        (LinkMode::Dhcp, Some("10.0.0.0/24".into()), None)
    );
    assert_eq!(by("eth0").vlan.as_ref().unwrap().fabric, "pxe");
    assert!(ifaces.iter().all(|x| x.name != "bond0.110"), "{name}");
}

/// The machine `sid` holds the profile's storage layout: sda with a bootable 30 GB root, a
/// labelled 1 GB /boot and the rest (> 10 GB) as the PV of VG `data`, whose LVs are `var` (half,
/// xfs on /var) and `log` (the rest, ext4 on /var/log).
pub async fn storage(c: &MaasClient, sid: &str) {
    let blocks = c.block_devices(sid).list().await.unwrap();
    let sda = blocks.iter().find(|b| b.name == "sda").unwrap();
    let parts: Vec<(u64, Option<String>)> = sda
        .partitions
        .iter()
        .map(|p| {
            (
                p.size,
                p.filesystem.as_ref().and_then(|f| f.mount_point.clone()),
            )
        })
        .collect();
    assert_eq!(parts.len(), 3, "{sid}: {parts:?}");
    assert_eq!(parts[0], (30_000_000_000, Some("/".into())));
    assert_eq!(parts[1], (1_000_000_000, Some("/boot".into())));
    assert!(parts[2].0 > 10_000_000_000 && parts[2].1.is_none());
    assert!(sda.partitions[0].bootable);
    let label = sda.partitions[1].filesystem.as_ref().unwrap().label.clone();
    assert_eq!(label.as_deref(), Some("boot"));
    let vgs = c.volume_groups(sid).list().await.unwrap();
    assert_eq!(vgs.len(), 1, "{sid}: {vgs:?}");
    let vg = &vgs[0];
    assert_eq!(vg.name, "data");
    assert_eq!(vg.devices.len(), 1);
    assert_eq!(vg.devices[0].id, sda.partitions[2].id);
    let lvs: Vec<(String, u64, String, String)> = vg
        .logical_volumes
        .iter()
        .map(|b| {
            let f = b.filesystem.as_ref().unwrap();
            (
                b.name.clone(),
                b.size,
                f.fstype.clone(),
                f.mount_point.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(lvs.len(), 2, "{sid}: {lvs:?}");
    assert_eq!(lvs[0].0, "data-var");
    assert_eq!(lvs[0].1, vg.size / 2);
    assert_eq!((lvs[0].2.as_str(), lvs[0].3.as_str()), ("xfs", "/var"));
    assert_eq!(lvs[1].0, "data-log");
    assert_eq!((lvs[1].2.as_str(), lvs[1].3.as_str()), ("ext4", "/var/log"));
    assert_eq!(lvs[0].1 + lvs[1].1, vg.size, "the log LV takes the rest");
}

/// The machine `sid` carries node `n{i:02}`'s kernel parameters (through its `n{i:02}_kp` tag)
/// and the profile's tags.
pub async fn platform(c: &MaasClient, sid: &str, i: usize) {
    let kp_tag = format!("n{i:02}_kp");
    let kp = c.tags().get(&kp_tag).await.unwrap();
    assert_eq!(kp.kernel_opts, "console=ttyS1,115200 quiet");
    let m = c.machines().get(sid).await.unwrap();
    assert!(m.tag_names.contains(&kp_tag), "{sid}: {:?}", m.tag_names);
    assert!(m.tag_names.contains(&"compute".to_owned()));
}

/// The machine `sid` is Deployed with the profile's image, kernel and owner data.
pub async fn deployed(c: &MaasClient, sid: &str) {
    let m = c.machines().get(sid).await.unwrap();
    assert_eq!(m.status, MachineStatus::Deployed, "{sid}");
    assert_eq!(m.distro_series, "jammy");
    assert_eq!(m.hwe_kernel.as_deref(), Some("ga-22.04"));
    assert_eq!(m.workload_annotations["role"], "compute");
}

/// Everything above: node `n{i:02}` is deployed on machine `sid` as designed.
pub async fn deployed_as_designed(c: &MaasClient, sid: &str, i: usize) {
    networking(c, sid, i).await;
    storage(c, sid).await;
    platform(c, sid, i).await;
    deployed(c, sid).await;
}

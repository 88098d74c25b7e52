//! The typed resource calls round-trip through the fake, and its answers parse with the
//! client's models (the same models that parse the recorded MAAS fixtures).
#![cfg(feature = "fake")]

use std::collections::BTreeMap;

use drydock_driver_maas::fake::FakeMaas;
use drydock_driver_maas::models::{InterfaceType, LinkMode};
use drydock_driver_maas::{
    BondSpec, InterfaceUpdate, IpRangeSpec, LinkSubnetSpec, MaasError, MachineUpdate,
    RepositorySpec, StorageLayoutOptions, SubnetSpec, TagSpec, VlanSpec,
};

async fn ready_machine() -> (FakeMaas, String) {
    let fake = FakeMaas::builder().machines(1).start().await.unwrap();
    let sid = fake.machine_ids()[0].clone();
    fake.client()
        .machines()
        .commission(&sid, &Default::default())
        .await
        .unwrap();
    fake.advance(10);
    (fake, sid)
}

#[tokio::test]
async fn network_template_calls() {
    let (fake, _) = ready_machine().await;
    let c = fake.client();
    let fabrics = c.fabrics().list().await.unwrap();
    assert_eq!(fabrics.len(), 1);
    assert_eq!(
        fabrics[0].vlans[0].vid, 0,
        "every fabric has its untagged VLAN"
    );
    let f = c.fabrics().create("oob", None).await.unwrap();
    let f = c
        .fabrics()
        .update(f.id, Some("oob-net"), Some("OOB"))
        .await
        .unwrap();
    assert_eq!(f.name, "oob-net");
    let native = c
        .vlans(f.id)
        .update(
            0,
            &VlanSpec {
                mtu: Some(9000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(native.mtu, 9000);
    let v = c
        .vlans(f.id)
        .create(
            100,
            &VlanSpec {
                name: Some("storage".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (v.vid, v.fabric_id, v.name.as_str()),
        (100, f.id, "storage")
    );
    assert_eq!(
        c.vlans(f.id).get(100).await.unwrap().id,
        v.id,
        "VLANs are addressed by vid"
    );
    let spec = SubnetSpec {
        cidr: Some("172.16.1.0/24".into()),
        vlan: Some(v.id),
        gateway_ip: Some("172.16.1.1".into()),
        dns_servers: vec!["8.8.8.8".into(), "8.8.4.4".into()],
        ..Default::default()
    };
    let s = c.subnets().create(&spec).await.unwrap();
    assert_eq!(
        s.dns_servers,
        ["8.8.8.8", "8.8.4.4"],
        "repeated keys keep every value"
    );
    assert_eq!(s.vlan.as_ref().unwrap().vid, 100);
    let err = c.subnets().create(&spec).await.unwrap_err();
    assert!(
        matches!(err, MaasError::BadRequest { ref fields, .. } if fields.contains_key("cidr")),
        "{err:?}"
    );
    // DHCP needs a primary rack and a dynamic range.
    let dhcp = VlanSpec {
        dhcp_on: Some(true),
        primary_rack: Some("rack01".into()),
        ..Default::default()
    };
    let err = c.vlans(f.id).update(100, &dhcp).await.unwrap_err();
    assert!(err.body().unwrap().contains("dynamic IP range"), "{err:?}");
    let range = IpRangeSpec {
        kind: "dynamic".into(),
        start_ip: "172.16.1.100".into(),
        end_ip: "172.16.1.200".into(),
        subnet: s.id,
        comment: Some("Configured by Drydock".into()),
    };
    let r = c.ip_ranges().create(&range).await.unwrap();
    assert_eq!(r.subnet.unwrap().id, s.id);
    assert!(c.vlans(f.id).update(100, &dhcp).await.unwrap().dhcp_on);
    let other = c
        .subnets()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id != s.id)
        .unwrap();
    let route = c
        .static_routes()
        .create(s.id, other.id, "172.16.1.1", Some(100))
        .await
        .unwrap();
    assert_eq!(
        (route.source.id, route.destination.id, route.metric),
        (s.id, other.id, 100)
    );
    c.static_routes().delete(route.id).await.unwrap();
    assert!(c.static_routes().list().await.unwrap().is_empty());
    let d = c.domains().create("site.example", false).await.unwrap();
    assert!(!d.authoritative);
    assert_eq!(c.domains().list().await.unwrap().len(), 2);
}

#[tokio::test]
async fn node_networking_calls() {
    let (fake, sid) = ready_machine().await;
    let c = fake.client();
    let m = c
        .machines()
        .restore_networking_configuration(&sid)
        .await
        .unwrap();
    let eth0 = m.interface_set[0].id;
    let eth1 = m.interface_set[1].id;
    let subnet = c.subnets().list().await.unwrap()[0].clone();
    let untagged = subnet.vlan.clone().unwrap();
    c.interfaces(&sid)
        .update(
            eth0,
            &InterfaceUpdate {
                mtu: Some(9000),
                vlan: Some(untagged.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let i = c.interfaces(&sid).disconnect(eth1).await.unwrap();
    assert!(i.vlan.is_none() && i.links.is_empty());
    let bond = BondSpec {
        name: "bond0".into(),
        parents: vec![eth0, eth1],
        bond_mode: Some("802.3ad".into()),
        bond_miimon: Some(100),
        ..Default::default()
    };
    let b = c.interfaces(&sid).create_bond(&bond).await.unwrap();
    assert_eq!(b.kind, InterfaceType::Bond);
    assert_eq!(b.parents, ["eth0", "eth1"]);
    assert_eq!(b.params().unwrap()["bond_miimon"], 100);
    let f = c.fabrics().list().await.unwrap()[0].clone();
    let v = c
        .vlans(f.id)
        .create(200, &VlanSpec::default())
        .await
        .unwrap();
    let vi = c
        .interfaces(&sid)
        .create_vlan(b.id, v.id, Some(1500), None)
        .await
        .unwrap();
    assert_eq!(
        (vi.name.as_str(), vi.kind.clone()),
        ("bond0.200", InterfaceType::Vlan)
    );
    let spec = LinkSubnetSpec {
        mode: LinkMode::Static,
        subnet: subnet.id,
        ip_address: Some("10.0.0.50".into()),
        default_gateway: true,
    };
    let linked = c.interfaces(&sid).link_subnet(b.id, &spec).await.unwrap();
    let link = linked.links[0].clone();
    assert_eq!(
        (link.mode, link.ip_address.as_deref()),
        (LinkMode::Static, Some("10.0.0.50"))
    );
    let up = LinkSubnetSpec {
        mode: LinkMode::LinkUp,
        subnet: subnet.id,
        ip_address: None,
        default_gateway: true,
    };
    let err = c.interfaces(&sid).link_subnet(b.id, &up).await.unwrap_err();
    assert!(
        err.body().unwrap().contains("Cannot use in mode 'link_up'"),
        "{err:?}"
    );
    let after = c
        .interfaces(&sid)
        .unlink_subnet(b.id, link.id)
        .await
        .unwrap();
    assert!(after.links.is_empty());
    let m = c.machines().get(&sid).await.unwrap();
    // eth0..eth2, the bond and its VLAN.
    assert_eq!(m.interface_set.len(), 5);
    assert_eq!(
        m.interface_set[0].params,
        serde_json::json!(""),
        "params is \"\" inside machines"
    );
}

#[tokio::test]
async fn storage_calls() {
    let (fake, sid) = ready_machine().await;
    let c = fake.client();
    let disks = c.block_devices(&sid).list().await.unwrap();
    let (sda, sdb) = (disks[0].id, disks[1].id);
    c.block_devices(&sid).set_boot_disk(sda).await.unwrap();
    let layout = StorageLayoutOptions {
        storage_layout: "flat".into(),
        root_device: Some(sda),
        ..Default::default()
    };
    c.machines()
        .set_storage_layout(&sid, &layout)
        .await
        .unwrap();
    let p = c
        .partitions(&sid, sda)
        .create(Some(10_000_000_000), None, false)
        .await
        .unwrap();
    let p = c
        .partitions(&sid, sda)
        .format(p.id, "ext4", None, Some("var"))
        .await
        .unwrap();
    let p = c
        .partitions(&sid, sda)
        .mount(p.id, "/var", None)
        .await
        .unwrap();
    let fs = p.filesystem.unwrap();
    assert_eq!(
        (fs.fstype.as_str(), fs.mount_point.as_deref()),
        ("ext4", Some("/var"))
    );
    let pv = c
        .partitions(&sid, sda)
        .create(Some(20_000_000_000), None, false)
        .await
        .unwrap();
    let vg = c
        .volume_groups(&sid)
        .create("vg0", None, &[sdb], &[pv.id])
        .await
        .unwrap();
    assert_eq!(
        vg.devices.len(),
        2,
        "block_devices and partitions sent as repeated keys"
    );
    let lv = c
        .volume_groups(&sid)
        .create_logical_volume(vg.id, "lv0", Some(5_000_000_000), None)
        .await
        .unwrap();
    assert_eq!((lv.name.as_str(), lv.kind.as_str()), ("vg0-lv0", "virtual"));
    c.block_devices(&sid)
        .format(lv.id, "xfs", None)
        .await
        .unwrap();
    let lv = c
        .block_devices(&sid)
        .mount(lv.id, "/srv", None)
        .await
        .unwrap();
    assert_eq!(lv.filesystem.unwrap().mount_point.as_deref(), Some("/srv"));
    assert_eq!(
        c.volume_groups(&sid)
            .get(vg.id)
            .await
            .unwrap()
            .logical_volumes
            .len(),
        1
    );
    c.volume_groups(&sid)
        .delete_logical_volume(vg.id, lv.id)
        .await
        .unwrap();
    c.volume_groups(&sid).delete(vg.id).await.unwrap();
    c.partitions(&sid, sda).delete(pv.id).await.unwrap();
    assert_eq!(c.partitions(&sid, sda).list().await.unwrap().len(), 1);
    // Storage edits need Ready.
    c.machines()
        .deploy(&sid, &Default::default())
        .await
        .unwrap();
    let err = c
        .partitions(&sid, sdb)
        .create(None, None, false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MaasError::InvalidTransition { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn platform_credentials_provisioner_and_service_calls() {
    let (fake, sid) = ready_machine().await;
    let c = fake.client();
    let tag = TagSpec {
        name: "node01_kp".into(),
        kernel_opts: Some("console=ttyS0".into()),
        ..Default::default()
    };
    c.tags().create(&tag).await.unwrap();
    let err = c.tags().create(&tag).await.unwrap_err();
    assert!(
        matches!(&err, MaasError::BadRequest { fields, .. } if fields["name"] == ["Tag with this Name already exists."])
    );
    let r = c
        .tags()
        .update_nodes("node01_kp", std::slice::from_ref(&sid), &[])
        .await
        .unwrap();
    assert_eq!((r.added, r.removed), (1, 0));
    assert_eq!(c.tags().nodes("node01_kp").await.unwrap()[0].system_id, sid);
    assert_eq!(
        c.machines().get(&sid).await.unwrap().tag_names,
        ["node01_kp"]
    );
    c.tags().delete("node01_kp").await.unwrap();
    assert!(matches!(
        c.tags().get("node01_kp").await,
        Err(MaasError::NotFound { .. })
    ));

    let key = c
        .ssh_keys()
        .create("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA test@example")
        .await
        .unwrap();
    assert_eq!(c.ssh_keys().list().await.unwrap(), [key]);
    assert!(c.ssh_keys().create("not-a-key").await.is_err());

    let repos = c.package_repositories().list().await.unwrap();
    let main = repos.iter().find(|r| r.name == "main_archive").unwrap();
    assert!(
        c.package_repositories().delete(main.id).await.is_err(),
        "default repos stay"
    );
    let spec = RepositorySpec {
        name: Some("extra".into()),
        url: Some("http://repo.example/ubuntu".into()),
        distributions: vec!["jammy".into()],
        components: vec!["main".into(), "universe".into()],
        ..Default::default()
    };
    let r = c.package_repositories().create(&spec).await.unwrap();
    assert_eq!(r.components, ["main", "universe"]);
    let upd = RepositorySpec {
        enabled: Some(false),
        ..Default::default()
    };
    assert!(
        !c.package_repositories()
            .update(r.id, &upd)
            .await
            .unwrap()
            .enabled
    );

    assert!(!c.boot_resources().is_importing().await.unwrap());
    fake.set_importing(true);
    assert!(c.boot_resources().is_importing().await.unwrap());
    assert_eq!(
        c.boot_resources().list().await.unwrap()[0].name,
        "ubuntu/jammy"
    );
    let racks = c.rack_controllers().list().await.unwrap();
    assert!(racks[0].is_healthy());
    assert_eq!(
        c.rack_controllers().get("rack01").await.unwrap().hostname,
        "rack01"
    );

    let update = MachineUpdate {
        hostname: Some("cab1-node01".into()),
        power_type: Some("ipmi".into()),
        power_parameters: BTreeMap::from([("power_address".into(), "10.23.0.5".into())]),
        ..Default::default()
    };
    assert_eq!(
        c.machines().update(&sid, &update).await.unwrap().hostname,
        "cab1-node01"
    );
    assert_eq!(
        c.machines().power_parameters(&sid).await.unwrap()["power_address"],
        "10.23.0.5"
    );
    let all = c.machines().all_power_parameters(&[]).await.unwrap();
    assert_eq!(all[&sid]["power_address"], "10.23.0.5");
    let by_mac = drydock_driver_maas::MachineQuery {
        mac_address: vec!["00:00:00:00:00:00".into()],
        ..Default::default()
    };
    assert!(
        c.machines().list(&by_mac).await.unwrap().is_empty(),
        "Drydock's ping"
    );
    let bson = c.machines().details(&sid).await.unwrap();
    assert_eq!(
        u32::from_le_bytes(bson[..4].try_into().unwrap()) as usize,
        bson.len()
    );
    c.machines().delete(&sid).await.unwrap();
    assert!(matches!(
        c.machines().get(&sid).await,
        Err(MaasError::NotFound { .. })
    ));
}

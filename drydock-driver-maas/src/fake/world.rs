//! The fake's state: entities, rendering in MAAS' shapes, seeding, the simulated clock.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::faults::Fault;
use super::lifecycle::{Durations, Outcome, Script};
use crate::{MaasApiKey, MachineStatus, PowerState};

pub(crate) const API: &str = "/MAAS/api/2.0/";
pub(crate) const USER: &str = "admin";

#[derive(Debug, Clone)]
pub(crate) struct LinkRec {
    pub id: i64,
    pub mode: String,
    pub subnet: Option<i64>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct IfaceRec {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub mac: String,
    pub vlan: Option<i64>,
    pub parents: Vec<String>,
    pub links: Vec<LinkRec>,
    pub mtu: Option<u32>,
    pub tags: Vec<String>,
    pub params: Value,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct FsRec {
    pub fstype: String,
    pub uuid: Option<String>,
    pub label: Option<String>,
    pub mount_point: Option<String>,
    pub mount_options: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PartRec {
    pub id: i64,
    pub size: u64,
    pub bootable: bool,
    pub uuid: String,
    pub fs: Option<FsRec>,
}

#[derive(Debug, Clone)]
pub(crate) struct BlockRec {
    pub id: i64,
    pub name: String,
    pub size: u64,
    pub virtual_of: Option<i64>,
    pub fs: Option<FsRec>,
    pub partitions: Vec<PartRec>,
    pub boot: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct VgRec {
    pub id: i64,
    pub name: String,
    pub uuid: String,
    pub block_devices: Vec<i64>,
    pub partitions: Vec<i64>,
}

/// A phase that the clock advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    pub remaining: u32,
    pub elapsed: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct MachineRec {
    pub system_id: String,
    pub hostname: String,
    pub status: MachineStatus,
    pub status_message: String,
    pub power_state: PowerState,
    pub power_type: String,
    pub power_params: BTreeMap<String, String>,
    pub owner: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub distro_series: String,
    pub hwe_kernel: Option<String>,
    pub domain: i64,
    pub commissioned: bool,
    pub pending: Option<Pending>,
    pub script: Script,
    pub interfaces: Vec<IfaceRec>,
    pub blocks: Vec<BlockRec>,
    pub vgs: Vec<VgRec>,
    pub results: Vec<(String, i64, i64)>,
    /// The NICs commissioning found (what `op=details` lists in lshw).
    pub nics: Vec<NicRec>,
    /// The disks commissioning found (what `op=details` lists in lshw).
    pub disks: Vec<DiskRec>,
    /// The base64 cloud-init `user_data` of the current deployment, as received.
    pub user_data: Option<String>,
}

/// A disk of the machine's hardware: kernel name, SCSI bus address and size.
#[derive(Debug, Clone)]
pub(crate) struct DiskRec {
    pub name: String,
    pub bus: String,
    pub size: u64,
}

/// A NIC of the machine's hardware: name, MAC and PCI bus address.
#[derive(Debug, Clone)]
pub(crate) struct NicRec {
    pub name: String,
    pub mac: String,
    pub bus: String,
}

#[derive(Debug, Clone)]
pub(crate) struct VlanRec {
    pub id: i64,
    pub fabric: i64,
    pub vid: u16,
    pub name: String,
    pub mtu: u32,
    pub dhcp_on: bool,
    pub primary_rack: Option<String>,
    pub secondary_rack: Option<String>,
    pub relay_vlan: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct SubnetRec {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub cidr: String,
    pub vlan: i64,
    pub gateway_ip: Option<String>,
    pub dns_servers: Vec<String>,
    pub rdns_mode: i64,
    pub allow_proxy: bool,
}

/// Everything the fake knows.
#[derive(Debug)]
pub(crate) struct World {
    pub key: MaasApiKey,
    pub nonces: HashSet<(String, String, String)>,
    pub clock_skew: i64,
    pub faults: Vec<Fault>,
    pub durations: Durations,
    pub next_id: i64,
    pub machines: BTreeMap<String, MachineRec>,
    pub fabrics: BTreeMap<i64, (String, Option<String>)>,
    pub next_fabric: i64,
    pub vlans: BTreeMap<i64, VlanRec>,
    pub subnets: BTreeMap<i64, SubnetRec>,
    pub ipranges: BTreeMap<i64, Value>,
    pub routes: BTreeMap<i64, (i64, i64, String, i64)>,
    pub domains: BTreeMap<i64, (String, bool)>,
    pub tags: BTreeMap<String, Value>,
    pub tagged: BTreeMap<String, Vec<String>>,
    pub sshkeys: BTreeMap<i64, String>,
    pub repos: BTreeMap<i64, Value>,
    pub boot_resources: Vec<Value>,
    pub importing: bool,
    pub racks: Vec<Value>,
    pub ticks: u64,
    pub requests: u64,
    pub writes: u64,
    /// Requests received per (method, path relative to the API root, op).
    pub requests_by_op: BTreeMap<(String, String, String), u64>,
    /// NICs (name, PCI bus address) of machines enlisted without their own list.
    pub default_nics: Vec<(String, String)>,
}

/// The disks of every machine: kernel name and SCSI bus address (lshw `businfo` without
/// `scsi@`), the first one 500 GB, the second 400 GB.
pub(crate) const DISKS: [(&str, &str); 2] = [("sda", "0:0.0.0"), ("sdb", "2:0.0.0")];

/// MAAS' system-id alphabet (base-24 "znums").
const ZNUM: &[u8] = b"34678abcdefghkmnpqrstwxy";

fn znum(mut n: u64) -> String {
    let mut s = Vec::new();
    for _ in 0..6 {
        s.push(ZNUM[(n % 24) as usize]);
        n /= 24;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

impl World {
    pub(crate) fn new(key: MaasApiKey, durations: Durations) -> Self {
        let mut w = Self {
            key,
            nonces: HashSet::new(),
            clock_skew: 0,
            faults: Vec::new(),
            durations,
            next_id: 1,
            machines: BTreeMap::new(),
            fabrics: BTreeMap::new(),
            next_fabric: 0,
            vlans: BTreeMap::new(),
            subnets: BTreeMap::new(),
            ipranges: BTreeMap::new(),
            routes: BTreeMap::new(),
            domains: BTreeMap::from([(0, ("maas".to_owned(), true))]),
            tags: BTreeMap::new(),
            tagged: BTreeMap::new(),
            sshkeys: BTreeMap::new(),
            repos: BTreeMap::new(),
            boot_resources: Vec::new(),
            importing: false,
            racks: Vec::new(),
            ticks: 0,
            requests: 0,
            writes: 0,
            default_nics: super::FakeNic::defaults()
                .into_iter()
                .map(|n| (n.name, n.bus_address))
                .collect(),
            requests_by_op: BTreeMap::new(),
        };
        let fabric = w.create_fabric("fabric-0", None);
        let vlan = w.untagged_vlan(fabric).unwrap_or_default();
        let id = w.id();
        w.subnets.insert(
            id,
            SubnetRec {
                id,
                name: "10.0.0.0/24".into(),
                description: String::new(),
                cidr: "10.0.0.0/24".into(),
                vlan,
                gateway_ip: Some("10.0.0.1".into()),
                dns_servers: vec![],
                rdns_mode: 2,
                allow_proxy: true,
            },
        );
        for (name, url) in [
            ("main_archive", "http://archive.ubuntu.com/ubuntu"),
            ("ports_archive", "http://ports.ubuntu.com/ubuntu-ports"),
        ] {
            let id = w.id();
            w.repos.insert(
                id,
                json!({"id": id, "name": name, "url": url,
                "distributions": [], "disabled_pockets": [], "disabled_components": [],
                "disable_sources": true, "components": [], "arches": ["amd64"], "key": "",
                "enabled": true, "resource_uri": format!("{API}package-repositories/{id}/")}),
            );
        }
        let id = w.id();
        w.boot_resources
            .push(json!({"id": id, "type": "Synced", "name": "ubuntu/jammy",
            "architecture": "amd64/ga-22.04", "subarches": "generic,ga-22.04",
            "last_deployed": null, "resource_uri": format!("{API}boot-resources/{id}/")}));
        let services: Vec<Value> = ["http", "dhcpd", "dhcpd6", "rackd", "tftp", "ntp_rack"]
            .iter()
            .map(|n| json!({"name": n, "status": "running", "status_info": ""}))
            .collect();
        let vlan = w.untagged_vlan(0).map_or(Value::Null, |v| w.render_vlan(v));
        let iface_id = w.id();
        let iface = json!({"system_id": "rack01", "id": iface_id, "name": "eth0",
            "type": "physical", "mac_address": "52:54:00:ff:00:01", "vlan": vlan,
            "parents": [], "children": [], "tags": [], "enabled": true, "links": [],
            "params": "", "discovered": null, "effective_mtu": 1500, "vendor": null,
            "product": null, "firmware_version": null, "link_connected": true,
            "interface_speed": 1000, "link_speed": 1000, "numa_node": 0, "sriov_max_vf": 0,
            "resource_uri": format!("{API}nodes/rack01/interfaces/{iface_id}/")});
        w.racks
            .push(json!({"system_id": "rack01", "hostname": "rack01",
            "fqdn": "rack01.maas", "version": "3.5.0", "power_type": "", "power_state": "unknown",
            "interface_set": [iface], "service_set": services, "ip_addresses": ["10.0.0.2"],
            "node_type": 2, "node_type_name": "Rack controller",
            "resource_uri": format!("{API}rackcontrollers/rack01/")}));
        w
    }

    /// The rack controller `system_id`, if there is one.
    pub(crate) fn rack(&self, system_id: &str) -> Option<&Value> {
        self.racks.iter().find(|r| r["system_id"] == system_id)
    }

    pub(crate) fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn create_fabric(&mut self, name: &str, description: Option<String>) -> i64 {
        let fid = self.next_fabric;
        self.next_fabric += 1;
        self.fabrics.insert(fid, (name.to_owned(), description));
        let id = 5000 + self.id();
        self.vlans.insert(
            id,
            VlanRec {
                id,
                fabric: fid,
                vid: 0,
                name: "untagged".into(),
                mtu: 1500,
                dhcp_on: false,
                primary_rack: None,
                secondary_rack: None,
                relay_vlan: None,
            },
        );
        fid
    }

    pub(crate) fn untagged_vlan(&self, fabric: i64) -> Option<i64> {
        self.vlan_by_vid(fabric, 0)
    }

    pub(crate) fn vlan_by_vid(&self, fabric: i64, vid: u16) -> Option<i64> {
        self.vlans
            .values()
            .find(|v| v.fabric == fabric && v.vid == vid)
            .map(|v| v.id)
    }

    /// Adds a machine in `New` with the default NICs and the two disks of [`DISKS`]; returns its
    /// system id.
    pub(crate) fn add_machine(&mut self, hostname: Option<String>, bmc: Option<String>) -> String {
        let nics = self.default_nics.clone();
        self.add_machine_with_nics(hostname, bmc, &nics)
    }

    /// Enlists a machine whose NICs are `(name, PCI bus address)`.
    pub(crate) fn add_machine_with_nics(
        &mut self,
        hostname: Option<String>,
        bmc: Option<String>,
        nic_list: &[(String, String)],
    ) -> String {
        let n = self.machines.len() as u64;
        let system_id = znum(0x4d2a5 + n * 7919);
        let hostname = hostname.unwrap_or_else(|| format!("node{:02}", n + 1));
        // `FakeMaasBuilder::start` enlists at most `MAX_MACHINES` machines without a BMC
        // address, so the port exists; past 65535 the address gets port 0 rather than wrapping.
        let bmc = bmc.unwrap_or_else(|| {
            super::default_bmc_address(n).unwrap_or_else(|| "127.0.0.1:0".to_owned())
        });
        let vlan = self.untagged_vlan(0);
        let mut interfaces = Vec::new();
        let mut nics = Vec::new();
        for (i, (name, bus)) in nic_list.iter().enumerate() {
            let id = self.id();
            let mac = format!("52:54:00:{:02x}:{:02x}:{:02x}", n / 256, n % 256, i);
            nics.push(NicRec {
                name: name.clone(),
                mac: mac.clone(),
                bus: bus.clone(),
            });
            interfaces.push(IfaceRec {
                id,
                name: name.clone(),
                kind: "physical",
                mac,
                vlan,
                parents: vec![],
                links: vec![],
                mtu: None,
                tags: vec![],
                params: json!({}),
            });
        }
        let mut blocks = Vec::new();
        let mut disks = Vec::new();
        for (i, (name, bus)) in DISKS.iter().enumerate() {
            let id = self.id();
            let size = 500_000_000_000 - (i as u64) * 100_000_000_000;
            blocks.push(BlockRec {
                id,
                name: (*name).into(),
                size,
                virtual_of: None,
                fs: None,
                partitions: vec![],
                boot: i == 0,
            });
            disks.push(DiskRec {
                name: (*name).into(),
                bus: (*bus).into(),
                size,
            });
        }
        let m = MachineRec {
            system_id: system_id.clone(),
            hostname,
            status: MachineStatus::New,
            status_message: String::new(),
            power_state: PowerState::Off,
            power_type: "ipmi".into(),
            power_params: BTreeMap::from([
                ("power_address".to_owned(), bmc),
                ("power_user".to_owned(), "admin".to_owned()),
                ("power_pass".to_owned(), "password".to_owned()),
            ]),
            owner: None,
            annotations: BTreeMap::new(),
            distro_series: String::new(),
            hwe_kernel: None,
            domain: 0,
            commissioned: false,
            pending: None,
            script: Script::default(),
            interfaces,
            blocks,
            vgs: vec![],
            results: vec![],
            nics,
            disks,
            user_data: None,
        };
        self.machines.insert(system_id.clone(), m);
        system_id
    }

    // ---- rendering -----------------------------------------------------------------------

    pub(crate) fn render_vlan(&self, id: i64) -> Value {
        let Some(v) = self.vlans.get(&id) else {
            return Value::Null;
        };
        let fabric = self.fabrics.get(&v.fabric).map(|f| f.0.clone());
        json!({"id": v.id, "vid": v.vid, "name": v.name, "fabric": fabric, "fabric_id": v.fabric,
            "mtu": v.mtu, "dhcp_on": v.dhcp_on, "external_dhcp": null,
            "primary_rack": v.primary_rack, "secondary_rack": v.secondary_rack,
            "relay_vlan": v.relay_vlan, "space": "undefined",
            "resource_uri": format!("{API}vlans/{}/", v.id)})
    }

    pub(crate) fn render_fabric(&self, id: i64) -> Value {
        let Some((name, _)) = self.fabrics.get(&id) else {
            return Value::Null;
        };
        let vlans: Vec<Value> = self
            .vlans
            .values()
            .filter(|v| v.fabric == id)
            .map(|v| self.render_vlan(v.id))
            .collect();
        json!({"id": id, "name": name, "class_type": null, "vlans": vlans,
            "resource_uri": format!("{API}fabrics/{id}/")})
    }

    pub(crate) fn render_subnet(&self, id: i64) -> Value {
        let Some(s) = self.subnets.get(&id) else {
            return Value::Null;
        };
        json!({"id": s.id, "name": s.name, "description": s.description,
            "vlan": self.render_vlan(s.vlan), "cidr": s.cidr, "gateway_ip": s.gateway_ip,
            "dns_servers": s.dns_servers, "rdns_mode": s.rdns_mode, "allow_dns": true,
            "allow_proxy": s.allow_proxy, "active_discovery": false, "managed": true,
            "disabled_boot_architectures": [], "space": "undefined",
            "resource_uri": format!("{API}subnets/{id}/")})
    }

    pub(crate) fn render_domain(&self, id: i64) -> Value {
        let (name, authoritative) = self.domains.get(&id).cloned().unwrap_or_default();
        json!({"id": id, "name": name, "ttl": null, "authoritative": authoritative,
            "is_default": id == 0, "resource_record_count": 0,
            "resource_uri": format!("{API}domains/{id}/")})
    }

    /// `params_empty_string`: MAAS renders `params` as `""` inside machine objects.
    pub(crate) fn render_interface(&self, m: &MachineRec, i: &IfaceRec, inside: bool) -> Value {
        let links: Vec<Value> = i
            .links
            .iter()
            .map(|l| {
                let mut o = json!({"id": l.id, "mode": l.mode});
                if let Some(s) = l.subnet {
                    o["subnet"] = self.render_subnet(s);
                }
                if let Some(ip) = &l.ip {
                    o["ip_address"] = json!(ip);
                }
                o
            })
            .collect();
        let children: Vec<&str> = m
            .interfaces
            .iter()
            .filter(|c| c.parents.contains(&i.name))
            .map(|c| c.name.as_str())
            .collect();
        let vlan = i.vlan.map(|v| self.render_vlan(v)).unwrap_or(Value::Null);
        let mtu = i
            .mtu
            .or_else(|| i.vlan.and_then(|v| self.vlans.get(&v)).map(|v| v.mtu))
            .unwrap_or(1500);
        json!({"system_id": m.system_id, "id": i.id, "name": i.name, "type": i.kind,
            "vlan": vlan, "mac_address": i.mac, "parents": i.parents, "children": children,
            "tags": i.tags, "enabled": true, "links": links,
            "params": if inside { json!("") } else { i.params.clone() },
            "discovered": if inside { json!([]) } else { Value::Null },
            "effective_mtu": mtu, "vendor": null, "product": null, "firmware_version": null,
            "link_connected": true, "interface_speed": 1000, "link_speed": 1000,
            "numa_node": 0, "sriov_max_vf": 0,
            "resource_uri": format!("{API}nodes/{}/interfaces/{}/", m.system_id, i.id)})
    }

    fn render_fs(fs: &Option<FsRec>) -> Value {
        match fs {
            None => Value::Null,
            Some(f) => json!({"fstype": f.fstype, "label": f.label, "uuid": f.uuid,
                "mount_point": f.mount_point, "mount_options": f.mount_options}),
        }
    }

    pub(crate) fn render_partition(m: &MachineRec, b: &BlockRec, p: &PartRec) -> Value {
        let used_for = match &p.fs {
            Some(f) => format!("{} formatted filesystem", f.fstype),
            None => "Unused".into(),
        };
        json!({"system_id": m.system_id, "device_id": b.id, "id": p.id, "uuid": p.uuid,
            "path": format!("/dev/disk/by-dname/{}-part{}", b.name, p.id), "type": "partition",
            "size": p.size, "bootable": p.bootable, "filesystem": Self::render_fs(&p.fs),
            "used_for": used_for, "tags": [],
            "resource_uri": format!("{API}nodes/{}/blockdevices/{}/partition/{}",
                m.system_id, b.id, p.id)})
    }

    pub(crate) fn render_block(m: &MachineRec, b: &BlockRec) -> Value {
        let used: u64 = b.partitions.iter().map(|p| p.size).sum::<u64>()
            + if b.fs.is_some() || m.vgs.iter().any(|v| v.block_devices.contains(&b.id)) {
                b.size
            } else {
                0
            };
        let parts: Vec<Value> = b
            .partitions
            .iter()
            .map(|p| Self::render_partition(m, b, p))
            .collect();
        let kind = if b.virtual_of.is_some() {
            "virtual"
        } else {
            "physical"
        };
        json!({"system_id": m.system_id, "id": b.id, "name": b.name, "uuid": null, "type": kind,
            "path": format!("/dev/disk/by-dname/{}", b.name), "model": "QEMU HARDDISK",
            "serial": format!("QM{:05}", b.id), "id_path": null, "size": b.size,
            "block_size": 512, "available_size": b.size.saturating_sub(used),
            "used_size": used.min(b.size), "used_for": if used == 0 { "Unused" } else { "In use" },
            "tags": if b.virtual_of.is_some() { json!([]) } else { json!(["ssd"]) },
            "filesystem": Self::render_fs(&b.fs),
            "partition_table_type": if b.partitions.is_empty() { Value::Null } else { json!("GPT") },
            "partitions": parts, "firmware_version": null, "storage_pool": null, "numa_node": 0,
            "resource_uri": format!("{API}nodes/{}/blockdevices/{}/", m.system_id, b.id)})
    }

    pub(crate) fn render_vg(m: &MachineRec, vg: &VgRec) -> Value {
        let mut devices = Vec::new();
        let mut size = 0;
        for b in &m.blocks {
            if vg.block_devices.contains(&b.id) {
                size += b.size;
                devices.push(json!({"id": b.id, "type": "physical", "size": b.size,
                    "path": format!("/dev/disk/by-dname/{}", b.name)}));
            }
            for p in &b.partitions {
                if vg.partitions.contains(&p.id) {
                    size += p.size;
                    devices.push(Self::render_partition(m, b, p));
                }
            }
        }
        let lvs: Vec<Value> = m
            .blocks
            .iter()
            .filter(|b| b.virtual_of == Some(vg.id))
            .map(|b| Self::render_block(m, b))
            .collect();
        let used: u64 = m
            .blocks
            .iter()
            .filter(|b| b.virtual_of == Some(vg.id))
            .map(|b| b.size)
            .sum();
        json!({"system_id": m.system_id, "id": vg.id, "uuid": vg.uuid, "name": vg.name,
            "devices": devices, "size": size, "human_size": format!("{} GB", size / 1_000_000_000),
            "available_size": size.saturating_sub(used), "used_size": used,
            "human_available_size": "", "human_used_size": "", "logical_volumes": lvs,
            "resource_uri": format!("{API}nodes/{}/volume-group/{}/", m.system_id, vg.id)})
    }

    pub(crate) fn render_machine(&self, m: &MachineRec) -> Value {
        let ifaces: Vec<Value> = m
            .interfaces
            .iter()
            .map(|i| self.render_interface(m, i, true))
            .collect();
        let blocks: Vec<Value> = m.blocks.iter().map(|b| Self::render_block(m, b)).collect();
        let tag_names: Vec<&String> = self
            .tagged
            .iter()
            .filter(|(_, sids)| sids.contains(&m.system_id))
            .map(|(t, _)| t)
            .collect();
        let vgs: Vec<Value> = m
            .vgs
            .iter()
            .map(|v| json!({"system_id": m.system_id, "id": v.id, "__incomplete__": true}))
            .collect();
        let storage: u64 = m
            .blocks
            .iter()
            .filter(|b| b.virtual_of.is_none())
            .map(|b| b.size)
            .sum();
        let mut v = json!({"system_id": m.system_id, "hostname": m.hostname,
            "fqdn": format!("{}.{}", m.hostname, self.domains.get(&m.domain).map_or("maas", |d| d.0.as_str())), "status": m.status.code(),
            "status_name": m.status.label(), "status_message": m.status_message,
            "error_description": "", "power_type": m.power_type, "power_state": String::from(m.power_state.clone()),
            "owner": m.owner, "architecture": "amd64/generic",
            "osystem": if m.distro_series.is_empty() { "" } else { "ubuntu" },
            "distro_series": m.distro_series, "hwe_kernel": m.hwe_kernel, "memory": 16384,
            "cpu_count": 4, "storage": storage as f64 / 1e6, "locked": false, "netboot": true,
            "tag_names": tag_names, "ip_addresses": [], "workload_annotations": m.annotations,
            "owner_data": m.annotations, "domain": self.render_domain(m.domain),
            "zone": {"id": 1, "name": "default", "description": "", "resource_uri": format!("{API}zones/default/")},
            "pool": {"id": 0, "name": "default", "description": "", "resource_uri": format!("{API}resourcepool/0/")},
            "interface_set": ifaces.clone(), "boot_interface": ifaces.first().cloned(),
            "blockdevice_set": blocks.clone(), "boot_disk": blocks.first().cloned(),
            "volume_groups": vgs, "raids": [], "bcaches": [], "cache_sets": [],
            "commissioning_status": if m.commissioned { 2 } else { -1 },
            "testing_status": if m.commissioned { 2 } else { -1 },
            "node_type": 0, "node_type_name": "Machine",
            "resource_uri": format!("{API}machines/{}/", m.system_id)});
        super::fields::complete_machine(&mut v, m.commissioned);
        v
    }

    // ---- the clock -------------------------------------------------------------------------

    /// Advances every running phase by one tick.
    pub(crate) fn tick(&mut self) {
        self.ticks += 1;
        let durations = self.durations;
        for m in self.machines.values_mut() {
            let Some(mut p) = m.pending else { continue };
            p.elapsed += 1;
            p.remaining = p.remaining.saturating_sub(1);
            m.pending = Some(p);
            let hang = phase_outcome(m) == Outcome::Hang;
            if hang && p.elapsed >= durations.timeout {
                let label = m.status.label();
                m.status_message = format!(
                    "Node operation '{label}' timed out after {} ticks.",
                    p.elapsed
                );
                finish(m, Outcome::Fail, durations);
            } else if !hang && p.remaining == 0 {
                finish(m, phase_outcome(m), durations);
            }
        }
    }
}

fn phase_outcome(m: &MachineRec) -> Outcome {
    match m.status {
        MachineStatus::Commissioning => m.script.commissioning,
        MachineStatus::Testing => m.script.testing,
        MachineStatus::Deploying => m.script.deploying,
        _ => Outcome::Succeed,
    }
}

/// Ends the running phase of `m` with `outcome` (moves along the transition table only).
fn finish(m: &mut MachineRec, outcome: Outcome, d: Durations) {
    use MachineStatus as S;
    let fail = outcome != Outcome::Succeed;
    let exit = i64::from(fail);
    let script = match m.status {
        S::Commissioning => Some(("00-maas-01-cpuinfo", 0)),
        S::Testing => Some(("smartctl-validate", 2)),
        S::Deploying => Some(("curtin", 1)),
        _ => None,
    };
    if let Some((name, kind)) = script {
        m.results.push((name.into(), kind, exit));
        if fail && !m.status_message.contains("timed out") {
            m.status_message = format!("{} failed: script {name} exited 1", m.status.label());
        }
    }
    let (next, pending) = match m.status {
        S::Commissioning if fail => (S::FailedCommissioning, None),
        S::Commissioning => (S::Testing, Some(d.testing)),
        S::Testing if fail => (S::FailedTesting, None),
        S::Testing => {
            m.commissioned = true;
            (S::Ready, None)
        }
        S::Deploying if fail => (S::FailedDeployment, None),
        S::Deploying => (S::Deployed, None),
        S::DiskErasing if fail => (S::FailedDiskErasing, None),
        S::DiskErasing => (S::Releasing, Some(d.releasing)),
        S::Releasing => (if m.commissioned { S::Ready } else { S::New }, None),
        _ => (m.status, None),
    };
    debug_assert!(super::lifecycle::allowed(m.status, next));
    if matches!(
        next,
        S::Ready | S::New | S::FailedCommissioning | S::FailedTesting
    ) {
        m.power_state = PowerState::Off;
    }
    if next == S::Ready {
        m.owner = None;
    }
    m.status = next;
    m.pending = pending.map(|remaining| Pending {
        remaining: remaining.max(1),
        elapsed: 0,
    });
}

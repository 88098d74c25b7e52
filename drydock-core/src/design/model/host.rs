//! HostProfile and BaremetalNode documents as written (before inheritance).

use std::fmt;
use std::net::IpAddr;

use indexmap::IndexMap;
use serde::Serialize;

use super::common::{Setting, Size};
use crate::design::decode::{Cx, Extras, Fields, Path, to_json};
use crate::design::diag::DiagnosticKind;
use crate::design::yaml::{Node, Value};

/// How a node's BMC is driven: the `oob.type` of a design.
///
/// The four types the reference knows have their own variants; any other name is kept as
/// [`OobType::Other`], for an out-of-band driver of another crate to declare in its
/// [`Capabilities`](crate::driver::Capabilities). A node whose type no registered driver
/// serves is reported when a task that needs its BMC starts.
///
/// ```
/// use drydock_core::design::OobType;
/// assert_eq!("redfish".parse::<OobType>().unwrap(), OobType::Redfish);
/// let amt: OobType = "amt".parse().unwrap();
/// assert_eq!(amt, OobType::Other("amt".into()));
/// assert_eq!(amt.to_string(), "amt");
/// assert_eq!(serde_json::to_string(&amt).unwrap(), "\"amt\"");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OobType {
    /// IPMI over LAN.
    Ipmi,
    /// DMTF Redfish.
    Redfish,
    /// A libvirt domain (virtual nodes).
    Libvirt,
    /// No BMC control: an operator powers the node by hand.
    Manual,
    /// A type core does not know (`amt`), served by a driver that declares it.
    Other(String),
}

impl OobType {
    /// The type as written in documents.
    pub fn as_str(&self) -> &str {
        match self {
            OobType::Ipmi => "ipmi",
            OobType::Redfish => "redfish",
            OobType::Libvirt => "libvirt",
            OobType::Manual => "manual",
            OobType::Other(name) => name,
        }
    }
}

impl fmt::Display for OobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OobType {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ipmi" => OobType::Ipmi,
            "redfish" => OobType::Redfish,
            "libvirt" => OobType::Libvirt,
            "manual" => OobType::Manual,
            other => OobType::Other(other.to_owned()),
        })
    }
}

impl Serialize for OobType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for OobType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Ok(s.parse().unwrap_or_else(|never| match never {}))
    }
}

/// A kernel parameter value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum KernelParam {
    /// `true`: the parameter is a bare flag (`quiet`); `false`: it is left out.
    Flag(bool),
    /// `key=value`.
    Value(String),
}

/// OOB parameters (`network`, `account`, `credential`, `libvirt_uri`, ...), in document order.
///
/// `Debug` and `Serialize` hide the values of `credential` and `password`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OobParameters(pub IndexMap<String, String>);

const SECRET_KEYS: [&str; 2] = ["credential", "password"];

impl fmt::Debug for OobParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown: &str = if SECRET_KEYS.contains(&k.trim_start_matches('!')) {
                    "***"
                } else {
                    v
                };
                (k, shown)
            }))
            .finish()
    }
}

impl Serialize for OobParameters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| {
            let shown: &str = if SECRET_KEYS.contains(&k.trim_start_matches('!')) {
                "***"
            } else {
                v
            };
            (k, shown)
        }))
    }
}

/// The fields HostProfile and BaremetalNode documents share, as written.
///
/// Absent fields inherit from the parent profile; see [`Setting`]. Names starting with `!` in
/// lists, mappings and named items remove what the parent has.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HostSpec {
    /// The parent profile (`host_profile`).
    pub parent: Option<String>,
    /// The hardware profile.
    pub hardware_profile: Option<Setting<String>>,
    /// The network whose DNS domain names the host.
    pub primary_network: Option<Setting<String>>,
    /// OOB driver type (`oob.type`).
    pub oob_type: Option<Setting<OobType>>,
    /// Other `oob` keys.
    pub oob_parameters: OobParameters,
    /// Network interfaces.
    pub interfaces: Vec<InterfaceSpec>,
    /// Physical devices (`storage.physical_devices`).
    pub storage_devices: Vec<DeviceSpec>,
    /// Volume groups (`storage.volume_groups`).
    pub volume_groups: Vec<VolumeGroupSpec>,
    /// OS image (`platform.image`).
    pub image: Option<Setting<String>>,
    /// Kernel (`platform.kernel`).
    pub kernel: Option<Setting<String>>,
    /// Kernel parameters (`platform.kernel_params`).
    pub kernel_params: IndexMap<String, KernelParam>,
    /// Tags (`metadata.tags`).
    pub tags: Vec<String>,
    /// Labels (`metadata.owner_data`), matched by node filters' `node_labels`.
    pub owner_data: IndexMap<String, String>,
    /// Rack (`metadata.rack`).
    pub rack: Option<Setting<String>>,
    /// Unmodelled keys of `storage` (an open place of the reference's schema).
    pub storage_extra: Extras,
}

/// A network interface as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceSpec {
    /// The interface's name; `!name` (or a null value in the document) removes an inherited one.
    pub name: String,
    /// The NetworkLink it uses.
    pub device_link: Option<Setting<String>>,
    /// Hardware devices (NIC names or hardware profile aliases).
    pub slaves: Vec<String>,
    /// Networks attached.
    pub networks: Vec<String>,
    /// SR-IOV settings.
    pub sriov: Option<Sriov>,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Unmodelled keys (`ovs_dpdk`, `pci_whitelist`, ...): the reference's schema leaves
    /// interfaces open.
    pub extra: Extras,
}

/// SR-IOV settings of an interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Sriov {
    /// Number of virtual functions.
    pub vf_count: u32,
    /// Whether VFs are trusted (`trustedmode`, also read from the schema's `trustmode`).
    pub trustedmode: bool,
    /// Unmodelled keys (`num_vfs`, `promisc`, `device`, ...).
    pub extra: Extras,
}

/// A physical storage device as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceSpec {
    /// Device name (`sda`) or hardware profile alias; `!name` removes an inherited one.
    pub name: String,
    /// Volume group the whole device joins as a physical volume.
    pub volume_group: Option<Setting<String>>,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Partitions.
    pub partitions: Vec<PartitionSpec>,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// A filesystem as written (inside a partition or a logical volume).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FilesystemSpec {
    /// Mount point.
    pub mountpoint: Option<Setting<String>>,
    /// Filesystem type (`ext4` when a filesystem block gives none).
    pub fstype: Option<Setting<String>>,
    /// Mount options (`defaults` when a filesystem block gives none).
    pub mount_options: Option<Setting<String>>,
    /// Filesystem UUID.
    pub fs_uuid: Option<Setting<String>>,
    /// Filesystem label.
    pub fs_label: Option<Setting<String>>,
    /// Unmodelled keys (a logical volume's filesystem is open; a partition's is closed).
    pub extra: Extras,
}

/// A partition as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartitionSpec {
    /// Name; `!name` removes an inherited one.
    pub name: String,
    /// Size.
    pub size: Option<Setting<Size>>,
    /// Partition UUID.
    pub part_uuid: Option<Setting<String>>,
    /// Volume group the partition joins as a physical volume.
    pub volume_group: Option<Setting<String>>,
    /// Bootable flag.
    pub bootable: Option<bool>,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Filesystem.
    pub filesystem: FilesystemSpec,
}

/// A volume group as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VolumeGroupSpec {
    /// Name; `!name` removes an inherited one.
    pub name: String,
    /// VG UUID.
    pub vg_uuid: Option<Setting<String>>,
    /// Logical volumes.
    pub logical_volumes: Vec<LogicalVolumeSpec>,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// A logical volume as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogicalVolumeSpec {
    /// Name; `!name` removes an inherited one.
    pub name: String,
    /// Size.
    pub size: Option<Setting<Size>>,
    /// LV UUID.
    pub lv_uuid: Option<Setting<String>>,
    /// Filesystem.
    pub filesystem: FilesystemSpec,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// `drydock/HostProfile/v1`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HostProfile {
    /// The profile's name.
    pub name: String,
    /// Its fields.
    pub spec: HostSpec,
}

/// `drydock/BaremetalNode/v1`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BaremetalNode {
    /// The node's name (its hostname).
    pub name: String,
    /// The fields it shares with host profiles.
    pub spec: HostSpec,
    /// Address assignments (at least one).
    pub addressing: Vec<AddressAssignment>,
    /// MAC address of the PXE boot interface (`metadata.boot_mac`).
    pub boot_mac: Option<String>,
}

/// An address assignment of a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddressAssignment {
    /// The network.
    pub network: String,
    /// The address.
    pub address: Address,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// How a node gets its address on a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Address {
    /// Assigned by DHCP (`address: dhcp`).
    Dhcp,
    /// A static address.
    Static(IpAddr),
}

impl Address {
    /// The static address, if any.
    pub fn ip(self) -> Option<IpAddr> {
        match self {
            Address::Dhcp => None,
            Address::Static(ip) => Some(ip),
        }
    }
}

fn setting_string(
    cx: &mut Cx<'_>,
    f: &mut Fields<'_>,
    key: &'static str,
    path: &Path<'_>,
) -> Option<Setting<String>> {
    let n = f.take(key)?;
    let s = cx.string(n, &path.key(key))?;
    Some(if s == "!" {
        Setting::Clear
    } else {
        Setting::Set(s)
    })
}

/// Reads `filesystem`; `open` for a logical volume's (its schema leaves it open), not for a
/// partition's.
fn decode_filesystem(
    cx: &mut Cx<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    open: bool,
) -> FilesystemSpec {
    let Some(n) = f.take("filesystem") else {
        return FilesystemSpec::default();
    };
    let p = path.key("filesystem");
    let Some(mut fs) = cx.map(n, &p) else {
        return FilesystemSpec::default();
    };
    let mut out = FilesystemSpec {
        mountpoint: setting_string(cx, &mut fs, "mountpoint", &p),
        fstype: setting_string(cx, &mut fs, "fstype", &p),
        mount_options: setting_string(cx, &mut fs, "mount_options", &p),
        fs_uuid: setting_string(cx, &mut fs, "fs_uuid", &p),
        fs_label: setting_string(cx, &mut fs, "fs_label", &p),
        extra: Extras::new(),
    };
    if open {
        out.extra = fs.rest(cx, &p);
    } else {
        fs.deny_unknown(cx, &p);
    }
    out.fstype
        .get_or_insert_with(|| Setting::Set("ext4".to_owned()));
    out.mount_options
        .get_or_insert_with(|| Setting::Set("defaults".to_owned()));
    out
}

fn decode_size(cx: &mut Cx<'_>, f: &mut Fields<'_>, path: &Path<'_>) -> Option<Setting<Size>> {
    let node = f.take("size")?;
    let p = path.key("size");
    let text = cx.string(node, &p)?;
    if text == "!" {
        return Some(Setting::Clear);
    }
    let size = Size(text);
    if let Err(e) = size.parse() {
        cx.report(DiagnosticKind::InvalidValue, &p, node.pos, e.to_string());
    }
    Some(Setting::Set(size))
}

/// Reads a mapping of named items; a null value reads as the removal `!name`.
fn named<T: Default>(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &Path<'_>,
    mut item: impl FnMut(&mut Cx<'_>, String, &Node, &Path<'_>) -> Option<T>,
    rename: impl Fn(&mut T, String),
) -> Vec<T> {
    cx.dict(node, path, |cx, key, v, p| {
        if v.value == Value::Null {
            let mut t = T::default();
            rename(&mut t, format!("!{}", key.text.trim_start_matches('!')));
            return Some(t);
        }
        item(cx, key.text.to_string(), v, p)
    })
    .into_values()
    .collect()
}

fn decode_partition(cx: &mut Cx<'_>, node: &Node, p: &Path<'_>) -> Option<PartitionSpec> {
    let mut f = cx.map(node, p)?;
    let name = f
        .require(cx, p, "name")
        .and_then(|n| cx.string(n, &p.key("name")));
    let size = decode_size(cx, &mut f, p);
    let part_uuid = setting_string(cx, &mut f, "part_uuid", p);
    let volume_group = setting_string(cx, &mut f, "volume_group", p);
    let bootable = f
        .take("bootable")
        .and_then(|n| cx.bool(n, &p.key("bootable")));
    let labels = f
        .take("labels")
        .map(|n| cx.string_map(n, &p.key("labels")))
        .unwrap_or_default();
    let filesystem = decode_filesystem(cx, &mut f, p, false);
    f.deny_unknown(cx, p);
    Some(PartitionSpec {
        name: name?,
        size,
        part_uuid,
        volume_group,
        bootable,
        labels,
        filesystem,
    })
}

fn decode_storage(cx: &mut Cx<'_>, spec: &mut HostSpec, node: &Node, path: &Path<'_>) {
    let Some(mut f) = cx.map(node, path) else {
        return;
    };
    if let Some(n) = f.take("physical_devices") {
        let p = path.key("physical_devices");
        spec.storage_devices = named(
            cx,
            n,
            &p,
            |cx, name, v, p| {
                let mut d = cx.map(v, p)?;
                let volume_group = setting_string(cx, &mut d, "volume_group", p);
                let labels = d
                    .take("labels")
                    .map(|n| cx.string_map(n, &p.key("labels")))
                    .unwrap_or_default();
                let partitions = d
                    .take("partitions")
                    .map(|n| cx.list(n, &p.key("partitions"), decode_partition))
                    .unwrap_or_default();
                let extra = d.rest(cx, p);
                Some(DeviceSpec {
                    name,
                    volume_group,
                    labels,
                    partitions,
                    extra,
                })
            },
            |d, name| d.name = name,
        );
    }
    if let Some(n) = f.take("volume_groups") {
        let p = path.key("volume_groups");
        spec.volume_groups = named(
            cx,
            n,
            &p,
            |cx, name, v, p| {
                let mut g = cx.map(v, p)?;
                let vg_uuid = setting_string(cx, &mut g, "vg_uuid", p);
                let logical_volumes = g
                    .take("logical_volumes")
                    .map(|n| {
                        cx.list(n, &p.key("logical_volumes"), |cx, n, p| {
                            let mut l = cx.map(n, p)?;
                            let name = l
                                .require(cx, p, "name")
                                .and_then(|n| cx.string(n, &p.key("name")));
                            let size = decode_size(cx, &mut l, p);
                            let lv_uuid = setting_string(cx, &mut l, "lv_uuid", p);
                            let filesystem = decode_filesystem(cx, &mut l, p, true);
                            let extra = l.rest(cx, p);
                            Some(LogicalVolumeSpec {
                                name: name?,
                                size,
                                lv_uuid,
                                filesystem,
                                extra,
                            })
                        })
                    })
                    .unwrap_or_default();
                let extra = g.rest(cx, p);
                Some(VolumeGroupSpec {
                    name,
                    vg_uuid,
                    logical_volumes,
                    extra,
                })
            },
            |g, name| g.name = name,
        );
    }
    spec.storage_extra = f.rest(cx, path);
}

fn decode_interface(
    cx: &mut Cx<'_>,
    name: String,
    node: &Node,
    p: &Path<'_>,
) -> Option<InterfaceSpec> {
    let mut f = cx.map(node, p)?;
    let device_link = setting_string(cx, &mut f, "device_link", p);
    let slaves = f
        .take("slaves")
        .map(|n| cx.strings(n, &p.key("slaves")))
        .unwrap_or_default();
    let networks = f
        .take("networks")
        .map(|n| cx.strings(n, &p.key("networks")))
        .unwrap_or_default();
    let labels = f
        .take("labels")
        .map(|n| cx.string_map(n, &p.key("labels")))
        .unwrap_or_default();
    let sriov = f.take_raw("sriov").and_then(|n| {
        let sp = p.key("sriov");
        let mut s = cx.map(n, &sp)?;
        let vf_count = s
            .take("vf_count")
            .and_then(|n| cx.uint(n, &sp.key("vf_count")))
            .unwrap_or(0);
        let trusted = s.take("trustedmode").or_else(|| s.take("trustmode"));
        let trustedmode = trusted
            .and_then(|n| cx.bool(n, &sp.key("trustedmode")))
            .unwrap_or(false);
        let extra = s.rest(cx, &sp);
        Some(Sriov {
            vf_count,
            trustedmode,
            extra,
        })
    });
    let extra = f.rest(cx, p);
    Some(InterfaceSpec {
        name,
        device_link,
        slaves,
        networks,
        sriov,
        labels,
        extra,
    })
}

/// Decodes the fields shared by HostProfile and BaremetalNode. `meta` receives the
/// `data.metadata` fields it does not know (BaremetalNode's `boot_mac`).
pub(crate) fn decode_host_spec(
    cx: &mut Cx<'_>,
    f: &mut Fields<'_>,
    path: &Path<'_>,
    mut meta_extra: impl FnMut(&mut Cx<'_>, &mut Fields<'_>, &Path<'_>),
) -> HostSpec {
    let mut spec = HostSpec {
        parent: f
            .take("host_profile")
            .and_then(|n| cx.string(n, &path.key("host_profile"))),
        hardware_profile: setting_string(cx, f, "hardware_profile", path),
        primary_network: setting_string(cx, f, "primary_network", path),
        ..HostSpec::default()
    };
    if let Some(n) = f.take("oob") {
        let p = path.key("oob");
        if let Some(mut o) = cx.map(n, &p) {
            if let Some(t) = o.take("type") {
                let tp = p.key("type");
                spec.oob_type = match cx.string(t, &tp).as_deref().map(str::trim) {
                    Some("!") => Some(Setting::Clear),
                    Some("") => {
                        cx.wrong_type(&tp, t, "an OOB type name");
                        None
                    }
                    Some(name) => Some(Setting::Set(
                        name.parse().unwrap_or_else(|never| match never {}),
                    )),
                    None => None,
                };
            }
            // The reference's schema leaves `oob` open to any value: scalars are kept as their
            // text, lists and mappings as JSON text (for drivers that know them).
            for (key, value) in o.entries {
                if key.text != "type" {
                    let kp = p.key(&key.text);
                    let v = match &value.value {
                        Value::Seq(_) | Value::Map(_) => Some(to_json(value).to_string()),
                        _ => cx.string(value, &kp),
                    };
                    if let Some(v) = v {
                        spec.oob_parameters.0.insert(key.text.to_string(), v);
                    }
                }
            }
        }
    }
    if let Some(n) = f.take("storage") {
        decode_storage(cx, &mut spec, n, &path.key("storage"));
    }
    if let Some(n) = f.take("interfaces") {
        spec.interfaces = named(
            cx,
            n,
            &path.key("interfaces"),
            decode_interface,
            |i, name| i.name = name,
        );
    }
    if let Some(n) = f.take("platform") {
        let p = path.key("platform");
        if let Some(mut pl) = cx.map(n, &p) {
            spec.image = setting_string(cx, &mut pl, "image", &p);
            spec.kernel = setting_string(cx, &mut pl, "kernel", &p);
            if let Some(kp) = pl.take("kernel_params") {
                spec.kernel_params =
                    cx.dict(kp, &p.key("kernel_params"), |cx, _, v, vp| match &v.value {
                        Value::Bool(b) => Some(KernelParam::Flag(*b)),
                        Value::Null => Some(KernelParam::Flag(true)),
                        _ => cx.string(v, vp).map(KernelParam::Value),
                    });
            }
            pl.deny_unknown(cx, &p);
        }
    }
    if let Some(n) = f.take("metadata") {
        let p = path.key("metadata");
        if let Some(mut m) = cx.map(n, &p) {
            spec.tags = m
                .take("tags")
                .map(|n| cx.strings(n, &p.key("tags")))
                .unwrap_or_default();
            spec.owner_data = m
                .take("owner_data")
                .map(|n| cx.string_map(n, &p.key("owner_data")))
                .unwrap_or_default();
            spec.rack = setting_string(cx, &mut m, "rack", &p);
            meta_extra(cx, &mut m, &p);
            m.deny_unknown(cx, &p);
        }
    }
    spec
}

pub(crate) fn decode_host_profile(
    cx: &mut Cx<'_>,
    name: &str,
    data: &Node,
    path: &Path<'_>,
) -> Option<HostProfile> {
    let mut f = cx.map(data, path)?;
    let spec = decode_host_spec(cx, &mut f, path, |_, _, _| {});
    f.deny_unknown(cx, path);
    Some(HostProfile {
        name: name.to_owned(),
        spec,
    })
}

pub(crate) fn decode_node(
    cx: &mut Cx<'_>,
    name: &str,
    data: &Node,
    path: &Path<'_>,
) -> Option<BaremetalNode> {
    let mut f = cx.map(data, path)?;
    let mut boot_mac = None;
    let spec = decode_host_spec(cx, &mut f, path, |cx, m, p| {
        boot_mac = m
            .take("boot_mac")
            .and_then(|n| cx.string(n, &p.key("boot_mac")));
    });
    let reported_before = cx.diags.len();
    let addressing = match f.take("addressing") {
        Some(n) => cx.list(n, &path.key("addressing"), |cx, n, p| {
            let mut a = cx.map(n, p)?;
            let network = a
                .require(cx, p, "network")
                .and_then(|n| cx.string(n, &p.key("network")));
            let address = a.require(cx, p, "address").and_then(|n| {
                let ap = p.key("address");
                let text = cx.text(n, &ap)?;
                if text == "dhcp" {
                    Some(Address::Dhcp)
                } else {
                    cx.parsed(n, &ap, "an IP address or 'dhcp'", str::parse::<IpAddr>)
                        .map(Address::Static)
                }
            });
            let extra = a.rest(cx, p);
            Some(AddressAssignment {
                network: network?,
                address: address?,
                extra,
            })
        }),
        None => Vec::new(),
    };
    if addressing.is_empty() && cx.diags.len() == reported_before {
        cx.report(
            DiagnosticKind::MissingField,
            &path.key("addressing"),
            f.pos,
            "a BaremetalNode needs at least one address assignment",
        );
    }
    f.deny_unknown(cx, path);
    Some(BaremetalNode {
        name: name.to_owned(),
        spec,
        addressing,
        boot_mac,
    })
}

//! The compiled, effective design of one node: what drivers work from.

use std::net::IpAddr;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;

use super::decode::Extras;
use super::diag::{DocumentRef, SourceLocation};
use super::filter::FilterTarget;
use super::model::common::{Secret, Size};
use super::model::host::{AddressAssignment, KernelParam, OobParameters, OobType, Sriov};

/// The effective design of a node: its document merged with its host profiles and hardware
/// profile.
///
/// Parts a node inherits unchanged are shared with the other nodes of the same host profile
/// and hardware profile (behind [`Arc`]), so a site of thousands of similar nodes holds one
/// copy of each profile's storage layout, platform, BMC settings and interfaces. Read them
/// through the `Arc` as if owned; to change one node's copy, use [`Arc::make_mut`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompiledNode {
    /// The node's name (its hostname).
    pub name: String,
    /// Its DNS domain: the primary network's, else `local`.
    pub domain: String,
    /// The BaremetalNode document.
    pub document: DocumentRef,
    /// Where the document starts.
    pub location: Option<SourceLocation>,
    /// Host profiles applied, nearest first.
    pub profiles: Vec<String>,
    /// Hardware profile.
    pub hardware_profile: Option<String>,
    /// Primary network.
    pub primary_network: Option<String>,
    /// Out-of-band (BMC) access.
    pub oob: Arc<Oob>,
    /// Network interfaces.
    pub interfaces: Vec<Arc<Interface>>,
    /// Physical storage devices.
    pub storage_devices: Arc<[StorageDevice]>,
    /// Volume groups.
    pub volume_groups: Arc<[VolumeGroup]>,
    /// Image, kernel and kernel parameters (hardware profile references resolved).
    pub platform: Arc<Platform>,
    /// Tags.
    pub tags: Vec<String>,
    /// Labels (`owner_data`).
    pub owner_data: IndexMap<String, String>,
    /// Rack.
    pub rack: Option<String>,
    /// MAC address of the PXE boot interface.
    pub boot_mac: Option<String>,
    /// Address assignments.
    pub addressing: Vec<AddressAssignment>,
    /// Unmodelled keys of `storage`, merged over the host profiles (child keys win).
    pub storage_extra: Extras,
}

/// How to reach a node's BMC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Oob {
    /// Driver type.
    pub kind: Option<OobType>,
    /// Network of the BMC's address (`network`).
    pub network: Option<String>,
    /// BMC user (`account`).
    pub account: Option<String>,
    /// BMC password (`credential`).
    pub credential: Option<Secret>,
    /// UDP/TCP port (`port`), when not the protocol's default.
    pub port: Option<u16>,
    /// libvirt URI (`libvirt_uri`).
    pub libvirt_uri: Option<String>,
    /// Every `oob` parameter as written (secrets hidden from `Debug`).
    pub parameters: OobParameters,
}

/// A compiled network interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Name.
    pub name: String,
    /// NetworkLink.
    pub device_link: Option<String>,
    /// Hardware devices as written.
    pub slaves: Vec<String>,
    /// How each slave is found on the hardware.
    pub slave_selectors: Vec<DeviceSelector>,
    /// Attached networks.
    pub networks: Vec<String>,
    /// SR-IOV settings.
    pub sriov: Option<Sriov>,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Unmodelled keys (`ovs_dpdk`, `pci_whitelist`, ...), merged over the host profiles.
    pub extra: Extras,
}

/// How a hardware device is found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceSelector {
    /// By bus address, from a hardware profile alias.
    Address {
        /// Bus address.
        address: String,
        /// Device type description.
        dev_type: Option<String>,
    },
    /// By the name the OS gives it.
    Name(String),
}

/// A compiled physical storage device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorageDevice {
    /// Name or alias.
    pub name: String,
    /// Volume group the whole device joins.
    pub volume_group: Option<String>,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Partitions.
    pub partitions: Vec<Partition>,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// A compiled partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// Name.
    pub name: String,
    /// Size.
    pub size: Option<Size>,
    /// Partition UUID.
    pub part_uuid: Option<String>,
    /// Volume group it joins.
    pub volume_group: Option<String>,
    /// Bootable flag.
    pub bootable: bool,
    /// Labels.
    pub labels: IndexMap<String, String>,
    /// Filesystem.
    pub filesystem: Option<Filesystem>,
}

/// A compiled filesystem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Filesystem {
    /// Mount point.
    pub mountpoint: Option<String>,
    /// Type.
    pub fstype: String,
    /// Mount options.
    pub mount_options: String,
    /// UUID.
    pub fs_uuid: Option<String>,
    /// Label.
    pub fs_label: Option<String>,
    /// Unmodelled keys (logical volumes' filesystems only).
    pub extra: Extras,
}

/// A compiled volume group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VolumeGroup {
    /// Name.
    pub name: String,
    /// UUID.
    pub vg_uuid: Option<String>,
    /// Logical volumes.
    pub logical_volumes: Vec<LogicalVolume>,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// A compiled logical volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogicalVolume {
    /// Name.
    pub name: String,
    /// Size.
    pub size: Option<Size>,
    /// UUID.
    pub lv_uuid: Option<String>,
    /// Filesystem.
    pub filesystem: Option<Filesystem>,
    /// Unmodelled keys.
    pub extra: Extras,
}

/// A node's platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Platform {
    /// OS image.
    pub image: Option<String>,
    /// Kernel.
    pub kernel: Option<String>,
    /// Kernel parameters, hardware profile references resolved.
    pub kernel_params: IndexMap<String, KernelParam>,
}

impl Platform {
    /// The kernel command line: `hugepagesz` and `hugepages` first, then the other parameters in
    /// order; flags as bare words, `false` flags left out.
    ///
    /// ```
    /// use drydock_core::design::{KernelParam, Platform};
    /// let mut p = Platform { image: None, kernel: None, kernel_params: Default::default() };
    /// p.kernel_params.insert("quiet".into(), KernelParam::Flag(true));
    /// p.kernel_params.insert("console".into(), KernelParam::Value("ttyS2".into()));
    /// p.kernel_params.insert("hugepagesz".into(), KernelParam::Value("1G".into()));
    /// p.kernel_params.insert("hugepages".into(), KernelParam::Value("300".into()));
    /// assert_eq!(p.kernel_command_line(), "hugepagesz=1G hugepages=300 quiet console=ttyS2");
    /// ```
    pub fn kernel_command_line(&self) -> String {
        let render = |k: &str, v: &KernelParam| match v {
            KernelParam::Flag(true) => Some(k.to_owned()),
            KernelParam::Flag(false) => None,
            KernelParam::Value(v) => Some(format!("{k}={v}")),
        };
        let first = ["hugepagesz", "hugepages"];
        let ordered = first
            .iter()
            .filter_map(|k| self.kernel_params.get_key_value(*k))
            .chain(
                self.kernel_params
                    .iter()
                    .filter(|(k, _)| !first.contains(&k.as_str())),
            );
        ordered
            .filter_map(|(k, v)| render(k, v))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl CompiledNode {
    /// The node's fully qualified domain name.
    pub fn fqdn(&self) -> String {
        format!("{}.{}", self.name, self.domain)
    }

    /// The node's static address on `network`, if any.
    pub fn address_on(&self, network: &str) -> Option<IpAddr> {
        self.addressing
            .iter()
            .filter(|a| a.network == network)
            .find_map(|a| a.address.ip())
    }

    /// The BMC's address: the node's address on the OOB network.
    pub fn oob_address(&self) -> Option<IpAddr> {
        self.oob.network.as_deref().and_then(|n| self.address_on(n))
    }
}

impl FilterTarget for CompiledNode {
    fn name(&self) -> &str {
        &self.name
    }
    fn tags(&self) -> &[String] {
        &self.tags
    }
    fn labels(&self) -> &IndexMap<String, String> {
        &self.owner_data
    }
    fn rack(&self) -> Option<&str> {
        self.rack.as_deref()
    }
}

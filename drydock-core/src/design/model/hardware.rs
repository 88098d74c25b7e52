//! HardwareProfile documents.

use indexmap::IndexMap;
use serde::Serialize;

use crate::design::decode::{Cx, Extras, Path, str_enum};
use crate::design::yaml::Node;

str_enum! {
    /// Firmware boot mode.
    pub enum BootMode ("boot mode") {
        /// Legacy BIOS.
        Bios = "bios",
        /// UEFI.
        Uefi = "uefi",
    }
}

str_enum! {
    /// How the node boots to be provisioned.
    pub enum BootstrapProtocol ("bootstrap protocol") {
        /// Network boot.
        Pxe = "pxe",
        /// USB media.
        Usb = "usb",
        /// Local disk.
        Hdd = "hdd",
    }
}

/// `drydock/HardwareProfile/v1`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HardwareProfile {
    /// The profile's name.
    pub name: String,
    /// Vendor.
    pub vendor: Option<String>,
    /// Generation.
    pub generation: Option<String>,
    /// Hardware version.
    pub hw_version: Option<String>,
    /// BIOS version.
    pub bios_version: Option<String>,
    /// Boot mode.
    pub boot_mode: Option<BootMode>,
    /// Bootstrap protocol.
    pub bootstrap_protocol: Option<BootstrapProtocol>,
    /// Index of the PXE interface.
    pub pxe_interface: Option<u32>,
    /// Device aliases: alias name → device.
    pub device_aliases: IndexMap<String, DeviceAlias>,
    /// CPU sets: name → CPU list (`2,4`), referenced as `hardwareprofile:cpuset.<name>`.
    pub cpu_sets: IndexMap<String, String>,
    /// Hugepage configurations, referenced as `hardwareprofile:hugepages.<name>.size|count`.
    pub hugepages: IndexMap<String, Hugepages>,
}

/// A device alias of a hardware profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceAlias {
    /// Bus address (`0000:00:03.0`).
    pub address: String,
    /// Device type description.
    pub dev_type: Option<String>,
    /// Bus type (`pci`, `scsi`).
    pub bus_type: Option<String>,
    /// Unmodelled keys (the reference's schema leaves aliases open).
    pub extra: Extras,
}

/// A hugepages configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hugepages {
    /// Page size (`1G`).
    pub size: String,
    /// Number of pages.
    pub count: u64,
    /// Unmodelled keys (`socket-mem`, ...): the reference's schema checks nothing here.
    pub extra: Extras,
}

impl HardwareProfile {
    /// The alias `alias` on bus `bus_type`, if the profile defines it.
    pub fn resolve_alias(&self, bus_type: &str, alias: &str) -> Option<&DeviceAlias> {
        self.device_aliases
            .get(alias)
            .filter(|a| a.bus_type.as_deref() == Some(bus_type))
    }
}

pub(crate) fn decode_hardware_profile(
    cx: &mut Cx<'_>,
    name: &str,
    data: &Node,
    path: &Path<'_>,
) -> Option<HardwareProfile> {
    let mut f = cx.map(data, path)?;
    let s = |cx: &mut Cx<'_>, f: &mut crate::design::decode::Fields<'_>, k: &'static str| {
        f.take(k).and_then(|n| cx.string(n, &path.key(k)))
    };
    let vendor = s(cx, &mut f, "vendor");
    let generation = s(cx, &mut f, "generation");
    let hw_version = s(cx, &mut f, "hw_version");
    let bios_version = s(cx, &mut f, "bios_version");
    let boot_mode = f
        .take("boot_mode")
        .and_then(|n| cx.enumeration(n, &path.key("boot_mode")));
    let bootstrap_protocol = f
        .take("bootstrap_protocol")
        .and_then(|n| cx.enumeration(n, &path.key("bootstrap_protocol")));
    let pxe_interface = f
        .take("pxe_interface")
        .and_then(|n| cx.uint(n, &path.key("pxe_interface")));
    let device_aliases = f
        .take("device_aliases")
        .map(|n| {
            cx.dict(n, &path.key("device_aliases"), |cx, _, v, p| {
                let mut a = cx.map(v, p)?;
                let address = a
                    .require(cx, p, "address")
                    .and_then(|n| cx.string(n, &p.key("address")));
                let dev_type = a
                    .take("dev_type")
                    .and_then(|n| cx.string(n, &p.key("dev_type")));
                let bus_type = a
                    .take("bus_type")
                    .and_then(|n| cx.string(n, &p.key("bus_type")));
                let extra = a.rest(cx, p);
                Some(DeviceAlias {
                    address: address?,
                    dev_type,
                    bus_type,
                    extra,
                })
            })
        })
        .unwrap_or_default();
    let cpu_sets = f
        .take("cpu_sets")
        .map(|n| cx.string_map(n, &path.key("cpu_sets")))
        .unwrap_or_default();
    let hugepages = f
        .take("hugepages")
        .map(|n| {
            cx.dict(n, &path.key("hugepages"), |cx, _, v, p| {
                let mut h = cx.map(v, p)?;
                let size = h
                    .require(cx, p, "size")
                    .and_then(|n| cx.string(n, &p.key("size")));
                let count = h
                    .require(cx, p, "count")
                    .and_then(|n| cx.uint(n, &p.key("count")));
                let extra = h.rest(cx, p);
                Some(Hugepages {
                    size: size?,
                    count: count?,
                    extra,
                })
            })
        })
        .unwrap_or_default();
    f.deny_unknown(cx, path);
    Some(HardwareProfile {
        name: name.to_owned(),
        vendor,
        generation,
        hw_version,
        bios_version,
        boot_mode,
        bootstrap_protocol,
        pxe_interface,
        device_aliases,
        cpu_sets,
        hugepages,
    })
}

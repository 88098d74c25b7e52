//! The parts of a compiled node, each built from an effective spec, and the parts every node of
//! one host profile and hardware profile shares.
//!
//! A node that does not touch its profile's storage, platform, BMC settings or an interface gets
//! the profile's compiled part itself (an `Arc` clone), built once per profile and hardware
//! profile. Problems found while building a shared part are kept unlocated and reported again
//! for each node that takes the part, as if the node had been compiled on its own.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::design::diag::{Diagnostic, DiagnosticKind};
use crate::design::inherit::{for_each_merged, inherited, merge_dicts};
use crate::design::model::common::{Secret, Setting};
use crate::design::model::hardware::HardwareProfile;
use crate::design::model::host::{
    DeviceSpec, FilesystemSpec, HostSpec, InterfaceSpec, KernelParam, OobParameters,
    VolumeGroupSpec,
};
use crate::design::node::{
    DeviceSelector, Filesystem, Interface, LogicalVolume, Oob, Partition, Platform, StorageDevice,
    VolumeGroup,
};

/// What the nodes of one (host profile, hardware profile) pair inherit unchanged, compiled once.
pub(super) struct Shared {
    pub(super) oob: Arc<Oob>,
    pub(super) oob_issues: Vec<Diagnostic>,
    /// The profile's interfaces, in its order.
    pub(super) interfaces: Vec<Arc<Interface>>,
    pub(super) storage_devices: Arc<[StorageDevice]>,
    pub(super) volume_groups: Arc<[VolumeGroup]>,
    pub(super) platform: Arc<Platform>,
    pub(super) platform_issues: Vec<Diagnostic>,
}

impl Shared {
    /// The parts of a node that adds nothing to `parent`.
    pub(super) fn new(parent: &HostSpec, hw: Option<&HardwareProfile>) -> Self {
        let none = HostSpec::default();
        let mut oob_issues = Vec::new();
        let oob = Arc::new(oob(&none, parent, &mut oob_issues));
        let mut platform_issues = Vec::new();
        let platform = Arc::new(platform(&none, parent, hw, &mut platform_issues));
        Shared {
            oob,
            oob_issues,
            interfaces: parent
                .interfaces
                .iter()
                .map(|i| Arc::new(interface(i, hw)))
                .collect(),
            storage_devices: storage_devices(&[], &parent.storage_devices).into(),
            volume_groups: volume_groups(&[], &parent.volume_groups).into(),
            platform,
            platform_issues,
        }
    }
}

/// The BMC settings of `spec` over `parent`; a bad port goes to `issues`.
pub(super) fn oob(spec: &HostSpec, parent: &HostSpec, issues: &mut Vec<Diagnostic>) -> Oob {
    let parameters = OobParameters(merge_dicts(
        &spec.oob_parameters.0,
        &parent.oob_parameters.0,
    ));
    let params = &parameters.0;
    let port = params.get("port").and_then(|p| match p.parse::<u16>() {
        Ok(port) => Some(port),
        Err(_) => {
            issues.push(
                Diagnostic::error(
                    DiagnosticKind::InvalidValue,
                    format!("'{p}' is not a port number"),
                )
                .at_field("data.oob.port"),
            );
            None
        }
    });
    Oob {
        kind: inherited(&spec.oob_type, &parent.oob_type).cloned(),
        network: params.get("network").cloned(),
        account: params.get("account").cloned(),
        credential: params.get("credential").map(|c| Secret::new(c.clone())),
        port,
        libvirt_uri: params.get("libvirt_uri").cloned(),
        parameters,
    }
}

/// One effective interface, its slaves resolved through the hardware profile's PCI aliases.
pub(super) fn interface(i: &InterfaceSpec, hw: Option<&HardwareProfile>) -> Interface {
    Interface {
        name: i.name.clone(),
        device_link: value(&i.device_link),
        slave_selectors: i
            .slaves
            .iter()
            .map(|s| match hw.and_then(|h| h.resolve_alias("pci", s)) {
                Some(a) => DeviceSelector::Address {
                    address: a.address.clone(),
                    dev_type: a.dev_type.clone(),
                },
                None => DeviceSelector::Name(s.clone()),
            })
            .collect(),
        slaves: i.slaves.clone(),
        networks: i.networks.clone(),
        sriov: i.sriov.clone(),
        labels: i.labels.clone(),
        extra: i.extra.clone(),
    }
}

/// The effective interfaces of a node's `own` over its profile's, reusing `shared` (the profile's
/// compiled interfaces) for those the node leaves alone.
pub(super) fn interfaces(
    own: &[InterfaceSpec],
    parent: &[InterfaceSpec],
    shared: Option<&[Arc<Interface>]>,
    hw: Option<&HardwareProfile>,
) -> Vec<Arc<Interface>> {
    for_each_merged(own, parent, |i, at| {
        match at.and_then(|k| shared.and_then(|s| s.get(k))) {
            Some(done) => done.clone(),
            None => Arc::new(interface(i, hw)),
        }
    })
}

pub(super) fn storage_devices(own: &[DeviceSpec], parent: &[DeviceSpec]) -> Vec<StorageDevice> {
    for_each_merged(own, parent, |d, _| StorageDevice {
        name: d.name.clone(),
        volume_group: value(&d.volume_group),
        labels: d.labels.clone(),
        partitions: d
            .partitions
            .iter()
            .map(|p| Partition {
                name: p.name.clone(),
                size: value(&p.size),
                part_uuid: value(&p.part_uuid),
                volume_group: value(&p.volume_group),
                bootable: p.bootable.unwrap_or(false),
                labels: p.labels.clone(),
                filesystem: filesystem(&p.filesystem),
            })
            .collect(),
        extra: d.extra.clone(),
    })
}

pub(super) fn volume_groups(
    own: &[VolumeGroupSpec],
    parent: &[VolumeGroupSpec],
) -> Vec<VolumeGroup> {
    for_each_merged(own, parent, |g, _| VolumeGroup {
        name: g.name.clone(),
        vg_uuid: value(&g.vg_uuid),
        logical_volumes: g
            .logical_volumes
            .iter()
            .map(|l| LogicalVolume {
                name: l.name.clone(),
                size: value(&l.size),
                lv_uuid: value(&l.lv_uuid),
                filesystem: filesystem(&l.filesystem),
                extra: l.extra.clone(),
            })
            .collect(),
        extra: g.extra.clone(),
    })
}

/// Image, kernel and kernel parameters of `spec` over `parent`, hardware profile references
/// resolved; unresolvable references go to `issues` (as warnings).
pub(super) fn platform(
    spec: &HostSpec,
    parent: &HostSpec,
    hw: Option<&HardwareProfile>,
    issues: &mut Vec<Diagnostic>,
) -> Platform {
    let mut kernel_params = merge_dicts(&spec.kernel_params, &parent.kernel_params);
    resolve_kernel_params(&mut kernel_params, hw, issues);
    Platform {
        image: inherited(&spec.image, &parent.image).cloned(),
        kernel: inherited(&spec.kernel, &parent.kernel).cloned(),
        kernel_params,
    }
}

/// Whether a node's own spec leaves its profile's platform as it is.
pub(super) fn inherits_platform(spec: &HostSpec) -> bool {
    spec.image.is_none() && spec.kernel.is_none() && spec.kernel_params.is_empty()
}

/// Whether a node's own spec leaves its profile's BMC settings as they are.
pub(super) fn inherits_oob(spec: &HostSpec) -> bool {
    spec.oob_type.is_none() && spec.oob_parameters.0.is_empty()
}

/// Resolves `hardwareprofile:cpuset.<set>` and `hardwareprofile:hugepages.<conf>.size|count`.
/// An unresolvable reference stays as written, with a warning.
fn resolve_kernel_params(
    params: &mut IndexMap<String, KernelParam>,
    hw: Option<&HardwareProfile>,
    issues: &mut Vec<Diagnostic>,
) {
    for (key, v) in params.iter_mut() {
        let KernelParam::Value(text) = v else {
            continue;
        };
        let Some(reference) = text.strip_prefix("hardwareprofile:") else {
            continue;
        };
        let parts: Vec<&str> = reference.split('.').collect();
        let resolved = hw.and_then(|hw| match parts.as_slice() {
            ["cpuset", set] => hw.cpu_sets.get(*set).cloned(),
            ["hugepages", conf, "size"] => hw.hugepages.get(*conf).map(|h| h.size.clone()),
            ["hugepages", conf, "count"] => hw.hugepages.get(*conf).map(|h| h.count.to_string()),
            _ => None,
        });
        match resolved {
            Some(r) => *text = r,
            None => {
                let why = match hw {
                    None => "the node has no hardware profile".to_owned(),
                    Some(h) => format!(
                        "hardware profile '{}' has no such entry (write cpuset.<set> or hugepages.<conf>.size|count)",
                        h.name
                    ),
                };
                issues.push(
                    Diagnostic::error(
                        DiagnosticKind::UnresolvedParameter,
                        format!("kernel parameter {key}={text} does not resolve: {why}"),
                    )
                    .warning()
                    .at_field(format!("data.platform.kernel_params.{key}")),
                );
            }
        }
    }
}

fn value<T: Clone>(s: &Option<Setting<T>>) -> Option<T> {
    s.as_ref().and_then(|s| s.value().cloned())
}

fn filesystem(fs: &FilesystemSpec) -> Option<Filesystem> {
    let mountpoint = value(&fs.mountpoint);
    let fstype = value(&fs.fstype);
    if mountpoint.is_none() && fstype.is_none() {
        return None;
    }
    Some(Filesystem {
        mountpoint,
        fstype: fstype.unwrap_or_else(|| "ext4".to_owned()),
        mount_options: value(&fs.mount_options).unwrap_or_else(|| "defaults".to_owned()),
        fs_uuid: value(&fs.fs_uuid),
        fs_label: value(&fs.fs_label),
        extra: fs.extra.clone(),
    })
}

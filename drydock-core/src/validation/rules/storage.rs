//! Storage rules: boot volumes, layout, sizes, mountpoints and free space.

use super::{NodeChecks, by_node, impl_rule, node_fn};
use crate::design::locate::Seg::{self, Key, Named};
use crate::design::{
    CompiledDesign, CompiledNode, DocumentKind, Filesystem, Severity, Size, SizeSpec,
};
use crate::validation::{Finding, RuleId, ValidationContext};

const NODE: DocumentKind = DocumentKind::BaremetalNode;

fn mountpoint(fs: &Option<Filesystem>) -> Option<&str> {
    fs.as_ref().and_then(|f| f.mountpoint.as_deref())
}

/// A partition or logical volume: name, size and mountpoint.
struct Volume<'a> {
    /// The device (of a partition) or volume group (of a logical volume).
    container: &'a str,
    name: &'a str,
    size: Option<&'a Size>,
    mountpoint: Option<&'a str>,
    is_partition: bool,
}

impl<'a> Volume<'a> {
    /// The path of this volume's field `key` (`size`, `filesystem`).
    fn field(&self, key: &'a str) -> [Seg<'a>; 6] {
        entry_field(self.is_partition, self.container, self.name, key)
    }
}

/// The path of field `key` of partition `name` of device `container` (or of logical volume
/// `name` of volume group `container`).
fn entry_field<'a>(
    is_partition: bool,
    container: &'a str,
    name: &'a str,
    key: &'a str,
) -> [Seg<'a>; 6] {
    let (kind, items) = if is_partition {
        ("physical_devices", "partitions")
    } else {
        ("volume_groups", "logical_volumes")
    };
    [
        Key("storage"),
        Key(kind),
        Key(container),
        Key(items),
        Named(name),
        Key(key),
    ]
}

fn volumes(n: &CompiledNode) -> impl Iterator<Item = Volume<'_>> {
    let parts = n
        .storage_devices
        .iter()
        .flat_map(|d| d.partitions.iter().map(move |p| (&d.name, p)))
        .map(|(c, p)| Volume {
            container: c,
            name: &p.name,
            size: p.size.as_ref(),
            mountpoint: mountpoint(&p.filesystem),
            is_partition: true,
        });
    let lvs = n
        .volume_groups
        .iter()
        .flat_map(|g| g.logical_volumes.iter().map(move |l| (&g.name, l)))
        .map(|(c, l)| Volume {
            container: c,
            name: &l.name,
            size: l.size.as_ref(),
            mountpoint: mountpoint(&l.filesystem),
            is_partition: false,
        });
    parts.chain(lvs)
}

/// DD1001: each node has a root volume of at least 20 GB and any boot volume has at least 1 GB.
///
/// The root volume is the partition or logical volume mounted at `/` (or, as in the reference, a
/// partition named `root` without another mountpoint); the boot volume is what is mounted at
/// `/boot` (or a partition named `boot`). Percentage sizes depend on the disk and are not
/// checked; `>N` sizes are checked against N.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootStorage;
impl_rule!(BootStorage, BootStorage, boot_storage);

by_node!(boot_storage, boot_storage_checks);

pub(super) fn boot_storage_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::BootStorage;
    node_fn(Vec::new(), move |n, out| {
        let is = |v: &Volume<'_>, mp: &str, name: &str| {
            v.mountpoint == Some(mp) || (v.is_partition && v.name == name && v.mountpoint.is_none())
        };
        let mut root_set = false;
        for v in volumes(n) {
            let (what, min, min_text, diag) = if is(&v, "/", "root") {
                root_set = true;
                (
                    "Root",
                    20_000_000_000,
                    "20GB",
                    "Configure a larger root volume",
                )
            } else if is(&v, "/boot", "boot") {
                (
                    "Boot",
                    1_000_000_000,
                    "1GB",
                    "Configure a larger boot volume.",
                )
            } else {
                continue;
            };
            let bytes = match v.size.map(Size::parse) {
                Some(Ok(SizeSpec::Bytes(b) | SizeSpec::AtLeast(b))) => b,
                Some(Ok(SizeSpec::Percent(_))) => continue,
                // Unparseable sizes are ingestion errors; a missing size is reported here.
                Some(Err(_)) | None => {
                    out.push(
                        Finding::new(
                            rule,
                            Severity::Error,
                            format!(
                                "{what} volume has an invalid size format on BaremetalNode {}.",
                                n.name
                            ),
                            format!("Give {} a size such as 30g.", v.name),
                        )
                        .document(d, NODE, &n.name)
                        .at_node_field(d, n, &v.field("size")),
                    );
                    continue;
                }
            };
            if bytes < min {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!(
                            "{what} volume must be > {min_text} on BaremetalNode {}",
                            n.name
                        ),
                        diag,
                    )
                    .document(d, NODE, &n.name)
                    .at_node_field(d, n, &v.field("size")),
                );
            }
        }
        if !root_set {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!(
                        "Root volume has to be set and must be > 20GB on BaremetalNode {}",
                        n.name
                    ),
                    "All nodes require a defined root volume at least 20GB in size.",
                )
                .document(d, NODE, &n.name),
            );
        }
    })
}

/// DD2002: each storage device is either partitioned or a physical volume, no partition is both
/// a physical volume and a filesystem, and every volume group of a node has a physical volume
/// on that node. A device or partition joining an undeclared volume group is a warning.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoragePartitioning;
impl_rule!(
    StoragePartitioning,
    StoragePartitioning,
    storage_partitioning
);

by_node!(storage_partitioning, storage_partitioning_checks);

pub(super) fn storage_partitioning_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::StoragePartitioning;
    node_fn(Vec::new(), move |n, out| {
        let err = |msg: String, diag: &str| {
            Finding::new(rule, Severity::Error, msg, diag).document(d, NODE, &n.name)
        };
        let mut pvs: Vec<(&str, &str)> = Vec::new(); // (vg, device or partition)
        for dev in n.storage_devices.iter() {
            if dev.partitions.is_empty() == dev.volume_group.is_none() {
                out.push(
                    err(
                        "Either a volume group OR partitions must be defined for each storage device."
                            .to_owned(),
                        "Give the device either partitions or a volume_group.",
                    )
                    .at_node_field(
                        d,
                        n,
                        &[Key("storage"), Key("physical_devices"), Key(&dev.name)],
                    ),
                );
            }
            if let Some(vg) = &dev.volume_group {
                pvs.push((vg, &dev.name));
            }
            for p in &dev.partitions {
                if let Some(vg) = &p.volume_group {
                    if p.filesystem.is_some() {
                        out.push(
                            err(
                                "Both a volume group AND file system cannot be defined in a single partition".to_owned(),
                                "Remove the partition's filesystem or its volume_group.",
                            )
                            .at_node_field(d, n, &entry_field(true, &dev.name, &p.name, "volume_group")),
                        );
                    }
                    pvs.push((vg, &p.name));
                }
            }
        }
        for g in n.volume_groups.iter() {
            if !pvs.iter().any(|(vg, _)| *vg == g.name) {
                out.push(
                    err(
                        format!("Volume group {} not assigned any physical volumes", g.name),
                        "Each volume group should be assigned at least one storage device or partition as a physical volume.",
                    )
                    .at_node_field(
                        d,
                        n,
                        &[Key("storage"), Key("volume_groups"), Key(&g.name)],
                    ),
                );
            }
        }
        for (vg, pv) in pvs {
            if !n.volume_groups.iter().any(|g| g.name == vg) {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Warning,
                        format!("{pv} is a physical volume of volume group {vg}, which is not defined"),
                        "Define the volume group or correct the volume_group name; the device stays unused.",
                    )
                    .document(d, NODE, &n.name),
                );
            }
        }
    })
}

fn percent(size: Option<&Size>) -> Option<i64> {
    match size.map(Size::parse) {
        Some(Ok(SizeSpec::Percent(p))) => Some(p),
        _ => None,
    }
}

/// DD2003: percentage sizes are not negative and those of one device (or one volume group) sum
/// to at most 99% (a disk also holds its partition table). One message per finding.
#[derive(Clone, Copy, Debug, Default)]
pub struct StorageSizing;
impl_rule!(StorageSizing, StorageSizing, storage_sizing);

by_node!(storage_sizing, storage_sizing_checks);

pub(super) fn storage_sizing_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::StorageSizing;
    let diag = "Percentage-based sizes must sum to less than 100%.";
    node_fn(Vec::new(), move |n, out| {
        let err = |msg: String, diag: String| {
            Finding::new(rule, Severity::Error, msg, diag).document(d, NODE, &n.name)
        };
        // Each container: (kind, name, [(entry name, size)]).
        let devices = n.storage_devices.iter().map(|dev| {
            let items: Vec<_> = dev
                .partitions
                .iter()
                .map(|p| (p.name.as_str(), p.size.as_ref()))
                .collect();
            (true, dev.name.as_str(), items)
        });
        let container_field = |is_device: bool, name: &'d str| {
            let kind = if is_device {
                "physical_devices"
            } else {
                "volume_groups"
            };
            [Key("storage"), Key(kind), Key(name)]
        };
        let groups = n.volume_groups.iter().map(|g| {
            let items: Vec<_> = g
                .logical_volumes
                .iter()
                .map(|l| (l.name.as_str(), l.size.as_ref()))
                .collect();
            (false, g.name.as_str(), items)
        });
        for (is_device, container, items) in devices.chain(groups) {
            let mut sum = 0i64;
            for (name, size) in &items {
                let Some(p) = percent(*size) else { continue };
                if p < 0 {
                    out.push(
                        err(
                            if is_device {
                                format!(
                                    "Storage partition {name} on device {container} size is < 0"
                                )
                            } else {
                                format!("Logical Volume {name} size is < 0 ")
                            },
                            "Sizes must not be negative.".to_owned(),
                        )
                        .at_node_field(
                            d,
                            n,
                            &entry_field(is_device, container, name, "size"),
                        ),
                    );
                }
                sum = sum.saturating_add(p);
            }
            if sum > 99 {
                let others: Vec<&str> = items
                    .iter()
                    .filter(|(_, s)| percent(*s).is_none())
                    .map(|(name, _)| *name)
                    .collect();
                let diag = if others.is_empty() {
                    diag.to_owned()
                } else {
                    format!(
                        "{diag} Percentages of 100% leave no room for {}.",
                        others.join(", ")
                    )
                };
                out.push(
                    err(
                        if is_device {
                            format!("Cumulative partition sizes on device {container} is greater than 99%.")
                        } else {
                            format!("Cumulative logical volume size is greater than 99% in volume group {container}")
                        },
                        diag,
                    )
                    .at_node_field(d, n, &container_field(is_device, container)),
                );
            }
        }
    })
}

/// DD2004: no mountpoint is used twice on a node (partitions and logical volumes); every
/// duplicate is reported.
#[derive(Clone, Copy, Debug, Default)]
pub struct StorageMountpoints;
impl_rule!(StorageMountpoints, StorageMountpoints, storage_mountpoints);

by_node!(storage_mountpoints, storage_mountpoints_checks);

pub(super) fn storage_mountpoints_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    node_fn(Vec::new(), move |n, out| {
        // (mountpoint, first volume mounted there): a node has a handful of volumes.
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for v in volumes(n) {
            let Some(mp) = v.mountpoint else { continue };
            match seen.iter().find(|(m, _)| *m == mp).map(|(_, first)| *first) {
                None => seen.push((mp, v.name)),
                Some(first) => {
                    out.push(
                        Finding::new(
                            RuleId::StorageMountpoints,
                            Severity::Error,
                            format!("Mountpoint \"{mp}\" already exists"),
                            format!(
                                "Please use unique mountpoints ({} and {} are both mounted at {mp}).",
                                first, v.name
                            ),
                        )
                        .document(d, NODE, &n.name)
                        .at_node_field(
                            d,
                            n,
                            &[&v.field("filesystem")[..], &[Key("mountpoint")]].concat(),
                        ),
                    );
                }
            }
        }
    })
}

/// drydock: an entry sized `>N` takes all the free space left when it is created, so an entry
/// after it on the same device or volume group may find no room (a warning: the provisioner
/// decides the order).
#[derive(Clone, Copy, Debug, Default)]
pub struct StorageFreeSpace;
impl_rule!(StorageFreeSpace, StorageFreeSpace, storage_free_space);

by_node!(storage_free_space, storage_free_space_checks);

pub(super) fn storage_free_space_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    node_fn(Vec::new(), move |n, out| {
        let devices = n.storage_devices.iter().map(|dev| {
            let items: Vec<_> = dev
                .partitions
                .iter()
                .map(|p| (p.name.as_str(), p.size.as_ref()))
                .collect();
            ("device", dev.name.as_str(), items)
        });
        let groups = n.volume_groups.iter().map(|g| {
            let items: Vec<_> = g
                .logical_volumes
                .iter()
                .map(|l| (l.name.as_str(), l.size.as_ref()))
                .collect();
            ("volume group", g.name.as_str(), items)
        });
        for (kind, container, items) in devices.chain(groups) {
            let grow = items
                .iter()
                .position(|(_, s)| matches!(s.map(Size::parse), Some(Ok(SizeSpec::AtLeast(_)))));
            let Some(at) = grow else { continue };
            let after: Vec<&str> = items[at + 1..].iter().map(|(name, _)| *name).collect();
            if after.is_empty() {
                continue;
            }
            out.push(
                Finding::new(
                    RuleId::StorageFreeSpace,
                    Severity::Warning,
                    format!(
                        "{} on {kind} {container} takes all the free space, leaving none for {}.",
                        items[at].0,
                        after.join(", ")
                    ),
                    "Put the entry sized '>N' last on its device or volume group.",
                )
                .document(d, NODE, &n.name)
                .at_node_field(
                    d,
                    n,
                    &entry_field(kind == "device", container, items[at].0, "size"),
                ),
            );
        }
    })
}

//! `apply_storage`: partitions, volume groups, logical volumes, filesystems and mounts.
//!
//! The machine's layout is compared with the design first; when it matches (partitions in
//! order with their sizes, bootable flags and filesystems; volume groups with their physical
//! volumes; logical volumes with sizes and filesystems) nothing is written. Otherwise, and only
//! while the machine is Ready (MAAS refuses partition and volume group changes in other states),
//! the layout is reset (`set_storage_layout` `blank`) and rebuilt:
//!
//! * the disk holding the `/` partition becomes the boot disk;
//! * each device's partitions are created in order; a partition joining a volume group gets no
//!   filesystem (MAAS makes it a physical volume), the others are formatted and mounted;
//! * whole devices and partitions naming a volume group become its physical volumes; its logical
//!   volumes are created in order, formatted and mounted.
//!
//! Storage devices are MAAS block devices named like them, except aliases of the node's
//! hardware profile (`primary_boot: {address: '2:0.0.0', bus_type: scsi}`): they are resolved
//! through the machine's lshw (read only when a device is an alias) to the block device's
//! kernel name, as Drydock's `apply_logicalnames` does (see [`super::alias`]). An alias lshw
//! does not resolve keeps its name when MAAS has a block device of that name; otherwise it is a
//! `Permanent` error naming it, its bus address and the machine's disks. Two storage devices
//! resolving to one block device (one of them an alias) are refused.
//!
//! Sizes come from [`Size::parse`]: bytes as written; `N%` of the device (partitions) or of the
//! volume group (logical volumes); `>N` takes the rest of the free space and requires at least
//! N bytes of it. A size larger than the free space is a `Permanent` error naming both. 4 MiB of
//! each disk are kept for the partition table, as MAAS does; sizes are compared with a tolerance
//! of MAAS' 4 MiB alignment.

use std::collections::{BTreeMap, BTreeSet};

use drydock_core::design::{DeviceAlias, Filesystem, Size, SizeSpec};
use drydock_core::driver::{DriverError, NodeJob, Operation};

use super::alias::{AliasError, describe, resolve_block_device, same_device};
use super::{Cx, MaasDriver, MaasResultExt};
use crate::models::{BlockDevice, Filesystem as MaasFs, VolumeGroup};
use crate::{MachineStatus as S, StorageLayoutOptions};

/// Bytes of each disk MAAS keeps for the partition table.
pub const PART_TABLE_RESERVATION: u64 = 4 * 1024 * 1024;
const ALIGN: u64 = 4 * 1024 * 1024;

/// The size to request for an item of `size` in a container of `total` bytes with `free` left:
/// `None` means "the rest".
pub(crate) fn size_in(
    cx: &Cx,
    what: &str,
    size: Option<&Size>,
    total: u64,
    free: u64,
) -> Result<Option<u64>, DriverError> {
    let Some(size) = size else {
        return Ok(None);
    };
    let spec = size
        .parse()
        .map_err(|e| cx.permanent(format!("{what}: {e}")))?;
    let too_big = |b: u64| {
        cx.permanent(format!(
            "{what}: {size} needs {b} bytes but only {free} are free"
        ))
    };
    match spec {
        SizeSpec::Bytes(b) if b <= free => Ok(Some(b)),
        SizeSpec::Bytes(b) => Err(too_big(b)),
        SizeSpec::AtLeast(b) if b <= free => Ok(None),
        SizeSpec::AtLeast(b) => Err(too_big(b)),
        SizeSpec::Percent(p) if p <= 0 || p > 100 => {
            Err(cx.permanent(format!("{what}: {p}% is not a usable share")))
        }
        SizeSpec::Percent(p) => {
            let b = (u128::from(total) * p as u128 / 100) as u64;
            if b <= free {
                Ok(Some(b))
            } else if b - free <= PART_TABLE_RESERVATION {
                Ok(Some(free))
            } else {
                Err(too_big(b))
            }
        }
    }
}

fn size_ok(size: Option<&Size>, actual: u64, total: u64) -> bool {
    let Some(spec) = size.and_then(|s| s.parse().ok()) else {
        return true;
    };
    match spec {
        SizeSpec::Bytes(b) => actual + ALIGN >= b && actual <= b + ALIGN,
        SizeSpec::AtLeast(b) => actual >= b,
        SizeSpec::Percent(p) => {
            let want = (u128::from(total) * p.max(0) as u128 / 100) as u64;
            actual.abs_diff(want) <= ALIGN.max(total / 100)
        }
    }
}

fn fs_ok(want: Option<&Filesystem>, have: Option<&MaasFs>) -> bool {
    match (want, have) {
        (None, None) => true,
        (None, Some(h)) => h.fstype == "lvm-pv",
        (Some(_), None) => false,
        (Some(w), Some(h)) => {
            w.fstype == h.fstype
                && w.mountpoint.as_deref() == h.mount_point.as_deref()
                && (w.fs_label.is_none() || w.fs_label == h.label)
                && (w.fs_uuid.is_none() || w.fs_uuid == h.uuid)
        }
    }
}

/// The machine's block device `name` (what the design's device `design_name` resolved to).
fn block_named<'a>(
    cx: &Cx,
    blocks: &'a [BlockDevice],
    design_name: &str,
    name: &str,
) -> Result<&'a BlockDevice, DriverError> {
    blocks.iter().find(|b| b.name == name).ok_or_else(|| {
        if design_name == name {
            cx.permanent(format!("machine has no block device {name}"))
        } else {
            cx.permanent(format!(
                "machine has no block device {name} (alias {design_name})"
            ))
        }
    })
}

fn lv_named<'a>(vg: &'a VolumeGroup, lv: &str) -> Option<&'a BlockDevice> {
    let long = format!("{}-{lv}", vg.name);
    vg.logical_volumes
        .iter()
        .find(|b| b.name == lv || b.name == long)
}

impl MaasDriver {
    pub(crate) async fn do_storage(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = job.node;
        let cx = Cx::node(Operation::ApplyStorage, &node.name);
        let m = self.machine_of(&cx, job).await?;
        if matches!(m.status, S::Deployed | S::Deploying) {
            return Ok(());
        }
        if node.storage_devices.is_empty() && node.volume_groups.is_empty() {
            return Ok(());
        }
        let sid = m.system_id.clone();
        let blocks = self
            .client
            .block_devices(&sid)
            .list()
            .await
            .cx(&cx, "listing block devices")?;
        let vgs = self
            .client
            .volume_groups(&sid)
            .list()
            .await
            .cx(&cx, "listing volume groups")?;
        let names = self.device_names(&cx, job, &sid, &blocks).await?;
        if self.layout_matches(&cx, job, &names, &blocks, &vgs)? {
            return Ok(());
        }
        if m.status != S::Ready {
            return Err(cx.permanent(format!(
                "the storage layout differs from the design and MAAS changes it only while Ready; the machine is {}",
                m.status.label()
            )));
        }
        let blank = StorageLayoutOptions {
            storage_layout: "blank".to_owned(),
            ..StorageLayoutOptions::default()
        };
        self.client
            .machines()
            .set_storage_layout(&sid, &blank)
            .await
            .cx(&cx, "resetting the storage layout")?;
        self.build_layout(&cx, job, &names, &sid, m.boot_disk.as_ref().map(|b| b.id))
            .await
    }

    /// The MAAS block device name of each of the node's storage devices, in order: a name that
    /// is an alias of the node's hardware profile is resolved through the machine's lshw
    /// ([`super::alias::resolve_block_device`]); when lshw has no device at the alias' address,
    /// the alias keeps its name if MAAS has a block device of that name, otherwise that is a
    /// `Permanent` error naming it. Two storage devices (one of them an alias) resolving to one
    /// block device are a `Permanent` error too. Other names are used as they are.
    async fn device_names(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
        sid: &str,
        blocks: &[BlockDevice],
    ) -> Result<Vec<String>, DriverError> {
        let node = job.node;
        let profile_name = node.hardware_profile.as_deref().unwrap_or("(none)");
        let aliases: Vec<Option<&DeviceAlias>> = node
            .storage_devices
            .iter()
            .map(|d| {
                node.hardware_profile
                    .as_ref()
                    .and_then(|p| job.design.site.hardware_profiles.get(p))
                    .and_then(|p| p.device_aliases.get(&d.name))
            })
            .collect();
        if aliases.iter().all(Option::is_none) {
            return Ok(node
                .storage_devices
                .iter()
                .map(|d| d.name.clone())
                .collect());
        }
        let fail = |e: AliasError| cx.permanent(format!("storage: {e}")).with_source(e);
        let devices = self.machine_devices(cx, sid).await?;
        let mut names = Vec::new();
        let mut claims = Vec::new();
        for (dev, alias) in node.storage_devices.iter().zip(&aliases) {
            let name = match alias {
                None => dev.name.clone(),
                Some(a) => match resolve_block_device(&devices, profile_name, &dev.name, a)
                    .map_err(fail)?
                {
                    Some(n) => n,
                    None if blocks.iter().any(|b| b.name == dev.name) => dev.name.clone(),
                    None => {
                        let looked_for = match &a.bus_type {
                            Some(bus) => format!("no device at {bus}@{}", a.address.trim()),
                            None => "nothing to look for (the alias has no bus_type)".to_owned(),
                        };
                        return Err(fail(AliasError::Unresolved {
                            profile: profile_name.to_owned(),
                            alias: dev.name.clone(),
                            address: a.address.clone(),
                            reason: format!(
                                "the machine's commissioning data (lshw) has {looked_for} and \
                                 the machine has no block device named {} (commissioned disks: {})",
                                dev.name,
                                describe(devices.iter().filter(|d| d.class == "disk"))
                            ),
                        }));
                    }
                },
            };
            claims.push((dev.name.clone(), name.clone(), alias.is_some()));
            names.push(name);
        }
        same_device(profile_name, &claims).map_err(fail)?;
        Ok(names)
    }

    fn layout_matches(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
        names: &[String],
        blocks: &[BlockDevice],
        vgs: &[VolumeGroup],
    ) -> Result<bool, DriverError> {
        let node = job.node;
        // Expected physical volumes of each VG: ("physical", block id) or ("partition", id).
        let mut pvs: BTreeMap<&str, BTreeSet<(bool, i64)>> = BTreeMap::new();
        for (dev, name) in node.storage_devices.iter().zip(names) {
            let blk = block_named(cx, blocks, &dev.name, name)?;
            if let Some(vg) = &dev.volume_group {
                pvs.entry(vg).or_default().insert((false, blk.id));
            }
            let mut parts = blk.partitions.clone();
            parts.sort_by_key(|p| p.id);
            if parts.len() != dev.partitions.len() {
                return Ok(false);
            }
            for (want, have) in dev.partitions.iter().zip(&parts) {
                if !size_ok(want.size.as_ref(), have.size, blk.size)
                    || want.bootable != have.bootable
                {
                    return Ok(false);
                }
                match &want.volume_group {
                    Some(vg) => {
                        pvs.entry(vg).or_default().insert((true, have.id));
                    }
                    None => {
                        if !fs_ok(want.filesystem.as_ref(), have.filesystem.as_ref()) {
                            return Ok(false);
                        }
                    }
                }
            }
        }
        if vgs.len() != node.volume_groups.len() {
            return Ok(false);
        }
        for want in node.volume_groups.iter() {
            let Some(have) = vgs.iter().find(|v| v.name == want.name) else {
                return Ok(false);
            };
            let devices: BTreeSet<(bool, i64)> = have
                .devices
                .iter()
                .map(|d| (d.kind == "partition", d.id))
                .collect();
            if pvs.get(want.name.as_str()) != Some(&devices) {
                return Ok(false);
            }
            if have.logical_volumes.len() != want.logical_volumes.len() {
                return Ok(false);
            }
            for lv in &want.logical_volumes {
                let Some(b) = lv_named(have, &lv.name) else {
                    return Ok(false);
                };
                if !size_ok(lv.size.as_ref(), b.size, have.size)
                    || !fs_ok(lv.filesystem.as_ref(), b.filesystem.as_ref())
                {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn build_layout(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
        names: &[String],
        sid: &str,
        boot_disk: Option<i64>,
    ) -> Result<(), DriverError> {
        let node = job.node;
        let c = &self.client;
        let blocks = c
            .block_devices(sid)
            .list()
            .await
            .cx(cx, "listing block devices")?;
        let mut pv_blocks: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        let mut pv_parts: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (dev, name) in node.storage_devices.iter().zip(names) {
            let blk = block_named(cx, blocks.as_slice(), &dev.name, name)?;
            let holds_root = dev
                .partitions
                .iter()
                .any(|p| p.filesystem.as_ref().and_then(|f| f.mountpoint.as_deref()) == Some("/"));
            if holds_root && boot_disk != Some(blk.id) {
                c.block_devices(sid)
                    .set_boot_disk(blk.id)
                    .await
                    .cx(cx, &format!("making {} the boot disk", dev.name))?;
            }
            if let Some(vg) = &dev.volume_group {
                pv_blocks.entry(vg).or_default().push(blk.id);
            }
            let parts = c.partitions(sid, blk.id);
            let mut free = blk.size.saturating_sub(PART_TABLE_RESERVATION);
            for p in &dev.partitions {
                let what = format!("partition {} on {}", p.name, dev.name);
                let size = size_in(cx, &what, p.size.as_ref(), blk.size, free)?;
                let created = parts
                    .create(size, p.part_uuid.as_deref(), p.bootable)
                    .await
                    .cx(cx, &format!("creating {what}"))?;
                free = free.saturating_sub(created.size);
                if let Some(vg) = &p.volume_group {
                    pv_parts.entry(vg).or_default().push(created.id);
                } else if let Some(fs) = &p.filesystem {
                    parts
                        .format(
                            created.id,
                            &fs.fstype,
                            fs.fs_uuid.as_deref(),
                            fs.fs_label.as_deref(),
                        )
                        .await
                        .cx(cx, &format!("formatting {what}"))?;
                    if let Some(mp) = &fs.mountpoint {
                        parts
                            .mount(created.id, mp, Some(&fs.mount_options))
                            .await
                            .cx(cx, &format!("mounting {what}"))?;
                    }
                }
            }
        }
        for vg in node.volume_groups.iter() {
            let blocks = pv_blocks.remove(vg.name.as_str()).unwrap_or_default();
            let parts = pv_parts.remove(vg.name.as_str()).unwrap_or_default();
            if blocks.is_empty() && parts.is_empty() {
                return Err(cx.permanent(format!(
                    "volume group {} has no physical volume in the design",
                    vg.name
                )));
            }
            let created = c
                .volume_groups(sid)
                .create(&vg.name, vg.vg_uuid.as_deref(), &blocks, &parts)
                .await
                .cx(cx, &format!("creating volume group {}", vg.name))?;
            let mut free = created.available_size;
            for lv in &vg.logical_volumes {
                let what = format!("logical volume {} in {}", lv.name, vg.name);
                let size = size_in(cx, &what, lv.size.as_ref(), created.size, free)?;
                let bd = c
                    .volume_groups(sid)
                    .create_logical_volume(created.id, &lv.name, size, lv.lv_uuid.as_deref())
                    .await
                    .cx(cx, &format!("creating {what}"))?;
                free = free.saturating_sub(bd.size);
                if let Some(fs) = &lv.filesystem {
                    c.block_devices(sid)
                        .format(bd.id, &fs.fstype, fs.fs_uuid.as_deref())
                        .await
                        .cx(cx, &format!("formatting {what}"))?;
                    if let Some(mp) = &fs.mountpoint {
                        c.block_devices(sid)
                            .mount(bd.id, mp, Some(&fs.mount_options))
                            .await
                            .cx(cx, &format!("mounting {what}"))?;
                    }
                }
            }
        }
        Ok(())
    }
}

//! Handlers: block devices, partitions, volume groups, logical volumes.

use serde_json::{Value, json};

use super::h_machines::{machine, machine_mut};
use super::reply::{Form, R, Reply, id, not_found, ok, text};
use super::world::{BlockRec, FsRec, MachineRec, PartRec, VgRec, World};
use crate::MachineStatus as S;

/// Partition/VG/LV create and delete: Ready only.
fn ready(m: &MachineRec, what: &str) -> Result<(), Reply> {
    if m.status == S::Ready {
        Ok(())
    } else {
        Err(text(
            409,
            format!("Cannot {what} because the machine is not Ready."),
        ))
    }
}

/// Format/mount: Ready or Allocated.
fn ready_or_allocated(m: &MachineRec, what: &str) -> Result<(), Reply> {
    if matches!(m.status, S::Ready | S::Allocated) {
        Ok(())
    } else {
        Err(text(
            409,
            format!("Cannot {what} because the machine is not Ready or Allocated."),
        ))
    }
}

fn block_idx(m: &MachineRec, cap: &str) -> Result<usize, Reply> {
    let bid = id(cap, "BlockDevice")?;
    m.blocks
        .iter()
        .position(|b| b.id == bid)
        .ok_or_else(|| not_found("BlockDevice"))
}

fn part_idx(m: &MachineRec, bi: usize, cap: &str) -> Result<usize, Reply> {
    let pid = id(cap, "Partition")?;
    m.blocks[bi]
        .partitions
        .iter()
        .position(|p| p.id == pid)
        .ok_or_else(|| not_found("Partition"))
}

fn uuid(n: i64) -> String {
    format!("6f1c2a9e-0000-4000-8000-{n:012x}")
}

pub(crate) fn blocks(w: &World, sid: &str) -> R {
    // A rack controller is a node too; the fake's have no modelled disks.
    if w.rack(sid).is_some() {
        return ok(Value::Array(Vec::new()));
    }
    let m = machine(w, sid)?;
    ok(Value::Array(
        m.blocks.iter().map(|b| World::render_block(m, b)).collect(),
    ))
}

pub(crate) fn block(w: &World, sid: &str, cap: &str) -> R {
    let m = machine(w, sid)?;
    ok(World::render_block(m, &m.blocks[block_idx(m, cap)?]))
}

fn fs_from(f: &Form) -> Result<FsRec, Reply> {
    let fstype = f.required("fstype")?;
    if !matches!(
        fstype,
        "ext2"
            | "ext3"
            | "ext4"
            | "xfs"
            | "fat32"
            | "vfat"
            | "btrfs"
            | "swap"
            | "zfsroot"
            | "lvm-pv"
    ) {
        return Err(Reply::Json(
            400,
            json!({"fstype": [format!("Select a valid choice. {fstype} is not one of the available choices.")]}),
        ));
    }
    Ok(FsRec {
        fstype: fstype.to_owned(),
        uuid: f.get("uuid").map(str::to_owned),
        label: f.get("label").map(str::to_owned),
        ..FsRec::default()
    })
}

/// Which filesystem a block-device or partition op acts on.
enum Target {
    Block(usize),
    Part(usize, usize),
}

fn fs_op(w: &mut World, sid: &str, t: Target, op: &str, f: &Form) -> R {
    let m = machine_mut(w, sid)?;
    ready_or_allocated(m, &format!("{op} the device"))?;
    let slot = match t {
        Target::Block(b) => &mut m.blocks[b].fs,
        Target::Part(b, p) => &mut m.blocks[b].partitions[p].fs,
    };
    match op {
        "format" => *slot = Some(fs_from(f)?),
        "unformat" => {
            if slot.is_none() {
                return Err(text(400, "Filesystem is already unformatted."));
            }
            *slot = None;
        }
        "mount" => {
            let mp = f.required("mount_point")?.to_owned();
            let fs = slot
                .as_mut()
                .ok_or_else(|| text(400, "Cannot mount an unformatted device."))?;
            fs.mount_point = Some(mp);
            fs.mount_options = f.get("mount_options").map(str::to_owned);
        }
        _ => {
            let fs = slot
                .as_mut()
                .filter(|fs| fs.mount_point.is_some())
                .ok_or_else(|| text(400, "Filesystem is already unmounted."))?;
            fs.mount_point = None;
        }
    }
    let m = machine(w, sid)?;
    match t {
        Target::Block(b) => ok(World::render_block(m, &m.blocks[b])),
        Target::Part(b, p) => ok(World::render_partition(
            m,
            &m.blocks[b],
            &m.blocks[b].partitions[p],
        )),
    }
}

pub(crate) fn block_fs_op(w: &mut World, sid: &str, cap: &str, op: &str, f: &Form) -> R {
    let bi = block_idx(machine(w, sid)?, cap)?;
    fs_op(w, sid, Target::Block(bi), op, f)
}

pub(crate) fn set_boot_disk(w: &mut World, sid: &str, cap: &str) -> R {
    let m = machine_mut(w, sid)?;
    ready_or_allocated(m, "set the boot disk")?;
    let bi = block_idx(m, cap)?;
    if m.blocks[bi].virtual_of.is_some() {
        return Err(text(
            400,
            "Cannot set a virtual block device as the boot disk.",
        ));
    }
    for (i, b) in m.blocks.iter_mut().enumerate() {
        b.boot = i == bi;
    }
    let first = m.blocks.remove(bi);
    m.blocks.insert(0, first);
    ok(json!("OK"))
}

pub(crate) fn partitions(w: &World, sid: &str, bcap: &str) -> R {
    let m = machine(w, sid)?;
    let b = &m.blocks[block_idx(m, bcap)?];
    ok(Value::Array(
        b.partitions
            .iter()
            .map(|p| World::render_partition(m, b, p))
            .collect(),
    ))
}

pub(crate) fn partition(w: &World, sid: &str, bcap: &str, pcap: &str) -> R {
    let m = machine(w, sid)?;
    let bi = block_idx(m, bcap)?;
    let b = &m.blocks[bi];
    ok(World::render_partition(
        m,
        b,
        &b.partitions[part_idx(m, bi, pcap)?],
    ))
}

pub(crate) fn create_partition(w: &mut World, sid: &str, bcap: &str, f: &Form) -> R {
    let pid = w.id();
    let m = machine_mut(w, sid)?;
    ready(m, "create partition")?;
    let bi = block_idx(m, bcap)?;
    let b = &mut m.blocks[bi];
    let used: u64 = b.partitions.iter().map(|p| p.size).sum();
    let free = b.size.saturating_sub(used + 4 * 1024 * 1024);
    let size = match f.int("size")? {
        None => free,
        Some(s) if s > 0 && (s as u64) <= free => s as u64,
        Some(_) => {
            return Err(Reply::Json(
                400,
                json!({"size": [format!("Partition cannot be saved; not enough free space ({free} bytes available).")]}),
            ));
        }
    };
    b.partitions.push(PartRec {
        id: pid,
        size,
        bootable: f.bool("bootable").unwrap_or(false),
        uuid: f
            .get("uuid")
            .map(str::to_owned)
            .unwrap_or_else(|| uuid(pid)),
        fs: None,
    });
    let m = machine(w, sid)?;
    let b = &m.blocks[bi];
    ok(World::render_partition(
        m,
        b,
        &b.partitions[b.partitions.len() - 1],
    ))
}

pub(crate) fn delete_partition(w: &mut World, sid: &str, bcap: &str, pcap: &str) -> R {
    let m = machine_mut(w, sid)?;
    ready(m, "delete partition")?;
    let bi = block_idx(m, bcap)?;
    let pi = part_idx(m, bi, pcap)?;
    m.blocks[bi].partitions.remove(pi);
    Ok(Reply::Empty)
}

pub(crate) fn partition_fs_op(
    w: &mut World,
    sid: &str,
    bcap: &str,
    pcap: &str,
    op: &str,
    f: &Form,
) -> R {
    let m = machine(w, sid)?;
    let bi = block_idx(m, bcap)?;
    let pi = part_idx(m, bi, pcap)?;
    fs_op(w, sid, Target::Part(bi, pi), op, f)
}

fn vg_idx(m: &MachineRec, cap: &str) -> Result<usize, Reply> {
    let vid = id(cap, "VolumeGroup")?;
    m.vgs
        .iter()
        .position(|v| v.id == vid)
        .ok_or_else(|| not_found("VolumeGroup"))
}

pub(crate) fn volume_groups(w: &World, sid: &str) -> R {
    if w.rack(sid).is_some() {
        return ok(Value::Array(Vec::new()));
    }
    let m = machine(w, sid)?;
    ok(Value::Array(
        m.vgs.iter().map(|v| World::render_vg(m, v)).collect(),
    ))
}

pub(crate) fn volume_group(w: &World, sid: &str, cap: &str) -> R {
    let m = machine(w, sid)?;
    ok(World::render_vg(m, &m.vgs[vg_idx(m, cap)?]))
}

pub(crate) fn create_volume_group(w: &mut World, sid: &str, f: &Form) -> R {
    let vid = w.id();
    let m = machine_mut(w, sid)?;
    ready(m, "create volume group")?;
    let name = f.required("name")?.to_owned();
    let parse = |key: &str| -> Result<Vec<i64>, Reply> {
        f.all(key).iter().map(|v| v.parse::<i64>().map_err(|_| Reply::Json(400, json!({key: [format!("Select a valid choice. {v} is not one of the available choices.")]})))).collect()
    };
    let block_devices = parse("block_devices")?;
    let partitions = parse("partitions")?;
    if block_devices.is_empty() && partitions.is_empty() {
        return Err(Reply::Json(
            400,
            json!({"__all__": ["At least one valid block device or partition is required."]}),
        ));
    }
    for b in &block_devices {
        if !m
            .blocks
            .iter()
            .any(|x| x.id == *b && x.virtual_of.is_none())
        {
            return Err(Reply::Json(
                400,
                json!({"block_devices": [format!("Select a valid choice. {b} is not one of the available choices.")]}),
            ));
        }
    }
    for p in &partitions {
        if !m
            .blocks
            .iter()
            .any(|x| x.partitions.iter().any(|y| y.id == *p))
        {
            return Err(Reply::Json(
                400,
                json!({"partitions": [format!("Select a valid choice. {p} is not one of the available choices.")]}),
            ));
        }
    }
    let vg = VgRec {
        id: vid,
        name,
        uuid: f
            .get("uuid")
            .map(str::to_owned)
            .unwrap_or_else(|| uuid(vid)),
        block_devices,
        partitions,
    };
    m.vgs.push(vg);
    let m = machine(w, sid)?;
    ok(World::render_vg(m, &m.vgs[m.vgs.len() - 1]))
}

pub(crate) fn delete_volume_group(w: &mut World, sid: &str, cap: &str) -> R {
    let m = machine_mut(w, sid)?;
    ready(m, "delete volume group")?;
    let vi = vg_idx(m, cap)?;
    let vg = m.vgs.remove(vi);
    m.blocks.retain(|b| b.virtual_of != Some(vg.id));
    Ok(Reply::Empty)
}

pub(crate) fn create_logical_volume(w: &mut World, sid: &str, cap: &str, f: &Form) -> R {
    let lid = w.id();
    let m = machine_mut(w, sid)?;
    ready(m, "create logical volume")?;
    let vi = vg_idx(m, cap)?;
    let name = f.required("name")?.to_owned();
    let vg_json = World::render_vg(m, &m.vgs[vi]);
    let avail = vg_json["available_size"].as_u64().unwrap_or(0);
    let size = match f.int("size")? {
        None => avail,
        Some(s) if s > 0 && (s as u64) <= avail => s as u64,
        Some(_) => {
            return Err(Reply::Json(
                400,
                json!({"size": [format!("Size is too large. Maximum size is {avail}.")]}),
            ));
        }
    };
    let vg_name = m.vgs[vi].name.clone();
    let vg_id = m.vgs[vi].id;
    m.blocks.push(BlockRec {
        id: lid,
        name: format!("{vg_name}-{name}"),
        size,
        virtual_of: Some(vg_id),
        fs: None,
        partitions: vec![],
        boot: false,
    });
    let m = machine(w, sid)?;
    ok(World::render_block(m, &m.blocks[m.blocks.len() - 1]))
}

pub(crate) fn delete_logical_volume(w: &mut World, sid: &str, cap: &str, f: &Form) -> R {
    let m = machine_mut(w, sid)?;
    ready(m, "delete logical volume")?;
    let vi = vg_idx(m, cap)?;
    let vg_id = m.vgs[vi].id;
    let lv = f
        .int("id")?
        .ok_or_else(|| Reply::Json(400, json!({"id": ["This field is required."]})))?;
    let before = m.blocks.len();
    m.blocks
        .retain(|b| !(b.id == lv && b.virtual_of == Some(vg_id)));
    if before == m.blocks.len() {
        return Err(not_found("VirtualBlockDevice"));
    }
    Ok(Reply::Empty)
}

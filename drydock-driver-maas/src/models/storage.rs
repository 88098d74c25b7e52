//! Block devices, partitions, filesystems, volume groups.

use serde::{Deserialize, Serialize};

use super::null_default;

/// A filesystem on a block device or partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Filesystem {
    /// Type (`ext4`, `xfs`, `lvm-pv`, …).
    pub fstype: String,
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Mount point, when mounted.
    #[serde(default)]
    pub mount_point: Option<String>,
    /// Mount options.
    #[serde(default)]
    pub mount_options: Option<String>,
}

/// A partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Partition {
    /// Id.
    pub id: i64,
    /// Owning node.
    #[serde(default)]
    pub system_id: String,
    /// Block device id.
    #[serde(default)]
    pub device_id: i64,
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Device path.
    #[serde(default)]
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether bootable.
    #[serde(default)]
    pub bootable: bool,
    /// Filesystem.
    #[serde(default)]
    pub filesystem: Option<Filesystem>,
    /// What uses it.
    #[serde(default)]
    pub used_for: String,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

/// A block device (physical disk or logical volume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlockDevice {
    /// Id.
    pub id: i64,
    /// Owning node.
    #[serde(default)]
    pub system_id: String,
    /// Name (`sda`, `vg0-lv0`).
    pub name: String,
    /// `physical` or `virtual`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Device path.
    #[serde(default)]
    pub path: String,
    /// Model.
    #[serde(default)]
    pub model: Option<String>,
    /// Serial.
    #[serde(default)]
    pub serial: Option<String>,
    /// `/dev/disk/by-id` path.
    #[serde(default)]
    pub id_path: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Block size in bytes.
    #[serde(default)]
    pub block_size: u64,
    /// Bytes not yet used.
    #[serde(default)]
    pub available_size: u64,
    /// Bytes used.
    #[serde(default)]
    pub used_size: u64,
    /// What uses it.
    #[serde(default)]
    pub used_for: String,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Filesystem, when formatted directly.
    #[serde(default)]
    pub filesystem: Option<Filesystem>,
    /// Partition table type.
    #[serde(default)]
    pub partition_table_type: Option<String>,
    /// Partitions.
    #[serde(default, deserialize_with = "null_default")]
    pub partitions: Vec<Partition>,
}

/// A device backing a volume group (a partition or a block device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VolumeGroupDevice {
    /// Id.
    pub id: i64,
    /// `partition`, `physical` or `virtual`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Device path.
    #[serde(default)]
    pub path: String,
}

/// An LVM volume group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VolumeGroup {
    /// Id.
    pub id: i64,
    /// Owning node.
    #[serde(default)]
    pub system_id: String,
    /// Name.
    pub name: String,
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Free bytes.
    #[serde(default)]
    pub available_size: u64,
    /// Used bytes.
    #[serde(default)]
    pub used_size: u64,
    /// Physical volumes.
    #[serde(default, deserialize_with = "null_default")]
    pub devices: Vec<VolumeGroupDevice>,
    /// Logical volumes (virtual block devices).
    #[serde(default, deserialize_with = "null_default")]
    pub logical_volumes: Vec<BlockDevice>,
}

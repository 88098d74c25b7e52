//! Block devices, partitions, volume groups and logical volumes of a node.

use crate::models::{BlockDevice, Partition, VolumeGroup};
use crate::{MaasClient, Params, Result};

/// View of `nodes/{system_id}/blockdevices/`.
#[derive(Debug, Clone)]
pub struct BlockDevices<'a> {
    client: &'a MaasClient,
    system_id: String,
}

impl BlockDevices<'_> {
    fn item(&self, id: i64) -> String {
        format!("nodes/{}/blockdevices/{id}/", self.system_id)
    }

    async fn op(&self, id: i64, op: &str, p: Params) -> Result<BlockDevice> {
        self.client.post(&self.item(id), Some(op), &p).await
    }

    /// `GET nodes/{system_id}/blockdevices/`.
    pub async fn list(&self) -> Result<Vec<BlockDevice>> {
        let path = format!("nodes/{}/blockdevices/", self.system_id);
        self.client.get(&path, None, &Params::new()).await
    }

    /// `GET nodes/{system_id}/blockdevices/{id}/`.
    pub async fn get(&self, id: i64) -> Result<BlockDevice> {
        self.client.get(&self.item(id), None, &Params::new()).await
    }

    /// `op=format`.
    pub async fn format(&self, id: i64, fstype: &str, uuid: Option<&str>) -> Result<BlockDevice> {
        let p = Params::new().with("fstype", fstype).with_opt("uuid", uuid);
        self.op(id, "format", p).await
    }

    /// `op=unformat`.
    pub async fn unformat(&self, id: i64) -> Result<BlockDevice> {
        self.op(id, "unformat", Params::new()).await
    }

    /// `op=mount`.
    pub async fn mount(
        &self,
        id: i64,
        mount_point: &str,
        options: Option<&str>,
    ) -> Result<BlockDevice> {
        let p = Params::new()
            .with("mount_point", mount_point)
            .with_opt("mount_options", options);
        self.op(id, "mount", p).await
    }

    /// `op=unmount`.
    pub async fn unmount(&self, id: i64) -> Result<BlockDevice> {
        self.op(id, "unmount", Params::new()).await
    }

    /// `op=set_boot_disk`.
    pub async fn set_boot_disk(&self, id: i64) -> Result<()> {
        self.client
            .post_no_content(&self.item(id), Some("set_boot_disk"), &Params::new())
            .await
    }
}

/// View of `nodes/{system_id}/blockdevices/{device_id}/partitions/`. Single partitions live at
/// `…/partition/{id}` **without** a trailing slash (MAAS' one exception).
#[derive(Debug, Clone)]
pub struct Partitions<'a> {
    client: &'a MaasClient,
    system_id: String,
    device_id: i64,
}

impl Partitions<'_> {
    fn item(&self, id: i64) -> String {
        format!(
            "nodes/{}/blockdevices/{}/partition/{id}",
            self.system_id, self.device_id
        )
    }

    fn coll(&self) -> String {
        format!(
            "nodes/{}/blockdevices/{}/partitions/",
            self.system_id, self.device_id
        )
    }

    /// `GET …/partitions/`.
    pub async fn list(&self) -> Result<Vec<Partition>> {
        self.client.get(&self.coll(), None, &Params::new()).await
    }

    /// `POST …/partitions/` (size in bytes; all remaining space when `None`).
    pub async fn create(
        &self,
        size: Option<u64>,
        uuid: Option<&str>,
        bootable: bool,
    ) -> Result<Partition> {
        let p = Params::new()
            .with_opt("size", size)
            .with_opt("uuid", uuid)
            .with_bool("bootable", bootable);
        self.client.post(&self.coll(), None, &p).await
    }

    /// `GET …/partition/{id}`.
    pub async fn get(&self, id: i64) -> Result<Partition> {
        self.client.get(&self.item(id), None, &Params::new()).await
    }

    /// `DELETE …/partition/{id}`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client.delete(&self.item(id), &Params::new()).await
    }

    /// `op=format`.
    pub async fn format(
        &self,
        id: i64,
        fstype: &str,
        uuid: Option<&str>,
        label: Option<&str>,
    ) -> Result<Partition> {
        let p = Params::new()
            .with("fstype", fstype)
            .with_opt("uuid", uuid)
            .with_opt("label", label);
        self.client.post(&self.item(id), Some("format"), &p).await
    }

    /// `op=mount`.
    pub async fn mount(
        &self,
        id: i64,
        mount_point: &str,
        options: Option<&str>,
    ) -> Result<Partition> {
        let p = Params::new()
            .with("mount_point", mount_point)
            .with_opt("mount_options", options);
        self.client.post(&self.item(id), Some("mount"), &p).await
    }

    /// `op=unmount`.
    pub async fn unmount(&self, id: i64) -> Result<Partition> {
        self.client
            .post(&self.item(id), Some("unmount"), &Params::new())
            .await
    }
}

/// View of `nodes/{system_id}/volume-groups/`.
#[derive(Debug, Clone)]
pub struct VolumeGroups<'a> {
    client: &'a MaasClient,
    system_id: String,
}

impl VolumeGroups<'_> {
    fn item(&self, id: i64) -> String {
        format!("nodes/{}/volume-group/{id}/", self.system_id)
    }

    /// `GET nodes/{system_id}/volume-groups/`.
    pub async fn list(&self) -> Result<Vec<VolumeGroup>> {
        let path = format!("nodes/{}/volume-groups/", self.system_id);
        self.client.get(&path, None, &Params::new()).await
    }

    /// `GET nodes/{system_id}/volume-group/{id}/`.
    pub async fn get(&self, id: i64) -> Result<VolumeGroup> {
        self.client.get(&self.item(id), None, &Params::new()).await
    }

    /// `POST nodes/{system_id}/volume-groups/` (devices as repeated keys).
    pub async fn create(
        &self,
        name: &str,
        uuid: Option<&str>,
        block_devices: &[i64],
        partitions: &[i64],
    ) -> Result<VolumeGroup> {
        let p = Params::new()
            .with("name", name)
            .with_opt("uuid", uuid)
            .with_list("block_devices", block_devices)
            .with_list("partitions", partitions);
        let path = format!("nodes/{}/volume-groups/", self.system_id);
        self.client.post(&path, None, &p).await
    }

    /// `DELETE nodes/{system_id}/volume-group/{id}/`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client.delete(&self.item(id), &Params::new()).await
    }

    /// `op=create_logical_volume`: returns the new virtual block device.
    pub async fn create_logical_volume(
        &self,
        vg: i64,
        name: &str,
        size: Option<u64>,
        uuid: Option<&str>,
    ) -> Result<BlockDevice> {
        let p = Params::new()
            .with("name", name)
            .with_opt("size", size)
            .with_opt("uuid", uuid);
        self.client
            .post(&self.item(vg), Some("create_logical_volume"), &p)
            .await
    }

    /// `op=delete_logical_volume` (answers 204).
    pub async fn delete_logical_volume(&self, vg: i64, lv: i64) -> Result<()> {
        let p = Params::new().with("id", lv);
        self.client
            .post_no_content(&self.item(vg), Some("delete_logical_volume"), &p)
            .await
    }
}

impl MaasClient {
    /// View of `nodes/{system_id}/blockdevices/`.
    pub fn block_devices(&self, system_id: &str) -> BlockDevices<'_> {
        BlockDevices {
            client: self,
            system_id: system_id.to_owned(),
        }
    }

    /// View of the partitions of one block device.
    pub fn partitions(&self, system_id: &str, device_id: i64) -> Partitions<'_> {
        Partitions {
            client: self,
            system_id: system_id.to_owned(),
            device_id,
        }
    }

    /// View of `nodes/{system_id}/volume-groups/`.
    pub fn volume_groups(&self, system_id: &str) -> VolumeGroups<'_> {
        VolumeGroups {
            client: self,
            system_id: system_id.to_owned(),
        }
    }
}

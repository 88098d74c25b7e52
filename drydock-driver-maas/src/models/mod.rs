//! Typed MAAS objects (what the driver reads).
//!
//! Response types are tolerant: optional fields default, unknown fields are ignored, and the
//! polymorphic shapes MAAS produces (interface `params` as `{}` or `""`, `discovered` as `null`
//! or a list, links without `subnet`) are accepted.

mod machine;
mod misc;
mod network;
mod storage;

pub use machine::{Machine, MachineStatus, NamedRef, ObjectStub, PowerState};
pub use misc::{
    BootResource, CommissioningResult, NodeRef, PackageRepository, RackController, ScriptResult,
    ScriptResultSet, Service, ServiceStatus, SshKey, Tag, UpdateNodesResult, Version,
};
pub use network::{
    Domain, Fabric, Interface, InterfaceType, IpRange, Link, LinkMode, StaticRoute, Subnet, Vlan,
};
pub use storage::{BlockDevice, Filesystem, Partition, VolumeGroup, VolumeGroupDevice};

/// Deserializes `null` as the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

//! Typed resource views of the client (`client.machines().get(..)`, …).

mod machines;
mod misc;
mod network;
mod storage;

pub use machines::{
    AllocateOptions, CommissionOptions, DeployOptions, MachineQuery, MachineUpdate, Machines,
    ReleaseOptions, StorageLayoutOptions,
};
pub use misc::{
    BootResources, PackageRepositories, RackControllers, RepositorySpec, SshKeys, TagSpec, Tags,
};
pub use network::{
    BondSpec, Domains, Fabrics, InterfaceUpdate, Interfaces, IpRangeSpec, IpRanges, LinkSubnetSpec,
    StaticRoutes, SubnetSpec, Subnets, VlanSpec, Vlans,
};
pub use storage::{BlockDevices, Partitions, VolumeGroups};

/// Appends `Some` values of `(key, Option<value>)` pairs.
pub(crate) fn opt_params(mut p: crate::Params, items: &[(&str, Option<String>)]) -> crate::Params {
    for (k, v) in items {
        if let Some(v) = v {
            p.push(*k, v);
        }
    }
    p
}

//! The rules, one file per family.
//!
//! | Rule | Reference | File |
//! |---|---|---|
//! | [`BootStorage`] | DD1001 Rational Boot Storage | `storage.rs` |
//! | [`CidrValidity`] | DD2006 CIDR Validity | `network.rs` |
//! | [`Hugepages`] | DD1008 Hugepages | `host.rs` |
//! | [`IpLocality`] | DD2002 IP Locality Check | `network.rs` |
//! | [`Mtu`] | DD2003 MTU Rationality | `network.rs` |
//! | [`NetworkTrunking`] | DD2004 Network Trunking Rationalty | `network.rs` |
//! | [`DuplicateIps`] | DD2005 Duplicated IP Check | `network.rs` |
//! | [`PlatformSelection`] | DD3001 Platform Selection | `host.rs` |
//! | [`NetworkBond`] | DD1006 Network Bond Rationality | `links.rs` |
//! | [`StoragePartitioning`] | DD2002 Storage Partitioning | `storage.rs` |
//! | [`StorageSizing`] | DD2003 Storage Sizing | `storage.rs` |
//! | [`StorageMountpoints`] | DD2004 Storage Mountpoint | `storage.rs` |
//! | [`AllowedNetworks`] | DD1007 Allowed Network Check | `links.rs` |
//! | [`HostnameValidity`] | DD3003 Hostname Validity | `host.rs` |
//! | [`IpmiValidity`] | DD4001 Valid IPMI Configuration | `host.rs` |
//! | [`LibvirtValidity`] | DD4002 Valid Libvirt Configuration | `host.rs` |
//! | [`BootactionCoverage`] | DD4001 Bootaction Definition | `bootaction.rs` |
//! | [`BootactionPackageList`] | DD4002 Bootaction pkg_list Validation | `bootaction.rs` |
//! | [`StaticAddressRanges`] | (drydock) | `network.rs` |
//! | [`StorageFreeSpace`] | (drydock) | `storage.rs` |

mod bootaction;
mod host;
mod links;
mod network;
mod storage;

pub use bootaction::{BootactionCoverage, BootactionPackageList, is_version_specifier};
pub use host::{HostnameValidity, Hugepages, IpmiValidity, LibvirtValidity, PlatformSelection};
pub use links::{AllowedNetworks, NetworkBond};
pub use network::{
    CidrValidity, DuplicateIps, IpLocality, Mtu, NetworkTrunking, StaticAddressRanges,
};
pub use storage::{
    BootStorage, StorageFreeSpace, StorageMountpoints, StoragePartitioning, StorageSizing,
};

use super::Rule;

/// Implements [`Rule`] for a unit struct whose checks are the function `$check`.
macro_rules! impl_rule {
    ($ty:ident, $id:ident, $check:path) => {
        impl $crate::validation::Rule for $ty {
            fn id(&self) -> $crate::validation::RuleId {
                $crate::validation::RuleId::$id
            }
            fn check(
                &self,
                design: &$crate::design::CompiledDesign,
                cx: &$crate::validation::ValidationContext,
            ) -> Vec<$crate::validation::Finding> {
                $check(design, cx)
            }
        }
    };
}
pub(crate) use impl_rule;

/// Every rule, in the order the validator runs them ([`super::RuleId::ALL`]'s order).
pub fn all() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(BootStorage),
        Box::new(CidrValidity),
        Box::new(Hugepages),
        Box::new(IpLocality),
        Box::new(Mtu),
        Box::new(NetworkTrunking),
        Box::new(DuplicateIps),
        Box::new(PlatformSelection),
        Box::new(NetworkBond),
        Box::new(StoragePartitioning),
        Box::new(StorageSizing),
        Box::new(StorageMountpoints),
        Box::new(AllowedNetworks),
        Box::new(HostnameValidity),
        Box::new(IpmiValidity),
        Box::new(LibvirtValidity),
        Box::new(BootactionCoverage),
        Box::new(BootactionPackageList),
        Box::new(StaticAddressRanges),
        Box::new(StorageFreeSpace),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_is_in_rule_id_order() {
        let ids: Vec<_> = super::all().iter().map(|r| r.id()).collect();
        assert_eq!(ids, super::super::RuleId::ALL);
    }
}

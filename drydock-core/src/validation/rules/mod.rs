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

use std::collections::HashMap;

use indexmap::IndexMap;
use rustc_hash::FxBuildHasher;

use super::{Finding, Rule, RuleId, ValidationContext};
use crate::design::{CompiledDesign, CompiledNode};

/// A map for lookups done once or more per node: Fx hashing (the keys come from the design,
/// and each map lives for one validation).
pub(crate) type FastMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// The documents of `map` by name, for lookups from node checks.
pub(crate) fn by_name<T>(map: &IndexMap<String, T>) -> FastMap<&str, &T> {
    map.iter().map(|(k, v)| (k.as_str(), v)).collect()
}

/// The checks of a rule that goes through the nodes one by one: findings about the design as a
/// whole first ([`NodeChecks::begin`]), then those of each node in design order.
///
/// The validator runs the node checks of every such rule node by node (each node's data is
/// read from memory once for all rules, instead of once per rule: on large designs, which do
/// not fit in the CPU caches, that is most of the time validation takes). Each rule's findings
/// stay in the order the rule alone gives.
pub(crate) trait NodeChecks<'d> {
    /// The findings about the design as a whole.
    fn begin(&mut self) -> Vec<Finding>;
    /// Checks one node.
    fn node(&mut self, node: &'d CompiledNode, out: &mut Vec<Finding>);
}

struct NodeFn<F> {
    begin: Vec<Finding>,
    f: F,
}

impl<'d, F: FnMut(&'d CompiledNode, &mut Vec<Finding>)> NodeChecks<'d> for NodeFn<F> {
    fn begin(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.begin)
    }
    fn node(&mut self, node: &'d CompiledNode, out: &mut Vec<Finding>) {
        (self.f)(node, out)
    }
}

/// Node checks from the design-level findings and a function of one node.
fn node_fn<'d, F>(begin: Vec<Finding>, f: F) -> Box<dyn NodeChecks<'d> + 'd>
where
    F: FnMut(&'d CompiledNode, &mut Vec<Finding>) + 'd,
{
    Box::new(NodeFn { begin, f })
}

/// Runs node checks on every node of the design (one rule alone).
fn run_nodes<'d>(mut checks: Box<dyn NodeChecks<'d> + 'd>, d: &'d CompiledDesign) -> Vec<Finding> {
    let mut out = checks.begin();
    for n in d.nodes.values() {
        checks.node(n, &mut out);
    }
    out
}

/// The node checks of the built-in rule `id`, if it goes node by node.
pub(crate) fn node_checks<'d>(
    id: RuleId,
    d: &'d CompiledDesign,
    cx: &'d ValidationContext,
) -> Option<Box<dyn NodeChecks<'d> + 'd>> {
    Some(match id {
        RuleId::BootStorage => storage::boot_storage_checks(d, cx),
        RuleId::Hugepages => host::hugepages_checks(d, cx),
        RuleId::IpLocality => network::ip_locality_checks(d, cx),
        RuleId::DuplicateIps => network::duplicate_ips_checks(d, cx),
        RuleId::StoragePartitioning => storage::storage_partitioning_checks(d, cx),
        RuleId::StorageSizing => storage::storage_sizing_checks(d, cx),
        RuleId::StorageMountpoints => storage::storage_mountpoints_checks(d, cx),
        RuleId::AllowedNetworks => links::allowed_networks_checks(d, cx),
        RuleId::HostnameValidity => host::hostname_validity_checks(d, cx),
        RuleId::IpmiValidity => host::ipmi_validity_checks(d, cx),
        RuleId::LibvirtValidity => host::libvirt_validity_checks(d, cx),
        RuleId::BootactionCoverage => bootaction::bootaction_coverage_checks(d, cx),
        RuleId::StaticAddressRanges => network::static_address_ranges_checks(d, cx),
        RuleId::StorageFreeSpace => storage::storage_free_space_checks(d, cx),
        _ => return None,
    })
}

/// Defines the check function `$check` of a rule from its node checks `$checks`.
macro_rules! by_node {
    ($check:ident, $checks:ident) => {
        fn $check(
            d: &$crate::design::CompiledDesign,
            cx: &$crate::validation::ValidationContext,
        ) -> Vec<$crate::validation::Finding> {
            super::run_nodes($checks(d, cx), d)
        }
    };
}
pub(crate) use by_node;

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

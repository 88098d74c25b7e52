//! Rule identities.

use std::fmt;

use serde::Serialize;

macro_rules! rule_ids {
    ($( $(#[$doc:meta])* $variant:ident = ($id:literal, $code:expr, $name:literal), )*) => {
        /// The identity of a validation rule: unique per rule, unlike the reference's `DDxxxx`
        /// codes (which it reuses: DD2002, DD2003, DD2004, DD4001 and DD4002 each name two rules).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum RuleId {
            $( $(#[$doc])* $variant, )*
        }

        impl RuleId {
            /// Every rule, in the order the validator runs them.
            pub const ALL: &'static [RuleId] = &[ $( RuleId::$variant, )* ];

            /// The stable identifier (`storage_sizing`).
            pub fn as_str(self) -> &'static str {
                match self { $( RuleId::$variant => $id, )* }
            }

            /// The reference's code (`DD2003`), for rules the reference has.
            pub fn reference_code(self) -> Option<&'static str> {
                match self { $( RuleId::$variant => $code, )* }
            }

            /// The reference's long name (`Storage Sizing`), which prefixes every message.
            pub fn long_name(self) -> &'static str {
                match self { $( RuleId::$variant => $name, )* }
            }
        }
    };
}

rule_ids! {
    /// Root and boot volumes are defined and large enough (DD1001).
    BootStorage = ("boot_storage", Some("DD1001"), "Rational Boot Storage"),
    /// Network CIDRs have no host bits set (DD2006).
    CidrValidity = ("cidr_validity", Some("DD2006"), "CIDR Validity"),
    /// `hugepages` and `hugepagesz` are given together (DD1008).
    Hugepages = ("hugepages", Some("DD1008"), "Hugepages"),
    /// Gateways and static addresses lie in their network (DD2002).
    IpLocality = ("ip_locality", Some("DD2002"), "IP Locality Check"),
    /// MTUs are in range and networks fit their links (DD2003).
    Mtu = ("mtu", Some("DD2003"), "MTU Rationality"),
    /// Trunking settings of links are coherent (DD2004).
    NetworkTrunking = ("network_trunking", Some("DD2004"), "Network Trunking Rationalty"),
    /// No static address is used twice (DD2005).
    DuplicateIps = ("duplicate_ips", Some("DD2005"), "Duplicated IP Check"),
    /// Images and kernels are offered by the node driver (DD3001).
    PlatformSelection = ("platform_selection", Some("DD3001"), "Platform Selection"),
    /// Bond options fit the bond mode (DD1006).
    NetworkBond = ("network_bond", Some("DD1006"), "Network Bond Rationality"),
    /// Devices, partitions and volume groups are laid out coherently (DD2002).
    StoragePartitioning = ("storage_partitioning", Some("DD2002"), "Storage Partitioning"),
    /// Percentage sizes are non-negative and fit (DD2003).
    StorageSizing = ("storage_sizing", Some("DD2003"), "Storage Sizing"),
    /// No mountpoint is used twice on a node (DD2004).
    StorageMountpoints = ("storage_mountpoints", Some("DD2004"), "Storage Mountpoint"),
    /// Networks are allowed on one link only, and interfaces carry allowed networks (DD1007).
    AllowedNetworks = ("allowed_networks", Some("DD1007"), "Allowed Network Check"),
    /// Node FQDNs are valid DNS names (DD3003).
    HostnameValidity = ("hostname_validity", Some("DD3003"), "Hostname Validity"),
    /// IPMI nodes have an account, a credential, a network and an address on it (DD4001).
    IpmiValidity = ("ipmi_validity", Some("DD4001"), "Valid IPMI Configuration"),
    /// libvirt nodes have a `qemu+ssh` URI and a boot MAC (DD4002).
    LibvirtValidity = ("libvirt_validity", Some("DD4002"), "Valid Libvirt Configuration"),
    /// Every node is targeted by some boot action (DD4001; a warning).
    BootactionCoverage = ("bootaction_coverage", Some("DD4001"), "Bootaction Definition"),
    /// `pkg_list` assets have packages and valid version specifiers (DD4002).
    BootactionPackageList = ("bootaction_package_list", Some("DD4002"), "Bootaction pkg_list Validation"),
    /// Static addresses avoid DHCP and reserved ranges and lie in the static ranges (drydock).
    StaticAddressRanges = ("static_address_ranges", None, "Static Address Ranges"),
    /// Sizes that take all free space leave room for what follows (drydock).
    StorageFreeSpace = ("storage_free_space", None, "Storage Free Space"),
}

impl RuleId {
    /// The rule whose long name is `name` (to read the reference's messages).
    pub fn from_long_name(name: &str) -> Option<RuleId> {
        Self::ALL.iter().copied().find(|r| r.long_name() == name)
    }

    /// The rule with the identifier `id` (`storage_sizing`).
    pub fn from_id(id: &str) -> Option<RuleId> {
        Self::ALL.iter().copied().find(|r| r.as_str() == id)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_long_names_are_unique() {
        let mut ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RuleId::ALL.len());
        let mut names: Vec<&str> = RuleId::ALL.iter().map(|r| r.long_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RuleId::ALL.len());
        assert_eq!(
            RuleId::ALL
                .iter()
                .filter(|r| r.reference_code().is_some())
                .count(),
            18
        );
    }
}

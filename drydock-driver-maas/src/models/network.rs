//! Interfaces, links, fabrics, VLANs, subnets, IP ranges, static routes, domains.

use serde::{Deserialize, Serialize};

use super::null_default;

/// Declares a string enum with an `Other(String)` catch-all.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $(#[doc = concat!("`", $wire, "`.")] $variant,)*
            /// A value this client does not know.
            Other(String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($wire => Self::$variant,)*
                    _ => Self::Other(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// Kind of interface.
    InterfaceType {
        Physical = "physical",
        Bond = "bond",
        Bridge = "bridge",
        Vlan = "vlan",
        Alias = "alias",
        Unknown = "unknown",
    }
}

string_enum! {
    /// How an interface is linked to a subnet.
    LinkMode {
        Auto = "auto",
        Dhcp = "dhcp",
        Static = "static",
        LinkUp = "link_up",
    }
}

/// A VLAN (addressed in URLs by fabric id and `vid`, the 802.1Q tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Vlan {
    /// Database id (used by `vlan=` write fields).
    pub id: i64,
    /// 802.1Q tag; 0 is the untagged VLAN.
    pub vid: u16,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Fabric name.
    #[serde(default)]
    pub fabric: String,
    /// Fabric id.
    #[serde(default)]
    pub fabric_id: i64,
    /// MTU.
    #[serde(default)]
    pub mtu: u32,
    /// Whether MAAS serves DHCP on it.
    #[serde(default)]
    pub dhcp_on: bool,
    /// External DHCP server seen, if any.
    #[serde(default)]
    pub external_dhcp: Option<String>,
    /// System id of the primary rack controller.
    #[serde(default)]
    pub primary_rack: Option<String>,
    /// System id of the secondary rack controller.
    #[serde(default)]
    pub secondary_rack: Option<String>,
    /// Relay VLAN (id or object, depending on the MAAS version).
    #[serde(default)]
    pub relay_vlan: Option<serde_json::Value>,
    /// Space name (`undefined` when none).
    #[serde(default)]
    pub space: Option<String>,
}

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subnet {
    /// Id.
    pub id: i64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// VLAN the subnet is on.
    #[serde(default)]
    pub vlan: Option<Vlan>,
    /// CIDR.
    pub cidr: String,
    /// Gateway.
    #[serde(default)]
    pub gateway_ip: Option<String>,
    /// DNS servers.
    #[serde(default, deserialize_with = "null_default")]
    pub dns_servers: Vec<String>,
    /// Reverse-DNS mode.
    #[serde(default)]
    pub rdns_mode: i64,
    /// Whether MAAS DNS is used.
    #[serde(default)]
    pub allow_dns: bool,
    /// Whether the MAAS proxy may be used.
    #[serde(default)]
    pub allow_proxy: bool,
    /// Whether active discovery runs.
    #[serde(default)]
    pub active_discovery: bool,
    /// Whether MAAS manages the subnet.
    #[serde(default)]
    pub managed: bool,
    /// Space name.
    #[serde(default)]
    pub space: Option<String>,
}

/// One link of an interface to a subnet. `subnet` and `ip_address` are absent for
/// unconfigured links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// Link id (used by `unlink_subnet`).
    pub id: i64,
    /// Mode.
    pub mode: LinkMode,
    /// Subnet, when linked to one.
    #[serde(default)]
    pub subnet: Option<Subnet>,
    /// Address, when assigned.
    #[serde(default)]
    pub ip_address: Option<String>,
}

/// A network interface of a machine or controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interface {
    /// Id.
    pub id: i64,
    /// Name (`eth0`, `bond0`, `eth0.100`).
    pub name: String,
    /// Owning node.
    #[serde(default)]
    pub system_id: String,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: InterfaceType,
    /// VLAN, or `None` when disconnected.
    #[serde(default)]
    pub vlan: Option<Vlan>,
    /// MAC address.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Names of parent interfaces.
    #[serde(default, deserialize_with = "null_default")]
    pub parents: Vec<String>,
    /// Names of child interfaces.
    #[serde(default, deserialize_with = "null_default")]
    pub children: Vec<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Whether enabled.
    #[serde(default)]
    pub enabled: bool,
    /// Links to subnets.
    #[serde(default, deserialize_with = "null_default")]
    pub links: Vec<Link>,
    /// Type-specific parameters (`{}` in interface reads, `""` inside machines).
    #[serde(default)]
    pub params: serde_json::Value,
    /// Discovered addresses (`null` or a list).
    #[serde(default)]
    pub discovered: Option<Vec<serde_json::Value>>,
    /// Effective MTU.
    #[serde(default)]
    pub effective_mtu: u32,
    /// Whether the link is connected.
    #[serde(default)]
    pub link_connected: Option<bool>,
    /// Link speed in Mbit/s.
    #[serde(default)]
    pub link_speed: Option<u64>,
}

impl Interface {
    /// The `params` object, treating MAAS' `""` as empty.
    pub fn params(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.params.as_object()
    }
}

/// A fabric with its VLANs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fabric {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Class type.
    #[serde(default)]
    pub class_type: Option<String>,
    /// VLANs (always contains the untagged VLAN, vid 0).
    #[serde(default, deserialize_with = "null_default")]
    pub vlans: Vec<Vlan>,
}

/// An IP range of a subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IpRange {
    /// Id.
    pub id: i64,
    /// `dynamic` or `reserved`.
    #[serde(rename = "type")]
    pub kind: String,
    /// First address.
    pub start_ip: String,
    /// Last address.
    pub end_ip: String,
    /// Comment.
    #[serde(default, deserialize_with = "null_default")]
    pub comment: String,
    /// Subnet.
    #[serde(default)]
    pub subnet: Option<Subnet>,
}

/// A static route between subnets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StaticRoute {
    /// Id.
    pub id: i64,
    /// Source subnet.
    pub source: Subnet,
    /// Destination subnet.
    pub destination: Subnet,
    /// Gateway.
    pub gateway_ip: String,
    /// Metric.
    #[serde(default)]
    pub metric: i64,
}

/// A DNS domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Domain {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// TTL.
    #[serde(default)]
    pub ttl: Option<u32>,
    /// Whether MAAS is authoritative.
    #[serde(default)]
    pub authoritative: bool,
    /// Whether this is the default domain.
    #[serde(default)]
    pub is_default: bool,
    /// Number of resource records.
    #[serde(default)]
    pub resource_record_count: u64,
}

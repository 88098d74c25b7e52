//! NetworkLink (layer 1/2) and Network (layer 3) documents.

use std::net::IpAddr;

use indexmap::IndexMap;
use ipnet::IpNet;
use serde::Serialize;

use crate::design::decode::{Cx, Path, str_enum};
use crate::design::diag::DiagnosticKind;
use crate::design::yaml::Node;

str_enum! {
    /// Bonding mode of a link.
    pub enum BondingMode ("bonding mode") {
        /// No bond.
        Disabled = "disabled",
        /// LACP.
        Lacp = "802.3ad",
        /// Round robin.
        BalanceRr = "balance-rr",
        /// Active/backup.
        ActiveBackup = "active-backup",
    }
}

str_enum! {
    /// Trunking (VLAN tagging) mode of a link.
    pub enum TrunkingMode ("trunking mode") {
        /// Untagged: the link carries one network.
        Disabled = "disabled",
        /// 802.1q VLAN tagging.
        Dot1q = "802.1q",
    }
}

str_enum! {
    /// What an address range of a network is for.
    pub enum RangeType ("address range type") {
        /// Addresses assigned statically by the design.
        Static = "static",
        /// Addresses handed out by DHCP.
        Dhcp = "dhcp",
        /// Addresses nobody may use.
        Reserved = "reserved",
    }
}

/// `drydock/NetworkLink/v1`: the layer 1/2 settings of a link (a NIC, or a bond of NICs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkLink {
    /// The link's name.
    pub name: String,
    /// Bonding settings.
    pub bonding: Bonding,
    /// MTU (1500 when not given).
    pub mtu: u32,
    /// Link speed (`auto` when not given).
    pub linkspeed: String,
    /// Trunking settings.
    pub trunking: Trunking,
    /// Networks that may be attached to the link.
    pub allowed_networks: Vec<String>,
    /// Labels (`noconfig` makes the provisioner leave the link alone).
    pub labels: IndexMap<String, String>,
}

/// Bonding settings of a link. The timing fields are set for bonded modes only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bonding {
    /// The mode.
    pub mode: BondingMode,
    /// MII monitoring interval in ms (100 by default for bonded modes).
    pub mon_rate: Option<u32>,
    /// Up delay in ms (200 by default for bonded modes).
    pub up_delay: Option<u32>,
    /// Down delay in ms (200 by default for bonded modes).
    pub down_delay: Option<u32>,
    /// Transmit hash policy (802.3ad: `layer3+4` by default; other bonded modes: as written).
    pub hash: Option<String>,
    /// LACP rate (802.3ad: `fast` by default; other bonded modes: as written).
    pub peer_rate: Option<String>,
}

/// Trunking settings of a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trunking {
    /// The mode.
    pub mode: TrunkingMode,
    /// The native (untagged) network.
    pub default_network: Option<String>,
}

/// `drydock/Network/v1`: a layer 3 network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Network {
    /// The network's name.
    pub name: String,
    /// The network's CIDR (host bits are kept as written; validation flags them).
    pub cidr: IpNet,
    /// VLAN tag.
    pub vlan: Option<u16>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Route domain: networks of one domain get routes to each other.
    pub routedomain: Option<String>,
    /// DNS domain (`local` when not given).
    pub dns_domain: String,
    /// DNS servers.
    pub dns_servers: Vec<String>,
    /// Address ranges.
    pub ranges: Vec<AddressRange>,
    /// Routes (including those added for route domains at compile).
    pub routes: Vec<Route>,
    /// DHCP relay settings.
    pub dhcp_relay: Option<DhcpRelay>,
    /// Labels (`noconfig` makes the provisioner leave the network alone).
    pub labels: IndexMap<String, String>,
}

/// An address range of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddressRange {
    /// What the range is for.
    #[serde(rename = "type")]
    pub kind: RangeType,
    /// First address.
    pub start: IpAddr,
    /// Last address.
    pub end: IpAddr,
}

impl AddressRange {
    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.start <= addr && addr <= self.end
    }
}

/// A route of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Destination (`0.0.0.0/0` for the default route).
    pub subnet: Option<IpNet>,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Metric.
    pub metric: Option<u32>,
    /// Route domain this route reaches.
    pub routedomain: Option<String>,
}

/// DHCP relay settings of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DhcpRelay {
    /// The relay's own address.
    pub self_ip: Option<IpAddr>,
    /// The DHCP server relayed to.
    pub upstream_target: Option<IpAddr>,
}

impl Network {
    /// Gateway of the first default route (`0.0.0.0/0` or `::/0`).
    pub fn default_gateway(&self) -> Option<IpAddr> {
        self.routes
            .iter()
            .find(|r| r.subnet.is_some_and(|s| s.prefix_len() == 0))
            .and_then(|r| r.gateway)
    }
}

fn ip(cx: &mut Cx<'_>, n: &Node, p: &Path<'_>) -> Option<IpAddr> {
    cx.parsed(n, p, "an IP address", str::parse::<IpAddr>)
}

fn cidr(cx: &mut Cx<'_>, n: &Node, p: &Path<'_>) -> Option<IpNet> {
    cx.parsed(n, p, "a CIDR", str::parse::<IpNet>)
}

pub(crate) fn decode_link(
    cx: &mut Cx<'_>,
    name: &str,
    data: &Node,
    path: &Path<'_>,
) -> Option<NetworkLink> {
    let mut f = cx.map(data, path)?;
    let mut bonding = Bonding {
        mode: BondingMode::Disabled,
        mon_rate: None,
        up_delay: None,
        down_delay: None,
        hash: None,
        peer_rate: None,
    };
    if let Some(n) = f.take("bonding") {
        let p = path.key("bonding");
        if let Some(mut b) = cx.map(n, &p) {
            bonding.mode = b
                .take("mode")
                .and_then(|n| cx.enumeration(n, &p.key("mode")))
                .unwrap_or(BondingMode::Disabled);
            let mon_rate = b
                .take("mon_rate")
                .and_then(|n| cx.uint(n, &p.key("mon_rate")));
            let up_delay = b
                .take("up_delay")
                .and_then(|n| cx.uint(n, &p.key("up_delay")));
            let down_delay = b
                .take("down_delay")
                .and_then(|n| cx.uint(n, &p.key("down_delay")));
            let hash = b.take("hash").and_then(|n| cx.string(n, &p.key("hash")));
            let peer_rate = b
                .take("peer_rate")
                .and_then(|n| cx.string(n, &p.key("peer_rate")));
            b.deny_unknown(cx, &p);
            if bonding.mode != BondingMode::Disabled {
                bonding.mon_rate = Some(mon_rate.unwrap_or(100));
                bonding.up_delay = Some(up_delay.unwrap_or(200));
                bonding.down_delay = Some(down_delay.unwrap_or(200));
            }
            if bonding.mode == BondingMode::Lacp {
                bonding.hash = Some(hash.unwrap_or_else(|| "layer3+4".to_owned()));
                bonding.peer_rate = Some(peer_rate.unwrap_or_else(|| "fast".to_owned()));
            } else if bonding.mode != BondingMode::Disabled {
                // Kept as written so that validation can point out that the mode ignores them.
                bonding.hash = hash;
                bonding.peer_rate = peer_rate;
            }
        }
    }
    let mtu = f
        .take("mtu")
        .and_then(|n| cx.uint(n, &path.key("mtu")))
        .unwrap_or(1500);
    let linkspeed = f
        .take("linkspeed")
        .and_then(|n| cx.string(n, &path.key("linkspeed")))
        .unwrap_or_else(|| "auto".to_owned());
    let mut trunking = Trunking {
        mode: TrunkingMode::Disabled,
        default_network: None,
    };
    if let Some(n) = f.take("trunking") {
        let p = path.key("trunking");
        if let Some(mut t) = cx.map(n, &p) {
            trunking.mode = t
                .take("mode")
                .and_then(|n| cx.enumeration(n, &p.key("mode")))
                .unwrap_or(TrunkingMode::Disabled);
            trunking.default_network = t
                .take("default_network")
                .and_then(|n| cx.string(n, &p.key("default_network")));
            t.deny_unknown(cx, &p);
        }
    }
    let allowed = f
        .require(cx, path, "allowed_networks")
        .map(|n| cx.strings(n, &path.key("allowed_networks")));
    let labels = f
        .take("labels")
        .map(|n| cx.string_map(n, &path.key("labels")))
        .unwrap_or_default();
    f.deny_unknown(cx, path);
    Some(NetworkLink {
        name: name.to_owned(),
        bonding,
        mtu,
        linkspeed,
        trunking,
        allowed_networks: allowed?,
        labels,
    })
}

pub(crate) fn decode_network(
    cx: &mut Cx<'_>,
    name: &str,
    data: &Node,
    path: &Path<'_>,
) -> Option<Network> {
    let mut f = cx.map(data, path)?;
    let cidr_v = f
        .require(cx, path, "cidr")
        .and_then(|n| cidr(cx, n, &path.key("cidr")));
    let vlan = f.take("vlan").and_then(|n| {
        cx.parsed(n, &path.key("vlan"), "a VLAN tag (0-4095)", |s| {
            s.parse::<u16>().map_err(|e| e.to_string()).and_then(|v| {
                if v <= 4095 {
                    Ok(v)
                } else {
                    Err("above 4095".to_owned())
                }
            })
        })
    });
    let mtu = f.take("mtu").and_then(|n| cx.uint(n, &path.key("mtu")));
    let routedomain = f
        .take("routedomain")
        .and_then(|n| cx.string(n, &path.key("routedomain")));
    let (mut dns_domain, mut dns_servers) = ("local".to_owned(), Vec::new());
    if let Some(n) = f.take("dns") {
        let p = path.key("dns");
        if let Some(mut d) = cx.map(n, &p) {
            if let Some(dom) = d
                .take("domain")
                .and_then(|n| cx.string(n, &p.key("domain")))
            {
                dns_domain = dom;
            }
            if let Some(s) = d
                .take("servers")
                .and_then(|n| cx.string(n, &p.key("servers")))
            {
                dns_servers = s
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            d.deny_unknown(cx, &p);
        }
    }
    let ranges = f
        .take("ranges")
        .map(|n| {
            cx.list(n, &path.key("ranges"), |cx, n, p| {
                let mut r = cx.map(n, p)?;
                let kind = r
                    .require(cx, p, "type")
                    .and_then(|n| cx.enumeration(n, &p.key("type")));
                let start = r
                    .require(cx, p, "start")
                    .and_then(|n| ip(cx, n, &p.key("start")));
                let end = r
                    .require(cx, p, "end")
                    .and_then(|n| ip(cx, n, &p.key("end")));
                r.deny_unknown(cx, p);
                let range = AddressRange {
                    kind: kind?,
                    start: start?,
                    end: end?,
                };
                if range.start > range.end {
                    cx.report(
                        DiagnosticKind::InvalidValue,
                        p,
                        n.pos,
                        format!(
                            "range starts at {} after its end {}",
                            range.start, range.end
                        ),
                    );
                }
                Some(range)
            })
        })
        .unwrap_or_default();
    let routes = f
        .take("routes")
        .map(|n| {
            cx.list(n, &path.key("routes"), |cx, n, p| {
                let mut r = cx.map(n, p)?;
                let subnet = r.take("subnet").and_then(|n| cidr(cx, n, &p.key("subnet")));
                let gateway = r.take("gateway").and_then(|n| ip(cx, n, &p.key("gateway")));
                let metric = r.take("metric").and_then(|n| cx.uint(n, &p.key("metric")));
                let routedomain = r
                    .take("routedomain")
                    .and_then(|n| cx.string(n, &p.key("routedomain")));
                r.deny_unknown(cx, p);
                Some(Route {
                    subnet,
                    gateway,
                    metric,
                    routedomain,
                })
            })
        })
        .unwrap_or_default();
    let dhcp_relay = f.take("dhcp_relay").and_then(|n| {
        let p = path.key("dhcp_relay");
        let mut d = cx.map(n, &p)?;
        let self_ip = d.take("self_ip").and_then(|n| ip(cx, n, &p.key("self_ip")));
        let upstream_target = d
            .take("upstream_target")
            .and_then(|n| ip(cx, n, &p.key("upstream_target")));
        d.deny_unknown(cx, &p);
        Some(DhcpRelay {
            self_ip,
            upstream_target,
        })
    });
    let labels = f
        .take("labels")
        .map(|n| cx.string_map(n, &path.key("labels")))
        .unwrap_or_default();
    f.deny_unknown(cx, path);
    Some(Network {
        name: name.to_owned(),
        cidr: cidr_v?,
        vlan,
        mtu,
        routedomain,
        dns_domain,
        dns_servers,
        ranges,
        routes,
        dhcp_relay,
        labels,
    })
}

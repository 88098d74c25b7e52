//! Layer 3 rules: CIDRs, address locality, MTUs, trunking, duplicate addresses, address ranges.

use std::net::IpAddr;

use super::{NodeChecks, by_node, impl_rule, node_fn};
use crate::design::locate::Seg::{Index, Key};
use crate::design::{Address, CompiledDesign, DocumentKind, RangeType, Severity, TrunkingMode};
use crate::validation::{Finding, RuleId, ValidationContext};

const NET: DocumentKind = DocumentKind::Network;
const LINK: DocumentKind = DocumentKind::NetworkLink;
const NODE: DocumentKind = DocumentKind::BaremetalNode;

fn no_networks(rule: RuleId) -> Finding {
    Finding::new(
        rule,
        Severity::Warning,
        "No networks found.",
        "Site design likely incomplete without defined networks",
    )
}

/// DD2006: a network's CIDR has no host bits set. (Malformed CIDRs never get this far: they
/// are ingestion errors.)
#[derive(Clone, Copy, Debug, Default)]
pub struct CidrValidity;
impl_rule!(CidrValidity, CidrValidity, cidr_validity);

fn cidr_validity(d: &CompiledDesign, _: &ValidationContext) -> Vec<Finding> {
    let rule = RuleId::CidrValidity;
    if d.site.networks.is_empty() {
        return vec![no_networks(rule)];
    }
    d.site
        .networks
        .values()
        .filter(|n| n.cidr.trunc() != n.cidr)
        .map(|n| {
            Finding::new(
                rule,
                Severity::Error,
                format!("The provided CIDR {} has host bits set", n.cidr),
                format!("Provide a CIDR acceptable by MAAS: {}", n.cidr.trunc()),
            )
            .document(d, NET, &n.name)
            .at_field(d, NET, &n.name, &[Key("cidr")])
        })
        .collect()
}

/// DD2002: route gateways and static addresses lie inside their network, and addresses name
/// defined networks.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpLocality;
impl_rule!(IpLocality, IpLocality, ip_locality);

by_node!(ip_locality, ip_locality_checks);

pub(super) fn ip_locality_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::IpLocality;
    let mut out = Vec::new();
    if d.site.networks.is_empty() {
        out.push(no_networks(rule));
    }
    for n in d.site.networks.values() {
        for (i, r) in n.routes.iter().enumerate() {
            let to = r.subnet.map_or_else(|| "?".to_owned(), |s| s.to_string());
            match r.gateway {
                None => out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!("No gateway found for route to {to}."),
                        "Define a network-local gateway for the route.",
                    )
                    .document(d, NET, &n.name)
                    .at_field(d, NET, &n.name, &[Key("routes"), Index(i)]),
                ),
                Some(gw) if !n.cidr.contains(&gw) => out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!(
                            "The gateway IP Address {gw} is not within the defined CIDR: {} of {}.",
                            n.cidr, n.name
                        ),
                        "Route gateways must reside on the local network. Check gateway IP and CIDR netmask.",
                    )
                    .document(d, NET, &n.name)
                    .at_field(d, NET, &n.name, &[Key("routes"), Index(i), Key("gateway")]),
                ),
                Some(_) => {}
            }
        }
    }
    if d.nodes.is_empty() {
        out.push(Finding::new(
            rule,
            Severity::Warning,
            "No baremetal_nodes found.",
            "site design likely incomplete without defined networks.",
        ));
    }
    let networks = super::by_name(&d.site.networks);
    node_fn(out, move |node, out| {
        for (i, a) in node.addressing.iter().enumerate() {
            let Some(net) = networks.get(a.network.as_str()) else {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!("{} is not a valid network.", a.network),
                        "Define network or correct address definition.",
                    )
                    .document(d, NODE, &node.name)
                    .at_node_field(
                        d,
                        node,
                        &[Key("addressing"), Index(i), Key("network")],
                    ),
                );
                continue;
            };
            if let Address::Static(ip) = a.address
                && !net.cidr.contains(&ip)
            {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!(
                            "The IP Address {ip} is not within the defined CIDR: {} of {} .",
                            net.cidr, net.name
                        ),
                        "Define a valid address for this network.",
                    )
                    .document(d, NODE, &node.name)
                    .at_node_field(
                        d,
                        node,
                        &[Key("addressing"), Index(i), Key("address")],
                    ),
                );
            }
        }
    })
}

/// DD2003: link and network MTUs lie in [1280, 65536], and a network's MTU is at most the MTU of
/// every link that carries it (natively or tagged).
#[derive(Clone, Copy, Debug, Default)]
pub struct Mtu;
impl_rule!(Mtu, Mtu, mtu);

const MTU_RANGE: std::ops::RangeInclusive<u32> = 1280..=65536;

fn mtu(d: &CompiledDesign, _: &ValidationContext) -> Vec<Finding> {
    let rule = RuleId::Mtu;
    let range_error = |value: u32| {
        Finding::new(
            rule,
            Severity::Error,
            format!("MTU must be between 1280 and 65536, value is {value}"),
            "Define a valid MTU. Standard is 1500, Jumbo is 9100.",
        )
    };
    let mut out = Vec::new();
    for l in d.site.network_links.values() {
        if !MTU_RANGE.contains(&l.mtu) {
            out.push(range_error(l.mtu).document(d, LINK, &l.name).at_field(
                d,
                LINK,
                &l.name,
                &[Key("mtu")],
            ));
        }
    }
    for n in d.site.networks.values() {
        let Some(mtu) = n.mtu else { continue };
        if !MTU_RANGE.contains(&mtu) {
            out.push(range_error(mtu).document(d, NET, &n.name).at_field(
                d,
                NET,
                &n.name,
                &[Key("mtu")],
            ));
        }
        let carriers = d.site.network_links.values().filter(|l| {
            l.trunking.default_network.as_deref() == Some(n.name.as_str())
                || l.allowed_networks.contains(&n.name)
        });
        for l in carriers.filter(|l| mtu > l.mtu) {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    format!(
                        "MTU must be <= the parent Network Link; for Network {} (MTU {mtu} > MTU {} of NetworkLink {})",
                        n.name, l.mtu, l.name
                    ),
                    "Define a MTU less than or equal to that of the carrying network link.",
                )
                .document(d, NET, &n.name)
                .at_field(d, NET, &n.name, &[Key("mtu")]),
            );
        }
    }
    out
}

/// DD2004: an untagged link carries one network, has a native network, and that network is
/// defined and untagged.
#[derive(Clone, Copy, Debug, Default)]
pub struct NetworkTrunking;
impl_rule!(NetworkTrunking, NetworkTrunking, network_trunking);

fn network_trunking(d: &CompiledDesign, _: &ValidationContext) -> Vec<Finding> {
    let rule = RuleId::NetworkTrunking;
    let mut out = Vec::new();
    for l in d.site.network_links.values() {
        let disabled = l.trunking.mode == TrunkingMode::Disabled;
        if disabled && l.allowed_networks.len() > 1 {
            out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    "If there is more than 1 allowed network,trunking mode must be enabled",
                    "Reduce the allowed network list to 1 or enable trunking on the link.",
                )
                .document(d, LINK, &l.name)
                .at_field(d, LINK, &l.name, &[Key("allowed_networks")]),
            );
        }
        match l.trunking.default_network.as_deref() {
            None if disabled => out.push(
                Finding::new(
                    rule,
                    Severity::Error,
                    "Trunking mode is disabled, a trunking default_network must be defined",
                    "Non-trunked links must have a native network defined.",
                )
                .document(d, LINK, &l.name)
                .at_field(d, LINK, &l.name, &[Key("trunking")]),
            ),
            None => {}
            Some(native) => match d.site.networks.get(native) {
                None => {
                    // An untagged link cannot work without its network; a trunk may still carry
                    // its tagged networks.
                    let level = if disabled {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    out.push(
                        Finding::new(
                            rule,
                            level,
                            format!("Native network {native} of the link is not defined."),
                            "Define the network or correct the link's trunking.default_network.",
                        )
                        .document(d, LINK, &l.name)
                        .at_field(
                            d,
                            LINK,
                            &l.name,
                            &[Key("trunking"), Key("default_network")],
                        ),
                    );
                }
                Some(n) if disabled && n.vlan.is_some_and(|v| v != 0) => out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        "Network link native network has a defined VLAN tag.",
                        "Tagged network not allowed on non-trunked network links.",
                    )
                    .document(d, NET, &n.name)
                    .document(d, LINK, &l.name)
                    .at_field(d, NET, &n.name, &[Key("vlan")]),
                ),
                Some(_) => {}
            },
        }
    }
    out
}

/// DD2005: no static address is assigned twice.
#[derive(Clone, Copy, Debug, Default)]
pub struct DuplicateIps;
impl_rule!(DuplicateIps, DuplicateIps, duplicate_ips);

by_node!(duplicate_ips, duplicate_ips_checks);

pub(super) fn duplicate_ips_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::DuplicateIps;
    // Without nodes, only the warning (the node checks never run).
    let begin = if d.nodes.is_empty() {
        vec![Finding::new(
            rule,
            Severity::Warning,
            "No BaremetalNodes Found.",
            "Site design unlikely complete with no defined baremetal nodes.",
        )]
    } else {
        Vec::new()
    };
    let mut seen: super::FastMap<IpAddr, &'d str> =
        super::FastMap::with_capacity_and_hasher(d.nodes.len() * 4, Default::default());
    node_fn(begin, move |node, out| {
        let ips = node.addressing.iter().enumerate();
        for (i, ip) in ips.filter_map(|(i, a)| a.address.ip().map(|ip| (i, ip))) {
            match seen.get(&ip) {
                None => {
                    seen.insert(ip, &node.name);
                }
                Some(first) => {
                    let mut f = Finding::new(
                        rule,
                        Severity::Error,
                        format!("Duplicate IP Address Found: {ip} "),
                        "Select unique IP addresses for each node.",
                    )
                    .document(d, NODE, &node.name)
                    .at_node_field(
                        d,
                        node,
                        &[Key("addressing"), Index(i), Key("address")],
                    );
                    if *first != node.name {
                        f = f.document(d, NODE, first);
                    }
                    out.push(f);
                }
            }
        }
    })
}

/// drydock: a static address is not in a DHCP range of its network (an error: the DHCP server
/// may hand it out to another host), nor in a reserved range (a warning: the design reserved it
/// for something else, but the address works; sites that put BMC addresses in a reserved range
/// stay valid), and lies in one of the network's static ranges when the network declares any
/// (a warning).
#[derive(Clone, Copy, Debug, Default)]
pub struct StaticAddressRanges;
impl_rule!(
    StaticAddressRanges,
    StaticAddressRanges,
    static_address_ranges
);

by_node!(static_address_ranges, static_address_ranges_checks);

pub(super) fn static_address_ranges_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::StaticAddressRanges;
    let networks = super::by_name(&d.site.networks);
    node_fn(Vec::new(), move |node, out| {
        for (i, a) in node.addressing.iter().enumerate() {
            let at = [Key("addressing"), Index(i), Key("address")];
            let (Some(ip), Some(net)) = (a.address.ip(), networks.get(a.network.as_str())) else {
                continue;
            };
            if !net.cidr.contains(&ip) {
                continue; // the IP locality rule reports it
            }
            let clash = net
                .ranges
                .iter()
                .find(|r| r.kind != RangeType::Static && r.contains(ip));
            if let Some(r) = clash {
                let level = if r.kind == RangeType::Dhcp {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                out.push(
                    Finding::new(
                        rule,
                        level,
                        format!(
                            "Static address {ip} of node {} lies in the {} range {}-{} of network {}.",
                            node.name, r.kind, r.start, r.end, net.name
                        ),
                        "Choose an address outside the network's DHCP and reserved ranges.",
                    )
                    .document(d, NODE, &node.name)
                    .document(d, NET, &net.name)
                    .at_node_field(d, node, &at),
                );
                continue;
            }
            let mut statics = net.ranges.iter().filter(|r| r.kind == RangeType::Static);
            let has_static = statics.clone().next().is_some();
            if has_static && !statics.any(|r| r.contains(ip)) {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Warning,
                        format!(
                            "Static address {ip} of node {} lies outside every static range of network {}.",
                            node.name, net.name
                        ),
                        "Choose an address inside one of the network's static ranges, or widen a range.",
                    )
                    .document(d, NODE, &node.name)
                    .document(d, NET, &net.name)
                    .at_node_field(d, node, &at),
                );
            }
        }
    })
}

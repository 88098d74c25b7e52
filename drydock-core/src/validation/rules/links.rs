//! Layer 2 rules: bonds and the networks allowed on links.

use std::collections::HashMap;

use super::{NodeChecks, by_node, impl_rule, node_fn};
use crate::design::locate::Seg::{Item, Key};
use crate::design::{BondingMode, CompiledDesign, CompiledNode, DocumentKind, Severity};
use crate::validation::{Finding, RuleId, ValidationContext};

const LINK: DocumentKind = DocumentKind::NetworkLink;
const NODE: DocumentKind = DocumentKind::BaremetalNode;

/// DD1006: bond options fit the bond mode.
///
/// * `disabled`: no bond option may be set (an error).
/// * `802.3ad`: up and down delays are at least the monitoring interval (errors, as the reference).
/// * `active-backup` and `balance-rr` (the reference crashes on the first and never checks the
///   second): the same delays, plus no transmit hash policy or LACP rate, which these modes
///   ignore. Warnings: the kernel accepts such bonds.
#[derive(Clone, Copy, Debug, Default)]
pub struct NetworkBond;
impl_rule!(NetworkBond, NetworkBond, network_bond);

fn network_bond(d: &CompiledDesign, _: &ValidationContext) -> Vec<Finding> {
    let rule = RuleId::NetworkBond;
    let mut out = Vec::new();
    for l in d.site.network_links.values() {
        let b = &l.bonding;
        let level = match b.mode {
            BondingMode::Disabled => {
                let any = b.hash.is_some()
                    || b.peer_rate.is_some()
                    || b.mon_rate.is_some()
                    || b.up_delay.is_some()
                    || b.down_delay.is_some();
                if any {
                    out.push(
                        Finding::new(
                            rule,
                            Severity::Error,
                            "If bonding mode is disabled no other bond option can be specified",
                            "Remove the bond options or enable a bonding mode.",
                        )
                        .document(d, LINK, &l.name)
                        .at_field(d, LINK, &l.name, &[Key("bonding")]),
                    );
                }
                continue;
            }
            BondingMode::Lacp => Severity::Error,
            BondingMode::ActiveBackup | BondingMode::BalanceRr => {
                for (what, v, key) in [
                    ("transmit hash policy", &b.hash, "hash"),
                    ("LACP peer rate", &b.peer_rate, "peer_rate"),
                ] {
                    if let Some(v) = v {
                        out.push(
                            Finding::new(
                                rule,
                                Severity::Warning,
                                format!(
                                    "Bonding mode {} ignores the {what} {v} of NetworkLink {}",
                                    b.mode, l.name
                                ),
                                "Remove the option; it only applies to 802.3ad bonds.",
                            )
                            .document(d, LINK, &l.name)
                            .at_field(
                                d,
                                LINK,
                                &l.name,
                                &[Key("bonding"), Key(key)],
                            ),
                        );
                    }
                }
                Severity::Warning
            }
        };
        let Some(mon) = b.mon_rate else { continue };
        for (what, delay, diag, key) in [
            (
                "Up",
                b.up_delay,
                "Link up delay must be equal or greater than the mon_rate",
                "up_delay",
            ),
            (
                "Down",
                b.down_delay,
                "Link down delay must be equal or greater than the mon_rate",
                "down_delay",
            ),
        ] {
            if let Some(delay) = delay.filter(|x| *x < mon) {
                out.push(
                    Finding::new(
                        rule,
                        level,
                        format!("{what} delay {delay} is less than mon rate {mon}"),
                        diag,
                    )
                    .document(d, LINK, &l.name)
                    .at_field(d, LINK, &l.name, &[Key("bonding"), Key(key)]),
                );
            }
        }
    }
    out
}

/// DD1007: a network is allowed on one link only, every interface that names a link or carries
/// networks names a defined link, and each network of an interface is allowed on that link.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowedNetworks;
impl_rule!(AllowedNetworks, AllowedNetworks, allowed_networks);

by_node!(allowed_networks, allowed_networks_checks);

pub(super) fn allowed_networks_checks<'d>(
    d: &'d CompiledDesign,
    _: &'d ValidationContext,
) -> Box<dyn NodeChecks<'d> + 'd> {
    let rule = RuleId::AllowedNetworks;
    let mut out = Vec::new();
    let mut first_link: HashMap<&str, &str> = HashMap::new();
    for l in d.site.network_links.values() {
        for n in &l.allowed_networks {
            match first_link.get(n.as_str()) {
                None => {
                    first_link.insert(n, &l.name);
                }
                Some(a) => out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!(
                            "Allowed network {n} duplicated on NetworkLink {a} and NetworkLink {}",
                            l.name
                        ),
                        "Each network is only allowed to cross a single network link.",
                    )
                    .document(d, LINK, a)
                    .document(d, LINK, &l.name)
                    .at_field(
                        d,
                        LINK,
                        &l.name,
                        &[Key("allowed_networks"), Item(n)],
                    ),
                ),
            }
        }
    }
    let links = super::by_name(&d.site.network_links);
    node_fn(out, move |node, out| {
        for i in &node.interfaces {
            // An interface without a link whose documents give it no network (an SR-IOV
            // physical function handed to virtual machines) has nothing to configure: valid, as
            // in the reference. One whose documents list networks, if only to remove them
            // (`networks: ['!private']`, which the reference reads as a network), needs a link.
            if i.device_link.is_none() && i.networks.is_empty() && !lists_networks(d, node, &i.name)
            {
                continue;
            }
            let link = i.device_link.as_deref().and_then(|l| links.get(l).copied());
            let Some(link) = link else {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!(
                            "Interface {} connected to undefined network link {}.",
                            i.name,
                            i.device_link.as_deref().unwrap_or("None")
                        ),
                        "Define the network link attached to this interface.",
                    )
                    .document(d, NODE, &node.name)
                    .at_node_field(
                        d,
                        node,
                        &iface_field(&i.name, i.device_link.is_some()),
                    ),
                );
                continue;
            };
            for n in i
                .networks
                .iter()
                .filter(|n| !link.allowed_networks.contains(n))
            {
                out.push(
                    Finding::new(
                        rule,
                        Severity::Error,
                        format!(
                            "Interface {} attached to network {n} not allowed on interface link",
                            i.name
                        ),
                        "Interfaces can only be attached to networks allowed on the network link connected to the interface.",
                    )
                    .document(d, NODE, &node.name)
                    .at_node_field(
                        d,
                        node,
                        &[Key("interfaces"), Key(&i.name), Key("networks"), Item(n)],
                    ),
                );
            }
        }
    })
}

/// Whether the node's document or one of its host profiles lists networks (removals included)
/// for the interface `name`.
fn lists_networks(d: &CompiledDesign, node: &CompiledNode, name: &str) -> bool {
    let specs = d
        .site
        .baremetal_nodes
        .get(&node.name)
        .map(|n| &n.spec)
        .into_iter()
        .chain(
            node.profiles
                .iter()
                .filter_map(|p| d.site.host_profiles.get(p).map(|h| &h.spec)),
        );
    specs
        .flat_map(|s| s.interfaces.iter())
        .filter(|i| i.name == name)
        .any(|i| !i.networks.is_empty())
}

/// The path of an interface's link (or of the interface, when it names none).
fn iface_field(name: &str, has_link: bool) -> Vec<crate::design::locate::Seg<'_>> {
    let mut path = vec![Key("interfaces"), Key(name)];
    if has_link {
        path.push(Key("device_link"));
    }
    path
}

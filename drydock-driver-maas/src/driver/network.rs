//! `create_network_template`: fabrics, VLANs, subnets, IP ranges, DHCP and static routes.
//!
//! For every NetworkLink (links labelled `noconfig` are skipped):
//!
//! * **Fabric.** If subnets already known to MAAS (discovered by it) match the link's allowed
//!   networks and all sit on one fabric, that fabric is renamed to the link's name; on several
//!   fabrics the link is refused (`Permanent`); otherwise the fabric named like the link is used
//!   or created. Its untagged VLAN gets the link's MTU.
//! * **VLANs and subnets.** For each allowed network (networks labelled `noconfig` skipped): the
//!   VLAN with the network's tag (untagged when it has none) on the link's fabric, created when
//!   missing, named after the network (tagged VLANs only) with the network's MTU; the subnet with
//!   the network's CIDR on that VLAN, with the network's name, default gateway and DNS servers.
//!   The network's DNS domain is created when missing (non-authoritative).
//! * **Ranges.** `dhcp` ranges become MAAS `dynamic` ranges and `reserved` ranges `reserved`
//!   ones; ranges MAAS already has with the same bounds and type are kept. **`static` ranges are
//!   not created**: they only say where the design's own addresses come from, and every static
//!   address is given explicitly to MAAS when the node's interfaces are linked; a MAAS
//!   `reserved` range over them would forbid MAAS to use them, and MAAS has no other range type.
//! * **DHCP.** A network with a `dhcp` range is served by MAAS: with `dhcp_relay.upstream_target`
//!   the VLAN relays to the VLAN of the MAAS subnet holding that address; otherwise DHCP is turned
//!   on with the (up to two) healthy rack controllers that have an address in the network as
//!   primary and secondary rack. No such rack ⇒ `Permanent`.
//! * **Routes.** Each non-default route of a network becomes a static route from the network's
//!   subnet to the subnet with the route's CIDR (metric 100 when not given); an existing route
//!   between the two subnets is replaced only when its gateway or metric differ.
//!
//! Nothing is written when MAAS already matches, so a second run makes no write.

use std::net::IpAddr;

use drydock_core::design::{CompiledDesign, Network, NetworkLink, RangeType};
use drydock_core::driver::{DriverError, Operation, SiteJob};
use ipnet::IpNet;

use super::{Cx, MaasDriver, MaasResultExt};
use crate::models::{Fabric, IpRange, Subnet, Vlan};
use crate::{IpRangeSpec, SubnetSpec, VlanSpec};

/// Default metric of static routes.
const DEFAULT_METRIC: i64 = 100;

/// Whether a design item is labelled `noconfig` (left alone by the provisioner).
pub(crate) fn noconfig(labels: &indexmap::IndexMap<String, String>) -> bool {
    labels
        .get("noconfig")
        .is_some_and(|v| !matches!(v.as_str(), "false" | "no" | "0"))
}

/// The designed networks of a link that the provisioner configures.
pub(crate) fn link_networks<'a>(
    design: &'a CompiledDesign,
    link: &'a NetworkLink,
) -> impl Iterator<Item = &'a Network> + 'a {
    link.allowed_networks
        .iter()
        .filter_map(|n| design.site.networks.get(n))
        .filter(|n| !noconfig(&n.labels))
}

/// The CIDR in MAAS' canonical form (host bits cleared).
pub(crate) fn cidr_of(n: &Network) -> String {
    n.cidr.trunc().to_string()
}

/// Whether MAAS' CIDR string is the same network as `cidr`.
pub(crate) fn same_cidr(maas: &str, cidr: &str) -> bool {
    match (maas.parse::<IpNet>(), cidr.parse::<IpNet>()) {
        (Ok(a), Ok(b)) => a.trunc() == b.trunc(),
        _ => maas == cidr,
    }
}

pub(crate) fn subnet_by_cidr<'a>(subnets: &'a [Subnet], cidr: &str) -> Option<&'a Subnet> {
    subnets.iter().find(|s| same_cidr(&s.cidr, cidr))
}

fn same_ip(a: &str, b: IpAddr) -> bool {
    a.parse::<IpAddr>().is_ok_and(|a| a == b)
}

fn range_kind(k: RangeType) -> Option<&'static str> {
    match k {
        RangeType::Dhcp => Some("dynamic"),
        RangeType::Reserved => Some("reserved"),
        RangeType::Static => None,
    }
}

/// What one network-template run knows of MAAS: listed once, kept current by the run's own
/// writes, so that each resource list is fetched once per run rather than once per network.
struct Inventory {
    subnets: Vec<Subnet>,
    /// IP ranges, listed when first needed.
    ranges: Option<Vec<IpRange>>,
}

impl MaasDriver {
    pub(crate) async fn do_network_template(&self, job: SiteJob<'_>) -> Result<(), DriverError> {
        let cx = Cx::site(Operation::CreateNetworkTemplate);
        let design = job.design;
        self.ensure_domains(&cx, design).await?;
        let subnets = self
            .client
            .subnets()
            .list()
            .await
            .cx(&cx, "listing subnets")?;
        let mut inv = Inventory {
            subnets,
            ranges: None,
        };
        for link in design.site.network_links.values() {
            if noconfig(&link.labels) {
                continue;
            }
            self.template_link(&cx, design, link, &mut inv).await?;
        }
        self.template_routes(&cx, design, &inv.subnets).await?;
        for n in design.site.networks.values() {
            if !noconfig(&n.labels) && subnet_by_cidr(&inv.subnets, &cidr_of(n)).is_none() {
                return Err(cx.permanent(format!(
                    "network {} ({}) is not on any configured NetworkLink and not in MAAS",
                    n.name, n.cidr
                )));
            }
        }
        Ok(())
    }

    async fn ensure_domains(&self, cx: &Cx, design: &CompiledDesign) -> Result<(), DriverError> {
        let have = self
            .client
            .domains()
            .list()
            .await
            .cx(cx, "listing domains")?;
        let mut wanted: Vec<&str> = design
            .site
            .networks
            .values()
            .filter(|n| !noconfig(&n.labels))
            .map(|n| n.dns_domain.as_str())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        for d in wanted {
            if !have.iter().any(|h| h.name == d) {
                self.client
                    .domains()
                    .create(d, false)
                    .await
                    .cx(cx, &format!("creating domain {d}"))?;
            }
        }
        Ok(())
    }

    /// The fabric of `link`, renamed, found or created.
    async fn link_fabric(
        &self,
        cx: &Cx,
        design: &CompiledDesign,
        link: &NetworkLink,
        subnets: &[Subnet],
    ) -> Result<Fabric, DriverError> {
        let fabrics = self
            .client
            .fabrics()
            .list()
            .await
            .cx(cx, "listing fabrics")?;
        let mut discovered: Vec<i64> = link_networks(design, link)
            .filter_map(|n| subnet_by_cidr(subnets, &cidr_of(n)))
            .filter_map(|s| s.vlan.as_ref().map(|v| v.fabric_id))
            .collect();
        discovered.sort_unstable();
        discovered.dedup();
        if discovered.len() > 1 {
            return Err(cx.permanent(format!(
                "networks of NetworkLink {} already sit on {} different MAAS fabrics",
                link.name,
                discovered.len()
            )));
        }
        if let Some(fid) = discovered.first() {
            let f = fabrics
                .iter()
                .find(|f| f.id == *fid)
                .ok_or_else(|| cx.permanent(format!("fabric {fid} vanished")))?;
            if f.name == link.name {
                return Ok(f.clone());
            }
            if fabrics.iter().any(|o| o.name == link.name && o.id != *fid) {
                return Err(cx.permanent(format!(
                    "fabric {} holds networks of NetworkLink {} but another fabric is named so",
                    f.name, link.name
                )));
            }
            return self
                .client
                .fabrics()
                .update(*fid, Some(&link.name), None)
                .await
                .cx(cx, &format!("renaming fabric {} to {}", f.name, link.name));
        }
        match fabrics.into_iter().find(|f| f.name == link.name) {
            Some(f) => Ok(f),
            None => self
                .client
                .fabrics()
                .create(&link.name, Some("Configured by Drydock"))
                .await
                .cx(cx, &format!("creating fabric {}", link.name)),
        }
    }

    async fn template_link(
        &self,
        cx: &Cx,
        design: &CompiledDesign,
        link: &NetworkLink,
        inv: &mut Inventory,
    ) -> Result<(), DriverError> {
        let fabric = self.link_fabric(cx, design, link, &inv.subnets).await?;
        let vlans_api = self.client.vlans(fabric.id);
        let mut vlans = vlans_api.list().await.cx(cx, "listing VLANs")?;
        if let Some(native) = vlans.iter().find(|v| v.vid == 0)
            && native.mtu != link.mtu
        {
            let spec = VlanSpec {
                mtu: Some(link.mtu),
                ..VlanSpec::default()
            };
            vlans_api
                .update(0, &spec)
                .await
                .cx(cx, &format!("setting the MTU of link {}", link.name))?;
        }
        for net in link_networks(design, link) {
            let vid = net.vlan.unwrap_or(0);
            let vlan = self
                .ensure_vlan(cx, fabric.id, &mut vlans, vid, net, link)
                .await?;
            let subnet = self.ensure_subnet(cx, net, &vlan, &mut inv.subnets).await?;
            self.ensure_ranges(cx, net, &subnet, &mut inv.ranges)
                .await?;
            if net.ranges.iter().any(|r| r.kind == RangeType::Dhcp) {
                self.ensure_dhcp(cx, net, &vlan, fabric.id, &inv.subnets)
                    .await?;
            }
        }
        Ok(())
    }

    async fn ensure_vlan(
        &self,
        cx: &Cx,
        fabric: i64,
        vlans: &mut Vec<Vlan>,
        vid: u16,
        net: &Network,
        link: &NetworkLink,
    ) -> Result<Vlan, DriverError> {
        let mtu = net.mtu.unwrap_or(link.mtu);
        let api = self.client.vlans(fabric);
        let name = (vid != 0).then(|| net.name.clone());
        if let Some(v) = vlans.iter().find(|v| v.vid == vid) {
            let rename = name.as_ref().is_some_and(|n| *n != v.name);
            // The untagged VLAN carries the link's MTU (set above).
            let remtu = vid != 0 && v.mtu != mtu;
            if !rename && !remtu {
                return Ok(v.clone());
            }
            let spec = VlanSpec {
                name: name.filter(|_| rename),
                mtu: remtu.then_some(mtu),
                ..VlanSpec::default()
            };
            return api
                .update(vid, &spec)
                .await
                .cx(cx, &format!("updating VLAN {vid} of link {}", link.name));
        }
        let spec = VlanSpec {
            name,
            mtu: Some(mtu),
            ..VlanSpec::default()
        };
        let v = api
            .create(vid, &spec)
            .await
            .cx(cx, &format!("creating VLAN {vid} on link {}", link.name))?;
        vlans.push(v.clone());
        Ok(v)
    }

    async fn ensure_subnet(
        &self,
        cx: &Cx,
        net: &Network,
        vlan: &Vlan,
        subnets: &mut Vec<Subnet>,
    ) -> Result<Subnet, DriverError> {
        let cidr = cidr_of(net);
        let gateway = net.default_gateway().map(|g| g.to_string());
        let Some(have) = subnet_by_cidr(subnets, &cidr).cloned() else {
            let spec = SubnetSpec {
                cidr: Some(cidr),
                name: Some(net.name.clone()),
                vlan: Some(vlan.id),
                gateway_ip: gateway,
                dns_servers: net.dns_servers.clone(),
                ..SubnetSpec::default()
            };
            let created = self
                .client
                .subnets()
                .create(&spec)
                .await
                .cx(cx, &format!("creating subnet {}", net.name))?;
            subnets.push(created.clone());
            return Ok(created);
        };
        let mut spec = SubnetSpec::default();
        let mut changed = false;
        if have.name != net.name {
            spec.name = Some(net.name.clone());
            changed = true;
        }
        if have.vlan.as_ref().map(|v| v.id) != Some(vlan.id) {
            spec.vlan = Some(vlan.id);
            changed = true;
        }
        if let Some(g) = &gateway
            && have.gateway_ip.as_deref() != Some(g.as_str())
        {
            spec.gateway_ip = Some(g.clone());
            changed = true;
        }
        if !net.dns_servers.is_empty() && have.dns_servers != net.dns_servers {
            spec.dns_servers = net.dns_servers.clone();
            changed = true;
        }
        if !changed {
            return Ok(have);
        }
        let updated = self
            .client
            .subnets()
            .update(have.id, &spec)
            .await
            .cx(cx, &format!("updating subnet {}", net.name))?;
        if let Some(slot) = subnets.iter_mut().find(|s| s.id == updated.id) {
            *slot = updated.clone();
        }
        Ok(updated)
    }

    async fn ensure_ranges(
        &self,
        cx: &Cx,
        net: &Network,
        subnet: &Subnet,
        ranges: &mut Option<Vec<IpRange>>,
    ) -> Result<(), DriverError> {
        let wanted: Vec<_> = net
            .ranges
            .iter()
            .filter_map(|r| range_kind(r.kind).map(|k| (k, r)))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let have = match ranges {
            Some(r) => r,
            None => ranges.insert(
                self.client
                    .ip_ranges()
                    .list()
                    .await
                    .cx(cx, "listing IP ranges")?,
            ),
        };
        for (kind, r) in wanted {
            let exists = have.iter().any(|h| {
                h.kind == kind
                    && h.subnet.as_ref().is_none_or(|s| s.id == subnet.id)
                    && same_ip(&h.start_ip, r.start)
                    && same_ip(&h.end_ip, r.end)
            });
            if exists {
                continue;
            }
            let spec = IpRangeSpec {
                kind: kind.to_owned(),
                start_ip: r.start.to_string(),
                end_ip: r.end.to_string(),
                subnet: subnet.id,
                comment: Some("Configured by Drydock".to_owned()),
            };
            let created = self.client.ip_ranges().create(&spec).await.cx(
                cx,
                &format!(
                    "creating {kind} range {}-{} on {}",
                    r.start, r.end, net.name
                ),
            )?;
            have.push(created);
        }
        Ok(())
    }

    async fn ensure_dhcp(
        &self,
        cx: &Cx,
        net: &Network,
        vlan: &Vlan,
        fabric: i64,
        subnets: &[Subnet],
    ) -> Result<(), DriverError> {
        let current = self
            .client
            .vlans(fabric)
            .get(vlan.vid)
            .await
            .cx(cx, "reading VLAN")?;
        if let Some(target) = net.dhcp_relay.as_ref().and_then(|r| r.upstream_target) {
            let relay = subnets
                .iter()
                .filter(|s| s.cidr.parse::<IpNet>().is_ok_and(|c| c.contains(&target)))
                .find_map(|s| s.vlan.as_ref().map(|v| v.id))
                .ok_or_else(|| {
                    cx.permanent(format!(
                        "network {}: no MAAS subnet holds DHCP relay target {target}",
                        net.name
                    ))
                })?;
            if relay == vlan.id || current.relay_vlan.as_ref().and_then(relay_id) == Some(relay) {
                return Ok(());
            }
            let spec = VlanSpec {
                relay_vlan: Some(relay),
                ..VlanSpec::default()
            };
            self.client
                .vlans(fabric)
                .update(vlan.vid, &spec)
                .await
                .cx(cx, &format!("setting the DHCP relay of {}", net.name))?;
            return Ok(());
        }
        let racks = self
            .client
            .rack_controllers()
            .list()
            .await
            .cx(cx, "listing rack controllers")?;
        let serving: Vec<String> = racks
            .iter()
            .filter(|r| r.is_healthy())
            .filter(|r| {
                r.ip_addresses
                    .iter()
                    .filter_map(|a| a.parse::<IpAddr>().ok())
                    .any(|a| net.cidr.contains(&a))
            })
            .map(|r| r.system_id.clone())
            .take(2)
            .collect();
        let Some(primary) = serving.first() else {
            return Err(cx.permanent(format!(
                "network {} requires DHCP, but no healthy rack controller has an address in {}",
                net.name, net.cidr
            )));
        };
        let secondary = serving.get(1);
        if current.dhcp_on
            && current.primary_rack.as_ref() == Some(primary)
            && current.secondary_rack.as_ref() == secondary
        {
            return Ok(());
        }
        let spec = VlanSpec {
            dhcp_on: Some(true),
            primary_rack: Some(primary.clone()),
            secondary_rack: secondary.cloned(),
            ..VlanSpec::default()
        };
        self.client
            .vlans(fabric)
            .update(vlan.vid, &spec)
            .await
            .cx(cx, &format!("turning on DHCP for {}", net.name))?;
        Ok(())
    }

    async fn template_routes(
        &self,
        cx: &Cx,
        design: &CompiledDesign,
        subnets: &[Subnet],
    ) -> Result<(), DriverError> {
        let mut have = None;
        for net in design
            .site
            .networks
            .values()
            .filter(|n| !noconfig(&n.labels))
        {
            for route in &net.routes {
                let (Some(dest), Some(gw)) = (route.subnet, route.gateway) else {
                    continue;
                };
                if dest.prefix_len() == 0 {
                    continue;
                }
                let source = subnet_by_cidr(subnets, &cidr_of(net))
                    .ok_or_else(|| cx.permanent(format!("subnet of {} not in MAAS", net.name)))?;
                let target =
                    subnet_by_cidr(subnets, &dest.trunc().to_string()).ok_or_else(|| {
                        cx.permanent(format!(
                            "could not locate destination network for static route to {dest}"
                        ))
                    })?;
                let metric = route.metric.map_or(DEFAULT_METRIC, i64::from);
                let routes = match &have {
                    Some(r) => r,
                    None => have.insert(
                        self.client
                            .static_routes()
                            .list()
                            .await
                            .cx(cx, "listing static routes")?,
                    ),
                };
                let existing = routes
                    .iter()
                    .find(|r| r.source.id == source.id && r.destination.id == target.id);
                if let Some(r) = existing {
                    if same_ip(&r.gateway_ip, gw) && r.metric == metric {
                        continue;
                    }
                    self.client
                        .static_routes()
                        .delete(r.id)
                        .await
                        .cx(cx, "replacing a static route")?;
                }
                self.client
                    .static_routes()
                    .create(source.id, target.id, &gw.to_string(), Some(metric))
                    .await
                    .cx(
                        cx,
                        &format!("creating the route from {} to {dest}", net.name),
                    )?;
                have = None;
            }
        }
        Ok(())
    }
}

/// The VLAN id of a `relay_vlan` field (an id or an object, depending on the MAAS version).
fn relay_id(v: &serde_json::Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.get("id").and_then(serde_json::Value::as_i64))
}

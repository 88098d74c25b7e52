//! `apply_networking` and `apply_platform`.
//!
//! # Networking
//!
//! Each design interface with a NetworkLink (links labelled `noconfig` skipped) is reconciled
//! with the machine's interfaces; only differences are written:
//!
//! * A bonded link makes a bond named like the interface over the slaves, with the link's mode,
//!   `miimon`, up/down delays and, for 802.3ad, LACP rate and transmit hash policy. An unbonded
//!   link uses its single slave.
//! * Slaves are MAAS interfaces named like the slaves, except hardware-profile aliases
//!   (`lom0: {address: '0000:19:00.0', bus_type: pci}`, or `regexp:<re>` addresses): like
//!   Drydock's `apply_logicalnames`, they are resolved to the NIC's name through the machine's
//!   commissioning data (the `lshw` XML of `op=details`, read once per operation; see
//!   [`super::alias`] for the rules). An alias lshw does not resolve keeps its name when the
//!   machine has an interface of that name; otherwise it is a `Permanent` error naming the
//!   alias, its address and the machine's NICs. An invalid `regexp:` expression is a
//!   `Permanent` error too ([`AliasError::InvalidPattern`] as its source). Two slaves resolving
//!   to the same NIC where one of them is an alias are refused ([`AliasError::SameDevice`];
//!   Drydock configures the NIC twice). All of this is checked before anything is written.
//! * The bond or NIC sits on the VLAN of its native network's subnet (the untagged VLAN of the
//!   link's fabric when it has none), made by `create_network_template`, with the link's MTU.
//! * The link's native network (trunking disabled, the trunk's `default_network`, or a network
//!   without a VLAN tag) is linked on the bond/NIC itself; other networks on a VLAN interface
//!   (created when missing) for the network's tag.
//! * Each network is linked with the node's static address (`static`, the default gateway when
//!   it is the node's primary network), `dhcp`, or `link_up` when the node has no address on it.
//!   Links of those interfaces to other subnets are removed.
//!
//! MAAS edits interfaces in New, Ready, Allocated, Broken and Failed testing. A machine in
//! Failed deployment is released first (fixing Drydock's case-sensitive "Failed Dep" check);
//! a Deployed or Deploying machine is left alone. When the machine's bonds contradict the design
//! (a bond with other slaves or another mode), a Ready machine's network configuration is
//! restored to its commissioned state and rebuilt; otherwise that is a `Permanent` error.
//!
//! # Platform
//!
//! The node's image and kernel must be among MAAS' boot resources (`Permanent` otherwise); they
//! are passed to MAAS at deploy. The kernel command line goes into the tag `<node>_kp` whose
//! `kernel_opts` MAAS applies to tagged machines (recreated when the parameters change; the
//! machine is taken off it when it has none), and each of the node's tags is created when missing
//! and applied.

use std::collections::{BTreeMap, BTreeSet};

use drydock_core::design::{
    Address, BondingMode, CompiledNode, DeviceSelector, Interface as DesignIface, Network,
    NetworkLink, TrunkingMode,
};
use drydock_core::driver::{DriverError, NodeJob, Operation};

use super::alias::{AliasError, REGEXP_PREFIX, describe, resolve_nic, same_device};
use super::network::{cidr_of, noconfig, subnet_by_cidr};
use super::{Cx, MaasDriver, MaasResultExt, Target};
use crate::details::LshwDevice;
use crate::models::{Fabric, Interface, InterfaceType, LinkMode, Subnet};
use crate::{
    BondSpec, InterfaceUpdate, LinkSubnetSpec, MaasError, MachineStatus as S, ReleaseOptions,
    TagSpec,
};

/// The name of the tag carrying a node's kernel parameters.
pub fn kernel_tag(node: &str) -> String {
    let clean: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{clean}_kp")
}

/// Why the machine's network configuration cannot be reconciled in place.
struct Conflict(String);

type Step<T> = Result<Result<T, Conflict>, DriverError>;

/// What slave resolution needs to know of the machine: its lshw devices and its MAAS interface
/// names. Empty when no slave is an alias.
#[derive(Default)]
struct Hardware {
    devices: Vec<LshwDevice>,
    names: BTreeSet<String>,
}

/// The MAAS interface names of the slaves of each configured interface of the node (by
/// interface name), aliases resolved ([`super::alias`]); checked before anything is written.
///
/// An alias whose device lshw does not list keeps its name when MAAS has an interface of that
/// name, else it is `Permanent`; so are an invalid `regexp:` address and two slaves (one of them
/// an alias) resolving to the same NIC.
fn resolve_slaves(
    cx: &Cx,
    job: NodeJob<'_>,
    hw: &Hardware,
) -> Result<BTreeMap<String, Vec<String>>, DriverError> {
    let profile = job.node.hardware_profile.as_deref().unwrap_or("(none)");
    let mut out = BTreeMap::new();
    // (slave as written, MAAS name, whether it is an alias), for the same-NIC check.
    let mut claims: Vec<(String, String, bool)> = Vec::new();
    for iface in &job.node.interfaces {
        let Some(link) = &iface.device_link else {
            continue;
        };
        if job
            .design
            .site
            .network_links
            .get(link)
            .is_some_and(|l| noconfig(&l.labels))
        {
            continue;
        }
        let names = slave_names(cx, profile, iface, hw)?;
        for (i, name) in names.iter().enumerate() {
            let written = iface.slaves.get(i).cloned().unwrap_or_else(|| name.clone());
            let alias = matches!(
                iface.slave_selectors.get(i),
                Some(DeviceSelector::Address { .. })
            );
            claims.push((written, name.clone(), alias));
        }
        out.insert(iface.name.clone(), names);
    }
    same_device(profile, &claims).map_err(|e| cx.permanent(e.to_string()).with_source(e))?;
    Ok(out)
}

fn slave_names(
    cx: &Cx,
    profile: &str,
    iface: &DesignIface,
    hw: &Hardware,
) -> Result<Vec<String>, DriverError> {
    if iface.slave_selectors.is_empty() {
        return Ok(iface.slaves.clone());
    }
    let fail = |e: AliasError| {
        cx.permanent(format!("interface {}: {e}", iface.name))
            .with_source(e)
    };
    iface
        .slave_selectors
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            DeviceSelector::Name(n) => Ok(n.clone()),
            DeviceSelector::Address { address, .. } => {
                let alias = iface.slaves.get(i).map_or(address.as_str(), String::as_str);
                if let Some(name) =
                    resolve_nic(&hw.devices, profile, alias, address).map_err(fail)?
                {
                    return Ok(name);
                }
                if hw.names.contains(alias) {
                    return Ok(alias.to_owned());
                }
                let looked_for = if address.trim().starts_with(REGEXP_PREFIX) {
                    "no network device whose bus address matches the expression"
                } else {
                    "no network device at that address"
                };
                Err(fail(AliasError::Unresolved {
                    profile: profile.to_owned(),
                    alias: alias.to_owned(),
                    address: address.clone(),
                    reason: format!(
                        "the machine's commissioning data (lshw) has {looked_for} and the \
                         machine has no interface named {alias} (commissioned NICs: {})",
                        describe(hw.devices.iter().filter(|d| d.is_network()))
                    ),
                }))
            }
        })
        .collect()
}

/// The link a node asks for on `network`: mode and address.
fn wanted_link(node: &CompiledNode, network: &str) -> (LinkMode, Option<String>) {
    match node.addressing.iter().find(|a| a.network == network) {
        Some(a) => match a.address {
            Address::Static(ip) => (LinkMode::Static, Some(ip.to_string())),
            Address::Dhcp => (LinkMode::Dhcp, None),
        },
        None => (LinkMode::LinkUp, None),
    }
}

/// Whether `net` is carried untagged on `link`: trunking disabled, the trunk's default network,
/// or a network without a VLAN tag.
fn is_native(link: &NetworkLink, net: &Network) -> bool {
    link.trunking.mode == TrunkingMode::Disabled
        || link.trunking.default_network.as_deref() == Some(net.name.as_str())
        || net.vlan.is_none()
}

fn param_str(i: &Interface, key: &str) -> Option<String> {
    let v = i.params()?.get(key)?;
    Some(v.as_str().map_or_else(|| v.to_string(), str::to_owned))
}

impl MaasDriver {
    pub(crate) async fn do_networking(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let cx = Cx::node(Operation::ApplyNetworking, &job.node.name);
        let mut m = self.machine_of(&cx, job).await?;
        match m.status {
            S::Deployed | S::Deploying => return Ok(()),
            S::FailedDeployment => {
                let opts = ReleaseOptions::default();
                self.client
                    .machines()
                    .release(&m.system_id, &opts)
                    .await
                    .cx(&cx, "releasing the failed deployment")?;
                m = self
                    .wait_for(
                        &cx,
                        &m.system_id,
                        Target::Is(S::Ready),
                        self.config.destroy_deadline,
                    )
                    .await?;
            }
            S::New | S::Ready | S::Allocated | S::Broken | S::FailedTesting => {}
            other => {
                return Err(cx.permanent(format!(
                    "cannot configure interfaces of a machine in status {}",
                    other.label()
                )));
            }
        }
        let hw = self.hardware(&cx, job, &m.system_id).await?;
        let slaves = resolve_slaves(&cx, job, &hw)?;
        match self
            .reconcile_networking(&cx, job, &m.system_id, &slaves)
            .await?
        {
            Ok(()) => Ok(()),
            Err(Conflict(why)) if m.status == S::Ready => {
                tracing::info!(node = %job.node.name, %why, "restoring the commissioned network configuration");
                self.client
                    .machines()
                    .restore_networking_configuration(&m.system_id)
                    .await
                    .cx(&cx, "restoring the network configuration")?;
                match self
                    .reconcile_networking(&cx, job, &m.system_id, &slaves)
                    .await?
                {
                    Ok(()) => Ok(()),
                    Err(Conflict(why)) => Err(cx.permanent(why)),
                }
            }
            Err(Conflict(why)) => Err(cx.permanent(format!(
                "{why} (the machine is {}; it must be Ready to rebuild its interfaces)",
                m.status.label()
            ))),
        }
    }

    /// The machine's lshw devices and interface names, read only when a slave is an alias.
    async fn hardware(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
        sid: &str,
    ) -> Result<Hardware, DriverError> {
        let aliased = job.node.interfaces.iter().any(|i| {
            i.slave_selectors
                .iter()
                .any(|s| matches!(s, DeviceSelector::Address { .. }))
        });
        if !aliased {
            return Ok(Hardware::default());
        }
        let devices = self.machine_devices(cx, sid).await?;
        let names = self
            .client
            .interfaces(sid)
            .list()
            .await
            .cx(cx, "listing interfaces")?
            .into_iter()
            .map(|i| i.name)
            .collect();
        Ok(Hardware { devices, names })
    }

    async fn reconcile_networking(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
        sid: &str,
        slaves: &BTreeMap<String, Vec<String>>,
    ) -> Step<()> {
        let design = job.design;
        let fabrics = self
            .client
            .fabrics()
            .list()
            .await
            .cx(cx, "listing fabrics")?;
        let subnets = self
            .client
            .subnets()
            .list()
            .await
            .cx(cx, "listing subnets")?;
        for iface in &job.node.interfaces {
            let Some(link_name) = &iface.device_link else {
                continue;
            };
            let link = design.site.network_links.get(link_name).ok_or_else(|| {
                cx.permanent(format!(
                    "interface {}: no NetworkLink {link_name}",
                    iface.name
                ))
            })?;
            if noconfig(&link.labels) {
                continue;
            }
            let fabric = fabrics
                .iter()
                .find(|f| f.name == link.name)
                .ok_or_else(|| {
                    cx.permanent(format!(
                        "no MAAS fabric for NetworkLink {} (run create_network_template first)",
                        link.name
                    ))
                })?;
            let native = fabric
                .vlans
                .iter()
                .find(|v| v.vid == 0)
                .ok_or_else(|| {
                    cx.permanent(format!("fabric {} has no untagged VLAN", fabric.name))
                })?
                .id;
            // The native network (untagged on the link) decides the VLAN of the bond/NIC.
            let native = iface
                .networks
                .iter()
                .filter_map(|n| design.site.networks.get(n))
                .filter(|n| !noconfig(&n.labels) && is_native(link, n))
                .find_map(|n| subnet_by_cidr(&subnets, &cidr_of(n)))
                .and_then(|s| s.vlan.as_ref().map(|v| v.id))
                .unwrap_or(native);
            let slaves = slaves.get(&iface.name).map_or(&[][..], Vec::as_slice);
            let base = match self
                .ensure_base(cx, sid, iface, link, slaves, native)
                .await?
            {
                Ok(b) => b,
                Err(c) => return Ok(Err(c)),
            };
            let mut update = InterfaceUpdate::default();
            if base.vlan.as_ref().map(|v| v.id) != Some(native) {
                update.vlan = Some(native);
            }
            if base.effective_mtu != link.mtu {
                update.mtu = Some(link.mtu);
            }
            if update != InterfaceUpdate::default() {
                self.client
                    .interfaces(sid)
                    .update(base.id, &update)
                    .await
                    .cx(cx, &format!("setting VLAN and MTU of {}", base.name))?;
            }
            // Subnets wanted on each MAAS interface (by interface id).
            let mut wanted: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
            wanted.entry(base.id).or_default();
            for net_name in &iface.networks {
                let net = design.site.networks.get(net_name).ok_or_else(|| {
                    cx.permanent(format!("interface {}: no Network {net_name}", iface.name))
                })?;
                if noconfig(&net.labels) {
                    continue;
                }
                let subnet = subnet_by_cidr(&subnets, &cidr_of(net)).ok_or_else(|| {
                    cx.permanent(format!(
                        "network {net_name} not in MAAS (run create_network_template first)"
                    ))
                })?;
                let target = if is_native(link, net) {
                    base.clone()
                } else {
                    self.ensure_vlan_iface(cx, sid, &base, fabric, net.vlan.unwrap_or(0), net.mtu)
                        .await?
                };
                wanted.entry(target.id).or_default().insert(subnet.id);
                let primary = job.node.primary_network.as_deref() == Some(net_name.as_str());
                self.ensure_link(cx, sid, &target, subnet, job.node, net_name, primary)
                    .await?;
            }
            for (iid, keep) in wanted {
                let i = self
                    .client
                    .interfaces(sid)
                    .get(iid)
                    .await
                    .cx(cx, "reading an interface")?;
                for l in &i.links {
                    let stale = match &l.subnet {
                        Some(s) => !keep.contains(&s.id),
                        None => !keep.is_empty() || l.mode != LinkMode::LinkUp,
                    };
                    if stale {
                        self.client
                            .interfaces(sid)
                            .unlink_subnet(i.id, l.id)
                            .await
                            .cx(cx, &format!("removing a stale link of {}", i.name))?;
                    }
                }
            }
        }
        Ok(Ok(()))
    }

    /// The bond or NIC carrying a design interface, created (bonds) when missing.
    async fn ensure_base(
        &self,
        cx: &Cx,
        sid: &str,
        iface: &DesignIface,
        link: &NetworkLink,
        slaves: &[String],
        native: i64,
    ) -> Step<Interface> {
        let ifaces = self
            .client
            .interfaces(sid)
            .list()
            .await
            .cx(cx, "listing interfaces")?;
        let find = |n: &str| ifaces.iter().find(|i| i.name == n);
        if link.bonding.mode == BondingMode::Disabled {
            let [slave] = slaves else {
                return Err(cx.permanent(format!(
                    "interface {} of an unbonded link needs exactly one slave, has {}",
                    iface.name,
                    slaves.len()
                )));
            };
            return find(slave).cloned().map(Ok).ok_or_else(|| {
                cx.permanent(format!(
                    "machine has no interface {slave} (interface {})",
                    iface.name
                ))
            });
        }
        if slaves.is_empty() {
            return Err(cx.permanent(format!("bond {} has no slaves", iface.name)));
        }
        let mode = link.bonding.mode.as_str();
        if let Some(b) = find(&iface.name) {
            let have: BTreeSet<&str> = b.parents.iter().map(String::as_str).collect();
            let want: BTreeSet<&str> = slaves.iter().map(String::as_str).collect();
            if b.kind != InterfaceType::Bond
                || have != want
                || param_str(b, "bond_mode").as_deref() != Some(mode)
            {
                return Ok(Err(Conflict(format!(
                    "interface {} in MAAS is not a {mode} bond of {}",
                    iface.name,
                    slaves.join(", ")
                ))));
            }
            return Ok(Ok(b.clone()));
        }
        let mut parents = Vec::new();
        for s in slaves {
            let p = find(s).ok_or_else(|| {
                cx.permanent(format!(
                    "machine has no interface {s} (bond {})",
                    iface.name
                ))
            })?;
            if !p.children.is_empty() {
                return Ok(Err(Conflict(format!(
                    "interface {s} already carries {}",
                    p.children.join(", ")
                ))));
            }
            if p.vlan.as_ref().map(|v| v.id) != Some(native) {
                let update = InterfaceUpdate {
                    vlan: Some(native),
                    ..InterfaceUpdate::default()
                };
                self.client
                    .interfaces(sid)
                    .update(p.id, &update)
                    .await
                    .cx(cx, &format!("attaching {s} to its fabric"))?;
            }
            parents.push(p.id);
        }
        let b = &link.bonding;
        let lacp = b.mode == BondingMode::Lacp;
        let spec = BondSpec {
            name: iface.name.clone(),
            parents,
            mtu: Some(link.mtu),
            bond_mode: Some(mode.to_owned()),
            bond_miimon: b.mon_rate,
            bond_downdelay: b.down_delay,
            bond_updelay: b.up_delay,
            bond_lacp_rate: b.peer_rate.clone().filter(|_| lacp),
            bond_xmit_hash_policy: b.hash.clone().filter(|_| lacp),
            ..BondSpec::default()
        };
        let bond = self
            .client
            .interfaces(sid)
            .create_bond(&spec)
            .await
            .cx(cx, &format!("creating bond {}", iface.name))?;
        Ok(Ok(bond))
    }

    async fn ensure_vlan_iface(
        &self,
        cx: &Cx,
        sid: &str,
        base: &Interface,
        fabric: &Fabric,
        vid: u16,
        mtu: Option<u32>,
    ) -> Result<Interface, DriverError> {
        let vlan = fabric.vlans.iter().find(|v| v.vid == vid).ok_or_else(|| {
            cx.permanent(format!(
                "fabric {} has no VLAN {vid} (run create_network_template first)",
                fabric.name
            ))
        })?;
        let ifaces = self
            .client
            .interfaces(sid)
            .list()
            .await
            .cx(cx, "listing interfaces")?;
        let existing = ifaces.into_iter().find(|i| {
            i.kind == InterfaceType::Vlan
                && i.parents == [base.name.clone()]
                && i.vlan.as_ref().is_some_and(|v| v.id == vlan.id)
        });
        match existing {
            Some(i) => {
                if let Some(mtu) = mtu.filter(|m| *m != i.effective_mtu) {
                    let update = InterfaceUpdate {
                        mtu: Some(mtu),
                        ..InterfaceUpdate::default()
                    };
                    return self
                        .client
                        .interfaces(sid)
                        .update(i.id, &update)
                        .await
                        .cx(cx, &format!("setting the MTU of {}", i.name));
                }
                Ok(i)
            }
            None => self
                .client
                .interfaces(sid)
                .create_vlan(base.id, vlan.id, mtu, None)
                .await
                .cx(cx, &format!("creating VLAN {vid} on {}", base.name)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn ensure_link(
        &self,
        cx: &Cx,
        sid: &str,
        target: &Interface,
        subnet: &Subnet,
        node: &CompiledNode,
        network: &str,
        primary: bool,
    ) -> Result<(), DriverError> {
        let (mode, ip) = wanted_link(node, network);
        let current = self
            .client
            .interfaces(sid)
            .get(target.id)
            .await
            .cx(cx, "reading an interface")?;
        let on_subnet: Vec<_> = current
            .links
            .iter()
            .filter(|l| l.subnet.as_ref().is_some_and(|s| s.id == subnet.id))
            .collect();
        let matches = |l: &crate::models::Link| {
            l.mode == mode
                && match &ip {
                    Some(ip) => l.ip_address.as_deref() == Some(ip.as_str()),
                    None => true,
                }
        };
        if let [l] = on_subnet.as_slice()
            && matches(l)
        {
            return Ok(());
        }
        for l in on_subnet {
            self.client
                .interfaces(sid)
                .unlink_subnet(target.id, l.id)
                .await
                .cx(cx, &format!("unlinking {} from {network}", target.name))?;
        }
        let spec = LinkSubnetSpec {
            default_gateway: primary && mode == LinkMode::Static && subnet.gateway_ip.is_some(),
            mode,
            subnet: subnet.id,
            ip_address: ip,
        };
        self.client
            .interfaces(sid)
            .link_subnet(target.id, &spec)
            .await
            .cx(cx, &format!("linking {} to {network}", target.name))?;
        Ok(())
    }

    pub(crate) async fn do_platform(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = job.node;
        let cx = Cx::node(Operation::ApplyPlatform, &node.name);
        let m = self.machine_of(&cx, job).await?;
        if matches!(m.status, S::Deployed | S::Deploying) {
            return Ok(());
        }
        let sid = m.system_id.clone();
        if let Some(image) = &node.platform.image {
            let catalog = self.do_available_platforms().await?;
            let kernels = catalog.images.get(image).ok_or_else(|| {
                cx.permanent(format!("image {image} is not among MAAS' boot resources"))
            })?;
            if let Some(k) = &node.platform.kernel
                && !kernels.contains(k)
            {
                return Err(cx.permanent(format!(
                    "kernel {k} is not available for image {image} (MAAS has {})",
                    kernels.join(", ")
                )));
            }
        }
        let tags = self.client.tags().list().await.cx(&cx, "listing tags")?;
        let has = |t: &str| m.tag_names.iter().any(|x| x == t);
        let kp = kernel_tag(&node.name);
        let cmdline = node.platform.kernel_command_line();
        if cmdline.is_empty() {
            if has(&kp) {
                self.client
                    .tags()
                    .update_nodes(&kp, &[], std::slice::from_ref(&sid))
                    .await
                    .cx(&cx, "removing the kernel parameter tag")?;
            }
        } else {
            let mut add = !has(&kp);
            match tags.iter().find(|t| t.name == kp) {
                Some(t) if t.kernel_opts == cmdline => {}
                existing => {
                    if existing.is_some() {
                        self.client
                            .tags()
                            .delete(&kp)
                            .await
                            .cx(&cx, "replacing the kernel parameter tag")?;
                    }
                    let spec = TagSpec {
                        name: kp.clone(),
                        comment: Some(format!("Kernel parameters of {}", node.name)),
                        kernel_opts: Some(cmdline.clone()),
                        ..TagSpec::default()
                    };
                    self.client
                        .tags()
                        .create(&spec)
                        .await
                        .cx(&cx, "creating the kernel parameter tag")?;
                    add = true;
                }
            }
            if add {
                self.client
                    .tags()
                    .update_nodes(&kp, std::slice::from_ref(&sid), &[])
                    .await
                    .cx(&cx, "tagging the machine with its kernel parameters")?;
            }
        }
        for tag in &node.tags {
            if !tags.iter().any(|t| t.name == *tag) {
                let spec = TagSpec {
                    name: tag.clone(),
                    ..TagSpec::default()
                };
                match self.client.tags().create(&spec).await {
                    Ok(_) => {}
                    Err(MaasError::BadRequest { fields, .. })
                        if fields
                            .get("name")
                            .is_some_and(|m| m.iter().any(|x| x.contains("already exists"))) => {}
                    Err(e) => return Err(cx.maas(&format!("creating tag {tag}"), e)),
                }
            }
            if !has(tag) {
                self.client
                    .tags()
                    .update_nodes(tag, std::slice::from_ref(&sid), &[])
                    .await
                    .cx(&cx, &format!("tagging the machine with {tag}"))?;
            }
        }
        Ok(())
    }
}

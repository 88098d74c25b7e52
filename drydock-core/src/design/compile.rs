//! Compile: the effective design of every node, route domains and boot action targets.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;

use super::diag::{Diagnostic, DiagnosticKind, Diagnostics, DocumentKind, DocumentRef};
use super::filter::{NodeFilterSet, select};
use super::ingest::SiteDesign;
use super::inherit::apply_parent;
use super::model::common::{Secret, Setting};
use super::model::hardware::HardwareProfile;
use super::model::host::{FilesystemSpec, HostSpec, KernelParam};
use super::model::network::Route;
use super::node::{
    CompiledNode, DeviceSelector, Filesystem, Interface, LogicalVolume, Oob, Partition, Platform,
    StorageDevice, VolumeGroup,
};

/// A compiled design: the documents (networks with route-domain routes added) and the effective
/// design of every node.
#[derive(Clone, Debug)]
pub struct CompiledDesign {
    /// The documents.
    pub site: SiteDesign,
    /// Effective node designs by name, in reading order.
    pub nodes: IndexMap<String, CompiledNode>,
    /// The nodes each boot action applies to, by boot action name.
    pub bootaction_targets: IndexMap<String, Vec<String>>,
    /// Warnings found while compiling (unresolved kernel parameter references, ...).
    pub warnings: Vec<Diagnostic>,
}

impl CompiledDesign {
    /// The nodes a filter selects (all nodes for `None`), in reading order.
    pub fn select(&self, filter: Option<&NodeFilterSet>) -> Vec<&CompiledNode> {
        let nodes: Vec<&CompiledNode> = self.nodes.values().collect();
        let racks = |rack: &str| self.site.racks.get(rack).map(|r| r.labels.clone());
        select(filter, &nodes, &racks)
    }

    /// The effective design of node `name`.
    pub fn node(&self, name: &str) -> Option<&CompiledNode> {
        self.nodes.get(name)
    }
}

struct Compiler<'a> {
    site: &'a SiteDesign,
    diags: Vec<Diagnostic>,
    /// Effective profile specs; `None` when the profile could not be resolved (already reported).
    profiles: HashMap<String, Option<Arc<HostSpec>>>,
}

impl Compiler<'_> {
    fn located(&self, kind: DocumentKind, name: &str, d: Diagnostic) -> Diagnostic {
        d.in_document(DocumentRef::new(kind, name))
            .at(self.site.location_of(kind, name).cloned())
    }

    fn report(&mut self, kind: DocumentKind, name: &str, d: Diagnostic) {
        let d = self.located(kind, name, d);
        self.diags.push(d);
    }

    /// The effective spec of profile `name`, referenced by `from` (for the error message).
    fn profile(&mut self, name: &str, from: (DocumentKind, &str)) -> Option<Arc<HostSpec>> {
        if let Some(done) = self.profiles.get(name) {
            return done.clone();
        }
        if !self.site.host_profiles.contains_key(name) {
            let d = Diagnostic::error(
                DiagnosticKind::UnknownReference,
                format!("host profile '{name}' is not defined"),
            )
            .at_field("data.host_profile");
            self.report(from.0, from.1, d);
            return None;
        }
        // Walk up to a resolved profile or the root, then resolve downwards.
        let mut chain: Vec<&str> = Vec::new();
        let mut cur = name;
        let mut base: Option<Arc<HostSpec>> = Some(Arc::new(HostSpec::default()));
        loop {
            if let Some(done) = self.profiles.get(cur) {
                base = done.clone();
                break;
            }
            if let Some(at) = chain.iter().position(|c| *c == cur) {
                let mut cycle: Vec<&str> = chain[at..].to_vec();
                cycle.push(cur);
                let d = Diagnostic::error(
                    DiagnosticKind::InheritanceCycle,
                    format!(
                        "host profiles inherit from each other in a loop: {}",
                        cycle.join(" -> ")
                    ),
                )
                .at_field("data.host_profile");
                self.report(DocumentKind::HostProfile, cur, d);
                base = None;
                break;
            }
            chain.push(cur);
            let profile = &self.site.host_profiles[cur];
            match profile.spec.parent.as_deref() {
                None => break,
                Some(parent) if !self.site.host_profiles.contains_key(parent) => {
                    let d = Diagnostic::error(
                        DiagnosticKind::UnknownReference,
                        format!("host profile '{parent}' is not defined"),
                    )
                    .at_field("data.host_profile");
                    self.report(DocumentKind::HostProfile, cur, d);
                    base = None;
                    break;
                }
                Some(parent) => cur = parent,
            }
        }
        for p in chain.into_iter().rev() {
            base = base.map(|b| Arc::new(apply_parent(&self.site.host_profiles[p].spec, &b)));
            self.profiles.insert(p.to_owned(), base.clone());
        }
        self.profiles.get(name).cloned().flatten()
    }

    fn node(&mut self, name: &str) -> Option<CompiledNode> {
        let site = self.site;
        let doc = &site.baremetal_nodes[name];
        let parent = match doc.spec.parent.as_deref() {
            Some(p) => self.profile(p, (DocumentKind::BaremetalNode, name))?,
            None => Arc::new(HostSpec::default()),
        };
        let spec = apply_parent(&doc.spec, &parent);
        let mut profiles = Vec::new();
        let mut cur = doc.spec.parent.as_deref();
        while let Some(p) = cur.filter(|p| !profiles.iter().any(|x: &String| x == p)) {
            profiles.push(p.to_owned());
            cur = site
                .host_profiles
                .get(p)
                .and_then(|hp| hp.spec.parent.as_deref());
        }
        let hardware_profile = value(&spec.hardware_profile);
        let hw: Option<&HardwareProfile> = match &hardware_profile {
            Some(h) => match site.hardware_profiles.get(h) {
                Some(hw) => Some(hw),
                None => {
                    let d = Diagnostic::error(
                        DiagnosticKind::UnknownReference,
                        format!("hardware profile '{h}' is not defined"),
                    )
                    .at_field("data.hardware_profile");
                    self.report(DocumentKind::BaremetalNode, name, d);
                    return None;
                }
            },
            None => None,
        };
        let primary_network = value(&spec.primary_network);
        let domain = primary_network
            .as_deref()
            .and_then(|n| site.networks.get(n))
            .map_or_else(|| "local".to_owned(), |n| n.dns_domain.clone());
        let params = &spec.oob_parameters.0;
        let port = match params.get("port") {
            Some(p) => match p.parse::<u16>() {
                Ok(port) => Some(port),
                Err(_) => {
                    let d = Diagnostic::error(
                        DiagnosticKind::InvalidValue,
                        format!("'{p}' is not a port number"),
                    )
                    .at_field("data.oob.port");
                    self.report(DocumentKind::BaremetalNode, name, d);
                    None
                }
            },
            None => None,
        };
        let oob = Oob {
            kind: spec.oob_type.as_ref().and_then(|s| s.value().copied()),
            network: params.get("network").cloned(),
            account: params.get("account").cloned(),
            credential: params.get("credential").map(|c| Secret::new(c.clone())),
            port,
            libvirt_uri: params.get("libvirt_uri").cloned(),
            parameters: spec.oob_parameters.clone(),
        };
        let interfaces = spec
            .interfaces
            .iter()
            .map(|i| Interface {
                name: i.name.clone(),
                device_link: value(&i.device_link),
                slave_selectors: i
                    .slaves
                    .iter()
                    .map(|s| match hw.and_then(|h| h.resolve_alias("pci", s)) {
                        Some(a) => DeviceSelector::Address {
                            address: a.address.clone(),
                            dev_type: a.dev_type.clone(),
                        },
                        None => DeviceSelector::Name(s.clone()),
                    })
                    .collect(),
                slaves: i.slaves.clone(),
                networks: i.networks.clone(),
                sriov: i.sriov,
                labels: i.labels.clone(),
            })
            .collect();
        let storage_devices = spec
            .storage_devices
            .iter()
            .map(|d| StorageDevice {
                name: d.name.clone(),
                volume_group: value(&d.volume_group),
                labels: d.labels.clone(),
                partitions: d
                    .partitions
                    .iter()
                    .map(|p| Partition {
                        name: p.name.clone(),
                        size: value(&p.size),
                        part_uuid: value(&p.part_uuid),
                        volume_group: value(&p.volume_group),
                        bootable: p.bootable.unwrap_or(false),
                        labels: p.labels.clone(),
                        filesystem: filesystem(&p.filesystem),
                    })
                    .collect(),
            })
            .collect();
        let volume_groups = spec
            .volume_groups
            .iter()
            .map(|g| VolumeGroup {
                name: g.name.clone(),
                vg_uuid: value(&g.vg_uuid),
                logical_volumes: g
                    .logical_volumes
                    .iter()
                    .map(|l| LogicalVolume {
                        name: l.name.clone(),
                        size: value(&l.size),
                        lv_uuid: value(&l.lv_uuid),
                        filesystem: filesystem(&l.filesystem),
                    })
                    .collect(),
            })
            .collect();
        let kernel_params = self.resolve_kernel_params(name, &spec.kernel_params, hw);
        Some(CompiledNode {
            name: name.to_owned(),
            domain,
            document: DocumentRef::new(DocumentKind::BaremetalNode, name),
            location: site.location_of(DocumentKind::BaremetalNode, name).cloned(),
            profiles,
            hardware_profile,
            primary_network,
            oob,
            interfaces,
            storage_devices,
            volume_groups,
            platform: Platform {
                image: value(&spec.image),
                kernel: value(&spec.kernel),
                kernel_params,
            },
            tags: spec.tags,
            owner_data: spec.owner_data,
            rack: value(&spec.rack),
            boot_mac: doc.boot_mac.clone(),
            addressing: doc.addressing.clone(),
        })
    }

    /// Resolves `hardwareprofile:cpuset.<set>` and `hardwareprofile:hugepages.<conf>.size|count`.
    /// An unresolvable reference stays as written, with a warning.
    fn resolve_kernel_params(
        &mut self,
        node: &str,
        params: &IndexMap<String, KernelParam>,
        hw: Option<&HardwareProfile>,
    ) -> IndexMap<String, KernelParam> {
        let mut out = params.clone();
        for (key, v) in out.iter_mut() {
            let KernelParam::Value(text) = v else {
                continue;
            };
            let Some(reference) = text.strip_prefix("hardwareprofile:") else {
                continue;
            };
            let parts: Vec<&str> = reference.split('.').collect();
            let resolved = hw.and_then(|hw| match parts.as_slice() {
                ["cpuset", set] => hw.cpu_sets.get(*set).cloned(),
                ["hugepages", conf, "size"] => hw.hugepages.get(*conf).map(|h| h.size.clone()),
                ["hugepages", conf, "count"] => {
                    hw.hugepages.get(*conf).map(|h| h.count.to_string())
                }
                _ => None,
            });
            match resolved {
                Some(r) => *text = r,
                None => {
                    let why = match hw {
                        None => "the node has no hardware profile".to_owned(),
                        Some(h) => format!(
                            "hardware profile '{}' has no such entry (write cpuset.<set> or hugepages.<conf>.size|count)",
                            h.name
                        ),
                    };
                    let d = Diagnostic::error(
                        DiagnosticKind::UnresolvedParameter,
                        format!("kernel parameter {key}={text} does not resolve: {why}"),
                    )
                    .warning()
                    .at_field(format!("data.platform.kernel_params.{key}"));
                    self.report(DocumentKind::BaremetalNode, node, d);
                }
            }
        }
        out
    }
}

fn value<T: Clone>(s: &Option<Setting<T>>) -> Option<T> {
    s.as_ref().and_then(|s| s.value().cloned())
}

fn filesystem(fs: &FilesystemSpec) -> Option<Filesystem> {
    let mountpoint = value(&fs.mountpoint);
    let fstype = value(&fs.fstype);
    if mountpoint.is_none() && fstype.is_none() {
        return None;
    }
    Some(Filesystem {
        mountpoint,
        fstype: fstype.unwrap_or_else(|| "ext4".to_owned()),
        mount_options: value(&fs.mount_options).unwrap_or_else(|| "defaults".to_owned()),
        fs_uuid: value(&fs.fs_uuid),
        fs_label: value(&fs.fs_label),
    })
}

/// Adds the routes of route domains: every network that has a route (with gateway and metric)
/// into a domain gets a route to each other member CIDR of that domain.
fn render_route_domains(site: &mut SiteDesign) {
    let mut domains: IndexMap<String, Vec<ipnet::IpNet>> = IndexMap::new();
    for n in site.networks.values() {
        if let Some(rd) = &n.routedomain {
            domains.entry(rd.clone()).or_default().push(n.cidr);
        }
    }
    for (rd, members) in &domains {
        for n in site.networks.values_mut() {
            let Some(r) = n
                .routes
                .iter()
                .find(|r| r.routedomain.as_deref() == Some(rd.as_str()))
            else {
                continue;
            };
            let (Some(gateway), Some(metric)) = (r.gateway, r.metric) else {
                continue;
            };
            let own = n.cidr;
            for c in members.iter().filter(|c| **c != own) {
                n.routes.push(Route {
                    subnet: Some(*c),
                    gateway: Some(gateway),
                    metric: Some(metric),
                    routedomain: None,
                });
            }
        }
    }
}

/// Compiles a design: host profile inheritance, hardware profiles, kernel parameter references,
/// domains, route domains and boot action targets.
///
/// Fails with every error found (unknown profiles, inheritance cycles, bad ports, ...);
/// warnings are kept in [`CompiledDesign::warnings`].
pub fn compile(mut site: SiteDesign) -> Result<CompiledDesign, Diagnostics> {
    render_route_domains(&mut site);
    let (nodes, diags) = {
        let mut c = Compiler {
            site: &site,
            diags: Vec::new(),
            profiles: HashMap::new(),
        };
        for name in site.host_profiles.keys() {
            c.profile(name, (DocumentKind::HostProfile, name));
        }
        let nodes: IndexMap<String, CompiledNode> = site
            .baremetal_nodes
            .keys()
            .filter_map(|n| c.node(n).map(|cn| (n.clone(), cn)))
            .collect();
        (nodes, c.diags)
    };
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let mut warnings = std::mem::take(&mut site.warnings);
    warnings.extend(diags);
    let mut design = CompiledDesign {
        site,
        nodes,
        bootaction_targets: IndexMap::new(),
        warnings,
    };
    design.bootaction_targets = design
        .site
        .bootactions
        .values()
        .map(|ba| {
            (
                ba.name.clone(),
                design
                    .select(ba.node_filter.as_ref())
                    .into_iter()
                    .map(|n| n.name.clone())
                    .collect(),
            )
        })
        .collect();
    Ok(design)
}

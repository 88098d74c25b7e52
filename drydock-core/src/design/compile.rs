//! Compile: the effective design of every node, route domains and boot action targets.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;

use super::diag::{Diagnostic, DiagnosticKind, Diagnostics, DocumentKind, DocumentRef};
use super::filter::{NodeFilterSet, select};
use super::ingest::SiteDesign;
use super::ingest::parallel_chunks;
use super::inherit::{apply_parent, for_each_merged, inherited, merge_dicts, merge_lists};
use super::model::common::{Secret, Setting};
use super::model::hardware::HardwareProfile;
use super::model::host::{FilesystemSpec, HostSpec, KernelParam, OobParameters};
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

    /// Compiles node `name`; problems go to `diags` (nodes are compiled in parallel, each with
    /// its own list, joined in node order).
    fn node(&self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<CompiledNode> {
        let site = self.site;
        let report = |diags: &mut Vec<Diagnostic>, d: Diagnostic| {
            diags.push(self.located(DocumentKind::BaremetalNode, name, d));
        };
        let doc = &site.baremetal_nodes[name];
        let default_parent;
        let parent: &HostSpec = match doc.spec.parent.as_deref() {
            // Every defined profile was resolved (or reported) before the nodes.
            Some(p) => match self.profiles.get(p) {
                Some(Some(spec)) => spec,
                Some(None) => return None,
                None => {
                    let d = Diagnostic::error(
                        DiagnosticKind::UnknownReference,
                        format!("host profile '{p}' is not defined"),
                    )
                    .at_field("data.host_profile");
                    report(diags, d);
                    return None;
                }
            },
            None => {
                default_parent = HostSpec::default();
                &default_parent
            }
        };
        // The effective spec, field by field, without building a merged HostSpec.
        let spec = &doc.spec;
        let mut profiles = Vec::new();
        let mut cur = spec.parent.as_deref();
        while let Some(p) = cur.filter(|p| !profiles.iter().any(|x: &String| x == p)) {
            profiles.push(p.to_owned());
            cur = site
                .host_profiles
                .get(p)
                .and_then(|hp| hp.spec.parent.as_deref());
        }
        let hardware_profile = inherited(&spec.hardware_profile, &parent.hardware_profile);
        let hw: Option<&HardwareProfile> = match hardware_profile {
            Some(h) => match site.hardware_profiles.get(h) {
                Some(hw) => Some(hw),
                None => {
                    let d = Diagnostic::error(
                        DiagnosticKind::UnknownReference,
                        format!("hardware profile '{h}' is not defined"),
                    )
                    .at_field("data.hardware_profile");
                    report(diags, d);
                    return None;
                }
            },
            None => None,
        };
        let primary_network = inherited(&spec.primary_network, &parent.primary_network);
        let domain = primary_network
            .and_then(|n| site.networks.get(n))
            .map_or_else(|| "local".to_owned(), |n| n.dns_domain.clone());
        let oob_parameters = OobParameters(merge_dicts(
            &spec.oob_parameters.0,
            &parent.oob_parameters.0,
        ));
        let params = &oob_parameters.0;
        let port = match params.get("port") {
            Some(p) => match p.parse::<u16>() {
                Ok(port) => Some(port),
                Err(_) => {
                    let d = Diagnostic::error(
                        DiagnosticKind::InvalidValue,
                        format!("'{p}' is not a port number"),
                    )
                    .at_field("data.oob.port");
                    report(diags, d);
                    None
                }
            },
            None => None,
        };
        let oob = Oob {
            kind: inherited(&spec.oob_type, &parent.oob_type).copied(),
            network: params.get("network").cloned(),
            account: params.get("account").cloned(),
            credential: params.get("credential").map(|c| Secret::new(c.clone())),
            port,
            libvirt_uri: params.get("libvirt_uri").cloned(),
            parameters: oob_parameters,
        };
        let interfaces = for_each_merged(&spec.interfaces, &parent.interfaces, |i| Interface {
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
        });
        let storage_devices =
            for_each_merged(&spec.storage_devices, &parent.storage_devices, |d| {
                StorageDevice {
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
                }
            });
        let volume_groups = for_each_merged(&spec.volume_groups, &parent.volume_groups, |g| {
            VolumeGroup {
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
            }
        });
        let mut kernel_params = merge_dicts(&spec.kernel_params, &parent.kernel_params);
        self.resolve_kernel_params(name, &mut kernel_params, hw, diags);
        Some(CompiledNode {
            name: name.to_owned(),
            domain,
            document: DocumentRef::new(DocumentKind::BaremetalNode, name),
            location: site.location_of(DocumentKind::BaremetalNode, name).cloned(),
            profiles,
            hardware_profile: hardware_profile.cloned(),
            primary_network: primary_network.cloned(),
            oob,
            interfaces,
            storage_devices,
            volume_groups,
            platform: Platform {
                image: inherited(&spec.image, &parent.image).cloned(),
                kernel: inherited(&spec.kernel, &parent.kernel).cloned(),
                kernel_params,
            },
            tags: merge_lists(&spec.tags, &parent.tags),
            owner_data: merge_dicts(&spec.owner_data, &parent.owner_data),
            rack: inherited(&spec.rack, &parent.rack).cloned(),
            boot_mac: doc.boot_mac.clone(),
            addressing: doc.addressing.clone(),
        })
    }

    /// Resolves `hardwareprofile:cpuset.<set>` and `hardwareprofile:hugepages.<conf>.size|count`.
    /// An unresolvable reference stays as written, with a warning.
    fn resolve_kernel_params(
        &self,
        node: &str,
        params: &mut IndexMap<String, KernelParam>,
        hw: Option<&HardwareProfile>,
        diags: &mut Vec<Diagnostic>,
    ) {
        for (key, v) in params.iter_mut() {
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
                    diags.push(self.located(DocumentKind::BaremetalNode, node, d));
                }
            }
        }
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
        let names: Vec<&String> = site.baremetal_nodes.keys().collect();
        let mut diags = std::mem::take(&mut c.diags);
        let c = &c;
        let compiled = parallel_chunks(&names, |n| {
            let mut diags = Vec::new();
            let node = c.node(n, &mut diags);
            (node, diags)
        });
        let mut nodes = IndexMap::with_capacity(names.len());
        let mut names = names.into_iter();
        for (node, d) in compiled.into_iter().flatten() {
            let name = names.next().expect("one result per node");
            diags.extend(d);
            if let Some(node) = node {
                nodes.insert(name.clone(), node);
            }
        }
        (nodes, diags)
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

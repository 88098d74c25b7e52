//! Compile: the effective design of every node, route domains and boot action targets.

mod parts;

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;

use super::diag::{Diagnostic, DiagnosticKind, Diagnostics, DocumentKind, DocumentRef};
use super::filter::{NodeFilterSet, select};
use super::ingest::SiteDesign;
use super::ingest::parallel_chunks;
use super::inherit::{apply_parent, inherited, merge_dicts, merge_lists};
use super::locate::segments;
use super::model::hardware::HardwareProfile;
use super::model::host::{BaremetalNode, HostSpec};
use super::model::network::Route;
use super::node::CompiledNode;
use parts::Shared;

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
    /// What the nodes of each (host profile, hardware profile) pair share.
    shared: IndexMap<SharedKey, Shared>,
}

impl Compiler<'_> {
    /// Attaches the document, and the location of the diagnostic's field where it is written
    /// (for a node, in its document or the nearest host profile giving it), else of the
    /// document.
    fn located(&self, kind: DocumentKind, name: &str, d: Diagnostic) -> Diagnostic {
        let field = d.field.as_deref().and_then(|f| {
            let path = segments(f);
            match kind {
                DocumentKind::BaremetalNode => {
                    let parent = self.site.baremetal_nodes.get(name);
                    let chain = self
                        .site
                        .profile_chain(parent.and_then(|n| n.spec.parent.as_deref()));
                    self.site.node_field_at(name, &chain, &path)
                }
                DocumentKind::HostProfile => {
                    // A profile's own field only: a problem with its parent is reported there.
                    self.site.field_at(kind, name, &path)
                }
                _ => self.site.field_at(kind, name, &path),
            }
        });
        let d = d.in_document(DocumentRef::new(kind, name));
        match field {
            Some(at) => d.at_field(at.field).at(Some(at.location)),
            None => d.at(self.site.location_of(kind, name).cloned()),
        }
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
    fn node(
        &self,
        name: &str,
        doc: &BaremetalNode,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<CompiledNode> {
        let site = self.site;
        let report = |diags: &mut Vec<Diagnostic>, d: Diagnostic| {
            diags.push(self.located(DocumentKind::BaremetalNode, name, d));
        };
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
        let shared = self
            .shared
            .get(&SharedRef::of(spec.parent.as_deref(), hardware_profile));
        let mut issues = Vec::new();
        let oob = match shared {
            Some(sh) if parts::inherits_oob(spec) => {
                issues.extend(sh.oob_issues.iter().cloned());
                sh.oob.clone()
            }
            _ => Arc::new(parts::oob(spec, parent, &mut issues)),
        };
        let platform = match shared {
            Some(sh) if parts::inherits_platform(spec) => {
                issues.extend(sh.platform_issues.iter().cloned());
                sh.platform.clone()
            }
            _ => Arc::new(parts::platform(spec, parent, hw, &mut issues)),
        };
        for d in issues {
            report(diags, d);
        }
        let interfaces = parts::interfaces(
            &spec.interfaces,
            &parent.interfaces,
            shared.map(|s| s.interfaces.as_slice()),
            hw,
        );
        let storage_devices = match shared {
            Some(sh) if spec.storage_devices.is_empty() => sh.storage_devices.clone(),
            _ => parts::storage_devices(&spec.storage_devices, &parent.storage_devices).into(),
        };
        let volume_groups = match shared {
            Some(sh) if spec.volume_groups.is_empty() => sh.volume_groups.clone(),
            _ => parts::volume_groups(&spec.volume_groups, &parent.volume_groups).into(),
        };
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
            platform,
            tags: merge_lists(&spec.tags, &parent.tags),
            owner_data: merge_dicts(&spec.owner_data, &parent.owner_data),
            rack: inherited(&spec.rack, &parent.rack).cloned(),
            boot_mac: doc.boot_mac.clone(),
            addressing: doc.addressing.clone(),
            storage_extra: merge_dicts(&spec.storage_extra, &parent.storage_extra),
        })
    }

    /// Builds, for every (host profile, hardware profile) pair some node uses, what those nodes
    /// share.
    fn share_parts(&mut self) {
        let site = self.site;
        for doc in site.baremetal_nodes.values() {
            let spec = &doc.spec;
            let parent = match spec.parent.as_deref() {
                Some(p) => match self.profiles.get(p) {
                    Some(Some(spec)) => Some(spec.clone()),
                    _ => continue, // reported for the node
                },
                None => None,
            };
            let none = HostSpec::default();
            let parent_spec = parent.as_deref().unwrap_or(&none);
            let hw_name = inherited(&spec.hardware_profile, &parent_spec.hardware_profile);
            let key = SharedRef::of(spec.parent.as_deref(), hw_name);
            if self.shared.contains_key(&key) {
                continue;
            }
            let hw = match hw_name {
                Some(h) => match site.hardware_profiles.get(h) {
                    Some(hw) => Some(hw),
                    None => continue, // reported for the node
                },
                None => None,
            };
            self.shared
                .insert(key.to_owned(), Shared::new(parent_spec, hw));
        }
    }
}

/// Which profile and hardware profile a node's shared parts come from.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SharedKey {
    profile: Option<String>,
    hardware_profile: Option<String>,
}

/// A [`SharedKey`] borrowed from a node's spec (hashes as the owned key does).
#[derive(Hash)]
struct SharedRef<'a> {
    profile: Option<&'a str>,
    hardware_profile: Option<&'a str>,
}

impl<'a> SharedRef<'a> {
    fn of(profile: Option<&'a str>, hardware_profile: Option<&'a String>) -> Self {
        SharedRef {
            profile,
            hardware_profile: hardware_profile.map(String::as_str),
        }
    }

    fn to_owned(&self) -> SharedKey {
        SharedKey {
            profile: self.profile.map(str::to_owned),
            hardware_profile: self.hardware_profile.map(str::to_owned),
        }
    }
}

impl indexmap::Equivalent<SharedKey> for SharedRef<'_> {
    fn equivalent(&self, key: &SharedKey) -> bool {
        self.profile == key.profile.as_deref()
            && self.hardware_profile == key.hardware_profile.as_deref()
    }
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
            shared: IndexMap::new(),
        };
        for name in site.host_profiles.keys() {
            c.profile(name, (DocumentKind::HostProfile, name));
        }
        c.share_parts();
        let names: Vec<(&String, &BaremetalNode)> = site.baremetal_nodes.iter().collect();
        let mut diags = std::mem::take(&mut c.diags);
        let c = &c;
        let compiled = parallel_chunks(&names, |n| {
            let mut diags = Vec::new();
            let node = c.node(n.0, n.1, &mut diags);
            (node, diags)
        });
        let mut nodes = IndexMap::with_capacity(names.len());
        let mut names = names.into_iter();
        for (node, d) in compiled.into_iter().flatten() {
            let (name, _) = names.next().expect("one result per node");
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

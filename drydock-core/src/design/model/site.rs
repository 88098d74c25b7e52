//! Region (the site) and Rack documents.

use indexmap::IndexMap;
use serde::Serialize;

use crate::design::decode::{Cx, Extras, Path, str_enum};
use crate::design::yaml::Node;

str_enum! {
    /// How a hardware tag is defined.
    pub enum TagDefinitionType ("tag definition type") {
        /// An XPath expression over the node's `lshw` output.
        LshwXpath = "lshw_xpath",
    }
}

str_enum! {
    /// The package format of a repository.
    pub enum RepoType ("repository type") {
        /// Debian/Ubuntu apt repository.
        Apt = "apt",
        /// RPM repository.
        Rpm = "rpm",
    }
}

/// `drydock/Region/v1`: settings of the whole site.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Region {
    /// The region's (site's) name.
    pub name: String,
    /// Hardware tags the provisioner computes from node facts.
    pub tag_definitions: Vec<TagDefinition>,
    /// SSH public keys installed for the deployment user.
    pub authorized_keys: Vec<String>,
    /// Package repositories configured on deployed nodes.
    pub repositories: Repositories,
}

/// A hardware tag definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagDefinition {
    /// The tag applied to matching nodes.
    pub tag: String,
    /// How `definition` is read.
    pub definition_type: TagDefinitionType,
    /// The definition (an XPath expression).
    pub definition: String,
}

/// The package repositories of a region.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Repositories {
    /// Remove repositories the provisioner has that are not listed here.
    pub remove_unlisted: bool,
    /// The repositories, in document order.
    pub repositories: Vec<Repository>,
}

/// One package repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Repository {
    /// The repository's name (its key in the document).
    pub name: String,
    /// apt or rpm.
    pub repo_type: RepoType,
    /// Base URL.
    pub url: String,
    /// Distributions (apt suites).
    pub distributions: Vec<String>,
    /// Enabled sub-repositories (pockets: security, updates, backports).
    pub subrepos: Vec<String>,
    /// Enabled components (main, universe, ...).
    pub components: Vec<String>,
    /// Signing key (ASCII-armoured).
    pub gpgkey: Option<String>,
    /// Architectures (`amd64` when not given).
    pub arches: Vec<String>,
    /// Extra options.
    pub options: IndexMap<String, String>,
    /// Unmodelled keys (the reference's schema leaves repositories open).
    pub extra: Extras,
}

impl Repository {
    /// apt components drydock knows that this repository does not enable.
    pub fn disabled_components(&self) -> Vec<&'static str> {
        if self.repo_type != RepoType::Apt {
            return Vec::new();
        }
        ["main", "restricted", "universe", "multiverse"]
            .into_iter()
            .filter(|c| !self.components.iter().any(|x| x == c))
            .collect()
    }

    /// Sub-repositories (pockets) drydock knows that this repository does not enable.
    pub fn disabled_subrepos(&self) -> Vec<&'static str> {
        ["security", "updates", "backports"]
            .into_iter()
            .filter(|c| !self.subrepos.iter().any(|x| x == c))
            .collect()
    }
}

/// `drydock/Rack/v1`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rack {
    /// The rack's name.
    pub name: String,
    /// Top-of-rack switches.
    pub tor_switches: Vec<TorSwitch>,
    /// Location attributes (`clli`, `grid`, ...).
    pub location: IndexMap<String, String>,
    /// Networks local to the rack.
    pub local_networks: Vec<String>,
    /// Labels, matched by node filters' `rack_labels`.
    pub labels: IndexMap<String, String>,
}

/// A top-of-rack switch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TorSwitch {
    /// The switch's name (its key in the document).
    pub name: String,
    /// Management address.
    pub mgmt_ip: Option<String>,
    /// SDN API URI.
    pub sdn_api_uri: Option<String>,
    /// Unmodelled keys (the reference's schema leaves switches open).
    pub extra: Extras,
}

pub(crate) fn decode_region(cx: &mut Cx<'_>, name: &str, data: &Node, path: &Path<'_>) -> Region {
    let mut region = Region {
        name: name.to_owned(),
        ..Region::default()
    };
    let Some(mut f) = cx.map(data, path) else {
        return region;
    };
    if let Some(n) = f.take("tag_definitions") {
        let p = path.key("tag_definitions");
        region.tag_definitions = cx.list(n, &p, |cx, n, p| {
            let mut t = cx.map(n, p)?;
            let tag = t
                .require(cx, p, "tag")
                .and_then(|n| cx.string(n, &p.key("tag")));
            let dt = t
                .require(cx, p, "definition_type")
                .and_then(|n| cx.enumeration(n, &p.key("definition_type")));
            let def = t
                .require(cx, p, "definition")
                .and_then(|n| cx.string(n, &p.key("definition")));
            t.deny_unknown(cx, p);
            Some(TagDefinition {
                tag: tag?,
                definition_type: dt?,
                definition: def?,
            })
        });
    }
    if let Some(n) = f.take("authorized_keys") {
        region.authorized_keys = cx.strings(n, &path.key("authorized_keys"));
    }
    if let Some(n) = f.take("repositories") {
        region.repositories = decode_repositories(cx, n, &path.key("repositories"));
    }
    f.deny_unknown(cx, path);
    region
}

fn decode_repositories(cx: &mut Cx<'_>, node: &Node, path: &Path<'_>) -> Repositories {
    let mut out = Repositories::default();
    let Some(f) = cx.map(node, path) else {
        return out;
    };
    for (key, value) in f.entries {
        let p = path.key(&key.text);
        if key.text == "remove_unlisted" {
            out.remove_unlisted = cx.bool(value, &p).unwrap_or(false);
            continue;
        }
        let Some(mut r) = cx.map(value, &p) else {
            continue;
        };
        let repo_type = r
            .require(cx, &p, "repo_type")
            .and_then(|n| cx.enumeration(n, &p.key("repo_type")));
        let url = r
            .require(cx, &p, "url")
            .and_then(|n| cx.string(n, &p.key("url")));
        let list = |r: &mut crate::design::decode::Fields<'_>, cx: &mut Cx<'_>, k: &'static str| {
            r.take(k)
                .map(|n| cx.strings(n, &p.key(k)))
                .unwrap_or_default()
        };
        let distributions = list(&mut r, cx, "distributions");
        let subrepos = list(&mut r, cx, "subrepos");
        let components = list(&mut r, cx, "components");
        let arches = list(&mut r, cx, "arches");
        let gpgkey = r
            .take("gpgkey")
            .and_then(|n| cx.string(n, &p.key("gpgkey")));
        let options = r
            .take("options")
            .map(|n| cx.string_map(n, &p.key("options")))
            .unwrap_or_default();
        let extra = r.rest(cx, &p);
        if let (Some(repo_type), Some(url)) = (repo_type, url) {
            out.repositories.push(Repository {
                name: key.text.to_string(),
                repo_type,
                url,
                distributions,
                subrepos,
                components,
                gpgkey,
                arches: if arches.is_empty() {
                    vec!["amd64".to_owned()]
                } else {
                    arches
                },
                options,
                extra,
            });
        }
    }
    out
}

pub(crate) fn decode_rack(cx: &mut Cx<'_>, name: &str, data: &Node, path: &Path<'_>) -> Rack {
    let mut rack = Rack {
        name: name.to_owned(),
        ..Rack::default()
    };
    let Some(mut f) = cx.map(data, path) else {
        return rack;
    };
    if let Some(n) = f.take("tor_switches") {
        let p = path.key("tor_switches");
        rack.tor_switches = cx
            .dict(n, &p, |cx, key, v, p| {
                let mut s = cx.map(v, p)?;
                let mgmt_ip = s
                    .take("mgmt_ip")
                    .and_then(|n| cx.string(n, &p.key("mgmt_ip")));
                let sdn_api_uri = s
                    .take("sdn_api_uri")
                    .and_then(|n| cx.string(n, &p.key("sdn_api_uri")));
                let extra = s.rest(cx, p);
                Some(TorSwitch {
                    name: key.text.to_string(),
                    mgmt_ip,
                    sdn_api_uri,
                    extra,
                })
            })
            .into_values()
            .collect();
    }
    if let Some(n) = f.take("location") {
        rack.location = cx.string_map(n, &path.key("location"));
    }
    if let Some(n) = f.take("local_networks") {
        rack.local_networks = cx.strings(n, &path.key("local_networks"));
    }
    if let Some(n) = f.take("labels") {
        rack.labels = cx.string_map(n, &path.key("labels"));
    }
    f.deny_unknown(cx, path);
    rack
}

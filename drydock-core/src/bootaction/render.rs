//! Rendering a boot action's assets for one node (`drydock.md` §6.3): the data (or the fetched
//! `location`) through the asset's pipeline, with a template context describing the node, the
//! action and the site.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};

use super::record::{ActionId, IdentityKey};
use crate::design::yaml::{DocumentText, Value as Yaml, parse_document};
use crate::design::{
    Asset, AssetData, AssetType, BootAction, CompiledDesign, CompiledNode, DataPipelineSegment,
    LocationPipelineSegment,
};
use crate::validation::rules::is_version_specifier;

/// The reference's default `bootactions.report_url`.
pub const DEFAULT_REPORT_URL: &str = "http://localhost:9000/api/v1.0/bootactions/";

/// Fetches what an asset's `location` points at (the reference's `ReferenceResolver`).
///
/// drydock-core does no I/O of its own: an embedder that uses `location` supplies one
/// (HTTP, files, a document store). Errors are reported as text, named in the render error.
pub trait LocationResolver: Send + Sync {
    /// The bytes at `location` (after its location pipeline).
    fn fetch(&self, location: &str) -> Result<Vec<u8>, String>;
}

impl<F> LocationResolver for F
where
    F: Fn(&str) -> Result<Vec<u8>, String> + Send + Sync,
{
    fn fetch(&self, location: &str) -> Result<Vec<u8>, String> {
        self(location)
    }
}

/// The action half of the template context: who the node is talking about.
#[derive(Clone, Copy, Debug)]
pub struct ActionContext<'a> {
    /// The action's id (`action.action_id`, base32).
    pub action_id: ActionId,
    /// The node's key (`action.action_key`, hex).
    pub identity_key: &'a IdentityKey,
    /// The design reference (`action.design_ref`).
    pub design_ref: &'a str,
    /// Where the node reports (`action.report_url`).
    pub report_url: &'a str,
}

/// Everything rendering needs besides the action and its asset.
#[derive(Clone, Copy)]
pub struct RenderContext<'a> {
    /// The design.
    pub design: &'a CompiledDesign,
    /// The node the assets are for.
    pub node: &'a CompiledNode,
    /// The action's identity.
    pub action: ActionContext<'a>,
    /// Fetches `location`s (an asset with a `location` fails to render without one).
    pub resolver: Option<&'a dyn LocationResolver>,
}

impl fmt::Debug for RenderContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderContext")
            .field("node", &self.node.name)
            .field("action", &self.action)
            .field("resolver", &self.resolver.is_some())
            .finish_non_exhaustive()
    }
}

/// What went wrong rendering an asset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderErrorKind {
    /// A pipeline segment failed (wrong input type, bad base64, bad UTF-8).
    #[error("Error when running bootaction pipeline segment {segment}: {message}")]
    Pipeline {
        /// The segment (`base64_decode`).
        segment: String,
        /// What failed.
        message: String,
    },
    /// The template did not render.
    #[error("template error: {0}")]
    Template(String),
    /// The location could not be fetched.
    #[error("invalid asset location {location}: {message}")]
    Location {
        /// The location (after its pipeline).
        location: String,
        /// Why.
        message: String,
    },
    /// The asset has neither data nor location.
    #[error("the asset has neither data nor a location")]
    NoData,
    /// A package list is malformed or holds an invalid version specifier.
    #[error("invalid package list: {0}")]
    PackageList(String),
}

/// An asset failed to render; names the boot action, the asset and the node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("boot action {action}, asset {asset}, node {node}: {kind}")]
pub struct RenderError {
    /// The boot action.
    pub action: String,
    /// The asset: its path, or `pkg_list #<index>` for a package list without one.
    pub asset: String,
    /// The node.
    pub node: String,
    /// What went wrong (boxed: errors stay small).
    #[source]
    pub kind: Box<RenderErrorKind>,
}

/// What an asset rendered to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderedContent {
    /// File or unit contents.
    Bytes(Vec<u8>),
    /// Packages: name → version (any version when `None`).
    Packages(IndexMap<String, Option<String>>),
}

/// A rendered asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedAsset {
    /// The boot action it belongs to.
    pub action: String,
    /// File, unit or package list.
    pub kind: AssetType,
    /// Where it goes on the node (none for package lists).
    pub path: Option<String>,
    /// File mode (the asset's `permissions`, else `0o600`).
    pub mode: u32,
    /// The contents.
    pub content: RenderedContent,
}

/// The template context of §6.3: `node`, `action` and `site`.
///
/// `node.network` holds the statically addressed networks (`ip`, `cidr`, `dns_suffix`) and
/// `default`, the primary network's entry; `node.labels` is the node's `owner_data`.
pub fn template_context(
    design: &CompiledDesign,
    node: &CompiledNode,
    action: &ActionContext<'_>,
) -> Json {
    let mut networks = Map::new();
    for a in &node.addressing {
        let (Some(ip), Some(net)) = (a.address.ip(), design.site.networks.get(&a.network)) else {
            continue;
        };
        let entry = json!({
            "ip": ip.to_string(),
            "cidr": net.cidr.to_string(),
            "dns_suffix": net.dns_domain,
        });
        if node.primary_network.as_deref() == Some(a.network.as_str()) {
            networks.insert("default".into(), entry.clone());
        }
        networks.entry(a.network.clone()).or_insert(entry);
    }
    let interfaces: Map<String, Json> = node
        .interfaces
        .iter()
        .map(|i| {
            let v = match &i.sriov {
                Some(s) => {
                    json!({"sriov": true, "vf_count": s.vf_count, "trustedmode": s.trustedmode})
                }
                None => json!({"sriov": false}),
            };
            (i.name.clone(), v)
        })
        .collect();
    json!({
        "node": {
            "hostname": node.name,
            "domain": node.domain,
            "fqdn": node.fqdn(),
            "tags": node.tags,
            "labels": node.owner_data,
            "network": networks,
            "interfaces": interfaces,
        },
        "action": {
            "action_id": action.action_id.to_string(),
            "action_key": action.identity_key.to_hex(),
            "report_url": action.report_url,
            "design_ref": action.design_ref,
        },
        "site": {
            "name": design.site.region.as_ref().map(|r| r.name.clone()),
        },
    })
}

/// Data between pipeline segments.
enum Data {
    Bytes(Vec<u8>),
    Text(String),
}

/// The work one template may do, in minijinja's fuel (about one unit per instruction): far
/// more than any real boot action template needs, and a loop of 10^10 stops in well under a
/// second.
pub const TEMPLATE_FUEL: u64 = 10_000_000;

/// The most one template may render, in bytes.
pub const MAX_RENDERED_BYTES: usize = 16 << 20;

/// A writer that refuses to grow past [`MAX_RENDERED_BYTES`] (and remembers that it did).
struct Bounded {
    out: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_RENDERED_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("output limit"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_template(template: &str, ctx: &Json) -> Result<String, RenderErrorKind> {
    // Jinja2 defaults, as the reference: undefined values render empty, one trailing newline
    // is dropped. Bounded work (fuel), output and recursion (minijinja's own limit): a design
    // cannot make the orchestrator or the API spin or exhaust memory.
    let fail = |e: minijinja::Error| RenderErrorKind::Template(format!("{e:#}"));
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(TEMPLATE_FUEL));
    let template = env.template_from_str(template).map_err(fail)?;
    let mut out = Bounded {
        out: Vec::new(),
        overflowed: false,
    };
    if let Err(e) = template.render_captured_to(ctx, &mut out) {
        return Err(match out.overflowed {
            true => RenderErrorKind::Template(format!(
                "the rendered asset would exceed {MAX_RENDERED_BYTES} bytes"
            )),
            false => fail(e),
        });
    }
    String::from_utf8(out.out).map_err(|e| RenderErrorKind::Template(e.to_string()))
}

fn run_segment(seg: DataPipelineSegment, data: Data, ctx: &Json) -> Result<Data, RenderErrorKind> {
    let fail = |message: String| RenderErrorKind::Pipeline {
        segment: seg.to_string(),
        message,
    };
    Ok(match (seg, data) {
        (DataPipelineSegment::Base64Encode, Data::Bytes(b)) => {
            Data::Bytes(STANDARD.encode(b).into_bytes())
        }
        (DataPipelineSegment::Base64Encode, Data::Text(t)) => {
            Data::Bytes(STANDARD.encode(t).into_bytes())
        }
        (DataPipelineSegment::Base64Decode, data) => {
            let raw = match &data {
                Data::Bytes(b) => b.as_slice(),
                Data::Text(t) => t.as_bytes(),
            };
            // Line breaks are allowed (block scalars wrap base64 at 76 columns).
            let clean: Vec<u8> = raw
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            Data::Bytes(
                STANDARD
                    .decode(clean)
                    .map_err(|e| fail(format!("invalid base64: {e}")))?,
            )
        }
        (DataPipelineSegment::Utf8Decode, Data::Bytes(b)) => {
            Data::Text(String::from_utf8(b).map_err(|e| fail(format!("invalid UTF-8: {e}")))?)
        }
        (DataPipelineSegment::Utf8Decode, Data::Text(_)) => {
            return Err(fail("needs bytes but the data is already text".into()));
        }
        (DataPipelineSegment::Utf8Encode, Data::Text(t)) => Data::Bytes(t.into_bytes()),
        (DataPipelineSegment::Utf8Encode, Data::Bytes(_)) => {
            return Err(fail(
                "needs text but the data is bytes (add utf8_decode first)".into(),
            ));
        }
        (DataPipelineSegment::Template, Data::Text(t)) => Data::Text(render_template(&t, ctx)?),
        (DataPipelineSegment::Template, Data::Bytes(_)) => {
            return Err(fail(
                "needs text but the data is bytes (add utf8_decode first)".into(),
            ));
        }
    })
}

fn asset_label(asset: &Asset, index: usize) -> String {
    match &asset.path {
        Some(p) => p.clone(),
        None => format!("{} #{index}", asset.kind),
    }
}

/// Renders asset number `index` of `action` for the context's node.
pub fn render_asset(
    cx: &RenderContext<'_>,
    action: &BootAction,
    index: usize,
) -> Result<RenderedAsset, RenderError> {
    let asset = &action.assets[index];
    let wrap = |kind| RenderError {
        action: action.name.clone(),
        asset: asset_label(asset, index),
        node: cx.node.name.clone(),
        kind: Box::new(kind),
    };
    let ctx = template_context(cx.design, cx.node, &cx.action);
    let fetched = match &asset.location {
        Some(location) => {
            let mut location = location.clone();
            for seg in &asset.location_pipeline {
                match seg {
                    LocationPipelineSegment::Template => {
                        location = render_template(&location, &ctx).map_err(wrap)?
                    }
                }
            }
            let resolver = cx.resolver.ok_or_else(|| {
                wrap(RenderErrorKind::Location {
                    location: location.clone(),
                    message: "no location resolver is configured".into(),
                })
            })?;
            let bytes = resolver.fetch(&location).map_err(|message| {
                wrap(RenderErrorKind::Location {
                    location: location.clone(),
                    message,
                })
            })?;
            Some(bytes)
        }
        None => None,
    };
    let mode = asset.permissions.unwrap_or(0o600);
    if asset.kind == AssetType::PkgList {
        let packages = match (fetched, &asset.data) {
            (Some(bytes), _) => parse_packages(&bytes).map_err(wrap)?,
            (None, Some(AssetData::Packages(p))) => p.clone(),
            (None, _) => return Err(wrap(RenderErrorKind::NoData)),
        };
        check_versions(&packages).map_err(wrap)?;
        return Ok(RenderedAsset {
            action: action.name.clone(),
            kind: asset.kind,
            path: asset.path.clone(),
            mode,
            content: RenderedContent::Packages(packages),
        });
    }
    let mut data = match (fetched, &asset.data) {
        (Some(bytes), _) => Data::Bytes(bytes),
        (None, Some(AssetData::Text(t))) => Data::Bytes(t.clone().into_bytes()),
        (None, _) => return Err(wrap(RenderErrorKind::NoData)),
    };
    for &seg in &asset.data_pipeline {
        data = run_segment(seg, data, &ctx).map_err(wrap)?;
    }
    let bytes = match data {
        Data::Bytes(b) => b,
        Data::Text(t) => t.into_bytes(),
    };
    Ok(RenderedAsset {
        action: action.name.clone(),
        kind: asset.kind,
        path: asset.path.clone(),
        mode,
        content: RenderedContent::Bytes(bytes),
    })
}

/// Renders every asset of `kind` of `action` for the context's node, in order.
pub fn render_action(
    cx: &RenderContext<'_>,
    action: &BootAction,
    kind: AssetType,
) -> Result<Vec<RenderedAsset>, RenderError> {
    (0..action.assets.len())
        .filter(|&i| action.assets[i].kind == kind)
        .map(|i| render_asset(cx, action, i))
        .collect()
}

fn parse_packages(bytes: &[u8]) -> Result<IndexMap<String, Option<String>>, RenderErrorKind> {
    let bad = |m: &str| RenderErrorKind::PackageList(m.to_owned());
    let text = std::str::from_utf8(bytes).map_err(|_| bad("the fetched list is not UTF-8"))?;
    let doc = parse_document(DocumentText {
        text,
        first_line: 1,
    })
    .map_err(|e| {
        bad(&format!(
            "the fetched list is not YAML or JSON: {}",
            e.message
        ))
    })?;
    let Some(Yaml::Map(entries)) = doc.map(|n| n.value) else {
        return Err(bad("Requires a top-level mapping/object."));
    };
    let mut out = IndexMap::new();
    for (key, value) in entries {
        if !key.is_string {
            return Err(bad(&format!("package name {} is not a string", key.text)));
        }
        let version = match value.value {
            Yaml::Null => None,
            Yaml::Str(s) => Some(s.into_owned()),
            other => {
                return Err(bad(&format!(
                    "the version of {} is {}, not a string",
                    key.text,
                    other.type_name()
                )));
            }
        };
        out.insert(key.text.into_owned(), version);
    }
    Ok(out)
}

/// Checks version specifiers as validation rule DD4002 does (the same function).
fn check_versions(packages: &IndexMap<String, Option<String>>) -> Result<(), RenderErrorKind> {
    for v in packages.values().flatten() {
        if !v.is_empty() && !is_version_specifier(v) {
            return Err(RenderErrorKind::PackageList(format!(
                "Version specifier {v} is not a valid format."
            )));
        }
    }
    Ok(())
}

/// The boot actions of the design that apply to `node`, in design order.
pub fn actions_for_node<'d>(design: &'d CompiledDesign, node: &str) -> Vec<&'d BootAction> {
    design
        .site
        .bootactions
        .values()
        .filter(|ba| {
            design
                .bootaction_targets
                .get(&ba.name)
                .is_some_and(|nodes| nodes.iter().any(|n| n == node))
        })
        .collect()
}

/// The packages to install on `node`: the union of the `pkg_list` assets of every boot action
/// applying to it (a later version specifier wins), rendered with a throw-away action id and
/// key as the reference does (`find_node_package_lists`).
pub fn node_package_list(
    design: &CompiledDesign,
    node: &CompiledNode,
    design_ref: &str,
    report_url: &str,
    resolver: Option<&dyn LocationResolver>,
) -> Result<IndexMap<String, Option<String>>, RenderError> {
    let key = IdentityKey::generate();
    let mut out = IndexMap::new();
    for ba in actions_for_node(design, &node.name) {
        let cx = RenderContext {
            design,
            node,
            action: ActionContext {
                action_id: ActionId::new(),
                identity_key: &key,
                design_ref,
                report_url,
            },
            resolver,
        };
        for asset in render_action(&cx, ba, AssetType::PkgList)? {
            if let RenderedContent::Packages(p) = asset.content {
                out.extend(p);
            }
        }
    }
    Ok(out)
}

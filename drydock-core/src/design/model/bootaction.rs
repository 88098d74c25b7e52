//! BootAction documents: files, units and package lists shipped to deployed nodes.

use indexmap::IndexMap;
use serde::Serialize;

use crate::design::decode::{Cx, Path, str_enum};
use crate::design::diag::DiagnosticKind;
use crate::design::filter::{NodeFilterSet, decode_node_filter};
use crate::design::yaml::{Node, Value};

str_enum! {
    /// What an asset is.
    pub enum AssetType ("asset type") {
        /// A systemd unit.
        Unit = "unit",
        /// A file.
        File = "file",
        /// A list of packages to install.
        PkgList = "pkg_list",
    }
}

str_enum! {
    /// A step of an asset's data pipeline.
    pub enum DataPipelineSegment ("data pipeline segment") {
        /// Encode bytes as base64.
        Base64Encode = "base64_encode",
        /// Decode base64 into bytes.
        Base64Decode = "base64_decode",
        /// Encode text as UTF-8 bytes.
        Utf8Encode = "utf8_encode",
        /// Decode UTF-8 bytes into text.
        Utf8Decode = "utf8_decode",
        /// Render the text as a template.
        Template = "template",
    }
}

str_enum! {
    /// A step of an asset's location pipeline.
    pub enum LocationPipelineSegment ("location pipeline segment") {
        /// Render the location as a template.
        Template = "template",
    }
}

/// `drydock/BootAction/v1`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BootAction {
    /// The boot action's name.
    pub name: String,
    /// Whether the node reports the action's status (true when not given).
    pub signaling: bool,
    /// The assets.
    pub assets: Vec<Asset>,
    /// The nodes the action applies to (all nodes when not given).
    pub node_filter: Option<NodeFilterSet>,
}

/// An asset of a boot action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Asset {
    /// What the asset is.
    #[serde(rename = "type")]
    pub kind: AssetType,
    /// Where the asset goes on the node (absolute path; required for units and files).
    pub path: Option<String>,
    /// Where to fetch the asset's data from.
    pub location: Option<String>,
    /// The asset's inline data.
    pub data: Option<AssetData>,
    /// Steps applied to `location`.
    pub location_pipeline: Vec<LocationPipelineSegment>,
    /// Steps applied to the data.
    pub data_pipeline: Vec<DataPipelineSegment>,
    /// File mode (`'555'` in documents, read as octal).
    pub permissions: Option<u32>,
}

/// Inline data of an asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AssetData {
    /// Text (for units and files).
    Text(String),
    /// Package name → version specifier, or none for any version (for `pkg_list`).
    Packages(IndexMap<String, Option<String>>),
}

fn permissions(cx: &mut Cx<'_>, node: &Node, p: &Path<'_>) -> Option<u32> {
    match &node.value {
        Value::Str(s) if s.len() == 3 && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) => {
            u32::from_str_radix(s, 8).ok()
        }
        Value::Str(s) => {
            cx.report(
                DiagnosticKind::InvalidValue,
                p,
                node.pos,
                format!("'{s}' is not a file mode: write three octal digits such as '644'"),
            );
            None
        }
        _ => {
            cx.wrong_type(p, node, "a quoted octal file mode such as '644'");
            None
        }
    }
}

fn packages(
    cx: &mut Cx<'_>,
    node: &Node,
    p: &Path<'_>,
) -> Option<IndexMap<String, Option<String>>> {
    let Value::Map(entries) = &node.value else {
        cx.wrong_type(p, node, "a mapping of package names to versions");
        return None;
    };
    let mut out = IndexMap::new();
    for (key, value) in entries {
        let kp = p.key(&key.text);
        if !key.is_string {
            cx.report(
                DiagnosticKind::WrongType,
                &kp,
                key.pos,
                format!(
                    "package name {} is read by YAML as a non-string value; quote it: '{}'",
                    key.text, key.text
                ),
            );
            continue;
        }
        let version = match &value.value {
            Value::Null => None,
            Value::Str(s) => Some(s.to_string()),
            _ => {
                cx.wrong_type(&kp, value, "a version string or nothing");
                continue;
            }
        };
        out.insert(key.text.to_string(), version);
    }
    Some(out)
}

fn decode_asset(cx: &mut Cx<'_>, node: &Node, p: &Path<'_>) -> Option<Asset> {
    let mut f = cx.map(node, p)?;
    let kind = f
        .require(cx, p, "type")
        .and_then(|n| cx.enumeration::<AssetType>(n, &p.key("type")));
    let path = f.take("path").and_then(|n| {
        let pp = p.key("path");
        let s = cx.string(n, &pp)?;
        if s.len() < 2 || !s.starts_with('/') {
            cx.report(
                DiagnosticKind::InvalidValue,
                &pp,
                n.pos,
                format!("'{s}' is not an absolute path"),
            );
        }
        Some(s)
    });
    let location = f
        .take("location")
        .and_then(|n| cx.string(n, &p.key("location")));
    let data_node = f.take("data");
    let location_pipeline = f
        .take("location_pipeline")
        .map(|n| {
            cx.list(n, &p.key("location_pipeline"), |cx, n, p| {
                cx.enumeration(n, p)
            })
        })
        .unwrap_or_default();
    let data_pipeline = f
        .take("data_pipeline")
        .map(|n| cx.list(n, &p.key("data_pipeline"), |cx, n, p| cx.enumeration(n, p)))
        .unwrap_or_default();
    let permissions = f
        .take("permissions")
        .and_then(|n| permissions(cx, n, &p.key("permissions")));
    f.deny_unknown(cx, p);
    let kind = kind?;
    let dp = p.key("data");
    let data = match (kind, data_node) {
        (_, None) => None,
        (AssetType::PkgList, Some(n)) => packages(cx, n, &dp).map(AssetData::Packages),
        (_, Some(n)) => cx.string(n, &dp).map(AssetData::Text),
    };
    if kind != AssetType::PkgList && path.is_none() {
        cx.report(
            DiagnosticKind::MissingField,
            &p.key("path"),
            node.pos,
            format!("a {kind} asset needs a 'path'"),
        );
    }
    if kind == AssetType::PkgList && data_node.is_none() && location.is_none() {
        cx.report(
            DiagnosticKind::MissingField,
            &dp,
            node.pos,
            "a pkg_list asset needs 'data' (a mapping of packages) or a 'location'",
        );
    }
    Some(Asset {
        kind,
        path,
        location,
        data,
        location_pipeline,
        data_pipeline,
        permissions,
    })
}

pub(crate) fn decode_bootaction(
    cx: &mut Cx<'_>,
    name: &str,
    data: &Node,
    path: &Path<'_>,
) -> Option<BootAction> {
    let mut f = cx.map(data, path)?;
    let signaling = f
        .take("signaling")
        .and_then(|n| cx.bool(n, &path.key("signaling")))
        .unwrap_or(true);
    let assets = f
        .require(cx, path, "assets")
        .map(|n| cx.list(n, &path.key("assets"), decode_asset));
    let node_filter = f
        .take("node_filter")
        .and_then(|n| decode_node_filter(cx, n, &path.key("node_filter")));
    f.deny_unknown(cx, path);
    Some(BootAction {
        name: name.to_owned(),
        signaling,
        assets: assets?,
        node_filter,
    })
}

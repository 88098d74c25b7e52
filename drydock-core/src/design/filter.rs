//! Node filters: which nodes of a design a task or a boot action applies to.
//!
//! A [`NodeFilterSet`] combines [`NodeFilter`]s (union or intersection); each filter combines
//! its criteria (union or intersection). Every filter is evaluated against all nodes of the
//! design. The semantics are the documented ones (`drydock.md` §3.3, with its defects fixed):
//!
//! | criterion | a node matches when |
//! |---|---|
//! | `node_names` | its name is listed |
//! | `node_tags` | it has any listed tag |
//! | `node_labels` | every listed label pair is among its labels (`owner_data`) |
//! | `rack_names` | its rack is listed |
//! | `rack_labels` | its rack has every listed label pair |
//!
//! Empty criteria are absent; a filter without criteria, and a set without filters, select no
//! node. Results are in design order (the order nodes were read), so they are deterministic.

use indexmap::{IndexMap, IndexSet};
use serde::{Deserialize, Serialize};

use super::decode::{Cx, Path, str_enum};
use super::yaml::Node;

str_enum! {
    /// How results are combined.
    pub enum SetType ("filter set type") {
        /// Nodes selected by any member.
        Union = "union",
        /// Nodes selected by every member.
        Intersection = "intersection",
    }
}

/// A set of node filters, in the reference's JSON shape
/// (`{"filter_set_type": "union", "filter_set": [...]}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFilterSet {
    /// How the filters' results combine.
    pub filter_set_type: SetType,
    /// The filters.
    pub filter_set: Vec<NodeFilter>,
}

/// One node filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFilter {
    /// How this filter's criteria combine.
    pub filter_type: SetType,
    /// Node names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_names: Vec<String>,
    /// Node tags (any of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_tags: Vec<String>,
    /// Node label pairs (all of them).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub node_labels: IndexMap<String, String>,
    /// Rack names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rack_names: Vec<String>,
    /// Rack label pairs (all of them).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub rack_labels: IndexMap<String, String>,
}

impl NodeFilterSet {
    /// A filter selecting exactly the named nodes (the reference's `nf(list)`).
    ///
    /// ```
    /// use drydock_core::design::NodeFilterSet;
    /// let f = NodeFilterSet::for_nodes(["n1", "n2"]);
    /// assert_eq!(
    ///     serde_json::to_value(&f).unwrap(),
    ///     serde_json::json!({"filter_set_type": "intersection",
    ///                        "filter_set": [{"filter_type": "union", "node_names": ["n1", "n2"]}]})
    /// );
    /// ```
    pub fn for_nodes<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        NodeFilterSet {
            filter_set_type: SetType::Intersection,
            filter_set: vec![NodeFilter {
                node_names: names.into_iter().map(Into::into).collect(),
                ..NodeFilter::new(SetType::Union)
            }],
        }
    }

    /// The node names the filters list that `is_known` does not know, each once, in the
    /// order given: a filter naming a node that does not exist is a user error, not an empty
    /// selection.
    ///
    /// ```
    /// use drydock_core::design::NodeFilterSet;
    /// let f = NodeFilterSet::for_nodes(["n1", "typo", "n2", "typo"]);
    /// assert_eq!(f.unknown_node_names(|n| n.starts_with('n')), ["typo"]);
    /// ```
    pub fn unknown_node_names(&self, is_known: impl Fn(&str) -> bool) -> Vec<String> {
        let mut unknown: Vec<String> = Vec::new();
        for name in self.filter_set.iter().flat_map(|f| &f.node_names) {
            if !is_known(name) && !unknown.contains(name) {
                unknown.push(name.clone());
            }
        }
        unknown
    }
}

impl NodeFilter {
    /// A filter without criteria.
    pub fn new(filter_type: SetType) -> Self {
        NodeFilter {
            filter_type,
            node_names: Vec::new(),
            node_tags: Vec::new(),
            node_labels: IndexMap::new(),
            rack_names: Vec::new(),
            rack_labels: IndexMap::new(),
        }
    }
}

/// What a node filter needs to know of a node.
pub trait FilterTarget {
    /// The node's name.
    fn name(&self) -> &str;
    /// The node's tags.
    fn tags(&self) -> &[String];
    /// The node's labels.
    fn labels(&self) -> &IndexMap<String, String>;
    /// The node's rack.
    fn rack(&self) -> Option<&str>;
}

fn all_pairs(wanted: &IndexMap<String, String>, have: Option<&IndexMap<String, String>>) -> bool {
    have.is_some_and(|h| wanted.iter().all(|(k, v)| h.get(k) == Some(v)))
}

/// Indices (into `nodes`) a single filter selects.
fn select_one<N: FilterTarget>(
    f: &NodeFilter,
    nodes: &[&N],
    rack_labels: &dyn Fn(&str) -> Option<IndexMap<String, String>>,
) -> IndexSet<usize> {
    type Criterion<'a, N> = Box<dyn Fn(&N) -> bool + 'a>;
    let mut criteria: Vec<Criterion<'_, N>> = Vec::new();
    if !f.node_names.is_empty() {
        criteria.push(Box::new(|n: &N| f.node_names.iter().any(|x| x == n.name())));
    }
    if !f.node_tags.is_empty() {
        criteria.push(Box::new(|n: &N| {
            n.tags().iter().any(|t| f.node_tags.contains(t))
        }));
    }
    if !f.node_labels.is_empty() {
        criteria.push(Box::new(|n: &N| {
            all_pairs(&f.node_labels, Some(n.labels()))
        }));
    }
    if !f.rack_names.is_empty() {
        criteria.push(Box::new(|n: &N| {
            n.rack()
                .is_some_and(|r| f.rack_names.iter().any(|x| x == r))
        }));
    }
    if !f.rack_labels.is_empty() {
        criteria.push(Box::new(|n: &N| {
            n.rack()
                .is_some_and(|r| all_pairs(&f.rack_labels, rack_labels(r).as_ref()))
        }));
    }
    if criteria.is_empty() {
        return IndexSet::new();
    }
    (0..nodes.len())
        .filter(|&i| match f.filter_type {
            SetType::Union => criteria.iter().any(|c| c(nodes[i])),
            SetType::Intersection => criteria.iter().all(|c| c(nodes[i])),
        })
        .collect()
}

/// Selects the nodes a filter set applies to, in the order of `nodes`. `None` selects all nodes.
pub fn select<'n, N: FilterTarget>(
    filter: Option<&NodeFilterSet>,
    nodes: &[&'n N],
    rack_labels: &dyn Fn(&str) -> Option<IndexMap<String, String>>,
) -> Vec<&'n N> {
    let Some(set) = filter else {
        return nodes.to_vec();
    };
    let mut results = set
        .filter_set
        .iter()
        .map(|f| select_one(f, nodes, rack_labels));
    let Some(first) = results.next() else {
        return Vec::new();
    };
    let combined = results.fold(first, |acc, r| match set.filter_set_type {
        SetType::Union => acc.union(&r).copied().collect(),
        SetType::Intersection => acc.intersection(&r).copied().collect(),
    });
    let mut idx: Vec<usize> = combined.into_iter().collect();
    idx.sort_unstable();
    idx.into_iter().map(|i| nodes[i]).collect()
}

pub(crate) fn decode_node_filter(
    cx: &mut Cx<'_>,
    node: &Node,
    path: &Path<'_>,
) -> Option<NodeFilterSet> {
    let mut f = cx.map(node, path)?;
    let set_type = f
        .require(cx, path, "filter_set_type")
        .and_then(|n| cx.enumeration(n, &path.key("filter_set_type")));
    let filters = f.require(cx, path, "filter_set").map(|n| {
        cx.list(n, &path.key("filter_set"), |cx, n, p| {
            let mut g = cx.map(n, p)?;
            let filter_type = g
                .require(cx, p, "filter_type")
                .and_then(|n| cx.enumeration(n, &p.key("filter_type")));
            let mut filter = NodeFilter::new(SetType::Union);
            filter.node_names = g
                .take("node_names")
                .map(|n| cx.strings(n, &p.key("node_names")))
                .unwrap_or_default();
            filter.node_tags = g
                .take("node_tags")
                .map(|n| cx.strings(n, &p.key("node_tags")))
                .unwrap_or_default();
            filter.node_labels = g
                .take("node_labels")
                .map(|n| cx.string_map(n, &p.key("node_labels")))
                .unwrap_or_default();
            filter.rack_names = g
                .take("rack_names")
                .map(|n| cx.strings(n, &p.key("rack_names")))
                .unwrap_or_default();
            filter.rack_labels = g
                .take("rack_labels")
                .map(|n| cx.string_map(n, &p.key("rack_labels")))
                .unwrap_or_default();
            g.deny_unknown(cx, p);
            filter.filter_type = filter_type?;
            Some(filter)
        })
    });
    f.deny_unknown(cx, path);
    Some(NodeFilterSet {
        filter_set_type: set_type?,
        filter_set: filters?,
    })
}

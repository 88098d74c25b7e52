//! Where a field's value stands in the sources, found when a finding needs it.
//!
//! Recording the position of every field while reading would cost time and memory on every
//! design for the few that have problems. Instead the design keeps its source texts, and a
//! finding about a field re-reads the one document concerned (the stream's split into documents
//! is computed once per file) and walks the field's path to its value.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use super::diag::{DocumentKind, DocumentRef, SourceLocation};
use super::ingest::SiteDesign;
use super::node::CompiledNode;
use super::yaml::{self, Node, Value};

/// One step of a field path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// The item of a list whose `name` is the given one (partitions, logical volumes).
    Named(&'a str),
    /// The item of a list equal to the given scalar (a network of an interface).
    Item(&'a str),
    /// The item at an index.
    Index(usize),
}

/// The texts of a design's sources, by name. `Debug` shows names and sizes only: design texts
/// hold credentials.
#[derive(Default)]
pub(crate) struct SourceTexts {
    files: HashMap<Arc<str>, FileText>,
}

struct FileText {
    text: Arc<str>,
    /// `(first line, start, end)` of each document, found the first time one is needed.
    docs: OnceLock<Vec<(u32, usize, usize)>>,
}

impl fmt::Debug for SourceTexts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.files.iter().map(|(k, v)| (k, v.text.len())))
            .finish()
    }
}

impl SourceTexts {
    pub(crate) fn insert(&mut self, name: Arc<str>, text: Arc<str>) {
        self.files.insert(
            name,
            FileText {
                text,
                docs: OnceLock::new(),
            },
        );
    }

    /// Finds the value at `path` (below `data` or `spec`) in the document starting at `at`:
    /// the rendered path (`data.interfaces.pxe.networks[1]`) and the value's location.
    pub(crate) fn find(
        &self,
        at: &SourceLocation,
        path: &[Seg<'_>],
    ) -> Option<(String, SourceLocation)> {
        let file = self.files.get(&at.file)?;
        let text: &str = &file.text;
        let docs = file.docs.get_or_init(|| {
            let base = text.as_ptr() as usize;
            yaml::split_documents(text)
                .into_iter()
                .map(|d| {
                    let start = d.text.as_ptr() as usize - base;
                    (d.first_line, start, start + d.text.len())
                })
                .collect()
        });
        let i = docs.partition_point(|(line, _, _)| *line <= at.pos.line);
        let (first_line, start, end) = *docs.get(i.checked_sub(1)?)?;
        let root = yaml::parse_document(yaml::DocumentText {
            text: &text[start..end],
            first_line,
        })
        .ok()??;
        let (root_key, mut node) = ["data", "spec"]
            .into_iter()
            .find_map(|k| entry(&root, k).map(|n| (k, n)))?;
        let mut rendered = root_key.to_owned();
        for seg in path {
            node = match *seg {
                Seg::Key(k) => {
                    let _ = write!(rendered, ".{k}");
                    entry(node, k)?
                }
                Seg::Index(i) => {
                    let _ = write!(rendered, "[{i}]");
                    items(node)?.get(i)?
                }
                Seg::Named(name) => {
                    let (i, n) = items(node)?.iter().enumerate().find(|(_, n)| {
                        entry(n, "name")
                            .and_then(|v| yaml::scalar_text(&v.value))
                            .is_some_and(|v| v == name)
                    })?;
                    let _ = write!(rendered, "[{i}]");
                    n
                }
                Seg::Item(value) => {
                    let (i, n) = items(node)?
                        .iter()
                        .enumerate()
                        .find(|(_, n)| yaml::scalar_text(&n.value).is_some_and(|v| v == value))?;
                    let _ = write!(rendered, "[{i}]");
                    n
                }
            };
        }
        Some((
            rendered,
            SourceLocation {
                file: at.file.clone(),
                pos: node.pos,
            },
        ))
    }
}

/// The last value of `key` in a mapping node (the last of duplicate keys wins, as in decoding).
fn entry<'n, 'a>(node: &'n Node<'a>, key: &str) -> Option<&'n Node<'a>> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .rev()
            .find(|(k, _)| k.text == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

fn items<'n, 'a>(node: &'n Node<'a>) -> Option<&'n [Node<'a>]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        _ => None,
    }
}

/// Where a field is written: the document, the rendered path and the value's location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldAt {
    pub(crate) document: DocumentRef,
    pub(crate) field: String,
    pub(crate) location: SourceLocation,
}

impl SiteDesign {
    /// Where the value at `path` of the document `kind`/`name` is written.
    pub(crate) fn field_at(
        &self,
        kind: DocumentKind,
        name: &str,
        path: &[Seg<'_>],
    ) -> Option<FieldAt> {
        let at = self.location_of(kind, name)?;
        let (field, location) = self.texts.find(at, path)?;
        Some(FieldAt {
            document: DocumentRef::new(kind, name),
            field,
            location,
        })
    }

    /// Where the value at `path` of node `node` is written: in its own document, else in the
    /// nearest host profile that gives it.
    pub(crate) fn node_field_at(
        &self,
        node: &str,
        profiles: &[String],
        path: &[Seg<'_>],
    ) -> Option<FieldAt> {
        self.field_at(DocumentKind::BaremetalNode, node, path)
            .or_else(|| {
                profiles
                    .iter()
                    .find_map(|p| self.field_at(DocumentKind::HostProfile, p, path))
            })
    }

    /// The host profiles from `first` up, nearest first (as [`CompiledNode::profiles`]).
    pub(crate) fn profile_chain(&self, first: Option<&str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut cur = first;
        while let Some(p) = cur.filter(|p| !out.iter().any(|x| x == p)) {
            out.push(p.to_owned());
            cur = self
                .host_profiles
                .get(p)
                .and_then(|h| h.spec.parent.as_deref());
        }
        out
    }
}

impl CompiledNode {
    /// Where the value at `path` of this node is written (its document, else a host profile).
    pub(crate) fn field_at(&self, site: &SiteDesign, path: &[Seg<'_>]) -> Option<FieldAt> {
        site.node_field_at(&self.name, &self.profiles, path)
    }
}

/// A path as drydock models it, below `data` (for a field not written in any document).
pub(crate) fn render(path: &[Seg<'_>]) -> String {
    let mut out = String::from("data");
    for seg in path {
        let _ = match seg {
            Seg::Key(k) => write!(out, ".{k}"),
            Seg::Named(n) => write!(out, "[name={n}]"),
            Seg::Item(v) => write!(out, "[={v}]"),
            Seg::Index(i) => write!(out, "[{i}]"),
        };
    }
    out
}

/// The field path of a diagnostic (`data.platform.kernel_params.<key>`) as steps below the root.
pub(crate) fn segments(field: &str) -> Vec<Seg<'_>> {
    let rest = field
        .strip_prefix("data.")
        .or_else(|| field.strip_prefix("spec."))
        .unwrap_or(field);
    if let Some(key) = rest.strip_prefix("platform.kernel_params.") {
        return vec![
            Seg::Key("platform"),
            Seg::Key("kernel_params"),
            Seg::Key(key),
        ];
    }
    rest.split('.').map(Seg::Key).collect()
}

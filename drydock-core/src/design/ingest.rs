//! Ingestion: design documents in, a [`SiteDesign`] (or every problem found) out.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use super::decode::{Cx, Path};
use super::diag::{
    Diagnostic, DiagnosticKind, Diagnostics, DocumentKind, DocumentRef, Severity, SourceLocation,
};
use super::model::bootaction::{BootAction, decode_bootaction};
use super::model::hardware::{HardwareProfile, decode_hardware_profile};
use super::model::host::{BaremetalNode, HostProfile, decode_host_profile, decode_node};
use super::model::network::{Network, NetworkLink, decode_link, decode_network};
use super::model::site::{Rack, Region, decode_rack, decode_region};
use super::yaml::{self, DocumentText, Node, Value};

/// A site design as read from its documents, before inheritance.
#[derive(Clone, Debug, Default)]
pub struct SiteDesign {
    /// The Region document (of several, the last one read, as the reference; see
    /// `ingest.several_regions`).
    pub region: Option<Region>,
    /// Racks by name, in reading order.
    pub racks: IndexMap<String, Rack>,
    /// Network links by name.
    pub network_links: IndexMap<String, NetworkLink>,
    /// Networks by name.
    pub networks: IndexMap<String, Network>,
    /// Hardware profiles by name.
    pub hardware_profiles: IndexMap<String, HardwareProfile>,
    /// Host profiles by name.
    pub host_profiles: IndexMap<String, HostProfile>,
    /// Baremetal nodes by name.
    pub baremetal_nodes: IndexMap<String, BaremetalNode>,
    /// Boot actions by name.
    pub bootactions: IndexMap<String, BootAction>,
    /// Where each document starts, in reading order.
    pub sources: IndexMap<DocumentRef, SourceLocation>,
    /// Number of documents of other namespaces (deckhand/, promenade/, ...) that were skipped.
    pub skipped_documents: usize,
    /// The source texts, for locating the fields findings are about.
    pub(crate) texts: Arc<super::locate::SourceTexts>,
    /// Warnings and infos found while reading (duplicate keys, several Regions, unmodelled
    /// fields kept as pass-through data, ...).
    pub warnings: Vec<Diagnostic>,
}

impl SiteDesign {
    /// Where the document `kind`/`name` starts, if it was read from a source.
    pub fn location_of(&self, kind: DocumentKind, name: &str) -> Option<&SourceLocation> {
        self.sources.get(&DocumentKey { kind, name })
    }
}

/// A [`DocumentRef`] borrowed, for lookups (hashes as the owned reference does).
#[derive(Hash)]
struct DocumentKey<'a> {
    kind: DocumentKind,
    name: &'a str,
}

impl indexmap::Equivalent<DocumentRef> for DocumentKey<'_> {
    fn equivalent(&self, key: &DocumentRef) -> bool {
        self.kind == key.kind && self.name == key.name
    }
}

/// One input text and the name it is known by in diagnostics (a file path or `<string>`).
/// `Debug` shows the name and size only: design texts hold credentials.
#[derive(Clone)]
pub struct Source {
    /// The name shown in locations.
    pub name: Arc<str>,
    /// The YAML text.
    pub text: String,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .field("bytes", &self.text.len())
            .finish()
    }
}

impl Source {
    /// A source named `name` holding `text`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<String>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// Reads a design from YAML text (one or more documents).
///
/// ```
/// let design = drydock_core::design::ingest_str(
///     "schema: drydock/Network/v1\nmetadata: {name: mgmt}\ndata: {cidr: 10.0.0.0/24}\n",
/// ).unwrap();
/// assert_eq!(design.networks["mgmt"].cidr.to_string(), "10.0.0.0/24");
///
/// let errors = drydock_core::design::ingest_str(
///     "schema: drydock/Network/v1\nmetadata: {name: mgmt}\ndata: {mtu: 'x'}\n",
/// ).unwrap_err();
/// assert_eq!(errors.error_count(), 2); // mtu is not a number; cidr is missing
/// ```
pub fn ingest_str(text: &str) -> Result<SiteDesign, Diagnostics> {
    ingest_sources(&[Source::new("<string>", text)])
}

/// Reads a design from files and directories (walked recursively for `*.yaml` and `*.yml`, in
/// name order; symbolic links are followed, and each directory and file is read once): the
/// files of [`read_sources`], ingested with [`ingest_sources`].
///
/// Files that cannot be read are reported with the diagnostics of the files that could.
pub fn ingest_paths<P: AsRef<FsPath>>(paths: &[P]) -> Result<SiteDesign, Diagnostics> {
    let (sources, mut diags) = collect_sources(paths);
    let result = ingest_sources(&sources);
    if diags.is_empty() {
        return result;
    }
    if let Err(more) = result {
        diags.extend(more.0);
    }
    Err(Diagnostics(diags))
}

/// Reads the design files under `paths` as [`Source`]s, each named by its path, by the rules
/// of [`ingest_paths`]: a file named in `paths` is read whatever its name; a directory is
/// walked recursively, in name order, for `*.yaml` and `*.yml` files; symbolic links are
/// followed, and a directory or file already seen (by canonical path) is skipped, so a link
/// back up the tree neither loops nor reads a document twice.
///
/// Use it to keep the exact text of a design (for `Orchestrator::put_design`, or to ingest it
/// later with [`ingest_sources`]).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("b.yml"), "schema: drydock/Network/v1\n").unwrap();
/// std::fs::write(dir.path().join("a.yaml"), "schema: drydock/Rack/v1\n").unwrap();
/// std::fs::write(dir.path().join("notes.txt"), "not a design").unwrap();
/// let sources = drydock_core::design::read_sources(&[dir.path()]).unwrap();
/// let names: Vec<_> = sources
///     .iter()
///     .map(|s| std::path::Path::new(&*s.name).file_name().unwrap().to_owned())
///     .collect();
/// assert_eq!(names, ["a.yaml", "b.yml"]);
///
/// // Errors are typed diagnostics naming the path.
/// let missing = dir.path().join("missing");
/// let err = drydock_core::design::read_sources(&[&missing]).unwrap_err();
/// assert_eq!(err.0[0].kind, drydock_core::design::DiagnosticKind::Io);
/// ```
///
/// # Errors
///
/// A [`DiagnosticKind::Io`] diagnostic for every path that cannot be read, or one when no
/// YAML file was found at all.
pub fn read_sources<P: AsRef<FsPath>>(paths: &[P]) -> Result<Vec<Source>, Diagnostics> {
    let (sources, diags) = collect_sources(paths);
    if diags.is_empty() {
        Ok(sources)
    } else {
        Err(Diagnostics(diags))
    }
}

/// The sources under `paths` and the diagnostics of what could not be read.
fn collect_sources<P: AsRef<FsPath>>(paths: &[P]) -> (Vec<Source>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        collect_files(p.as_ref(), &mut files, &mut diags, &mut seen);
    }
    let mut sources = Vec::with_capacity(files.len());
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(text) => sources.push(Source::new(f.display().to_string(), text)),
            Err(e) => diags.push(Diagnostic::error(
                DiagnosticKind::Io,
                format!("{}: {e}", f.display()),
            )),
        }
    }
    if sources.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::error(
            DiagnosticKind::Io,
            "no *.yaml or *.yml file found in the given paths",
        ));
    }
    (sources, diags)
}

/// Adds the YAML files under `path` to `out`. Symbolic links are followed, but a directory
/// or file already seen (by its canonical path) is skipped, so that a link back up the tree
/// neither loops nor reads a document twice.
fn collect_files(
    path: &FsPath,
    out: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    seen: &mut std::collections::HashSet<PathBuf>,
) {
    if let Ok(canonical) = std::fs::canonicalize(path)
        && !seen.insert(canonical)
    {
        return;
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    diags.push(Diagnostic::error(
                        DiagnosticKind::Io,
                        format!("{}: {e}", path.display()),
                    ));
                    return;
                }
            };
            entries.sort();
            for e in entries {
                let is_yaml = e.extension().is_some_and(|x| x == "yaml" || x == "yml");
                if e.is_dir() || is_yaml {
                    collect_files(&e, out, diags, seen);
                }
            }
        }
        Ok(_) => out.push(path.to_path_buf()),
        Err(e) => diags.push(Diagnostic::error(
            DiagnosticKind::Io,
            format!("{}: {e}", path.display()),
        )),
    }
}

/// A decoded document.
enum Decoded {
    Region(Region),
    Rack(Rack),
    NetworkLink(NetworkLink),
    Network(Network),
    HardwareProfile(HardwareProfile),
    HostProfile(HostProfile),
    BaremetalNode(BaremetalNode),
    BootAction(BootAction),
}

/// The outcome of one document: decoded or skipped, with the diagnostics it produced.
struct DocOutcome {
    doc: Option<(DocumentRef, SourceLocation, Decoded)>,
    skipped: bool,
    diags: Vec<Diagnostic>,
}

/// Reads a design from several sources. Documents are parsed and decoded in parallel; the
/// design keeps the order of the sources and of the documents in them.
pub fn ingest_sources(sources: &[Source]) -> Result<SiteDesign, Diagnostics> {
    let docs: Vec<(&Arc<str>, DocumentText<'_>)> = sources
        .iter()
        .flat_map(|s| {
            yaml::split_documents(&s.text)
                .into_iter()
                .map(move |d| (&s.name, d))
        })
        .collect();
    let outcomes = parallel_chunks(&docs, |(file, doc)| read_document(file, *doc));
    let mut design = assemble(outcomes)?;
    let mut texts = super::locate::SourceTexts::default();
    for s in sources {
        texts.insert(s.name.clone(), Arc::from(s.text.as_str()));
    }
    design.texts = Arc::new(texts);
    Ok(design)
}

/// Maps `items` on the available cores; the results in order, one vector per chunk (so that a
/// caller moving them elsewhere need not first copy them all into one vector).
pub(crate) fn parallel_chunks<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads <= 1 || items.len() < 64 {
        return vec![items.iter().map(&f).collect()];
    }
    let chunk = items.len().div_ceil(threads);
    // The calling thread takes the first chunk itself: one thread fewer to start, and its
    // allocations go to its own (usually the main) malloc arena, where the memory freed by
    // earlier work is.
    let (first, rest) = items.split_at(chunk.min(items.len()));
    std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        let mut out = vec![first.iter().map(&f).collect::<Vec<R>>()];
        for h in handles {
            out.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

fn read_document(file: &Arc<str>, doc: DocumentText<'_>) -> DocOutcome {
    let mut out = DocOutcome {
        doc: None,
        skipped: false,
        diags: Vec::new(),
    };
    if doc.text.len() > yaml::MAX_DOCUMENT_BYTES {
        out.diags.push(
            Diagnostic::error(
                DiagnosticKind::LimitExceeded,
                format!(
                    "the document starting at line {} is {} bytes; at most {} are read",
                    doc.first_line,
                    doc.text.len(),
                    yaml::MAX_DOCUMENT_BYTES
                ),
            )
            .at(Some(SourceLocation {
                file: file.clone(),
                pos: yaml::Pos {
                    line: doc.first_line,
                    column: 1,
                },
            })),
        );
        return out;
    }
    let root = match yaml::parse_document(doc) {
        Ok(Some(root)) => root,
        Ok(None) => return out,
        Err(e) => {
            out.diags.push(
                Diagnostic::error(DiagnosticKind::YamlSyntax, e.message).at(Some(SourceLocation {
                    file: file.clone(),
                    pos: e.pos,
                })),
            );
            return out;
        }
    };
    let loc = |pos| {
        Some(SourceLocation {
            file: file.clone(),
            pos,
        })
    };
    let Value::Map(entries) = &root.value else {
        out.diags.push(
            Diagnostic::error(
                DiagnosticKind::InvalidEnvelope,
                format!(
                    "a design document is a mapping, not {}",
                    root.value.type_name()
                ),
            )
            .at(loc(root.pos)),
        );
        return out;
    };
    let get = |k: &str| {
        entries
            .iter()
            .find(|(key, _)| key.text == k)
            .map(|(_, v)| v)
    };
    let as_str = |n: Option<&Node>| {
        n.and_then(|n| yaml::scalar_text(&n.value))
            .map(|s| s.into_owned())
    };
    // Which envelope, which kind.
    let (kind_name, version, data_key, schema_node) = if let Some(schema) = as_str(get("schema")) {
        let parts: Vec<&str> = schema.split('/').collect();
        if parts.len() != 3 || parts[0] != "drydock" {
            out.skipped = true;
            tracing::debug!(schema = %schema, file = %file, "skipping a document of another namespace");
            return out;
        }
        (
            parts[1].to_owned(),
            parts[2].to_owned(),
            "data",
            get("schema"),
        )
    } else if let Some(api) = as_str(get("apiVersion")) {
        match api.split_once('/') {
            Some(("drydock", v)) => (
                as_str(get("kind")).unwrap_or_default(),
                v.to_owned(),
                "spec",
                get("kind"),
            ),
            // No namespace at all (`apiVersion: v1.0`): an old drydock document, not another tool's.
            None => (
                as_str(get("kind")).unwrap_or_default(),
                api.clone(),
                "spec",
                get("kind"),
            ),
            Some(_) => {
                out.skipped = true;
                tracing::debug!(api_version = %api, file = %file, "skipping a document of another namespace");
                return out;
            }
        }
    } else {
        out.diags.push(
            Diagnostic::error(
                DiagnosticKind::InvalidEnvelope,
                "a design document needs 'schema: drydock/<Kind>/v1' (Deckhand) or 'apiVersion: drydock/v1' and 'kind' (legacy)",
            )
            .at(loc(root.pos)),
        );
        return out;
    };
    let kind_pos = schema_node.map_or(root.pos, |n| n.pos);
    let name_node = get("metadata").and_then(|m| match &m.value {
        Value::Map(e) => e.iter().find(|(k, _)| k.text == "name").map(|(_, v)| v),
        _ => None,
    });
    let name = name_node
        .and_then(|n| yaml::scalar_text(&n.value))
        .map(|s| s.into_owned());
    let Some(kind) = DocumentKind::from_name(&kind_name) else {
        let known: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.as_str()).collect();
        out.diags.push(
            Diagnostic::error(
                DiagnosticKind::UnknownKind,
                format!(
                    "unknown kind '{kind_name}'; expected one of: {}",
                    known.join(", ")
                ),
            )
            .at(loc(kind_pos)),
        );
        return out;
    };
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        out.diags.push(
            Diagnostic::error(
                DiagnosticKind::MissingField,
                format!("a {kind} document needs a non-empty 'metadata.name'"),
            )
            .at_field("metadata.name")
            .at(loc(get("metadata").map_or(root.pos, |m| m.pos))),
        );
        return out;
    };
    let doc_ref = DocumentRef::new(kind, name.clone());
    if version != "v1" {
        out.diags.push(
            Diagnostic::error(
                DiagnosticKind::UnsupportedVersion,
                if data_key == "spec" {
                    format!("{kind} apiVersion '{version}' is not supported; use 'apiVersion: drydock/v1'")
                } else {
                    format!("{kind} version '{version}' is not supported; use {}", kind.schema())
                },
            )
            .in_document(doc_ref)
            .at(loc(kind_pos)),
        );
        return out;
    }
    let empty = Node {
        value: Value::Map(Vec::new()),
        pos: root.pos,
    };
    let data = get(data_key).unwrap_or(&empty);
    let mut cx = Cx {
        diags: &mut out.diags,
        doc: &doc_ref,
        file,
    };
    let path = Path::Root(data_key);
    let decoded = match kind {
        DocumentKind::Region => Some(Decoded::Region(decode_region(&mut cx, &name, data, &path))),
        DocumentKind::Rack => Some(Decoded::Rack(decode_rack(&mut cx, &name, data, &path))),
        DocumentKind::NetworkLink => {
            decode_link(&mut cx, &name, data, &path).map(Decoded::NetworkLink)
        }
        DocumentKind::Network => decode_network(&mut cx, &name, data, &path).map(Decoded::Network),
        DocumentKind::HardwareProfile => {
            decode_hardware_profile(&mut cx, &name, data, &path).map(Decoded::HardwareProfile)
        }
        DocumentKind::HostProfile => {
            decode_host_profile(&mut cx, &name, data, &path).map(Decoded::HostProfile)
        }
        DocumentKind::BaremetalNode => {
            decode_node(&mut cx, &name, data, &path).map(Decoded::BaremetalNode)
        }
        DocumentKind::BootAction => {
            decode_bootaction(&mut cx, &name, data, &path).map(Decoded::BootAction)
        }
    };
    if let Some(d) = decoded {
        out.doc = Some((
            doc_ref,
            SourceLocation {
                file: file.clone(),
                pos: root.pos,
            },
            d,
        ));
    }
    out
}

fn assemble(outcomes: Vec<Vec<DocOutcome>>) -> Result<SiteDesign, Diagnostics> {
    let mut design = SiteDesign::default();
    // Sized up front: growing the maps would copy every document again (and hold both copies).
    let (docs, nodes) = outcomes
        .iter()
        .flatten()
        .fold((0, 0), |(d, n), o| match &o.doc {
            Some((_, _, Decoded::BaremetalNode(_))) => (d + 1, n + 1),
            Some(_) => (d + 1, n),
            None => (d, n),
        });
    design.sources.reserve(docs);
    design.baremetal_nodes.reserve(nodes);
    let mut diags = Vec::new();
    for outcome in outcomes.into_iter().flatten() {
        diags.extend(outcome.diags);
        design.skipped_documents += usize::from(outcome.skipped);
        let Some((doc_ref, location, decoded)) = outcome.doc else {
            continue;
        };
        insert(&mut design, &mut diags, doc_ref, location, decoded);
    }
    if diags.iter().any(Diagnostic::is_error) {
        // Infos (unmodelled fields kept) are noise beside errors; they come back once the
        // design is read.
        diags.retain(|d| d.severity != Severity::Info);
        return Err(Diagnostics(diags));
    }
    design.warnings = diags;
    tracing::debug!(
        skipped = design.skipped_documents,
        nodes = design.baremetal_nodes.len(),
        "design ingested"
    );
    Ok(design)
}

fn insert(
    design: &mut SiteDesign,
    diags: &mut Vec<Diagnostic>,
    doc_ref: DocumentRef,
    location: SourceLocation,
    decoded: Decoded,
) {
    fn put<T>(map: &mut IndexMap<String, T>, name: String, value: T) -> bool {
        match map.entry(name) {
            indexmap::map::Entry::Occupied(_) => false,
            indexmap::map::Entry::Vacant(e) => {
                e.insert(value);
                true
            }
        }
    }
    let name = doc_ref.name.clone();
    let fresh = match decoded {
        Decoded::Region(r) => {
            // The reference keeps the last Region read and goes on; real bundles carry a
            // global profile Region beside the site's own.
            if let Some(existing) = &design.region {
                let before = design
                    .sources
                    .get(&DocumentRef::new(
                        DocumentKind::Region,
                        existing.name.clone(),
                    ))
                    .map(|l| format!(" (at {l})"))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(
                        DiagnosticKind::SeveralRegions,
                        format!(
                            "several Region documents: '{}'{before} and '{}' (at {location}); \
                             '{}', the last one read, is used",
                            existing.name, r.name, r.name
                        ),
                    )
                    .warning()
                    .in_document(doc_ref.clone())
                    .at(Some(location.clone())),
                );
            }
            design.region = Some(r);
            design.sources.insert(doc_ref, location);
            return;
        }
        Decoded::Rack(v) => put(&mut design.racks, name, v),
        Decoded::NetworkLink(v) => put(&mut design.network_links, name, v),
        Decoded::Network(v) => put(&mut design.networks, name, v),
        Decoded::HardwareProfile(v) => put(&mut design.hardware_profiles, name, v),
        Decoded::HostProfile(v) => put(&mut design.host_profiles, name, v),
        Decoded::BaremetalNode(v) => put(&mut design.baremetal_nodes, name, v),
        Decoded::BootAction(v) => put(&mut design.bootactions, name, v),
    };
    if fresh {
        design.sources.insert(doc_ref, location);
    } else {
        let first = design
            .sources
            .get(&doc_ref)
            .map(|l| format!(" (first defined at {l})"))
            .unwrap_or_default();
        diags.push(
            Diagnostic::error(
                DiagnosticKind::DuplicateName,
                format!("{doc_ref} is defined twice{first}"),
            )
            .in_document(doc_ref)
            .at(Some(location)),
        );
    }
}

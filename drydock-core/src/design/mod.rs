//! The site design: documents, ingestion, inheritance and compile.
//!
//! # Reading YAML
//!
//! Documents are parsed with [`saphyr_parser`] into a tree whose every node knows its line and
//! column, then decoded by hand so that every problem of every document is reported with its
//! field path and location (serde stops at the first error of a document).
//! Measured on `site_5000.yaml` (2.9 MB, 5,145 documents) on the 2-core reference machine,
//! single-threaded: serde-saphyr 2.2 needs 195 ms just to parse (into `IgnoredAny`) and 280 ms to
//! build a tree of `Spanned` values; yaml_serde 0.10 needs 62 ms to parse and 105 ms to build a
//! `Value`, but keeps no locations; saphyr-parser 0.3 delivers every event with its span in
//! 72 ms. drydock builds its located tree from those events, and parses documents in parallel.
//!
//! Most design documents are plain block YAML (block mappings and sequences, one-line plain or
//! quoted scalars). Those are first read by a small line-based reader (`yaml/fast.rs`) that
//! builds the same located tree with fewer instructions (callgrind: ~58 M for the 0.56 MB of
//! `site_1000.yaml`, tree and allocations included); any document using anything else (flow
//! collections, block scalars, anchors, tags, escapes, multi-line scalars, non-ASCII text,
//! syntax errors, ...) is parsed by saphyr-parser as before. A test checks that both give the
//! same tree, positions included, for every corpus document the fast reader accepts.

pub mod compile;
pub mod decode;
pub mod diag;
pub mod filter;
pub mod ingest;
pub mod inherit;
pub(crate) mod locate;
pub mod model;
pub mod node;
pub mod yaml;

pub use compile::{CompiledDesign, compile};
pub use decode::Extras;
pub use diag::{
    Diagnostic, DiagnosticKind, Diagnostics, DocumentKind, DocumentRef, Severity, SourceLocation,
};
pub use filter::{NodeFilter, NodeFilterSet, SetType};
pub use ingest::{SiteDesign, Source, ingest_paths, ingest_sources, ingest_str, read_sources};
pub use model::bootaction::{
    Asset, AssetData, AssetType, BootAction, DataPipelineSegment, LocationPipelineSegment,
};
pub use model::common::{Secret, Setting, Size, SizeError, SizeSpec};
pub use model::hardware::{BootMode, BootstrapProtocol, DeviceAlias, HardwareProfile, Hugepages};
pub use model::host::{
    Address, AddressAssignment, BaremetalNode, DeviceSpec, FilesystemSpec, HostProfile, HostSpec,
    InterfaceSpec, KernelParam, LogicalVolumeSpec, OobParameters, OobType, PartitionSpec, Sriov,
    VolumeGroupSpec,
};
pub use model::network::{
    AddressRange, Bonding, BondingMode, DhcpRelay, Network, NetworkLink, RangeType, Route,
    Trunking, TrunkingMode,
};
pub use model::site::{
    Rack, Region, RepoType, Repositories, Repository, TagDefinition, TagDefinitionType, TorSwitch,
};
pub use node::{
    CompiledNode, DeviceSelector, Filesystem, Interface, LogicalVolume, Oob, Partition, Platform,
    StorageDevice, VolumeGroup,
};
pub use yaml::Pos;

/// Reads and compiles a design from files and directories in one step.
pub fn load<P: AsRef<std::path::Path>>(paths: &[P]) -> Result<CompiledDesign, Diagnostics> {
    compile(ingest_paths(paths)?)
}

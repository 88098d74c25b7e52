//! Diagnostics: every problem found while reading or compiling a design, with the document, the
//! field and the place in the source it concerns.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::yaml::Pos;

/// The kind of a design document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum DocumentKind {
    /// `drydock/Region/v1`: site-wide settings.
    Region,
    /// `drydock/Rack/v1`.
    Rack,
    /// `drydock/NetworkLink/v1`: layer 1/2 settings of a link.
    NetworkLink,
    /// `drydock/Network/v1`: a layer 3 network.
    Network,
    /// `drydock/HardwareProfile/v1`.
    HardwareProfile,
    /// `drydock/HostProfile/v1`.
    HostProfile,
    /// `drydock/BaremetalNode/v1`.
    BaremetalNode,
    /// `drydock/BootAction/v1`.
    BootAction,
}

impl DocumentKind {
    /// Every kind, in the order the reference lists them.
    pub const ALL: [DocumentKind; 8] = [
        DocumentKind::Region,
        DocumentKind::Rack,
        DocumentKind::NetworkLink,
        DocumentKind::Network,
        DocumentKind::HardwareProfile,
        DocumentKind::HostProfile,
        DocumentKind::BaremetalNode,
        DocumentKind::BootAction,
    ];

    /// The kind's name as written in documents (`NetworkLink`).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Region => "Region",
            DocumentKind::Rack => "Rack",
            DocumentKind::NetworkLink => "NetworkLink",
            DocumentKind::Network => "Network",
            DocumentKind::HardwareProfile => "HardwareProfile",
            DocumentKind::HostProfile => "HostProfile",
            DocumentKind::BaremetalNode => "BaremetalNode",
            DocumentKind::BootAction => "BootAction",
        }
    }

    /// The Deckhand schema of the kind (`drydock/NetworkLink/v1`).
    pub fn schema(self) -> &'static str {
        match self {
            DocumentKind::Region => "drydock/Region/v1",
            DocumentKind::Rack => "drydock/Rack/v1",
            DocumentKind::NetworkLink => "drydock/NetworkLink/v1",
            DocumentKind::Network => "drydock/Network/v1",
            DocumentKind::HardwareProfile => "drydock/HardwareProfile/v1",
            DocumentKind::HostProfile => "drydock/HostProfile/v1",
            DocumentKind::BaremetalNode => "drydock/BaremetalNode/v1",
            DocumentKind::BootAction => "drydock/BootAction/v1",
        }
    }

    /// Parses a kind name as written in documents.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to one design document: its kind and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentRef {
    /// The document's kind.
    pub kind: DocumentKind,
    /// The document's `metadata.name`.
    pub name: String,
}

impl DocumentRef {
    /// A reference to the document `name` of kind `kind`.
    pub fn new(kind: DocumentKind, name: impl Into<String>) -> Self {
        DocumentRef {
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for DocumentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.kind, self.name)
    }
}

/// Serialises as the reference does: `{"schema": "drydock/Network/v1", "name": "oob"}`.
impl Serialize for DocumentRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("DocumentRef", 2)?;
        st.serialize_field("schema", self.kind.schema())?;
        st.serialize_field("name", &self.name)?;
        st.end()
    }
}

/// Where something stands in the design's sources.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceLocation {
    /// The file (or `<string>` for text given directly).
    pub file: Arc<str>,
    /// Line and column.
    pub pos: Pos,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

impl Serialize for SourceLocation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What went wrong, as a closed set callers can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A file could not be read.
    Io,
    /// The text is not valid YAML.
    YamlSyntax,
    /// The document's envelope is unusable (no `metadata.name`, `data` not a mapping, ...).
    InvalidEnvelope,
    /// A `drydock/` document of a kind drydock does not know.
    UnknownKind,
    /// A known kind in a version drydock does not know.
    UnsupportedVersion,
    /// A field the kind's schema does not define.
    UnknownField,
    /// A field of the wrong YAML type.
    WrongType,
    /// A required field is absent.
    MissingField,
    /// A value outside its allowed set or format.
    InvalidValue,
    /// Two documents of one kind share a name.
    DuplicateName,
    /// A key appears twice in one mapping (a warning: the last value is used).
    DuplicateKey,
    /// A reference to a document that does not exist (a parent profile, a hardware profile).
    UnknownReference,
    /// Host profiles that inherit from each other in a loop.
    InheritanceCycle,
    /// A `hardwareprofile:` kernel parameter reference that does not resolve.
    UnresolvedParameter,
    /// A malformed node filter.
    InvalidNodeFilter,
    /// A field at a place the reference's schema leaves open that drydock does not model
    /// (an info: the value is kept as pass-through data, see `Extras`).
    UnmodelledField,
    /// An unmodelled field whose name is close to a modelled one (a warning naming it).
    LikelyTypo,
    /// A document or mapping larger than drydock reads (see `MAX_DOCUMENT_BYTES` and
    /// `MAX_MAPPING_ENTRIES`).
    LimitExceeded,
    /// Several Region documents (a warning: the last one read is used, as the reference does).
    SeveralRegions,
}

impl DiagnosticKind {
    /// A stable identifier (`ingest.unknown_field`).
    pub fn id(self) -> &'static str {
        match self {
            DiagnosticKind::Io => "ingest.io",
            DiagnosticKind::YamlSyntax => "ingest.yaml_syntax",
            DiagnosticKind::InvalidEnvelope => "ingest.invalid_envelope",
            DiagnosticKind::UnknownKind => "ingest.unknown_kind",
            DiagnosticKind::UnsupportedVersion => "ingest.unsupported_version",
            DiagnosticKind::UnknownField => "ingest.unknown_field",
            DiagnosticKind::WrongType => "ingest.wrong_type",
            DiagnosticKind::MissingField => "ingest.missing_field",
            DiagnosticKind::InvalidValue => "ingest.invalid_value",
            DiagnosticKind::DuplicateName => "ingest.duplicate_name",
            DiagnosticKind::DuplicateKey => "ingest.duplicate_key",
            DiagnosticKind::UnknownReference => "compile.unknown_reference",
            DiagnosticKind::InheritanceCycle => "compile.inheritance_cycle",
            DiagnosticKind::UnresolvedParameter => "compile.unresolved_parameter",
            DiagnosticKind::InvalidNodeFilter => "compile.invalid_node_filter",
            DiagnosticKind::UnmodelledField => "ingest.unmodelled_field",
            DiagnosticKind::LikelyTypo => "ingest.likely_typo",
            DiagnosticKind::LimitExceeded => "ingest.limit_exceeded",
            DiagnosticKind::SeveralRegions => "ingest.several_regions",
        }
    }

    /// The reference's code for this kind of problem: `DD001` for what its document schemas
    /// reject (unknown fields, wrong types, missing fields, invalid values), `DD000` otherwise.
    pub fn reference_code(self) -> &'static str {
        match self {
            DiagnosticKind::UnknownField
            | DiagnosticKind::WrongType
            | DiagnosticKind::MissingField
            | DiagnosticKind::InvalidValue => "DD001",
            _ => "DD000",
        }
    }

    /// A short title for people.
    pub fn title(self) -> &'static str {
        match self {
            DiagnosticKind::Io => "cannot read",
            DiagnosticKind::YamlSyntax => "YAML syntax error",
            DiagnosticKind::InvalidEnvelope => "invalid document envelope",
            DiagnosticKind::UnknownKind => "unknown document kind",
            DiagnosticKind::UnsupportedVersion => "unsupported document version",
            DiagnosticKind::UnknownField => "unknown field",
            DiagnosticKind::WrongType => "wrong type",
            DiagnosticKind::MissingField => "missing field",
            DiagnosticKind::InvalidValue => "invalid value",
            DiagnosticKind::DuplicateName => "duplicate document name",
            DiagnosticKind::DuplicateKey => "duplicate key",
            DiagnosticKind::UnknownReference => "unknown reference",
            DiagnosticKind::InheritanceCycle => "inheritance cycle",
            DiagnosticKind::UnresolvedParameter => "unresolved parameter reference",
            DiagnosticKind::InvalidNodeFilter => "invalid node filter",
            DiagnosticKind::UnmodelledField => "unmodelled field",
            DiagnosticKind::LikelyTypo => "probable typo",
            DiagnosticKind::LimitExceeded => "too large",
            DiagnosticKind::SeveralRegions => "several regions",
        }
    }
}

/// Whether a diagnostic stops the design from being used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; changes nothing.
    Info,
    /// Probably a mistake, but the design can be used.
    Warning,
    /// The design cannot be used.
    Error,
}

/// One problem in a design, located as precisely as possible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// What kind of problem.
    pub kind: DiagnosticKind,
    /// How serious.
    pub severity: Severity,
    /// The document concerned, when known.
    pub document: Option<DocumentRef>,
    /// The field path inside the document (`data.interfaces.pxe.networks[1]`), when known.
    pub field: Option<String>,
    /// Where in the sources, when known.
    pub location: Option<SourceLocation>,
    /// What is wrong, for a site engineer.
    pub message: String,
}

impl Diagnostic {
    /// An error of kind `kind` with `message` and nothing located yet.
    pub fn error(kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            severity: Severity::Error,
            document: None,
            field: None,
            location: None,
            message: message.into(),
        }
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// The same diagnostic as an info.
    pub fn info(mut self) -> Self {
        self.severity = Severity::Info;
        self
    }

    /// Attaches the document concerned.
    pub fn in_document(mut self, doc: DocumentRef) -> Self {
        self.document = Some(doc);
        self
    }

    /// Attaches the field path.
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Attaches the source location.
    pub fn at(mut self, location: Option<SourceLocation>) -> Self {
        self.location = location;
        self
    }

    /// Whether this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{level}: {}", self.kind.title())?;
        if let Some(doc) = &self.document {
            write!(f, " in {doc}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " at {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A list of diagnostics, as returned when a design cannot be read or compiled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// Iterates the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

//! One validation finding.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeMap;

use super::RuleId;
use crate::design::locate::{FieldAt, Seg, render};
use crate::design::{
    CompiledDesign, CompiledNode, DocumentKind, DocumentRef, Severity, SourceLocation,
};

/// One message of a rule: an error, a warning or an info.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// Error, warning or info.
    pub level: Severity,
    /// `"<long name>: <what>"`, the reference's text where the reference has the check.
    pub message: String,
    /// How to fix it (empty for infos).
    pub diagnostic: String,
    /// The documents involved.
    pub documents: Vec<DocumentRef>,
    /// The field the finding is about, as a path in the document where its value is written
    /// (`data.mtu`, `data.storage.physical_devices.sda.partitions[0].size`), when it is about
    /// one field. For a node, that document may be one of its host profiles.
    pub field: Option<String>,
    /// Where the field's value is written when [`Finding::field`] is set and found in the
    /// sources; otherwise where the first document starts, when known.
    pub location: Option<SourceLocation>,
}

impl Finding {
    /// A finding of `rule` whose message is `"<long name>: <msg>"`.
    pub fn new(
        rule: RuleId,
        level: Severity,
        msg: impl fmt::Display,
        diagnostic: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            level,
            message: format!("{}: {msg}", rule.long_name()),
            diagnostic: diagnostic.into(),
            documents: Vec::new(),
            field: None,
            location: None,
        }
    }

    /// Points the finding at the value of `path` in the document `kind`/`name`.
    pub(crate) fn at_field(
        mut self,
        design: &CompiledDesign,
        kind: DocumentKind,
        name: &str,
        path: &[Seg<'_>],
    ) -> Self {
        self.set_field(design.site.field_at(kind, name, path), path);
        self
    }

    /// Points the finding at the value of `path` of node `node`: in its document, else in the
    /// nearest host profile that writes it.
    pub(crate) fn at_node_field(
        mut self,
        design: &CompiledDesign,
        node: &CompiledNode,
        path: &[Seg<'_>],
    ) -> Self {
        self.set_field(node.field_at(&design.site, path), path);
        self
    }

    fn set_field(&mut self, at: Option<FieldAt>, path: &[Seg<'_>]) {
        match at {
            Some(at) => {
                self.field = Some(at.field);
                self.location = Some(at.location);
            }
            // Not written anywhere (a default value): the path as drydock models it.
            None => self.field = Some(render(path)),
        }
    }

    /// Adds a document involved; the first one added also gives the location.
    pub fn document(mut self, design: &CompiledDesign, kind: DocumentKind, name: &str) -> Self {
        if self.location.is_none() {
            self.location = design.site.location_of(kind, name).cloned();
        }
        self.documents.push(DocumentRef::new(kind, name));
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.level == Severity::Error
    }

    /// Whether one of the documents involved is named `name`.
    pub fn involves(&self, name: &str) -> bool {
        self.documents.iter().any(|d| d.name == name)
    }
}

pub(crate) fn level_name(level: Severity) -> &'static str {
    match level {
        Severity::Info => "Info",
        Severity::Warning => "Warning",
        Severity::Error => "Error",
    }
}

/// Serialises as the reference's `ValidationMessage`, plus `rule`, `field` and `location`:
/// `{kind: "ValidationMessage", name: "DD2003", message, error, level: "Error", diagnostic,
/// documents: [{schema, name}], rule: "storage_sizing", field: "data.mtu",
/// location: "file:line:col"}` (`field` null when the finding is about no single field).
/// `name` is the rule id for drydock's own rules, which have no reference code.
impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(10))?;
        m.serialize_entry("kind", "ValidationMessage")?;
        m.serialize_entry(
            "name",
            self.rule.reference_code().unwrap_or(self.rule.as_str()),
        )?;
        m.serialize_entry("message", &self.message)?;
        m.serialize_entry("error", &self.is_error())?;
        m.serialize_entry("level", level_name(self.level))?;
        m.serialize_entry("diagnostic", &self.diagnostic)?;
        m.serialize_entry("documents", &self.documents)?;
        m.serialize_entry("rule", self.rule.as_str())?;
        m.serialize_entry("field", &self.field)?;
        m.serialize_entry("location", &self.location)?;
        m.end()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{level}[{}]", self.rule)?;
        if let Some(loc) = &self.location {
            write!(f, " {loc}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " at {field}")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.documents.is_empty() {
            let docs: Vec<String> = self.documents.iter().map(ToString::to_string).collect();
            write!(f, " ({})", docs.join(", "))?;
        }
        if !self.diagnostic.is_empty() {
            write!(f, "\n    help: {}", self.diagnostic)?;
        }
        Ok(())
    }
}

//! Typed decoding of YAML trees into the design model, collecting every problem.
//!
//! Decoders never stop at the first problem: each reader reports what is wrong with its field
//! (with the field path and the source position) and returns `None`, and the caller carries on.
//!
//! Each mapping is closed or open as the reference's JSON schema for that place is: a decoder
//! ends a closed mapping with `Fields::deny_unknown` (unknown keys are errors) and an open one
//! with `Fields::rest`, which keeps the unknown keys as [`Extras`] (reported as infos). Both
//! name the modelled key a near miss was probably meant to be (`mtuu` → `mtu`).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

use super::diag::{Diagnostic, DiagnosticKind, DocumentRef, SourceLocation};
use super::yaml::{Key, Node, Pos, Value};

/// A field path, built on the stack while decoding and rendered only when a problem is reported.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    /// The top (`data`, `spec` or `metadata`).
    Root(&'a str),
    /// A mapping entry.
    Key(&'a Path<'a>, &'a str),
    /// A list item.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }
    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A closed set of string values read from documents.
pub(crate) trait StrEnum: Sized + Copy + 'static {
    /// What the value is, for messages (`bonding mode`).
    const WHAT: &'static str;
    /// Every accepted spelling and its value.
    const VALUES: &'static [(&'static str, Self)];
}

/// Defines a public enum read from a fixed set of strings, with serde and `as_str`.
macro_rules! str_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }
        impl $name {
            /// The value as written in documents.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $name {
            type Err = crate::design::decode::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as crate::design::decode::StrEnum>::VALUES
                    .iter()
                    .find(|(t, _)| *t == s)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| crate::design::decode::UnknownValue::of::<Self>(s))
            }
        }
        impl crate::design::decode::StrEnum for $name {
            const WHAT: &'static str = $what;
            const VALUES: &'static [(&'static str, Self)] = &[$(($text, $name::$variant)),+];
        }
    };
}
pub(crate) use str_enum;

/// A string that is not one of an enum's values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {what}; expected one of: {allowed}")]
pub struct UnknownValue {
    /// What was expected.
    pub what: &'static str,
    /// The value found.
    pub value: String,
    /// The allowed values, comma-separated.
    pub allowed: String,
}

impl UnknownValue {
    pub(crate) fn of<E: StrEnum>(value: &str) -> Self {
        UnknownValue {
            what: E::WHAT,
            value: value.to_owned(),
            allowed: E::VALUES
                .iter()
                .map(|(t, _)| *t)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Most entries one mapping of a design document may have. Real designs stay far below (the
/// largest mappings are kernel parameters and labels, with tens of entries); the bound keeps a
/// hostile document from costing unbounded time and memory.
pub const MAX_MAPPING_ENTRIES: usize = 250_000;

/// Decoding context of one document: where problems go and what they are attached to.
pub(crate) struct Cx<'a> {
    pub(crate) diags: &'a mut Vec<Diagnostic>,
    pub(crate) doc: &'a DocumentRef,
    pub(crate) file: &'a Arc<str>,
}

impl Cx<'_> {
    pub(crate) fn location(&self, pos: Pos) -> Option<SourceLocation> {
        Some(SourceLocation {
            file: self.file.clone(),
            pos,
        })
    }

    /// Reports a problem at `path` / `pos`.
    pub(crate) fn report(
        &mut self,
        kind: DiagnosticKind,
        path: &Path<'_>,
        pos: Pos,
        message: impl Into<String>,
    ) {
        let d = Diagnostic::error(kind, message)
            .in_document(self.doc.clone())
            .at_field(path.to_string())
            .at(self.location(pos));
        self.diags.push(d);
    }

    /// Reports a type mismatch.
    pub(crate) fn wrong_type(&mut self, path: &Path<'_>, node: &Node, expected: &str) {
        let found = match &node.value {
            Value::Str(s) => format!("the string '{}'", truncate(s)),
            Value::Int(i) => format!("the integer {i}"),
            other => other.type_name().to_owned(),
        };
        self.report(
            DiagnosticKind::WrongType,
            path,
            node.pos,
            format!("expected {expected}, found {found}"),
        );
    }

    /// Warns of keys that appear more than once in a mapping (YAML forbids it; PyYAML, which
    /// the reference used, keeps the last value, and so does drydock). Linear in the number of
    /// entries: small mappings are compared pairwise, larger ones go through a hash map.
    fn warn_duplicate_keys(&mut self, entries: &[(Key, Node)], path: &Path<'_>) {
        const PAIRWISE_UP_TO: usize = 16;
        if entries.len() <= PAIRWISE_UP_TO {
            for (i, (key, _)) in entries.iter().enumerate() {
                if let Some((first, _)) = entries[..i].iter().find(|(k, _)| k.text == key.text) {
                    self.duplicate_key(key, first.pos, path);
                }
            }
            return;
        }
        let mut first_at: rustc_hash::FxHashMap<&str, Pos> =
            rustc_hash::FxHashMap::with_capacity_and_hasher(entries.len(), Default::default());
        for (key, _) in entries {
            match first_at.entry(&key.text) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(key.pos);
                }
                std::collections::hash_map::Entry::Occupied(e) => {
                    let first = *e.get();
                    self.duplicate_key(key, first, path);
                }
            }
        }
    }

    fn duplicate_key(&mut self, key: &Key, first: Pos, path: &Path<'_>) {
        let d = Diagnostic::error(
            DiagnosticKind::DuplicateKey,
            format!(
                "key '{}' appears twice (first at line {}); the last value is used",
                key.text, first.line
            ),
        )
        .warning()
        .in_document(self.doc.clone())
        .at_field(path.key(&key.text).to_string())
        .at(self.location(key.pos));
        self.diags.push(d);
    }

    /// Reads a mapping. A null node reads as an empty mapping. A mapping of more than
    /// [`MAX_MAPPING_ENTRIES`] entries is refused (`ingest.limit_exceeded`).
    pub(crate) fn map<'n>(&mut self, node: &'n Node, path: &Path<'_>) -> Option<Fields<'n>> {
        match &node.value {
            Value::Map(entries) => {
                if entries.len() > MAX_MAPPING_ENTRIES {
                    let first_over = entries[MAX_MAPPING_ENTRIES].0.pos;
                    self.report(
                        DiagnosticKind::LimitExceeded,
                        path,
                        node.pos,
                        format!(
                            "the mapping has {} entries; at most {MAX_MAPPING_ENTRIES} are read \
                             (entry {} is at line {})",
                            entries.len(),
                            MAX_MAPPING_ENTRIES + 1,
                            first_over.line
                        ),
                    );
                    return None;
                }
                self.warn_duplicate_keys(entries, path);
                Some(Fields::new(entries, node.pos))
            }
            Value::Null => Some(Fields::new(&[], node.pos)),
            _ => {
                self.wrong_type(path, node, "a mapping");
                None
            }
        }
    }

    /// Reads a string. Plain numbers and booleans are accepted as their text (`generation: 8`).
    pub(crate) fn string(&mut self, node: &Node, path: &Path<'_>) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.wrong_type(path, node, "a string");
                None
            }
        }
    }

    /// Reads a string as [`Cx::string`] does, borrowing it from the document where it can.
    pub(crate) fn text<'v>(&mut self, node: &'v Node, path: &Path<'_>) -> Option<Cow<'v, str>> {
        match &node.value {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            _ => self.string(node, path).map(Cow::Owned),
        }
    }

    /// Reads a non-negative integer that fits `T`.
    pub(crate) fn uint<T: TryFrom<i64>>(&mut self, node: &Node, path: &Path<'_>) -> Option<T> {
        let value = match node.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(f as i64),
            _ => None,
        };
        match value {
            Some(v) => match T::try_from(v) {
                Ok(t) if v >= 0 => Some(t),
                _ => {
                    self.report(
                        DiagnosticKind::InvalidValue,
                        path,
                        node.pos,
                        format!("{v} is out of range"),
                    );
                    None
                }
            },
            None => {
                self.wrong_type(path, node, "a number");
                None
            }
        }
    }

    /// Reads a boolean.
    pub(crate) fn bool(&mut self, node: &Node, path: &Path<'_>) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(path, node, "true or false");
                None
            }
        }
    }

    /// Reads one of an enum's string values.
    pub(crate) fn enumeration<E: StrEnum>(&mut self, node: &Node, path: &Path<'_>) -> Option<E> {
        let text = self.string(node, path)?;
        match E::VALUES.iter().find(|(t, _)| *t == text) {
            Some((_, v)) => Some(*v),
            None => {
                let e = UnknownValue::of::<E>(&text);
                self.report(DiagnosticKind::InvalidValue, path, node.pos, e.to_string());
                None
            }
        }
    }

    /// Reads a value with `parse`, reporting its error text as an invalid value.
    pub(crate) fn parsed<T, E: fmt::Display>(
        &mut self,
        node: &Node,
        path: &Path<'_>,
        what: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(node, path)?;
        match parse(text.trim()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(
                    DiagnosticKind::InvalidValue,
                    path,
                    node.pos,
                    format!("'{}' is not {what}: {e}", truncate(&text)),
                );
                None
            }
        }
    }

    /// Reads a list, decoding each item with `item`. A null node reads as an empty list.
    pub(crate) fn list<T>(
        &mut self,
        node: &Node,
        path: &Path<'_>,
        mut item: impl FnMut(&mut Self, &Node, &Path<'_>) -> Option<T>,
    ) -> Vec<T> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, n)| item(self, n, &path.index(i)))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_type(path, node, "a list");
                Vec::new()
            }
        }
    }

    /// Reads a list of strings.
    pub(crate) fn strings(&mut self, node: &Node, path: &Path<'_>) -> Vec<String> {
        self.list(node, path, |cx, n, p| cx.string(n, p))
    }

    /// Reads a mapping whose values are decoded with `value`, keeping source order.
    pub(crate) fn dict<T>(
        &mut self,
        node: &Node,
        path: &Path<'_>,
        mut value: impl FnMut(&mut Self, &Key, &Node, &Path<'_>) -> Option<T>,
    ) -> IndexMap<String, T> {
        let Some(fields) = self.map(node, path) else {
            return IndexMap::new();
        };
        let mut out = IndexMap::with_capacity(fields.entries.len());
        for (key, val) in fields.entries {
            let p = path.key(&key.text);
            if let Some(v) = value(self, key, val, &p) {
                out.insert(key.text.to_string(), v);
            }
        }
        out
    }

    /// Reads a mapping of strings to strings (null values are refused).
    pub(crate) fn string_map(&mut self, node: &Node, path: &Path<'_>) -> IndexMap<String, String> {
        self.dict(node, path, |cx, _, v, p| match v.value {
            Value::Null => {
                cx.wrong_type(p, v, "a string");
                None
            }
            _ => cx.string(v, p),
        })
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The entries of a mapping being decoded; reports the ones nobody asked for.
///
/// Which entries were taken and which names were asked for are kept without allocating for
/// mappings of up to 64 entries and 24 names (every mapping of a design in practice).
pub(crate) struct Fields<'n> {
    pub(crate) entries: &'n [(Key<'n>, Node<'n>)],
    taken: u64,
    taken_more: Vec<bool>,
    known: [&'static str; KNOWN_INLINE],
    known_len: usize,
    known_more: Vec<&'static str>,
    /// Position of the mapping.
    pub(crate) pos: Pos,
}

const KNOWN_INLINE: usize = 24;

impl<'n> Fields<'n> {
    fn new(entries: &'n [(Key<'n>, Node<'n>)], pos: Pos) -> Self {
        Fields {
            entries,
            taken: 0,
            taken_more: if entries.len() > 64 {
                vec![false; entries.len()]
            } else {
                Vec::new()
            },
            known: [""; KNOWN_INLINE],
            known_len: 0,
            known_more: Vec::new(),
            pos,
        }
    }

    fn set_taken(&mut self, i: usize) {
        if self.taken_more.is_empty() {
            self.taken |= 1 << i;
        } else {
            self.taken_more[i] = true;
        }
    }

    fn is_taken(&self, i: usize) -> bool {
        if self.taken_more.is_empty() {
            self.taken & (1 << i) != 0
        } else {
            self.taken_more[i]
        }
    }

    /// Takes the field `name`; a null value counts as absent.
    pub(crate) fn take(&mut self, name: &'static str) -> Option<&'n Node<'n>> {
        self.take_raw(name).filter(|n| n.value != Value::Null)
    }

    /// Takes the field `name`, null values included.
    pub(crate) fn take_raw(&mut self, name: &'static str) -> Option<&'n Node<'n>> {
        if self.known_len < KNOWN_INLINE {
            self.known[self.known_len] = name;
            self.known_len += 1;
        } else {
            self.known_more.push(name);
        }
        let mut found = None;
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if k.text == name {
                self.set_taken(i);
                found = Some(v); // the last of duplicate keys wins
            }
        }
        found
    }

    /// Takes a required field, reporting it missing.
    pub(crate) fn require(
        &mut self,
        cx: &mut Cx<'_>,
        path: &Path<'_>,
        name: &'static str,
    ) -> Option<&'n Node<'n>> {
        let node = self.take(name);
        if node.is_none() {
            cx.report(
                DiagnosticKind::MissingField,
                &path.key(name),
                self.pos,
                format!("'{name}' is required"),
            );
        }
        node
    }

    /// The names asked for so far, sorted, without repeats.
    fn known(&self) -> Vec<&'static str> {
        let mut known = self.known[..self.known_len].to_vec();
        known.extend_from_slice(&self.known_more);
        known.sort_unstable();
        known.dedup();
        known
    }

    /// Reports every field not taken as unknown: for places the reference's schema closes
    /// (`additionalProperties: false`). A key close to a known one names it.
    pub(crate) fn deny_unknown(self, cx: &mut Cx<'_>, path: &Path<'_>) {
        let mut known: Option<Vec<&'static str>> = None;
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if !self.is_taken(i) {
                let known = known.get_or_insert_with(|| self.known());
                let hint = match probable_key(&key.text, known) {
                    Some(k) => format!(" (did you mean '{k}'?)"),
                    None => String::new(),
                };
                cx.report(
                    DiagnosticKind::UnknownField,
                    &path.key(&key.text),
                    key.pos,
                    format!(
                        "unknown field '{}'{hint}; expected one of: {}",
                        key.text,
                        known.join(", ")
                    ),
                );
            }
        }
    }

    /// Keeps every field not taken as pass-through data: for places the reference's schema
    /// leaves open. Each is reported at info level (`ingest.unmodelled_field`); a key close to
    /// a modelled one is a warning naming it (`ingest.likely_typo`).
    pub(crate) fn rest(self, cx: &mut Cx<'_>, path: &Path<'_>) -> Extras {
        let mut extras = Extras::new();
        let mut known: Option<Vec<&'static str>> = None;
        for (i, (key, value)) in self.entries.iter().enumerate() {
            if self.is_taken(i) {
                continue;
            }
            let known = known.get_or_insert_with(|| self.known());
            let field = path.key(&key.text).to_string();
            let d = match probable_key(&key.text, known) {
                Some(k) => Diagnostic::error(
                    DiagnosticKind::LikelyTypo,
                    format!(
                        "field '{}' is not modelled; did you mean '{k}'? (kept as pass-through data)",
                        key.text
                    ),
                )
                .warning(),
                None => Diagnostic::error(
                    DiagnosticKind::UnmodelledField,
                    format!(
                        "field '{}' is not modelled by drydock; kept as pass-through data",
                        key.text
                    ),
                )
                .info(),
            };
            cx.diags.push(
                d.in_document(cx.doc.clone())
                    .at_field(field)
                    .at(cx.location(key.pos)),
            );
            extras.insert(key.text.to_string(), to_json(value));
        }
        extras
    }
}

/// Fields a document carries at a place the reference's schema leaves open, which drydock does
/// not model (`ovs_dpdk` on an interface, `num_vfs` under `sriov`, ...), as JSON values in
/// document order. Drivers and boot action templates may read them.
pub type Extras = IndexMap<String, serde_json::Value>;

/// A YAML node as a JSON value (mapping keys as written; non-finite floats become null).
pub(crate) fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.to_string()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.text.to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// The known key `key` was probably meant to be: the closest one within a small edit distance
/// (one edit for keys of up to 4 characters, two beyond; case, `-` and `_` differences free).
pub(crate) fn probable_key(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    };
    let k = norm(key);
    if k.len() < 3 {
        return None;
    }
    let limit = if k.len() <= 4 { 1 } else { 2 };
    known
        .iter()
        .map(|name| (edit_distance(&k, &norm(name)), *name))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Optimal string alignment distance (insertions, deletions, substitutions, transpositions of
/// neighbours), bounded by the short inputs it is used on.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probable_keys() {
        let known = ["mtu", "vlan", "cidr", "device_link", "networks"];
        assert_eq!(probable_key("mtuu", &known), Some("mtu"));
        assert_eq!(probable_key("vlna", &known), Some("vlan"));
        assert_eq!(probable_key("MTU", &known), Some("mtu"));
        assert_eq!(probable_key("device-link", &known), Some("device_link"));
        assert_eq!(probable_key("netwroks", &known), Some("networks"));
        assert_eq!(probable_key("ovs_dpdk", &known), None);
        assert_eq!(probable_key("pci_whitelist", &known), None);
        assert_eq!(probable_key("id", &known), None);
    }
}

//! YAML reading: a document stream split into documents, each parsed into a tree of nodes that
//! remember where they stand in the source.
//!
//! The tree is built from the events of [`saphyr_parser`] (a YAML 1.2 parser). Plain scalars are
//! resolved with the YAML 1.2 core schema (`null`/`~`/empty, `true`/`false`, integers, floats);
//! quoted and block scalars are always strings. Mapping keys keep their source text, so a key
//! such as `0xffff` is known both as written and as what YAML makes of it.
//!
//! A stream is split at its document markers (`---` or `...` at the start of a line) before
//! parsing, so a syntax error in one document leaves the others readable, and documents can be
//! parsed in parallel. Documents in plain block YAML are read by a faster line-based reader
//! (`fast`) that builds the same tree; the others go through saphyr-parser.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

mod fast;

/// Where a node starts in its source: 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, counted from 1.
    pub line: u32,
    /// Column, counted from 1 (in characters).
    pub column: u32,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    /// The value.
    pub value: Value<'a>,
    /// Where the node starts.
    pub pos: Pos,
}

/// The value of a YAML node after scalar resolution.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A string: any quoted or block scalar, or a plain scalar that is no other type.
    Str(Cow<'a, str>),
    /// A sequence.
    Seq(Vec<Node<'a>>),
    /// A mapping, in source order.
    Map(Vec<(Key<'a>, Node<'a>)>),
}

/// A mapping key.
#[derive(Clone, Debug, PartialEq)]
pub struct Key<'a> {
    /// The key as written (for a scalar key), or a rendering of a complex key.
    pub text: Cow<'a, str>,
    /// Whether YAML reads the key as a string (a plain `0xffff` or `true` is not).
    pub is_string: bool,
    /// Where the key starts.
    pub pos: Pos,
}

impl Value<'_> {
    /// A short name of the value's YAML type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// One document of a stream, as text, with the line it starts on.
#[derive(Clone, Copy, Debug)]
pub struct DocumentText<'a> {
    /// The text of the document (it may start with its `---` marker).
    pub text: &'a str,
    /// Line of the stream on which `text` starts (1-based).
    pub first_line: u32,
}

/// A YAML syntax error, positioned in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser found wrong.
    pub message: String,
    /// Where.
    pub pos: Pos,
}

/// Largest document (the text between two `---` markers) drydock reads: 16 MiB. A real design
/// document is a few kilobytes; a whole 5,000-node site is about 3 MB.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Most nodes one document may expand to (aliases included): a guard against alias bombs.
pub const MAX_NODES_PER_DOCUMENT: usize = 1_000_000;

/// Where the lines of `text` are: `(start, end)` byte offsets without the newline, one per piece
/// of `text.split('\n')`. Found with `memchr`, which is quicker on the short lines of design
/// documents than the standard library's search.
fn line_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let end = ends.next().unwrap_or_else(|| {
            done = true;
            text.len()
        });
        let span = (start, end);
        start = end + 1;
        Some(span)
    })
}

/// The lines of `text`, as `text.split('\n')` gives them.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    line_spans(text).map(|(start, end)| &text[start..end])
}

/// The lines of `text` with their newlines, as `text.split_inclusive('\n')` gives them.
fn split_lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    line_spans(text)
        .map(|(start, end)| &text[start..(end + 1).min(text.len())])
        .filter(|l| !l.is_empty())
}

fn is_marker_line(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

fn is_content_line(line: &str) -> bool {
    if line.starts_with('%') {
        return false;
    }
    // Most lines start with spaces then ASCII text: decide on the first other byte.
    match line.bytes().find(|b| *b != b' ') {
        None => false,
        Some(b'#') => false,
        Some(b) if b.is_ascii() && !b.is_ascii_whitespace() => true,
        Some(_) => {
            let t = line.trim_start();
            !(t.is_empty() || t.starts_with('#'))
        }
    }
}

/// Splits a stream at its document markers.
///
/// A document starts at a `---` line (which it keeps, so that `--- value` parses) and ends before
/// the next `---` or at a `...` line. Stretches holding only comments, blank lines and directives
/// are joined to the document that follows, and are dropped at the end of the stream.
pub fn split_documents(stream: &str) -> Vec<DocumentText<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize; // byte offset where the current document starts
    let mut start_line = 1u32;
    let mut has_content = false;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(split_lines_inclusive(stream)) {
        if is_marker_line(line, "---") {
            if has_content {
                docs.push(DocumentText {
                    text: &stream[start..offset],
                    first_line: start_line,
                });
                start = offset;
                start_line = line_no;
            }
            // A marker line with content after it (`--- {a: 1}`) starts a non-empty document.
            has_content = line[3..]
                .trim_start()
                .split('#')
                .next()
                .is_some_and(|s| !s.trim().is_empty());
        } else if is_marker_line(line, "...") {
            if has_content {
                docs.push(DocumentText {
                    text: &stream[start..offset],
                    first_line: start_line,
                });
            }
            start = offset + line.len();
            start_line = line_no + 1;
            has_content = false;
        } else if !has_content && is_content_line(line) {
            has_content = true;
        }
        offset += line.len();
    }
    if has_content {
        docs.push(DocumentText {
            text: &stream[start..],
            first_line: start_line,
        });
    }
    docs
}

/// Parses one document (as split by [`split_documents`]) into a tree.
///
/// Returns `Ok(None)` for a document without content. Positions are lines of the whole stream.
pub fn parse_document(doc: DocumentText<'_>) -> Result<Option<Node<'_>>, SyntaxError> {
    if let Some(root) = fast::parse(doc) {
        return Ok(Some(root));
    }
    parse_events(doc)
}

/// Parses one document with [`saphyr_parser`]: any YAML, errors included.
fn parse_events(doc: DocumentText<'_>) -> Result<Option<Node<'_>>, SyntaxError> {
    let mut builder = Builder {
        line_offset: doc.first_line.saturating_sub(1),
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
    };
    for item in Parser::new_from_str(doc.text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            message: e.info().to_owned(),
            pos: builder.pos(e.marker().line(), e.marker().col()),
        })?;
        let pos = builder.pos(span.start.line(), span.start.col());
        builder.event(event, pos)?;
    }
    Ok(builder.root)
}

enum Frame<'a> {
    Seq {
        items: Vec<Node<'a>>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(Key<'a>, Node<'a>)>,
        pending_key: Option<Key<'a>>,
        pos: Pos,
        anchor: usize,
    },
}

struct Builder<'a> {
    line_offset: u32,
    stack: Vec<Frame<'a>>,
    anchors: HashMap<usize, Node<'a>>,
    nodes: usize,
    root: Option<Node<'a>>,
}

impl<'a> Builder<'a> {
    fn pos(&self, line: usize, col: usize) -> Pos {
        Pos {
            line: u32::try_from(line)
                .unwrap_or(u32::MAX)
                .saturating_add(self.line_offset),
            column: u32::try_from(col).unwrap_or(u32::MAX).saturating_add(1),
        }
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), SyntaxError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES_PER_DOCUMENT {
            return Err(SyntaxError {
                message: format!(
                    "document expands to more than {MAX_NODES_PER_DOCUMENT} nodes (alias expansion?)"
                ),
                pos,
            });
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'a>, pos: Pos) -> Result<(), SyntaxError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, pos)?;
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let plain = style == ScalarStyle::Plain && !tagged_str;
                let typed = if plain {
                    resolve_plain_typed(&text)
                } else {
                    None
                };
                if let Some(Frame::Map {
                    pending_key: pending @ None,
                    ..
                }) = self.stack.last_mut()
                {
                    *pending = Some(Key {
                        is_string: typed.is_none(),
                        text,
                        pos,
                    });
                    return Ok(());
                }
                let value = typed.unwrap_or(Value::Str(text));
                self.finish(Node { value, pos }, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.count(1, pos)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    pos,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.count(1, pos)?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pending_key: None,
                    pos,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, pos, anchor }) => (
                        Node {
                            value: Value::Seq(items),
                            pos,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        pos,
                        anchor,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    ),
                    None => return Ok(()),
                };
                self.finish(node, anchor);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    message: "alias to an unknown anchor".to_owned(),
                    pos,
                })?;
                self.count(count_nodes(&node), pos)?;
                self.finish(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// Places a completed node into its parent (or as the root).
    fn finish(&mut self, node: Node<'a>, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                Some(key) => entries.push((key, node)),
                // A complex (collection) key: keep a rendering of it as text.
                None => {
                    *pending_key = Some(Key {
                        text: Cow::Owned(render_key(&node)),
                        is_string: false,
                        pos: node.pos,
                    })
                }
            },
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(_, v)| 1 + count_nodes(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn render_key(node: &Node) -> String {
    match &node.value {
        Value::Seq(_) => "[...]".to_owned(),
        Value::Map(_) => "{...}".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Value<'_> {
    resolve_plain_typed(text).unwrap_or(Value::Str(Cow::Borrowed(text)))
}

/// [`resolve_plain`] without the allocation of a string: `None` when the scalar is a string.
fn resolve_plain_typed(text: &str) -> Option<Value<'static>> {
    Some(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => return resolve_number(text),
    })
}

fn resolve_number(text: &str) -> Option<Value<'static>> {
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(v) = i64::from_str_radix(hex, 16) {
            return Some(Value::Int(v));
        }
    } else if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(v) = i64::from_str_radix(oct, 8) {
            return Some(Value::Int(v));
        }
    } else if is_decimal_int(text) {
        if let Ok(v) = text.parse::<i64>() {
            return Some(Value::Int(v));
        }
    } else if is_float(text)
        && let Ok(v) = text.parse::<f64>()
    {
        return Some(Value::Float(v));
    }
    None
}

fn is_decimal_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_float(text: &str) -> bool {
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let s = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let mut i = 0;
    let int_digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == s.len()
}

/// Borrowed view used by decoders: the text of a scalar as YAML wrote it, when it is a scalar.
pub fn scalar_text<'v>(value: &'v Value<'_>) -> Option<Cow<'v, str>> {
    match value {
        Value::Str(s) => Some(Cow::Borrowed(s)),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::Float(f) => Some(Cow::Owned(f.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_splitting_matches_the_standard_library() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\nb",
            "a\n\nb\n",
            "\n\n",
            "x\r\ny\n z",
        ] {
            assert_eq!(
                split_lines(text).collect::<Vec<_>>(),
                text.split('\n').collect::<Vec<_>>(),
                "{text:?}"
            );
            assert_eq!(
                split_lines_inclusive(text).collect::<Vec<_>>(),
                text.split_inclusive('\n').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    fn parse(text: &str) -> Node<'_> {
        let docs = split_documents(text);
        assert_eq!(docs.len(), 1, "{docs:?}");
        parse_document(docs[0]).unwrap().unwrap()
    }

    #[test]
    fn splits_at_markers_and_keeps_line_numbers() {
        let stream = "# comment\n---\na: 1\n---\nb: 2\n...\n# trailing\n---\nc: [1,\n";
        let docs = split_documents(stream);
        assert_eq!(docs.len(), 3);
        // The leading comment is joined to the first document.
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[1].first_line, 4);
        assert_eq!(docs[2].first_line, 7); // with the comment before its marker
        let b = parse_document(docs[1]).unwrap().unwrap();
        let Value::Map(entries) = b.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.text, "b");
        assert_eq!(entries[0].0.pos, Pos { line: 5, column: 1 });
        assert_eq!(entries[0].1.value, Value::Int(2));
        let err = parse_document(docs[2]).unwrap_err();
        assert!(err.pos.line >= 9, "{err:?}");
    }

    #[test]
    fn marker_with_inline_content_is_a_document() {
        let docs = split_documents("--- {a: 1}\n--- [2]\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(
            parse_document(docs[1]).unwrap().unwrap().value,
            Value::Seq(vec![Node {
                value: Value::Int(2),
                pos: Pos { line: 2, column: 6 }
            }])
        );
    }

    #[test]
    fn resolves_core_schema_scalars_and_keeps_key_text() {
        let node = parse(
            "a: 1\nb: '8'\nc: 0xffff\nd: ~\ne: true\nf: 1.5\ng: 10.0.0.1\nh: |\n  x\n0xffff: null\n",
        );
        let Value::Map(entries) = node.value else {
            panic!()
        };
        let values: Vec<_> = entries.iter().map(|(_, v)| v.value.clone()).collect();
        assert_eq!(
            values,
            vec![
                Value::Int(1),
                Value::Str("8".into()),
                Value::Int(65535),
                Value::Null,
                Value::Bool(true),
                Value::Float(1.5),
                Value::Str("10.0.0.1".into()),
                Value::Str("x\n".into()),
                Value::Null,
            ]
        );
        let last = &entries[8].0;
        assert_eq!(last.text, "0xffff");
        assert!(!last.is_string);
        assert!(entries[0].0.is_string);
    }

    #[test]
    fn aliases_expand_and_bombs_are_refused() {
        let node = parse("a: &x {k: v}\nb: *x\n");
        let Value::Map(entries) = node.value else {
            panic!()
        };
        assert_eq!(entries[0].1.value, entries[1].1.value);
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let docs = split_documents(&bomb);
        let err = parse_document(docs[0]).unwrap_err();
        assert!(err.message.contains("more than"), "{err:?}");
    }
}

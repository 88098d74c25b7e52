//! A fast reader for the plain block YAML most design documents are written in.
//!
//! It knows only block mappings with plain keys, block sequences, and one-line scalars (plain,
//! single-quoted, and double-quoted without escapes), in ASCII text indented with spaces. On
//! anything else (flow collections, block scalars, anchors, tags, multi-line scalars, empty
//! values, tabs, errors, ...) it gives up and returns `None`, and the document is parsed by
//! `saphyr_parser` instead. Where it succeeds it builds the very tree the event-based builder
//! builds (values, keys and positions); a test compares both on every corpus document.

use std::borrow::Cow;

use super::{DocumentText, Key, MAX_NODES_PER_DOCUMENT, Node, Pos, Value, resolve_plain_typed};

/// One line with content: its number in the stream, its indentation and the text after it.
#[derive(Clone, Copy)]
struct Line<'a> {
    no: u32,
    indent: usize,
    text: &'a str,
}

/// Parses `doc` if it is plain block YAML; `None` means "use the full parser".
pub(super) fn parse(doc: DocumentText<'_>) -> Option<Node<'_>> {
    let text = doc.text;
    if !text.is_ascii() || memchr::memchr2(b'\t', b'\r', text.as_bytes()).is_some() {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 16);
    let mut started = false;
    for (no, raw) in (doc.first_line..).zip(super::split_lines(text)) {
        let indent = raw.bytes().take_while(|b| *b == b' ').count();
        let content = &raw[indent..];
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if raw.starts_with('%') || raw.starts_with("...") {
            return None;
        }
        if raw.starts_with("---") {
            if started || raw != "---" {
                return None;
            }
            started = true;
            continue;
        }
        started = true;
        lines.push(Line {
            no,
            indent,
            text: content,
        });
    }
    let first = *lines.first()?;
    let mut p = Reader {
        lines,
        at: 0,
        nodes: 0,
        entries: Vec::new(),
        items: Vec::new(),
    };
    let root = p.node(first.indent)?;
    (p.at == p.lines.len() && p.nodes <= MAX_NODES_PER_DOCUMENT).then_some(root)
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    nodes: usize,
    /// Entries of the mappings being read, innermost last: each mapping takes its own off the
    /// top into a vector of the exact size.
    entries: Vec<(Key<'a>, Node<'a>)>,
    /// The same for sequence items.
    items: Vec<Node<'a>>,
}

fn is_seq_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Whether a plain scalar may start with `text` (YAML 1.2 `ns-plain-first`, block context).
fn plain_start_ok(text: &str) -> bool {
    let b = text.as_bytes();
    match b.first() {
        None => false,
        Some(b'-' | b'?' | b':') => b.get(1).is_some_and(|c| *c != b' '),
        Some(
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`',
        ) => false,
        Some(_) => true,
    }
}

/// Bytes that end a run of ordinary text for [`plain_text`] and [`split_key`].
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b':' as usize] = true;
    t[b'#' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t
};

/// The offset of the next [`SPECIAL`] byte of `b` at or after `from`.
fn next_special(b: &[u8], from: usize) -> Option<usize> {
    b[from..]
        .iter()
        .position(|c| SPECIAL[usize::from(*c)])
        .map(|i| from + i)
}

/// The plain text of a one-line plain scalar (comment and trailing spaces removed), if it is one
/// this reader is sure of: no `: `, no final `:` and no flow indicator before the comment.
fn plain_text(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut end = b.len();
    let mut i = 0;
    while let Some(at) = next_special(b, i) {
        match b[at] {
            b'#' if at > 0 && b[at - 1] == b' ' => {
                end = at - 1;
                break;
            }
            b'#' => {}
            b':' if b.get(at + 1) != Some(&b' ') => {}
            _ => return None, // `: `, or a flow indicator
        }
        i = at + 1;
    }
    let text = text[..end].trim_end_matches(' ');
    (plain_start_ok(text) && !text.ends_with(':')).then_some(text)
}

/// Splits `key: rest` at the first `: ` (or a final `:`); the key must be a plain scalar (no
/// comment and no flow indicator in it).
fn split_key(text: &str) -> Option<(&str, &str)> {
    let b = text.as_bytes();
    let mut i = 0;
    let colon = loop {
        let at = next_special(b, i)?;
        match b[at] {
            b':' if matches!(b.get(at + 1), None | Some(b' ')) => break at,
            b':' => {}
            b'#' if at > 0 && b[at - 1] == b' ' => return None,
            b'#' => {}
            _ => return None, // a flow indicator
        }
        i = at + 1;
    };
    let key = &text[..colon];
    (plain_start_ok(key) && !key.ends_with(' ')).then(|| (key, &text[colon + 1..]))
}

/// A one-line scalar after a key or a `- `: what is left of the line must be only spaces or a
/// comment.
fn scalar(text: &str, pos: Pos) -> Option<Node<'_>> {
    let rest_ok = |rest: &str| {
        let r = rest.trim_start_matches(' ');
        r.is_empty() || (r.starts_with('#') && r.len() < rest.len())
    };
    let value = match text.as_bytes()[0] {
        b'\'' => {
            let body = &text[1..];
            let q = body.find('\'')?;
            if !body[q + 1..].starts_with('\'') {
                // No doubled quote: the text as written.
                if !rest_ok(&body[q + 1..]) {
                    return None;
                }
                Value::Str(Cow::Borrowed(&body[..q]))
            } else {
                let mut out = String::new();
                let mut s = body;
                loop {
                    let q = s.find('\'')?;
                    out.push_str(&s[..q]);
                    if s[q + 1..].starts_with('\'') {
                        out.push('\'');
                        s = &s[q + 2..];
                    } else {
                        if !rest_ok(&s[q + 1..]) {
                            return None;
                        }
                        break;
                    }
                }
                Value::Str(Cow::Owned(out))
            }
        }
        b'"' => {
            let body = &text[1..];
            let q = body.find('"')?;
            if body[..q].contains('\\') || !rest_ok(&body[q + 1..]) {
                return None;
            }
            Value::Str(Cow::Borrowed(&body[..q]))
        }
        _ => {
            let t = plain_text(text)?;
            resolve_plain_typed(t).unwrap_or(Value::Str(Cow::Borrowed(t)))
        }
    };
    Some(Node { value, pos })
}

fn pos(line: &Line<'_>, offset: usize) -> Pos {
    Pos {
        line: line.no,
        column: u32::try_from(line.indent + offset + 1).unwrap_or(u32::MAX),
    }
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.at).copied()
    }

    /// The indentation of the next line, or `None` at the end.
    fn next_indent(&self) -> Option<usize> {
        self.lines.get(self.at).map(|l| l.indent)
    }

    /// A collection starting at the current line, whose indentation is `indent`.
    fn node(&mut self, indent: usize) -> Option<Node<'a>> {
        let line = self.peek()?;
        debug_assert_eq!(line.indent, indent);
        if is_seq_entry(line.text) {
            self.seq(indent, 0)
        } else {
            split_key(line.text)?;
            self.map(indent)
        }
    }

    /// The value of a key whose line ends after the `:`.
    fn nested(&mut self, indent: usize) -> Option<Node<'a>> {
        let next = self.peek()?;
        if next.indent > indent {
            self.node(next.indent)
        } else if next.indent == indent && is_seq_entry(next.text) {
            // A sequence as indented as its key starts, for saphyr, at its first item.
            self.seq(indent, 2)
        } else {
            None // an empty value
        }
    }

    fn map(&mut self, indent: usize) -> Option<Node<'a>> {
        let start = pos(&self.peek()?, 0);
        self.nodes += 1;
        let first = self.entries.len();
        while let Some(line) = self.peek().filter(|l| l.indent == indent) {
            if is_seq_entry(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.nodes += 1;
            let key = Key {
                text: Cow::Borrowed(key),
                is_string: resolve_plain_typed(key).is_none(),
                pos: pos(&line, 0),
            };
            self.at += 1;
            let value_text = rest.trim_start_matches(' ');
            let value = if value_text.is_empty() || value_text.starts_with('#') {
                if !value_text.is_empty() && value_text.len() == rest.len() {
                    return None; // `key:#...`
                }
                self.nested(indent)?
            } else {
                self.nodes += 1;
                let v = scalar(value_text, pos(&line, line.text.len() - value_text.len()))?;
                if self.next_indent().is_some_and(|i| i > indent) {
                    return None; // a multi-line scalar, or an error
                }
                v
            };
            self.entries.push((key, value));
        }
        if self.next_indent().is_some_and(|i| i > indent) {
            return None;
        }
        Some(Node {
            value: Value::Map(self.entries.drain(first..).collect()),
            pos: start,
        })
    }

    /// A block sequence; the node starts `start` columns after its first `-`.
    fn seq(&mut self, indent: usize, start: usize) -> Option<Node<'a>> {
        let start = pos(&self.peek()?, start);
        self.nodes += 1;
        let first = self.items.len();
        while let Some(line) = self.peek().filter(|l| l.indent == indent) {
            if !is_seq_entry(line.text) {
                break;
            }
            let rest = line.text.get(2..).unwrap_or("");
            if rest.is_empty() || rest.starts_with([' ', '#']) || is_seq_entry(rest) {
                return None;
            }
            let item = if split_key(rest).is_some() {
                self.lines[self.at] = Line {
                    no: line.no,
                    indent: indent + 2,
                    text: rest,
                };
                self.map(indent + 2)?
            } else {
                self.at += 1;
                self.nodes += 1;
                let v = scalar(rest, pos(&line, 2))?;
                if self.next_indent().is_some_and(|i| i > indent) {
                    return None;
                }
                v
            };
            self.items.push(item);
        }
        if self.next_indent().is_some_and(|i| i > indent) {
            return None;
        }
        Some(Node {
            value: Value::Seq(self.items.drain(first..).collect()),
            pos: start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_events, split_documents};
    use super::*;

    fn first_difference(a: &Node, b: &Node) -> Option<String> {
        match (&a.value, &b.value) {
            (Value::Map(x), Value::Map(y)) if x.len() == y.len() => {
                for ((ka, va), (kb, vb)) in x.iter().zip(y) {
                    if ka != kb {
                        return Some(format!("{ka:?} != {kb:?}"));
                    }
                    if let Some(d) = first_difference(va, vb) {
                        return Some(d);
                    }
                }
            }
            (Value::Seq(x), Value::Seq(y)) if x.len() == y.len() => {
                for (va, vb) in x.iter().zip(y) {
                    if let Some(d) = first_difference(va, vb) {
                        return Some(d);
                    }
                }
            }
            (x, y) if x != y => return Some(format!("{x:?} != {y:?} at {}", a.pos)),
            _ => {}
        }
        (a.pos != b.pos).then(|| format!("{:?}: {} != {}", a.value.type_name(), a.pos, b.pos))
    }

    fn check(stream: &str) -> (usize, usize) {
        let (mut fast, mut all) = (0, 0);
        for doc in split_documents(stream) {
            all += 1;
            if let Some(node) = parse(doc) {
                fast += 1;
                let full = parse_events(doc).expect("the fast reader accepted an invalid document");
                let full = full.expect("a document");
                if let Some(d) = first_difference(&node, &full) {
                    panic!("document at line {}: {d}", doc.first_line);
                }
            }
        }
        (fast, all)
    }

    /// The documents of every `*.yaml`/`*.yml` file under `dir`: (read fast, all).
    fn check_dir(dir: &std::path::Path) -> (usize, usize) {
        let (mut fast, mut all) = (0, 0);
        let mut dirs = vec![dir.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let (f, a) = check(&text);
                    fast += f;
                    all += a;
                }
            }
        }
        (fast, all)
    }

    /// Every document of the project's own designs and examples (and of the outside corpus when
    /// it is there) that the fast reader accepts reads as the full parser reads it; the own test
    /// designs, written in plain block style, are read fast.
    #[test]
    fn reads_as_the_full_parser_on_the_designs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (fast, all) = check_dir(&root.join("tests/designs"));
        assert!(all >= 20, "only {all} documents in tests/designs");
        assert!(
            fast * 10 >= all * 9,
            "only {fast} of {all} documents read fast"
        );
        let _ = check_dir(&root.join("../examples/sites"));
        #[cfg(feature = "testing")]
        if let Some(dir) = crate::testing::corpus(
            "design::yaml::fast::reads_as_the_full_parser_on_the_designs",
            "drydock-samples",
        ) {
            let (fast, all) = check_dir(&dir);
            assert!(
                fast * 2 >= all,
                "only {fast} of {all} corpus documents read fast"
            );
        }
    }

    /// A generated site has every document kind of the large sites: nearly all read fast, and
    /// as the full parser reads them.
    #[cfg(feature = "testing")]
    #[test]
    fn reads_a_generated_site_as_the_full_parser() {
        let (fast, all) = check(&crate::testing::sites::generate(100));
        assert!(all > 100, "{all} documents");
        assert!(
            fast * 10 >= all * 9,
            "only {fast} of {all} site documents read fast"
        );
    }

    #[test]
    fn reads_the_simple_forms_and_gives_up_on_the_others() {
        let simple = "---\n# c\na: 1\nb:\n  - x # c\n  - 'y''s'\n  - k: \"v\"\n    l: [not flow\nc:\n- 0xff\n- -1.5\nd: e:f\n";
        let _ = check(simple);
        for text in [
            "a: 1\nb: '8'\nc: 0xffff\nd: ~\ne: true\nf: 1.5\ng: 10.0.0.1\n0xffff: null\nk: x #y\n",
            "a:\n  b:\n    - c: d\n      e:\n      - f\n    - g\n",
            "- a\n- b: c\n  d: e\n",
        ] {
            let docs = split_documents(text);
            assert!(parse(docs[0]).is_some(), "{text}");
            assert_eq!(check(text), (1, 1), "{text}");
        }
        for text in [
            "a: [1, 2]\n",
            "a: |\n  x\n",
            "a: &x 1\nb: *x\n",
            "a: b\n  c\n",
            "a:\nb: 1\n",
            "a: \"x\\ty\"\n",
            "a: 'x\n  y'\n",
            "a:\tb\n",
            "a: b: c\n",
            "- - a\n",
            "a: 1\n b: 2\n",
            "'a': 1\n",
            "a: !!str 1\n",
            "a: é\n",
            "? a\n: b\n",
            "a: 'x' y\n",
        ] {
            let docs = split_documents(text);
            assert!(parse(docs[0]).is_none(), "{text}");
        }
    }

    mod generated {
        //! Differential property test: on generated plain block YAML, including awkward scalars
        //! and keys, whenever the fast reader accepts a document it reads it exactly as the full
        //! parser does (values, keys and positions), and it never accepts what the full parser
        //! rejects.

        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum T {
            S(String),
            M(Vec<(String, T)>),
            L(Vec<T>),
        }

        fn scalar() -> impl Strategy<Value = String> {
            prop_oneof![
                24 => "[a-z][a-z0-9_.-]{0,8}",
                4 => "[0-9]{1,4}(\\.[0-9]{1,2})?",
                1 => prop::sample::select(vec![
                    "true", "False", "~", "null", "''", "'it''s'", "\"q\"", "a: b", "a #b", "a#b", "-1",
                    "0x1F", "0o17", "1.5e3", ".5", "10.0.0.1/24", "'0755'", "0755", "x ", "- x", "[1]",
                    "{a: 1}", "&a x", "*a", "!t x", "é", "'a\"b'", "\"a\\nb\"", "\"a\\\"b\"", "|", ">",
                    "? x", "%x", "@x", "`x", "x:", "'x: y'", "\"x # y\"", "a  b", "' lead'", ":x", ",x",
                    "x,", "http://h:80/p?q=1#f", "'", "\"", "---", "...", "-", "- ", "#x", "!!str 1",
                    "a]b", "x:  #c", "a #[b", "a:b #c: d", "",
                ])
                .prop_map(str::to_owned),
            ]
        }

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                24 => "[a-z][a-z0-9_-]{0,6}",
                1 => prop::sample::select(vec![
                    "'k'", "\"k\"", "1", "true", "a b", "k:", "-k", "!k", "'!k'", "~", "k#", "k #c", "0xffff",
                    "k]", "k{x", "a:b",
                ])
                .prop_map(str::to_owned),
            ]
        }

        fn tree() -> impl Strategy<Value = T> {
            scalar().prop_map(T::S).prop_recursive(4, 40, 4, |inner| {
                prop_oneof![
                    prop::collection::vec((key(), inner.clone()), 1..4).prop_map(T::M),
                    prop::collection::vec(inner, 1..4).prop_map(T::L),
                ]
            })
        }

        /// Writes `t` as the value after `key:` or `-` at `indent`; `inline` when the first line
        /// continues a `- ` prefix.
        fn render(t: &T, indent: usize, step: usize, out: &mut String, inline: bool) {
            let pad = " ".repeat(indent);
            match t {
                T::S(s) => {
                    out.push(' ');
                    out.push_str(s);
                    out.push('\n');
                }
                T::M(entries) => {
                    if !inline {
                        out.push('\n');
                    }
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if !(inline && i == 0) {
                            out.push_str(&pad);
                        }
                        out.push_str(k);
                        out.push(':');
                        render(v, indent + step, step, out, false);
                    }
                }
                T::L(items) => {
                    out.push('\n');
                    for v in items {
                        out.push_str(&pad);
                        out.push('-');
                        match v {
                            // The compact form design documents use: `- key: value`.
                            T::M(_) => {
                                out.push(' ');
                                render(v, indent + 2, step, out, true);
                            }
                            _ => render(v, indent + step, step, out, false),
                        }
                    }
                }
            }
        }

        fn document(entries: &[(String, T)], step: usize, comment: bool) -> String {
            let mut out = String::new();
            if comment {
                out.push_str("# a comment\n---\n");
            }
            for (k, v) in entries {
                out.push_str(k);
                out.push(':');
                render(v, step, step, &mut out, false);
                if comment {
                    out.push_str("   # trailing\n\n");
                }
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]
            #[test]
            fn fast_reader_agrees_with_the_full_parser(
                entries in prop::collection::vec((key(), tree()), 1..5),
                step in 1usize..4,
                comment in any::<bool>(),
            ) {
                let doc = document(&entries, step, comment);
                // Panics on any difference, or if the fast reader accepts an invalid document.
                super::check(&doc);
            }
        }
    }
}

//! YAML parsed once into a tree that keeps where every key and value came from.
//!
//! Schema errors and semantic checks speak in JSON pointers (`/sites/3/hardware`); this tree maps
//! such a pointer back to the line and column of the field in the file the user wrote.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use granit_parser::{Event, Parser, ScalarStyle};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;
use crate::scalar::{PlainScalar, resolve_plain};

/// Files larger than this are refused before parsing: an inventory or manifest of this size is a
/// mistake (a log file, a binary), and parsing it would only burn memory.
pub use crate::limits::MAX_FILE_BYTES;
use crate::limits::{MAX_DEPTH, MAX_DOCUMENTS, MAX_NODES, MAX_STRING_BYTES};

/// A place in a source file: 1-based line and column, 0-based byte offset and length.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    pub file: Arc<Path>,
    pub line: u32,
    pub column: u32,
    pub offset: usize,
    pub len: usize,
}

impl SourceLocation {
    /// The start of a file, for problems that concern the whole file.
    pub fn start_of(file: &Arc<Path>) -> Self {
        Self {
            file: file.clone(),
            line: 1,
            column: 1,
            offset: 0,
            len: 0,
        }
    }

    pub(crate) fn from_saphyr(file: &Arc<Path>, loc: &serde_saphyr::Location) -> Self {
        Self::at(file, Span::from_saphyr(loc))
    }

    /// A span of `file`.
    pub fn at(file: &Arc<Path>, span: Span) -> Self {
        Self {
            file: file.clone(),
            line: span.line,
            column: span.column,
            offset: span.offset,
            len: span.len,
        }
    }
}

/// Where a node is in its file: 1-based line and column (in characters), 0-based byte offset and
/// byte length. For a scalar, its token (quotes included); for a collection, where it starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    fn from_saphyr(loc: &serde_saphyr::Location) -> Self {
        let span = loc.span();
        Self {
            line: u32::try_from(loc.line()).unwrap_or(u32::MAX).max(1),
            column: u32::try_from(loc.column()).unwrap_or(u32::MAX).max(1),
            offset: span
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
            len: span
                .byte_len()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
        }
    }

    /// The same place as the reference parser reports it for an event's span.
    fn from_parser(span: &granit_parser::Span) -> Option<Self> {
        let start = span.start.byte_offset()?;
        let end = span.end.byte_offset()?;
        Some(Self {
            line: u32::try_from(span.start.line()).ok()?.max(1),
            column: u32::try_from(span.start.col() + 1).ok()?,
            offset: start,
            len: end.checked_sub(start)?,
        })
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Located<T> {
    fn from_spanned(s: Spanned<T>) -> Self {
        Self {
            span: Span::from_saphyr(&s.referenced),
            value: s.value,
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A YAML value with the location of every node.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlNode {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Located<YamlNode>>),
    Map(Vec<(Located<String>, Located<YamlNode>)>),
}

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = YamlNode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<YamlNode, E> {
                Ok(YamlNode::Null)
            }
            fn visit_none<E>(self) -> Result<YamlNode, E> {
                Ok(YamlNode::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<YamlNode, E> {
                Ok(YamlNode::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<YamlNode, E> {
                Ok(YamlNode::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<YamlNode, E> {
                Ok(YamlNode::Uint(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<YamlNode, E> {
                Ok(YamlNode::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<YamlNode, E> {
                Ok(YamlNode::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<YamlNode, E> {
                Ok(YamlNode::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YamlNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<YamlNode>>()? {
                    items.push(Located::from_spanned(item));
                }
                Ok(YamlNode::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<YamlNode>>()?;
                    entries.push((Located::from_spanned(key), Located::from_spanned(value)));
                }
                Ok(YamlNode::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// One YAML document of a file, with its location tree.
#[derive(Debug)]
pub struct YamlDocument {
    pub file: Arc<Path>,
    pub root: Located<YamlNode>,
}

impl YamlDocument {
    /// The document as plain JSON (for schema validation and typed deserialisation).
    pub fn to_json(&self) -> serde_json::Value {
        node_to_json(&self.root.value)
    }

    /// Location of the value at a JSON pointer, or of its closest existing ancestor.
    pub fn locate(&self, pointer: &str) -> SourceLocation {
        let mut node = &self.root;
        for token in pointer_tokens(pointer) {
            let next = match &node.value {
                YamlNode::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.value == token)
                    .map(|(_, v)| v),
                YamlNode::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        SourceLocation::at(&self.file, node.span)
    }

    /// Location of the key of a mapping entry at a JSON pointer (`/sites/0/labels/tier` points at
    /// `tier`), falling back to the value's location.
    pub fn locate_key(&self, pointer: &str) -> SourceLocation {
        let tokens: Vec<String> = pointer_tokens(pointer).collect();
        if let Some((last, parent)) = tokens.split_last() {
            let parent_ptr: String = parent
                .iter()
                .map(|t| format!("/{}", kube_basics::pointer::escape(t)))
                .collect();
            if let Some(YamlNode::Map(entries)) = self.node_at(&parent_ptr).map(|n| &n.value)
                && let Some((key, _)) = entries.iter().find(|(k, _)| &k.value == last)
            {
                return SourceLocation::at(&self.file, key.span);
            }
        }
        self.locate(pointer)
    }

    fn node_at(&self, pointer: &str) -> Option<&Located<YamlNode>> {
        let mut node = &self.root;
        for token in pointer_tokens(pointer) {
            node = match &node.value {
                YamlNode::Map(entries) => &entries.iter().find(|(k, _)| k.value == token)?.1,
                YamlNode::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// The unescaped reference tokens of a JSON pointer (RFC 6901).
pub fn pointer_tokens(pointer: &str) -> impl Iterator<Item = String> + '_ {
    kube_basics::pointer::tokens(pointer)
}

/// A node as plain JSON (positions dropped).
pub fn node_to_json(node: &YamlNode) -> serde_json::Value {
    use serde_json::Value;
    match node {
        YamlNode::Null => Value::Null,
        YamlNode::Bool(b) => Value::Bool(*b),
        YamlNode::Int(i) => Value::from(*i),
        YamlNode::Uint(u) => Value::from(*u),
        YamlNode::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        YamlNode::Str(s) => Value::String(s.clone()),
        YamlNode::Seq(items) => {
            Value::Array(items.iter().map(|i| node_to_json(&i.value)).collect())
        }
        YamlNode::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.value.clone(), node_to_json(&v.value)))
                .collect(),
        ),
    }
}

/// Parser settings for files users hand us: duplicate keys are errors, the alias budget bounds
/// expansion (a "billion laughs" file fails fast), no snippet in the message (we render our own).
/// Only `true`/`false` are booleans (YAML 1.2, as Kubernetes reads YAML): `jurisdiction: NO`
/// stays Norway.
fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
        budget: Some(crate::limits::budget()),
        alias_limits: crate::limits::alias_limits(),
    }
}

/// Refuses a file of `len` bytes when it is over [`MAX_FILE_BYTES`].
pub fn check_size(file: &Arc<Path>, len: u64) -> Result<(), Diagnostic> {
    if len > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            SourceLocation::start_of(file),
            format!(
                "file is {len} bytes, more than the {} MiB edgefleet reads; is it really an inventory file?",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// Read a file, refusing huge files and non-UTF-8 content with a located error.
pub fn read_source(path: &Path) -> Result<String, Diagnostic> {
    let file: Arc<Path> = Arc::from(path);
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostic::new(
            SourceLocation::start_of(&file),
            format!("cannot read file: {e}"),
        )
    })?;
    check_size(&file, meta.len())?;
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new(
            SourceLocation::start_of(&file),
            format!("cannot read file: {e}"),
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) = line_col(&text, offset);
        Diagnostic::new(
            SourceLocation {
                file: file.clone(),
                line,
                column,
                offset,
                len: 1,
            },
            "file is not valid UTF-8".to_owned(),
        )
    })
}

/// The byte offset of a 1-based line and column (in characters), clamped to the text; line
/// breaks as in [`line_col`].
pub fn offset_of(text: &str, line: u32, column: u32) -> usize {
    let bytes = text.as_bytes();
    let mut offset = 0;
    let mut current = 1;
    while current < line {
        match bytes[offset..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            Some(i) => {
                offset += i + 1;
                if bytes[offset - 1] == b'\r' && bytes.get(offset) == Some(&b'\n') {
                    offset += 1;
                }
                current += 1;
            }
            None => return text.len(),
        }
    }
    while text[offset..].starts_with('\u{feff}') {
        offset += '\u{feff}'.len_utf8();
    }
    let rest = &text[offset..];
    let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    offset
        + rest[..line_end]
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(line_end, |(i, _)| i)
}

/// 1-based line and column (in characters) of a byte offset. Line breaks are `\n`, `\r\n` and a
/// lone `\r`, as YAML (and editors) count them. Byte order marks at the start of a line are
/// invisible: the line's columns count from after them, as the YAML parser counts them (a mark may
/// open any document of a stream, after comments too, as in files joined with `cat`).
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let bom = |line_start: usize| {
        before[line_start..]
            .chars()
            .take_while(|c| *c == '\u{feff}')
            .count()
    };
    if !before.contains('\r') {
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1 - bom(line_start);
        return (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        );
    }
    let bytes = before.as_bytes();
    let mut line = 1;
    let mut line_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let lone_cr = b == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n');
        if b == b'\n' || lone_cr {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = before[line_start..].chars().count() + 1 - bom(line_start);
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Syntax errors carry a line and column but not always a byte offset: without one, a snippet
/// would underline the start of the file instead of the place the parser stopped.
fn with_offset(mut location: SourceLocation, text: &str) -> SourceLocation {
    if location.offset == 0 && (location.line, location.column) != (1, 1) {
        location.offset = offset_of(text, location.line, location.column);
        let rest = &text[location.offset..];
        location.len = rest
            .chars()
            .next()
            .filter(|c| *c != '\n')
            .map_or(0, char::len_utf8);
    }
    location
}

/// Parse every document of a YAML stream into located trees.
///
/// Most files (manifests, rendered overlays, inventories) use a plain subset of YAML, which
/// [`parse_plain_stream`] reads straight from the parser's events. Anything else — anchors,
/// aliases, tags, merge keys, duplicate keys, doubtful scalars, syntax errors — goes to the
/// reference parser, which then decides and words any error. Both give the same tree and the same
/// spans (a test compares them on every file of the repository).
pub fn parse_yaml(path: &Path, text: &str) -> Result<Vec<YamlDocument>, Diagnostic> {
    let file: Arc<Path> = Arc::from(path);
    let roots = match parse_plain_stream(text) {
        Some(roots) => roots,
        None => parse_reference(&file, text)?,
    };
    if let Some(span) = roots.iter().find_map(long_string) {
        return Err(Diagnostic::new(
            SourceLocation::at(&file, span),
            format!(
                "a string of {} bytes, more than the {} MiB edgefleet reads (docs/limits.md)",
                span.len,
                MAX_STRING_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(roots
        .into_iter()
        .filter(|r| !matches!(r.value, YamlNode::Null))
        .map(|root| YamlDocument {
            file: file.clone(),
            root,
        })
        .collect())
}

/// The span of the first key or scalar longer than [`MAX_STRING_BYTES`], if any.
fn long_string(node: &Located<YamlNode>) -> Option<Span> {
    match &node.value {
        YamlNode::Str(s) if s.len() > MAX_STRING_BYTES => Some(Span {
            len: s.len(),
            ..node.span
        }),
        YamlNode::Seq(items) => items.iter().find_map(long_string),
        YamlNode::Map(entries) => entries.iter().find_map(|(k, v)| {
            if k.value.len() > MAX_STRING_BYTES {
                Some(Span {
                    len: k.value.len(),
                    ..k.span
                })
            } else {
                long_string(v)
            }
        }),
        _ => None,
    }
}

/// Every document through the reference parser (serde-saphyr), null documents included.
pub fn parse_reference(file: &Arc<Path>, text: &str) -> Result<Vec<Located<YamlNode>>, Diagnostic> {
    let roots: Vec<Spanned<YamlNode>> =
        serde_saphyr::from_multiple_with_options(text, parse_options()).map_err(|e| {
            let location = e
                .location()
                .map(|l| SourceLocation::from_saphyr(file, &l))
                .map(|l| with_offset(l, text))
                .unwrap_or_else(|| SourceLocation::start_of(file));
            Diagnostic::new(location, yaml_error_message(&e))
        })?;
    Ok(roots.into_iter().map(Located::from_spanned).collect())
}

/// Deeper nesting goes to the reference parser, which refuses it with its budget (trees are
/// dropped and converted recursively, so depth must stay small). The reference counts the
/// collection that breaches, so the fast path answers only below the same limit.
const MAX_PLAIN_DEPTH: usize = MAX_DEPTH;

/// Mappings up to this size are checked for duplicate keys as they are read; larger ones once, at
/// their end, so a huge mapping costs n log n rather than n².
const LINEAR_KEY_CHECK: usize = 32;

fn has_duplicate_key(entries: &[(Located<String>, Located<YamlNode>)]) -> bool {
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.value.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// The documents of a stream in the plain subset, read from the parser's events, or `None` when
/// the stream leaves the subset (see [`parse_yaml`]).
pub fn parse_plain_stream(text: &str) -> Option<Vec<Located<YamlNode>>> {
    // Open collections: a sequence, or a mapping with its key waiting for a value.
    enum Open {
        Seq(Span, Vec<Located<YamlNode>>),
        Map(
            Span,
            Vec<(Located<String>, Located<YamlNode>)>,
            Option<Located<String>>,
        ),
    }
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    // Past the limits the reference parser decides (and words the error).
    let mut nodes = 0usize;
    while let Some(item) = parser.next_event() {
        let (event, span) = item.ok()?;
        if matches!(
            event,
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
        ) {
            nodes += 1;
            if nodes > MAX_NODES {
                return None;
            }
        }
        let node = match event {
            Event::StreamStart
            | Event::DocumentStart(..)
            | Event::DocumentEnd
            | Event::Comment(..) => continue,
            Event::StreamEnd => break,
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                let node = match style {
                    ScalarStyle::Plain => match resolve_plain(&value)? {
                        PlainScalar::Null => YamlNode::Null,
                        PlainScalar::Bool(b) => YamlNode::Bool(b),
                        // As the reference parser: an integer written with a minus sign is
                        // signed (`-0` too), any other unsigned.
                        PlainScalar::Int(i) => match u64::try_from(i) {
                            Ok(u) if !value.starts_with('-') => YamlNode::Uint(u),
                            _ => YamlNode::Int(i),
                        },
                        PlainScalar::Float(f) => YamlNode::Float(f),
                        PlainScalar::Str => YamlNode::Str(value.into_owned()),
                    },
                    _ => YamlNode::Str(value.into_owned()),
                };
                Located {
                    value: node,
                    span: Span::from_parser(&span)?,
                }
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag)
                if anchor != 0 || tag.is_some() =>
            {
                return None;
            }
            Event::SequenceStart(..) | Event::MappingStart(..)
                if stack.len() >= MAX_PLAIN_DEPTH =>
            {
                return None;
            }
            Event::SequenceStart(..) => {
                stack.push(Open::Seq(Span::from_parser(&span)?, Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Open::Map(Span::from_parser(&span)?, Vec::new(), None));
                continue;
            }
            Event::SequenceEnd => match stack.pop()? {
                Open::Seq(span, items) => Located {
                    value: YamlNode::Seq(items),
                    span,
                },
                Open::Map(..) => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Open::Map(span, entries, None) => {
                    if entries.len() > LINEAR_KEY_CHECK && has_duplicate_key(&entries) {
                        return None;
                    }
                    Located {
                        value: YamlNode::Map(entries),
                        span,
                    }
                }
                Open::Map(..) | Open::Seq(..) => return None,
            },
            // Aliases, anchors, comments and whatever later parsers emit: not plain.
            _ => return None,
        };
        // Attach the finished node to its parent, or end a document.
        match stack.last_mut() {
            None => {
                if matches!(node.value, YamlNode::Null) {
                    // An empty document: the reference parser says what it means.
                    return None;
                }
                docs.push(node);
                if docs.len() >= MAX_DOCUMENTS {
                    return None;
                }
            }
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                None => {
                    let YamlNode::Str(key) = node.value else {
                        return None;
                    };
                    if key == "<<"
                        || (entries.len() <= LINEAR_KEY_CHECK
                            && entries.iter().any(|(k, _)| k.value == key))
                    {
                        return None;
                    }
                    *pending = Some(Located {
                        value: key,
                        span: node.span,
                    });
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    if stack.is_empty() && !docs.is_empty() {
        Some(docs)
    } else {
        None
    }
}

/// The parser's message without its own "line X column Y" prefix (we print the location ourselves).
pub fn yaml_error_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    if let Some(breach) = crate::limits::describe_breach(&text) {
        return breach;
    }
    let text = text.trim();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    let text = match text.strip_prefix("line ") {
        Some(rest) => match rest.find(": ") {
            Some(i) if rest[..i].contains("column") => &rest[i + 2..],
            _ => text,
        },
        None => text,
    };
    let first_line = text.lines().next().unwrap_or(text);
    let mut message = first_line.to_owned();
    // The parser's advice to its own callers ("set DuplicateKeyPolicy in Options") means
    // nothing to someone editing a YAML file.
    if let Some(i) = message.find(", set ")
        && message[i..].contains(" in Options")
    {
        let end = message[i..]
            .find(" in Options")
            .map_or(message.len(), |j| i + j + " in Options".len());
        let rest = message[end..]
            .strip_prefix(" if acceptable")
            .unwrap_or(&message[end..])
            .to_owned();
        message = format!("{}{rest}", &message[..i]);
    }
    // The location is the diagnostic's own; the text need not repeat it.
    if let Some(i) = message.rfind(" at line ")
        && message[i..].contains(", column ")
    {
        message.truncate(i);
    }
    format!("invalid YAML: {message}")
}

/// A path relative to `base` when possible, for shorter messages.
pub fn display_path(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

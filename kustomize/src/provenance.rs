//! Provenance: for each rendered object, the file (and document) that defined it
//! ([`Origin`](crate::Origin)) and every field a patch, transformer or generator set ([`Edit`]),
//! with the file, line and column of the instruction that set it.
//!
//! Off by default: [`Renderer::with_provenance`](crate::Renderer::with_provenance) turns it on,
//! and [`Resource::edits`](crate::Resource::edits) then lists the edits in the order they were
//! applied (the last edit of a field is the one whose value the output shows). The output does
//! not change. Kustomize can write the same facts into the objects as annotations
//! (`buildMetadata: [originAnnotations, transformerAnnotations]`); here they are typed data.
//!
//! Edits are recorded as each step runs, from the step's own instructions (a patch's fields, the
//! pairs a label transformer wrote, the containers an `images` entry rewrote), never by
//! comparing whole objects. Recorded:
//!
//! - strategic-merge patches (`patches`, `patchesStrategicMerge`; from a file, inline text or
//!   an inline mapping): every value the patch writes;
//! - JSON 6902 patches (`patches` with operations, `patchesJson6902`): every value an `add`,
//!   `replace`, `copy` or `move` writes;
//! - `namespace`, `namePrefix` / `nameSuffix`, `labels` / `commonLabels`, `commonAnnotations`
//!   (every field the transformer's field specs reached), `replicas`, `images`;
//! - `configMapGenerator` / `secretGenerator`: the name and each data key, traced to the entry
//!   that supplied it.
//!
//! Not recorded: `replacements`, the name-reference fix-up (a reference that follows a renamed
//! object), content-hash suffixes, and values a step wrote without a recorded instruction; a
//! field they changed keeps its earlier edit, if any, or none.
//!
//! A field is named by its JSON pointer in the rendered object. Inside the pipeline a list item
//! is named by its identity (its `name`, `mountPath`, ... as a strategic merge matches it), so
//! that a later merge that reorders the list (kustomize puts a patch's items first) or an
//! operation that inserts an item does not make an edit point at another item; the pointers are
//! fixed at the end of the build, and an edit whose field no longer exists is dropped.
//!
//! Positions are computed on demand (only when asked, once per source text) by a YAML reader
//! that keeps them. An inline patch (`patch: |` in a kustomization) is located inside the
//! kustomization when it is a literal block whose lines are the patch's lines; otherwise
//! (a quoted or folded string) at its `patch:` key, marked as not [exact](Position::exact).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use kube_basics::pointer::push;
use serde_json::Value;

use crate::Resource;

/// The build step that set a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// A strategic-merge patch (`patches`, `patchesStrategicMerge`).
    StrategicMerge,
    /// A JSON 6902 patch (`patches` holding a list of operations, `patchesJson6902`).
    Json6902,
    Namespace,
    /// `namePrefix` / `nameSuffix`.
    Name,
    /// `labels`, `commonLabels`.
    Labels,
    /// `commonAnnotations`.
    Annotations,
    Replicas,
    Images,
    /// `configMapGenerator`, `secretGenerator`.
    Generator,
}

impl Step {
    /// The kustomization field (or kind of patch) the step comes from.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StrategicMerge => "strategic merge patch",
            Self::Json6902 => "JSON 6902 patch",
            Self::Namespace => "namespace",
            Self::Name => "namePrefix/nameSuffix",
            Self::Labels => "labels",
            Self::Annotations => "commonAnnotations",
            Self::Replicas => "replicas",
            Self::Images => "images",
            Self::Generator => "generator",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Byte offset in the file.
    pub offset: usize,
    /// Length in bytes of what is pointed at (a key, or the first token of a list item).
    pub len: usize,
    /// `false` when the instruction is inside a string whose lines are not the file's (a quoted
    /// or folded inline patch): the position is then that string's key.
    pub exact: bool,
}

/// A YAML text instructions are written in: a patch file, a kustomization, or an inline patch
/// (a string of a kustomization). Shared by every edit that names it; its positions are read
/// once, on first use.
pub struct Source {
    file: Arc<Path>,
    text: Arc<str>,
    /// For an inline patch: the JSON pointer of the string in the kustomization.
    inline: Option<Arc<str>>,
    index: OnceLock<Option<Index>>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("file", &self.file)
            .field("inline", &self.inline)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// The text of `file`.
    pub(crate) fn of_file(file: Arc<Path>, text: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            file,
            text,
            inline: None,
            index: OnceLock::new(),
        })
    }

    /// The YAML text held in the string at `pointer` of the first document of `file`.
    pub(crate) fn of_inline(file: Arc<Path>, text: Arc<str>, pointer: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            file,
            text,
            inline: Some(pointer),
            index: OnceLock::new(),
        })
    }

    /// The file the instructions are written in (as the renderer read it: canonical).
    pub fn path(&self) -> &Arc<Path> {
        &self.file
    }

    /// For an inline patch, the JSON pointer of its string in the kustomization.
    pub fn inline_pointer(&self) -> Option<&str> {
        self.inline.as_deref()
    }

    /// Where the value at `pointer` of `document` (0-based, empty documents not counted) is
    /// written: the key of a mapping entry, the start of a list item. `None` when the text does
    /// not hold it (or cannot be read with positions: aliases as keys, complex keys).
    pub fn position(&self, document: usize, pointer: &str) -> Option<Position> {
        let index = self
            .index
            .get_or_init(|| Index::build(&self.text, self.inline.as_deref()))
            .as_ref()?;
        index.position(&self.text, document, pointer)
    }
}

/// One field of an object set by one step.
#[derive(Debug, Clone)]
pub struct Edit {
    step: Step,
    field: Arc<str>,
    source: Arc<Source>,
    document: usize,
    at: Arc<str>,
}

impl Edit {
    pub fn step(&self) -> Step {
        self.step
    }

    /// JSON pointer of the field in the rendered object.
    pub fn field(&self) -> &Arc<str> {
        &self.field
    }

    /// The text the instruction is written in.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// The file the instruction is written in.
    pub fn file(&self) -> &Arc<Path> {
        &self.source.file
    }

    /// The document of the source (0-based, empty documents not counted).
    pub fn document(&self) -> usize {
        self.document
    }

    /// JSON pointer, in the source document, of the value (or entry) that set the field.
    pub fn at(&self) -> &Arc<str> {
        &self.at
    }

    /// Where the instruction is written (see [`Source::position`]).
    pub fn position(&self) -> Option<Position> {
        self.source.position(self.document, &self.at)
    }
}

// ---------------------------------------------------------------------------------------------
// Positions

#[derive(Clone)]
struct Node {
    /// 1-based line, 0-based column in characters, of the text the node was read from.
    line: u32,
    col: u32,
    len: usize,
}

/// How positions inside an inline patch's text map to the file.
enum Inline {
    /// A literal block: line `n` of the text is line `first + n - 1` of the file, indented by
    /// `indent` spaces.
    Literal { first: u32, indent: u32 },
    /// Not followable: every position is the string's key.
    Opaque(Node),
}

/// `(document, pointer)` → node, in the text read (the file, or the inline string).
type Nodes = HashMap<(usize, Box<str>), Node>;

struct Index {
    nodes: Nodes,
    inline: Option<Inline>,
    /// Byte offset of the start of each line of the file.
    lines: Vec<usize>,
}

impl Index {
    fn build(text: &str, inline: Option<&str>) -> Option<Index> {
        let lines: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let Some(pointer) = inline else {
            return Some(Index {
                nodes: read_nodes(text, None)?.0,
                inline: None,
                lines,
            });
        };
        // The string holding the patch, and where it is written.
        let (_, found) = read_nodes(text, Some(pointer))?;
        let found = found?;
        let nodes = read_nodes(&found.value, None)?.0;
        let inline = literal_lines(text, &lines, &found)
            .map(|(first, indent)| Inline::Literal { first, indent })
            .unwrap_or(Inline::Opaque(found.key));
        Some(Index {
            nodes,
            inline: Some(inline),
            lines,
        })
    }

    fn position(&self, text: &str, document: usize, pointer: &str) -> Option<Position> {
        let node = self.nodes.get(&(document, Box::from(pointer)))?;
        let (line, col, exact) = match &self.inline {
            None => (node.line, node.col, true),
            Some(Inline::Literal { first, indent }) => {
                (first + node.line - 1, indent + node.col, true)
            }
            Some(Inline::Opaque(key)) => (key.line, key.col, false),
        };
        let len = match &self.inline {
            Some(Inline::Opaque(key)) => key.len,
            _ => node.len,
        };
        let start = *self
            .lines
            .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let rest = text.get(start..)?;
        let offset = start
            + rest
                .char_indices()
                .nth(usize::try_from(col).ok()?)
                .map_or(rest.len(), |(i, _)| i);
        Some(Position {
            line,
            column: col + 1,
            offset,
            len,
            exact,
        })
    }
}

/// A string found at the pointer asked for.
struct Found {
    value: String,
    literal: bool,
    /// Where the scalar starts (its `|` indicator for a block).
    mark: Node,
    /// Its key.
    key: Node,
}

/// Every node of `text` by `(document, pointer)`: a mapping entry at its key, a list item where
/// it starts (a mapping item at its first key). With `want`, also the string scalar at that
/// pointer of the first document. `None` when the text is not YAML or holds complex keys.
fn read_nodes(text: &str, want: Option<&str>) -> Option<(Nodes, Option<Found>)> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::{Marker, TScalarStyle};

    struct Frame {
        pointer: String,
        /// A list: the next item's index; a mapping: `None`.
        item: Option<usize>,
        /// The key being read (a mapping), `None` while a key is expected.
        key: Option<(String, Node)>,
        /// Whether the collection's own position waits for its first content (the reader's
        /// marks for a collection are not where it is written).
        pending: bool,
    }
    let node = |m: Marker, len: usize| Node {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        col: u32::try_from(m.col()).unwrap_or(u32::MAX),
        len,
    };
    let scalar_len = |value: &str, style: TScalarStyle| match style {
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => value.len() + 2,
        _ => value.len().max(1),
    };
    // The collections waiting for a position get this one.
    fn settle(stack: &mut [Frame], nodes: &mut Nodes, document: Option<usize>, at: &Node) {
        for f in stack.iter_mut().rev() {
            if !f.pending {
                break;
            }
            f.pending = false;
            if let Some(d) = document {
                nodes.insert((d, f.pointer.clone().into_boxed_str()), at.clone());
            }
        }
    }

    let mut nodes = HashMap::new();
    let mut found = None;
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // Non-empty documents seen, and the index of the current one (`None` in an empty one).
    let mut documents = 0usize;
    let mut current: Option<usize> = None;
    let mut document_open = false;
    loop {
        let (event, mark) = parser.next_token().ok()?;
        // A key of the mapping on top of the stack.
        if let Some(f) = stack.last_mut()
            && f.item.is_none()
            && f.key.is_none()
        {
            match event {
                Event::Scalar(k, style, ..) => {
                    let at = node(mark, scalar_len(&k, style));
                    settle(&mut stack, &mut nodes, current, &at);
                    if let Some(f) = stack.last_mut() {
                        f.key = Some((k, at));
                    }
                    continue;
                }
                Event::MappingEnd => {}
                _ => return None,
            }
        }
        let is_collection = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        if is_collection || matches!(event, Event::Scalar(..) | Event::Alias(_)) {
            // Where this value is named, and its pointer.
            let (pointer, key) = match stack.last_mut() {
                None => {
                    let empty = matches!(&event, Event::Scalar(v, TScalarStyle::Plain, ..)
                        if v.is_empty() || v == "~" || v == "null");
                    if document_open {
                        current = (!empty).then_some(documents);
                        documents += usize::from(!empty);
                    }
                    document_open = false;
                    (String::new(), None)
                }
                Some(Frame {
                    pointer: parent,
                    item: Some(i),
                    ..
                }) => {
                    let mut p = parent.clone();
                    p.push('/');
                    p.push_str(&i.to_string());
                    *i += 1;
                    (p, None)
                }
                Some(Frame {
                    pointer: parent,
                    key,
                    ..
                }) => {
                    let (k, at) = key.take()?;
                    let mut p = parent.clone();
                    push(&mut p, &k);
                    (p, Some(at))
                }
            };
            let len = match &event {
                Event::Scalar(v, style, ..) => scalar_len(v, *style),
                _ => 1,
            };
            let pending = key.is_none() && is_collection;
            let here = key.unwrap_or_else(|| node(mark, len));
            if !pending {
                settle(&mut stack, &mut nodes, current, &here);
            }
            if let Some(d) = current {
                if d == 0
                    && want == Some(pointer.as_str())
                    && let Event::Scalar(v, style, ..) = &event
                {
                    found = Some(Found {
                        value: v.clone(),
                        literal: *style == TScalarStyle::Literal,
                        mark: node(mark, 1),
                        key: here.clone(),
                    });
                }
                nodes.insert((d, pointer.clone().into_boxed_str()), here);
            }
            if is_collection {
                let list = matches!(event, Event::SequenceStart(..));
                stack.push(Frame {
                    pointer,
                    item: list.then_some(0),
                    key: None,
                    pending,
                });
            }
            continue;
        }
        match event {
            Event::StreamEnd => return Some((nodes, found)),
            Event::DocumentStart => {
                stack.clear();
                document_open = true;
                current = None;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
}

/// For a literal block scalar whose lines are the file's lines (one indentation): the file line
/// of the string's first line, and the indentation.
fn literal_lines(text: &str, lines: &[usize], found: &Found) -> Option<(u32, u32)> {
    if !found.literal {
        return None;
    }
    // The content starts on the line after the key (and the `|` indicator), or where the reader
    // says the scalar starts; the lines themselves decide.
    [found.key.line + 1, found.mark.line]
        .into_iter()
        .find_map(|first| literal_at(text, lines, found, first))
}

fn literal_at(text: &str, lines: &[usize], found: &Found, first: u32) -> Option<(u32, u32)> {
    let line_text = |n: u32| -> Option<&str> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        let start = *lines.get(i)?;
        let end = lines.get(i + 1).map_or(text.len(), |e| e - 1);
        Some(text.get(start..end)?.trim_end_matches('\r'))
    };
    // The final line break ends the last line; it is not a line of its own.
    let value = found.value.strip_suffix('\n').unwrap_or(&found.value);
    let content: Vec<&str> = value.split('\n').collect();
    let first_text = content
        .iter()
        .zip(first..)
        .find(|(l, _)| !l.is_empty())
        .and_then(|(_, n)| line_text(n))?;
    let indent = first_text.len() - first_text.trim_start_matches(' ').len();
    if indent == 0 {
        return None;
    }
    for (want, n) in content.iter().zip(first..) {
        if want.is_empty() {
            // An empty line is a blank line of the file.
            if line_text(n).is_some_and(|l| !l.trim().is_empty()) {
                return None;
            }
            continue;
        }
        let got = line_text(n)?;
        if got.len() != indent + want.len()
            || !got.as_bytes()[..indent].iter().all(|b| *b == b' ')
            || &got[indent..] != *want
        {
            return None;
        }
    }
    Some((first, u32::try_from(indent).ok()?))
}

// ---------------------------------------------------------------------------------------------
// Naming fields: list items by identity while the pipeline runs

/// Keys a list item is known by (the merge keys of the Kubernetes lists a strategic merge
/// matches items by); an item with none of them is known by its index.
const ITEM_KEYS: [&str; 7] = [
    "name",
    "mountPath",
    "devicePath",
    "containerPort",
    "port",
    "ip",
    "topologyKey",
];

fn is_item_key(key: &str) -> bool {
    ITEM_KEYS.contains(&key)
}

/// A scalar's text, escaped for an identity token (`%`, `,` and `]` percent-escaped, then as a
/// JSON pointer token); `false` for mappings, lists and null.
fn write_scalar(v: &Value, out: &mut String) -> bool {
    use std::fmt::Write;
    let text = match v {
        Value::String(s) => s.as_str(),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
            return true;
        }
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            return true;
        }
        _ => return false,
    };
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            ',' => out.push_str("%2C"),
            ']' => out.push_str("%5D"),
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    true
}

/// Writes the identity token of a list item (`[name=web]`, `[name=data,mountPath=/var/lib]`:
/// its identifying keys with scalar values, in the item's order) into `out`, escaped as a JSON
/// pointer token; `false` (nothing written) when it has none.
fn write_item_token(item: &Value, out: &mut String) -> bool {
    let Value::Object(m) = item else {
        return false;
    };
    let start = out.len();
    for (key, v) in m {
        if !is_item_key(key) || !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            continue;
        }
        out.push(if out.len() == start { '[' } else { ',' });
        out.push_str(key);
        out.push('=');
        write_scalar(v, out);
    }
    if out.len() == start {
        return false;
    }
    out.push(']');
    true
}

/// Whether `item` is the one the identity token `token` (as written, escaped) names: every key
/// the token names has that value.
fn item_is(item: &Value, token: &str, scratch: &mut String) -> bool {
    let Some(pairs) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return false;
    };
    pairs.split(',').all(|pair| {
        let Some((key, want)) = pair.split_once('=') else {
            return false;
        };
        scratch.clear();
        item.get(key).is_some_and(|v| write_scalar(v, scratch)) && scratch == want
    })
}

/// Appends the token naming item `i` of `list`.
fn push_item(field: &mut String, list: &[Value], i: usize) {
    field.push('/');
    if !list
        .get(i)
        .is_some_and(|item| write_item_token(item, field))
    {
        field.push_str(&i.to_string());
    }
}

/// `pointer` (a JSON pointer of `value`) with list items named by identity; tokens past what
/// `value` holds are kept as they are.
fn keyed(value: &Value, pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + 16);
    let mut node = Some(value);
    for token in kube_basics::pointer::tokens(pointer) {
        match node {
            Some(Value::Array(items)) => match token.parse::<usize>() {
                Ok(i) if i < items.len() => {
                    push_item(&mut out, items, i);
                    node = items.get(i);
                }
                _ => {
                    push(&mut out, &token);
                    node = None;
                }
            },
            Some(Value::Object(m)) => {
                push(&mut out, &token);
                node = m.get(&token);
            }
            _ => {
                push(&mut out, &token);
                node = None;
            }
        }
    }
    out
}

/// One step down `node` along the raw (escaped) token `raw`: a mapping key, a list index, or a
/// list item named by its identity. The child and its index when `node` is a list.
fn step<'v>(
    node: &'v Value,
    raw: &str,
    scratch: &mut String,
) -> Option<(&'v Value, Option<usize>)> {
    match node {
        Value::Array(items) => {
            let i = if raw.starts_with('[') {
                items.iter().position(|x| item_is(x, raw, scratch))?
            } else {
                raw.parse::<usize>().ok().filter(|i| *i < items.len())?
            };
            Some((&items[i], Some(i)))
        }
        Value::Object(m) => {
            let child = if raw.contains('~') {
                m.get(&kube_basics::pointer::unescape(raw))?
            } else {
                m.get(raw)?
            };
            Some((child, None))
        }
        _ => None,
    }
}

/// Follows `rest` (a pointer, possibly with identity tokens) from `node`, appending the JSON
/// pointer of each step to `out`; `None` when `node` does not hold it.
fn follow<'v>(
    mut node: &'v Value,
    rest: &str,
    out: &mut String,
    scratch: &mut String,
) -> Option<&'v Value> {
    if rest.is_empty() {
        return Some(node);
    }
    for raw in rest.strip_prefix('/')?.split('/') {
        let (child, index) = step(node, raw, scratch)?;
        out.push('/');
        match index {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(raw),
        }
        node = child;
    }
    Some(node)
}

/// The JSON pointer, in `value`, of a field named with [`keyed`] tokens; `None` when `value`
/// does not hold it.
#[cfg(test)]
fn resolve(value: &Value, keyed: &str, scratch: &mut String) -> Option<String> {
    let mut out = String::with_capacity(keyed.len());
    follow(value, keyed, &mut out, scratch)?;
    Some(out)
}

/// Fixes every edit's field to a JSON pointer of the object as built, dropping edits of fields
/// the object no longer holds. Run once, at the end of a build.
pub(crate) fn finish(resources: &mut [Resource]) {
    let mut scratch = String::new();
    for r in resources {
        if r.edits.is_empty() {
            continue;
        }
        let value = &r.value;
        // Consecutive edits often share their parent (labels of one map, fields of one list
        // item): resolved once.
        let mut last: Option<(String, String, &Value)> = None;
        r.edits.retain_mut(|e| {
            let field = &*e.field;
            // The parent: up to the end of the last identity token, else to the last token.
            let split = match field.rfind("/[") {
                Some(i) => field[i..].find(']').map_or(field.len(), |j| i + j + 1),
                None => field.rfind('/').unwrap_or(0),
            };
            let (prefix, rest) = field.split_at(split);
            let cached = last
                .as_ref()
                .filter(|(p, ..)| p == prefix)
                .map(|(_, resolved, node)| (resolved.clone(), *node));
            let (mut resolved, node) = match cached {
                Some(hit) => hit,
                None => {
                    let mut p = String::with_capacity(prefix.len());
                    let Some(node) = follow(value, prefix, &mut p, &mut scratch) else {
                        return false;
                    };
                    last = Some((prefix.to_owned(), p.clone(), node));
                    (p, node)
                }
            };
            if follow(node, rest, &mut resolved, &mut scratch).is_none() {
                return false;
            }
            if field.contains("/[") {
                e.field = Arc::from(resolved);
            }
            true
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Sources of a kustomization

/// The sources a kustomization's edits name, made on first use and kept as long as the
/// kustomization is (a base's or component's for the whole fleet, an overlay's for its build).
#[derive(Default)]
pub(crate) struct KustomizationSources {
    own: OnceLock<Arc<Source>>,
    inline: Mutex<Vec<(String, Arc<Source>)>>,
}

impl Clone for KustomizationSources {
    /// A cache: a copy starts empty.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl fmt::Debug for KustomizationSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KustomizationSources")
    }
}

impl KustomizationSources {
    /// The kustomization file itself.
    pub(crate) fn own(&self, file: &Path, text: &Arc<str>) -> Arc<Source> {
        self.own
            .get_or_init(|| Source::of_file(Arc::from(file), text.clone()))
            .clone()
    }

    /// The inline patch held in the string at `pointer`.
    pub(crate) fn inline(&self, file: &Path, text: &Arc<str>, pointer: &str) -> Arc<Source> {
        let Ok(mut list) = self.inline.lock() else {
            return Source::of_inline(Arc::from(file), text.clone(), Arc::from(pointer));
        };
        if let Some((_, s)) = list.iter().find(|(p, _)| p == pointer) {
            return s.clone();
        }
        let s = Source::of_inline(Arc::from(file), text.clone(), Arc::from(pointer));
        list.push((pointer.to_owned(), s.clone()));
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Recording, one call per step of the pipeline

fn edit(
    step: Step,
    field: impl Into<Arc<str>>,
    source: &Arc<Source>,
    document: usize,
    at: impl Into<Arc<str>>,
) -> Edit {
    Edit {
        step,
        field: field.into(),
        source: source.clone(),
        document,
        at: at.into(),
    }
}

/// Where a patch is written: its source, its document there, and its pointer in that document
/// (empty, or `/patchesStrategicMerge/<i>` for a mapping written in a kustomization).
pub(crate) struct PatchAt<'a> {
    pub source: &'a Arc<Source>,
    pub document: usize,
    pub prefix: &'a str,
}

/// A strategic-merge patch was applied to `r`: each value the patch writes (directives,
/// deletions and the patch's own identity left out), found in the merged object.
pub(crate) fn record_merge(r: &mut Resource, patch: &Value, from: &PatchAt<'_>) {
    let Value::Object(pm) = patch else { return };
    let mut found: Vec<(String, String)> = Vec::new();
    let mut field = String::new();
    let mut at = String::from(from.prefix);
    for (k, v) in pm {
        if matches!(k.as_str(), "apiVersion" | "kind") || k.starts_with('$') {
            continue;
        }
        let Some(merged) = r.value.get(k) else {
            continue;
        };
        let (fl, al) = (field.len(), at.len());
        push(&mut field, k);
        push(&mut at, k);
        if k == "metadata"
            && let (Value::Object(md), Value::Object(rmd)) = (v, merged)
        {
            for (mk, mv) in md {
                if matches!(mk.as_str(), "name" | "namespace") || mk.starts_with('$') {
                    continue;
                }
                if let Some(rv) = rmd.get(mk) {
                    let (fl, al) = (field.len(), at.len());
                    push(&mut field, mk);
                    push(&mut at, mk);
                    merged_leaves(mv, rv, &mut field, &mut at, &mut found);
                    field.truncate(fl);
                    at.truncate(al);
                }
            }
        } else {
            merged_leaves(v, merged, &mut field, &mut at, &mut found);
        }
        field.truncate(fl);
        at.truncate(al);
    }
    r.edits.extend(
        found
            .into_iter()
            .map(|(f, a)| edit(Step::StrategicMerge, f, from.source, from.document, a)),
    );
}

fn merged_leaves(
    p: &Value,
    r: &Value,
    field: &mut String,
    at: &mut String,
    out: &mut Vec<(String, String)>,
) {
    match (p, r) {
        (Value::Object(pm), Value::Object(rm)) => {
            for (k, v) in pm {
                if k.starts_with('$') {
                    continue;
                }
                let Some(rv) = rm.get(k) else { continue };
                let (fl, al) = (field.len(), at.len());
                push(field, k);
                push(at, k);
                merged_leaves(v, rv, field, at, out);
                field.truncate(fl);
                at.truncate(al);
            }
        }
        (Value::Array(pa), Value::Array(ra)) => {
            for (j, item) in pa.iter().enumerate() {
                if item.get("$patch").is_some() {
                    continue;
                }
                let Some(i) = matching_item(item, j, pa.len(), ra) else {
                    continue;
                };
                let (fl, al) = (field.len(), at.len());
                push_item(field, ra, i);
                at.push('/');
                at.push_str(&j.to_string());
                merged_leaves(item, &ra[i], field, at, out);
                field.truncate(fl);
                at.truncate(al);
            }
        }
        (Value::Null, _) | (Value::Object(_) | Value::Array(_), _) => {}
        _ => out.push((field.clone(), at.clone())),
    }
}

/// The item of the merged `list` a patch's item `j` (of `len`) became: by its identifying keys,
/// else by position when the lists have the same length (a replaced list), else by equality.
fn matching_item(item: &Value, j: usize, len: usize, list: &[Value]) -> Option<usize> {
    if let Value::Object(m) = item {
        let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
        let mut keys = m
            .iter()
            .filter(|(k, v)| is_item_key(k) && scalar(v))
            .peekable();
        if keys.peek().is_some() {
            let keys: Vec<(&String, &Value)> = keys.collect();
            return list
                .iter()
                .position(|x| keys.iter().all(|(k, v)| x.get(k.as_str()) == Some(*v)));
        }
    }
    if len == list.len() {
        return Some(j);
    }
    list.iter().position(|x| x == item)
}

/// A JSON 6902 patch (`ops`, a list of operations) was applied to `r`: each value an operation
/// wrote (the operation's `value`, and every value inside it).
pub(crate) fn record_ops(r: &mut Resource, ops: &Value, from: &PatchAt<'_>) {
    let Value::Array(ops) = ops else { return };
    for (i, op) in ops.iter().enumerate() {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "add" | "replace" | "copy" | "move") {
            continue;
        }
        let Some(path) = op.get("path").and_then(Value::as_str) else {
            continue;
        };
        // `-` appends: the item is now the last of its list.
        let path = match path.strip_suffix("/-") {
            Some(list) => match r.value.pointer(list).and_then(Value::as_array) {
                Some(items) if !items.is_empty() => format!("{list}/{}", items.len() - 1),
                _ => continue,
            },
            None => path.to_owned(),
        };
        let base = format!("{}/{i}", from.prefix);
        let Some(value) = op.get("value") else {
            r.edits.push(edit(
                Step::Json6902,
                keyed(&r.value, &path),
                from.source,
                from.document,
                base,
            ));
            continue;
        };
        // The value itself, then every value inside it.
        let mut found = vec![(path.clone(), format!("{base}/value"))];
        let (mut field, mut at) = (path, format!("{base}/value"));
        leaves(value, &mut field, &mut at, &mut found);
        for (f, a) in found {
            let f = keyed(&r.value, &f);
            r.edits
                .push(edit(Step::Json6902, f, from.source, from.document, a));
        }
    }
}

/// Every value inside `v` (below its root) as `(field, at)`, both pointers extended alike.
fn leaves(v: &Value, field: &mut String, at: &mut String, out: &mut Vec<(String, String)>) {
    let mut visit = |token: &str, child: &Value, field: &mut String, at: &mut String| {
        let (fl, al) = (field.len(), at.len());
        push(field, token);
        push(at, token);
        if !matches!(child, Value::Object(_) | Value::Array(_)) {
            out.push((field.clone(), at.clone()));
        }
        leaves(child, field, at, out);
        field.truncate(fl);
        at.truncate(al);
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                visit(k, child, field, at);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                visit(&i.to_string(), child, field, at);
            }
        }
        _ => {}
    }
}

/// `namespace` was applied: the namespace of namespaced objects, the name of a `Namespace`.
pub(crate) fn record_namespace(ra: &mut [Resource], source: &Arc<Source>) {
    let (ns, name, at) = (
        Arc::<str>::from("/metadata/namespace"),
        Arc::<str>::from("/metadata/name"),
        Arc::<str>::from("/namespace"),
    );
    for r in ra.iter_mut() {
        let field = if r.kind() == "Namespace" && r.api_version() == "v1" {
            &name
        } else if r.is_cluster_scoped() {
            continue;
        } else {
            &ns
        };
        r.edits
            .push(edit(Step::Namespace, field.clone(), source, 0, at.clone()));
    }
}

/// `namePrefix` / `nameSuffix` were applied (the kinds they skip are skipped).
pub(crate) fn record_name(ra: &mut [Resource], source: &Arc<Source>, prefix: bool, suffix: bool) {
    let field = Arc::<str>::from("/metadata/name");
    let ats: Vec<Arc<str>> = [(prefix, "/namePrefix"), (suffix, "/nameSuffix")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, at)| Arc::from(at))
        .collect();
    if ats.is_empty() {
        return;
    }
    for r in ra.iter_mut() {
        if matches!(
            r.kind(),
            "Namespace" | "CustomResourceDefinition" | "APIService"
        ) {
            continue;
        }
        for at in &ats {
            r.edits
                .push(edit(Step::Name, field.clone(), source, 0, at.clone()));
        }
    }
}

/// The pairs one label or annotation transformer wrote, each with its entry in the
/// kustomization (`/commonLabels/app`).
pub(crate) struct Pairs<'a> {
    pub specs: std::borrow::Cow<'static, [crate::transform::FieldSpec]>,
    pub pairs: &'a [(String, String)],
    pub ats: Vec<Arc<str>>,
}

/// `labels`, `commonLabels` or `commonAnnotations` were applied: each pair in every mapping the
/// transformer's field specs reach, where the object now holds it with that value.
pub(crate) fn record_pairs(
    ra: &mut [Resource],
    source: &Arc<Source>,
    step: Step,
    sets: &[Pairs<'_>],
) {
    // Each key as a pointer token, escaped once.
    let tokens: Vec<Vec<String>> = sets
        .iter()
        .map(|set| {
            set.pairs
                .iter()
                .map(|(k, _)| kube_basics::pointer::escape(k))
                .collect()
        })
        .collect();
    let mut at = String::new();
    for r in ra.iter_mut() {
        let mut found: Vec<(String, Arc<str>)> = Vec::new();
        for (set, tokens) in sets.iter().zip(&tokens) {
            for spec in set.specs.iter().filter(|s| s.matches(r)) {
                at.clear();
                visit_at(&r.value, &spec.path, &mut at, &mut |map, at| {
                    let Value::Object(m) = map else { return };
                    for (((key, value), entry), token) in set.pairs.iter().zip(&set.ats).zip(tokens)
                    {
                        if m.get(key).and_then(Value::as_str) == Some(value.as_str()) {
                            let mut field = String::with_capacity(at.len() + token.len() + 1);
                            field.push_str(at);
                            field.push('/');
                            field.push_str(token);
                            found.push((field, entry.clone()));
                        }
                    }
                });
            }
        }
        r.edits.extend(
            found
                .into_iter()
                .map(|(field, at)| edit(step, field, source, 0, at)),
        );
    }
}

/// Calls `found` with every value at `path` under `v` and its (keyed) pointer, as
/// [`visit`](crate::transform) walks a field spec's path (lists on the way are traversed).
fn visit_at(v: &Value, path: &[String], at: &mut String, found: &mut dyn FnMut(&Value, &str)) {
    let Some((first, rest)) = path.split_first() else {
        found(v, at);
        return;
    };
    match v {
        Value::Array(items) => {
            for i in 0..items.len() {
                let len = at.len();
                push_item(at, items, i);
                visit_at(&items[i], path, at, found);
                at.truncate(len);
            }
        }
        Value::Object(m) => {
            if let Some(child) = m.get(first.as_str()) {
                let len = at.len();
                push(at, first);
                visit_at(child, rest, at, found);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// `replicas` was applied (same matching as the transformer).
pub(crate) fn record_replicas(ra: &mut [Resource], source: &Arc<Source>, names: &[&str]) {
    let field = Arc::<str>::from("/spec/replicas");
    for (i, name) in names.iter().enumerate() {
        let at: Arc<str> = Arc::from(format!("/replicas/{i}/count"));
        for r in ra.iter_mut() {
            if !matches!(
                r.kind(),
                "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet"
            ) || (r.name() != *name && r.original_name != *name)
            {
                continue;
            }
            r.edits
                .push(edit(Step::Replicas, field.clone(), source, 0, at.clone()));
        }
    }
}

/// `images` is about to be applied: the `image` of every container and init container (wherever
/// a pod template is, as the transformer looks) that an entry rewrites, traced to that entry
/// (`entry(image)`: its pointer in the kustomization).
pub(crate) fn record_images(
    ra: &mut [Resource],
    source: &Arc<Source>,
    entry: &dyn Fn(&str) -> Option<Arc<str>>,
) {
    fn walk(
        v: &Value,
        field: &mut String,
        entry: &dyn Fn(&str) -> Option<Arc<str>>,
        out: &mut Vec<(String, Arc<str>)>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let len = field.len();
                    push(field, k);
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = child
                    {
                        for (i, c) in items.iter().enumerate() {
                            if let Some(Value::String(img)) = c.get("image")
                                && let Some(at) = entry(img)
                            {
                                let l = field.len();
                                push_item(field, items, i);
                                field.push_str("/image");
                                out.push((field.clone(), at));
                                field.truncate(l);
                            }
                        }
                    }
                    walk(child, field, entry, out);
                    field.truncate(len);
                }
            }
            Value::Array(items) => {
                for i in 0..items.len() {
                    let len = field.len();
                    push_item(field, items, i);
                    walk(&items[i], field, entry, out);
                    field.truncate(len);
                }
            }
            _ => {}
        }
    }
    for r in ra.iter_mut() {
        let mut found = Vec::new();
        walk(&r.value, &mut String::new(), entry, &mut found);
        r.edits.extend(
            found
                .into_iter()
                .map(|(field, at)| edit(Step::Images, field, source, 0, at)),
        );
    }
}

/// A generator (`field`, entry `i` of the kustomization, `args` as written) made `r`: its name
/// from the entry's `name`, each data key from the literal, file or env file that supplied it.
pub(crate) fn record_generated(
    r: &mut Resource,
    source: &Arc<Source>,
    field: &str,
    i: usize,
    args: &Value,
) {
    let entry = format!("/{field}/{i}");
    let list = |key: &str| -> Vec<&str> {
        match args.get(key) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        }
    };
    let (literals, files) = (list("literals"), list("files"));
    let envs: Vec<(&str, &str)> = ["envs", "env"]
        .into_iter()
        .filter(|k| args.get(*k).is_some())
        .map(|k| (k, ""))
        .collect();
    let mut found: Vec<(String, String)> = Vec::new();
    if args.get("name").is_some() {
        found.push(("/metadata/name".into(), format!("{entry}/name")));
    }
    for map in ["data", "binaryData"] {
        let Some(Value::Object(data)) = r.value.get(map) else {
            continue;
        };
        for key in data.keys() {
            let at = if let Some(j) = literals
                .iter()
                .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
            {
                format!("{entry}/literals/{j}")
            } else if let Some(j) = files.iter().position(|f| match f.split_once('=') {
                Some((k, _)) => k == key,
                None => Path::new(f).file_name().is_some_and(|n| n == key.as_str()),
            }) {
                format!("{entry}/files/{j}")
            } else if let Some((k, _)) = envs.first() {
                // Which env file holds the key is not known here: the list.
                format!("{entry}/{k}")
            } else {
                continue;
            };
            let mut f = format!("/{map}");
            push(&mut f, key);
            found.push((f, at));
        }
    }
    r.edits.extend(
        found
            .into_iter()
            .map(|(f, a)| edit(Step::Generator, f, source, 0, a)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(text: &str) -> Arc<Source> {
        Source::of_file(Arc::from(Path::new("f.yaml")), Arc::from(text))
    }

    fn at(s: &Source, document: usize, pointer: &str) -> Option<(u32, u32)> {
        s.position(document, pointer).map(|p| (p.line, p.column))
    }

    #[test]
    fn positions_of_keys_items_and_documents() {
        let text =
            "---\n# empty\n---\na: 1\nb:\n  c: [x, y]\n  d:\n  - e: 1\n    f: 2\n---\ng: h\n";
        let s = source(text);
        assert_eq!(at(&s, 0, "/a"), Some((4, 1)));
        assert_eq!(at(&s, 0, "/b/c"), Some((6, 3)));
        assert_eq!(at(&s, 0, "/b/c/1"), Some((6, 10)));
        assert_eq!(at(&s, 0, "/b/d/0/f"), Some((9, 5)));
        assert_eq!(at(&s, 1, "/g"), Some((11, 1)));
        assert_eq!(at(&s, 0, "/zz"), None);
        assert_eq!(at(&s, 2, "/g"), None);
        let p = s.position(0, "/b/d/0/f").unwrap();
        assert_eq!(&text[p.offset..p.offset + p.len], "f");
        // A mapping item where its first key is written; the root likewise.
        assert_eq!(at(&s, 0, "/b/d/0"), Some((8, 5)));
        assert_eq!(at(&s, 0, ""), Some((4, 1)));
        let nested = source(
            "- - a
  - b
- c: 1
",
        );
        assert_eq!(at(&nested, 0, "/0"), Some((1, 5)));
        assert_eq!(at(&nested, 0, "/0/1"), Some((2, 5)));
        assert_eq!(at(&nested, 0, "/1"), Some((3, 3)));
    }

    #[test]
    fn inline_literal_blocks_are_followed_into_the_file() {
        let k = "kind: Kustomization\npatches:\n- patch: |\n    kind: Deployment\n    metadata:\n\n      name: é\n    spec:\n      replicas: 2\n- patch: \"kind: Deployment\\nspec:\\n  paused: true\\n\"\n";
        let text: Arc<str> = Arc::from(k);
        let file: Arc<Path> = Arc::from(Path::new("k.yaml"));
        let s = Source::of_inline(file.clone(), text.clone(), Arc::from("/patches/0/patch"));
        let p = s.position(0, "/spec/replicas").unwrap();
        assert_eq!((p.line, p.column, p.exact), (9, 7, true));
        assert_eq!(&k[p.offset..p.offset + p.len], "replicas");
        let p = s.position(0, "/metadata/name").unwrap();
        assert_eq!((p.line, p.column), (7, 7));
        // A quoted string: its key, not exact.
        let s = Source::of_inline(file, text, Arc::from("/patches/1/patch"));
        let p = s.position(0, "/spec/paused").unwrap();
        assert_eq!((p.line, p.column, p.exact), (10, 3, false));
        assert!(s.position(0, "/spec/nothing").is_none());
    }

    #[test]
    fn list_items_are_named_by_identity_and_found_again() {
        let v = json!({"spec": {"containers": [
            {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 90}]},
            {"name": "b/c", "args": ["x", "y"]}
        ]}});
        let k = keyed(&v, "/spec/containers/1/args/1");
        assert_eq!(k, "/spec/containers/[name=b~1c]/args/1");
        assert_eq!(
            resolve(&v, &k, &mut String::new()).as_deref(),
            Some("/spec/containers/1/args/1")
        );
        let k = keyed(&v, "/spec/containers/0/ports/1/containerPort");
        assert_eq!(
            k,
            "/spec/containers/[name=a]/ports/[containerPort=90]/containerPort"
        );
        // The list reordered: the same items are found where they went.
        let moved = json!({"spec": {"containers": [
            {"name": "b/c", "args": ["x", "y"]},
            {"name": "a", "ports": [{"containerPort": 90}, {"containerPort": 80}]}
        ]}});
        assert_eq!(
            resolve(&moved, &k, &mut String::new()).as_deref(),
            Some("/spec/containers/1/ports/0/containerPort")
        );
        assert_eq!(
            resolve(
                &moved,
                "/spec/containers/[name=gone]/image",
                &mut String::new()
            ),
            None
        );
    }
}

//! YAML parsed once into a tree that keeps where every key and value came from.
//!
//! Schema errors and semantic checks speak in JSON pointers (`/sites/3/hardware`); this tree maps
//! such a pointer back to the line and column of the field in the file the user wrote.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::Diagnostic;

/// Files larger than this are refused before parsing: an inventory or manifest of this size is a
/// mistake (a log file, a binary), and parsing it would only burn memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
        let span = loc.span();
        Self {
            file: file.clone(),
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
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A YAML value with the location of every node.
#[derive(Debug, Clone)]
pub enum YamlNode {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<YamlNode>>),
    Map(Vec<(Spanned<String>, Spanned<YamlNode>)>),
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
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(YamlNode::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value()?;
                    entries.push((key, value));
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
    pub root: Spanned<YamlNode>,
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
        SourceLocation::from_saphyr(&self.file, &node.referenced)
    }

    /// Location of the key of a mapping entry at a JSON pointer (`/sites/0/labels/tier` points at
    /// `tier`), falling back to the value's location.
    pub fn locate_key(&self, pointer: &str) -> SourceLocation {
        let tokens: Vec<String> = pointer_tokens(pointer).collect();
        if let Some((last, parent)) = tokens.split_last() {
            let parent_ptr: String = parent.iter().map(|t| format!("/{}", escape(t))).collect();
            if let Some(YamlNode::Map(entries)) = self.node_at(&parent_ptr).map(|n| &n.value)
                && let Some((key, _)) = entries.iter().find(|(k, _)| &k.value == last)
            {
                return SourceLocation::from_saphyr(&self.file, &key.referenced);
            }
        }
        self.locate(pointer)
    }

    fn node_at(&self, pointer: &str) -> Option<&Spanned<YamlNode>> {
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

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The unescaped reference tokens of a JSON pointer (RFC 6901).
pub fn pointer_tokens(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
}

fn node_to_json(node: &YamlNode) -> serde_json::Value {
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
    }
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
    if meta.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            SourceLocation::start_of(&file),
            format!(
                "file is {} bytes, more than the {} MiB edgefleet reads; is it really an inventory file?",
                meta.len(),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
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

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Parse every document of a YAML stream into located trees.
pub fn parse_yaml(path: &Path, text: &str) -> Result<Vec<YamlDocument>, Diagnostic> {
    let file: Arc<Path> = Arc::from(path);
    let roots: Vec<Spanned<YamlNode>> =
        serde_saphyr::from_multiple_with_options(text, parse_options()).map_err(|e| {
            let location = e
                .location()
                .map(|l| SourceLocation::from_saphyr(&file, &l))
                .unwrap_or_else(|| SourceLocation::start_of(&file));
            Diagnostic::new(location, yaml_error_message(&e))
        })?;
    Ok(roots
        .into_iter()
        .filter(|r| !matches!(r.value, YamlNode::Null))
        .map(|root| YamlDocument {
            file: file.clone(),
            root,
        })
        .collect())
}

/// The parser's message without its own "line X column Y" prefix (we print the location ourselves).
pub fn yaml_error_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
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
    format!("invalid YAML: {first_line}")
}

/// A path relative to `base` when possible, for shorter messages.
pub fn display_path(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

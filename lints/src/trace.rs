//! Tracing a field of a rendered object back to the file that set it.
//!
//! `edgefleet lint --fleet` lints objects rendered in memory from a site's overlay; a finding must
//! point at the source file a user edits (the base, a component's patch, or the overlay), never
//! at a temporary render. The renderer records each object's provenance: the file and document
//! that defined it, and, per operation, which fields each patch or kustomization entry set
//! ([`FieldEdit`]: a JSON pointer of the rendered object and where the value is written). This
//! module turns that into file positions with the located YAML reader. A field no edit set is
//! attributed to its origin file only when the origin provably holds it with the rendered value;
//! otherwise the finding points at the object in its origin file and says so. Better precise
//! than wrong.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::{self, YamlDocument, pointer_tokens};
use serde_json::Value;

/// A parsed source document with its JSON form (built once, shared by every site that uses it).
#[derive(Debug)]
pub struct SourceDoc {
    pub doc: YamlDocument,
    pub json: Value,
}

impl SourceDoc {
    pub fn new(doc: YamlDocument) -> Self {
        let json = doc.to_json();
        Self { doc, json }
    }
}

/// Where the instruction that set a rendered field is written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EditSource {
    /// A document (0-based) of a file: a patch file, a replacement file.
    Document { file: Arc<Path>, document: usize },
    /// An entry of a kustomization (`namespace`, `images`, `labels`, `replicas`, ...).
    Kustomization { file: Arc<Path> },
    /// A document (0-based) of a YAML text held in a string of a kustomization (an inline
    /// patch, `patches[i].patch`); `pointer` is the string's JSON pointer in the kustomization.
    Inline {
        file: Arc<Path>,
        pointer: Arc<str>,
        document: usize,
    },
}

impl EditSource {
    /// The file the instruction is written in.
    pub fn file(&self) -> &Arc<Path> {
        match self {
            Self::Document { file, .. }
            | Self::Kustomization { file }
            | Self::Inline { file, .. } => file,
        }
    }
}

/// One field of a rendered object set by a patch, a transformer or a generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldEdit {
    /// JSON pointer of the field in the rendered object.
    pub field: Arc<str>,
    /// Where the instruction is written.
    pub source: EditSource,
    /// JSON pointer of the value (or entry) that set it, in the source document.
    pub at: Arc<str>,
}

/// A source file read and parsed once for the whole run.
#[derive(Debug)]
pub struct Parsed {
    pub text: Arc<str>,
    pub docs: Vec<Arc<SourceDoc>>,
}

/// The source files of a run, read and parsed on first use and shared by every site.
#[derive(Debug, Default)]
pub struct Sources {
    files: Mutex<HashMap<PathBuf, Option<Arc<Parsed>>>>,
    /// Inline patches parsed in place (see [`inline_in_place`]), by file and pointer.
    inline: Mutex<HashMap<(PathBuf, Arc<str>), Option<Arc<[Arc<SourceDoc>]>>>>,
}

impl Sources {
    /// The parsed file, read from disk on first use; `None` when it cannot be read or parsed.
    pub fn parsed(&self, path: &Path) -> Option<Arc<Parsed>> {
        if let Some(p) = self.files.lock().ok()?.get(path) {
            return p.clone();
        }
        let parsed = source::read_source(path)
            .ok()
            .and_then(|text| parse(path, Arc::from(text)));
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_path_buf(), parsed.clone());
        }
        parsed
    }

    /// Holds `text` as the content of `path` (for tests and callers that read files themselves).
    pub fn insert(&self, path: &Path, text: &str) {
        let parsed = parse(path, Arc::from(text));
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_path_buf(), parsed);
        }
    }

    /// Document `i` of `path`.
    pub fn document(&self, path: &Path, i: usize) -> Option<Arc<SourceDoc>> {
        self.parsed(path)?.docs.get(i).cloned()
    }

    /// The documents of the inline patch at `pointer` of the kustomization `file`, with file
    /// positions, when its block can be parsed in place.
    fn inline(&self, file: &Path, pointer: &Arc<str>) -> Option<Arc<[Arc<SourceDoc>]>> {
        let key = (file.to_path_buf(), pointer.clone());
        if let Some(d) = self.inline.lock().ok()?.get(&key) {
            return d.clone();
        }
        let docs = self.parsed(file).and_then(|k| {
            let doc = k.docs.first()?;
            let text = doc.json.pointer(pointer)?.as_str()?;
            let at = doc.doc.locate_key(pointer);
            let in_place = inline_in_place(&k.text, at.offset, text)?;
            let docs = source::parse_yaml(file, &in_place).ok()?;
            Some(Arc::from(
                docs.into_iter()
                    .map(|d| Arc::new(SourceDoc::new(d)))
                    .collect::<Vec<_>>(),
            ))
        });
        if let Ok(mut inline) = self.inline.lock() {
            inline.insert(key, docs.clone());
        }
        docs
    }

    /// The text of every file read, by path.
    pub fn into_texts(self) -> HashMap<PathBuf, Arc<str>> {
        self.files
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(path, p)| Some((path, p?.text.clone())))
            .collect()
    }
}

fn parse(path: &Path, text: Arc<str>) -> Option<Arc<Parsed>> {
    let docs = source::parse_yaml(path, &text).ok()?;
    Some(Arc::new(Parsed {
        docs: docs
            .into_iter()
            .map(|d| Arc::new(SourceDoc::new(d)))
            .collect(),
        text,
    }))
}

/// Where a rendered object came from.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The files of the run, parsed on demand (an edit is only read when a finding needs it).
    pub sources: Arc<Sources>,
    /// The document of the origin file that defined the object, when it could be read.
    pub origin: Option<Arc<SourceDoc>>,
    /// Where to point when there is no origin document (generated objects): the overlay.
    pub fallback: SourceLocation,
    /// The fields patches, transformers and generators set, in the order they were applied.
    pub edits: Vec<FieldEdit>,
    /// Name before prefixes, suffixes and hashes (how a `List` item is found in its file).
    pub original_name: String,
}

/// A located finding, with a note when the location is the object rather than the field.
pub struct TracedLocation {
    pub location: SourceLocation,
    pub note: Option<&'static str>,
}

const NOTE_OBJECT: &str = "field set while rendering the site overlay (a patch, label, image or namespace edgefleet cannot attribute); shown at the object's source";
const NOTE_GENERATED: &str =
    "object generated by the overlay; shown at the overlay's kustomization";
const NOTE_INLINE: &str = "set by the overlay's inline patch";

impl Trace {
    /// The source location of the field at `pointer` in the rendered object `rendered`.
    pub fn locate(&self, rendered: &Value, pointer: &str) -> TracedLocation {
        // The last edit that set this very field.
        if !pointer.is_empty()
            && let Some(found) = self
                .edits
                .iter()
                .rev()
                .filter(|e| &*e.field == pointer)
                .find_map(|e| self.place(e, &e.at))
        {
            return found;
        }
        let Some(origin) = &self.origin else {
            return self.below_edit(pointer).unwrap_or_else(|| TracedLocation {
                location: self.fallback.clone(),
                note: Some(NOTE_GENERATED),
            });
        };
        let origin_root = self.origin_root(origin);
        let object = |note| TracedLocation {
            location: locate_object(origin, &origin_root),
            note,
        };
        if pointer.is_empty() {
            return object(None);
        }
        let target = rendered.pointer(pointer);
        let scalar = !matches!(target, Some(Value::Object(_) | Value::Array(_)));
        // A structure (a container, a resources map) is best shown where the object defines
        // it, else where the edit that added it is written.
        if !scalar {
            if let Some(p) = map_pointer(rendered, &origin.json, &origin_root, pointer) {
                return TracedLocation {
                    location: origin.doc.locate_key(&p),
                    note: None,
                };
            }
            if let Some(found) = self.below_edit(pointer) {
                return found;
            }
        }
        if let Some(p) = map_pointer(rendered, &origin.json, &origin_root, pointer)
            && (target.is_none() || same(origin.json.pointer(&p), target))
        {
            return TracedLocation {
                location: origin.doc.locate_key(&p),
                note: None,
            };
        }
        if target.is_none() {
            // A missing field: the deepest ancestor the origin holds.
            return TracedLocation {
                location: origin.doc.locate_key(&deepest(
                    rendered,
                    &origin.json,
                    &origin_root,
                    pointer,
                )),
                note: None,
            };
        }
        object(Some(NOTE_OBJECT))
    }

    /// The structure at `pointer` located through the first edit that set a field inside it:
    /// the same ancestor in that edit's source.
    fn below_edit(&self, pointer: &str) -> Option<TracedLocation> {
        if pointer.is_empty() {
            return None;
        }
        self.edits.iter().find_map(|e| {
            let rest = e.field.strip_prefix(pointer)?;
            if !rest.starts_with('/') {
                return None;
            }
            let depth = rest.matches('/').count();
            let mut at = &*e.at;
            for _ in 0..depth {
                at = &at[..at.rfind('/')?];
            }
            self.place(e, at)
        })
    }

    /// The position of `at` in the source of `edit`; `None` when the source does not hold it.
    fn place(&self, edit: &FieldEdit, at: &str) -> Option<TracedLocation> {
        let located = |doc: &SourceDoc| {
            doc.json.pointer(at)?;
            Some(TracedLocation {
                location: doc.doc.locate_key(at),
                note: None,
            })
        };
        match &edit.source {
            EditSource::Document { file, document } => {
                located(&*self.sources.document(file, *document)?)
            }
            EditSource::Kustomization { file } => located(&*self.sources.document(file, 0)?),
            EditSource::Inline {
                file,
                pointer,
                document,
            } => {
                if let Some(docs) = self.sources.inline(file, pointer)
                    && let Some(doc) = docs.get(*document)
                    && let Some(found) = located(doc)
                {
                    return Some(found);
                }
                // Not parsable in place (a quoted or folded scalar): the `patch:` key.
                let k = self.sources.document(file, 0)?;
                k.json.pointer(pointer)?;
                Some(TracedLocation {
                    location: k.doc.locate_key(pointer),
                    note: Some(NOTE_INLINE),
                })
            }
        }
    }

    /// The JSON pointer of the object inside its origin document (`/items/<i>` in a List).
    fn origin_root(&self, origin: &SourceDoc) -> String {
        if let Some(items) = origin.json.get("items").and_then(Value::as_array) {
            for (i, item) in items.iter().enumerate() {
                if item.pointer("/metadata/name").and_then(Value::as_str)
                    == Some(self.original_name.as_str())
                {
                    return format!("/items/{i}");
                }
            }
        }
        String::new()
    }
}

/// The kustomization's text with everything blanked (bytes to spaces, line breaks kept) except
/// the literal block scalar that holds an inline patch, when that block's lines are `patch`'s
/// lines with one common indentation. Parsing it gives the patch with file positions (offsets,
/// lines and columns). `None` when the block cannot be matched line for line (other scalar
/// styles, a multi-document patch whose `---` would not be at column 0 in place).
fn inline_in_place(file_text: &str, key_offset: usize, patch: &str) -> Option<String> {
    let rest = file_text.get(key_offset..)?;
    let key_line_end = key_offset + rest.find('\n')?;
    let key_line = &file_text[key_offset..key_line_end];
    let indicator = key_line.split_once(':')?.1.trim();
    if !indicator.starts_with('|') || indicator.contains('#') {
        return None;
    }
    let lines: Vec<&str> = patch.lines().collect();
    if lines.is_empty()
        || lines
            .iter()
            .any(|l| l.starts_with("---") || l.starts_with("..."))
    {
        return None;
    }
    let start = key_line_end + 1;
    let block = file_text.get(start..)?;
    let first = block.lines().find(|l| !l.trim().is_empty())?;
    let indent = first.len() - first.trim_start_matches(' ').len();
    if indent == 0 {
        return None;
    }
    let mut end = start;
    for (want, got) in lines.iter().zip(block.split_inclusive('\n')) {
        let got_line = got.trim_end_matches('\n').trim_end_matches('\r');
        let matches = if want.is_empty() {
            got_line.trim().is_empty()
        } else {
            got_line.len() == indent + want.len()
                && got_line[..indent].bytes().all(|b| b == b' ')
                && &got_line[indent..] == *want
        };
        if !matches {
            return None;
        }
        end += got.len();
    }
    if block.split_inclusive('\n').count() < lines.len() {
        return None;
    }
    let mut out = String::with_capacity(file_text.len());
    for (i, ch) in file_text.char_indices() {
        if (start..end).contains(&i) || ch == '\n' {
            out.push(ch);
        } else {
            // One space per byte: offsets stay those of the file.
            out.extend(std::iter::repeat_n(' ', ch.len_utf8()));
        }
    }
    Some(out)
}

fn locate_object(origin: &SourceDoc, root: &str) -> SourceLocation {
    let kind = format!("{root}/kind");
    if origin.json.pointer(&kind).is_some() {
        origin.doc.locate_key(&kind)
    } else {
        origin.doc.locate(root)
    }
}

/// Equal values; scalars also compare by their text (`cpu: 2` against `cpu: "2"`).
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a == b || (scalar_text(a).is_some() && scalar_text(a) == scalar_text(b))
        }
        _ => false,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Maps a pointer into the rendered object to the same field in a source document (under
/// `root`): list items that have a `name` are matched by name (strategic-merge semantics),
/// others by index. `None` when the source does not hold the field.
fn map_pointer(rendered: &Value, source: &Value, root: &str, pointer: &str) -> Option<String> {
    let mut r = rendered;
    let mut s = source.pointer(root)?;
    let mut out = root.to_owned();
    for token in pointer_tokens(pointer) {
        let (rn, sn, key) = step(r, s, &token)?;
        r = rn;
        s = sn;
        out.push('/');
        out.push_str(&key.replace('~', "~0").replace('/', "~1"));
    }
    Some(out)
}

/// The deepest prefix of `pointer` that the source holds, mapped into the source.
fn deepest(rendered: &Value, source: &Value, root: &str, pointer: &str) -> String {
    let mut r = rendered;
    let Some(mut s) = source.pointer(root) else {
        return root.to_owned();
    };
    let mut out = root.to_owned();
    for token in pointer_tokens(pointer) {
        let Some((rn, sn, key)) = step(r, s, &token) else {
            break;
        };
        r = rn;
        s = sn;
        out.push('/');
        out.push_str(&key.replace('~', "~0").replace('/', "~1"));
    }
    out
}

fn step<'r, 's>(r: &'r Value, s: &'s Value, token: &str) -> Option<(&'r Value, &'s Value, String)> {
    match (r, s) {
        (Value::Object(rm), Value::Object(sm)) => {
            Some((rm.get(token)?, sm.get(token)?, token.to_owned()))
        }
        (Value::Array(ra), Value::Array(sa)) => {
            let i: usize = token.parse().ok()?;
            let item = ra.get(i)?;
            let j = match item.get("name").and_then(Value::as_str) {
                Some(name) => sa
                    .iter()
                    .position(|x| x.get("name").and_then(Value::as_str) == Some(name))?,
                None if ra.len() == sa.len() => i,
                None => return None,
            };
            Some((item, &sa[j], j.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use edgefleet_inventory::SourceLocation;
    use serde_json::json;

    use super::{EditSource, FieldEdit, Sources, Trace, inline_in_place};

    const BASE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: sidecar:1
      - name: app
        image: app:1
        resources:
          requests:
            cpu: 100m
";
    const PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: app
        resources:
          requests:
            memory: 64Mi
      - name: added
        image: added:1
";
    const KUSTOMIZATION: &str = "\
namespace: edge
patches:
- patch: |
    kind: Deployment
    metadata:
      name: app
    spec:
      replicas: 3
- patch: \"kind: Deployment\\nmetadata:\\n  name: app\\nspec:\\n  paused: true\\n\"
";

    fn sources() -> Arc<Sources> {
        let s = Sources::default();
        s.insert(Path::new("base.yaml"), BASE);
        s.insert(Path::new("patch.yaml"), PATCH);
        s.insert(Path::new("kustomization.yaml"), KUSTOMIZATION);
        Arc::new(s)
    }

    fn file(name: &str) -> Arc<Path> {
        Arc::from(Path::new(name))
    }

    fn edit(field: &str, source: EditSource, at: &str) -> FieldEdit {
        FieldEdit {
            field: field.into(),
            source,
            at: at.into(),
        }
    }

    const C: &str = "/spec/template/spec/containers";

    fn trace(edits: Vec<FieldEdit>) -> Trace {
        let sources = sources();
        Trace {
            origin: sources.document(Path::new("base.yaml"), 0),
            sources,
            fallback: SourceLocation::start_of(&file("kustomization.yaml")),
            edits,
            original_name: "app".into(),
        }
    }

    fn rendered() -> serde_json::Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "app", "namespace": "edge", "labels": {"site": "a"}},
            "spec": {"replicas": 3, "paused": true, "template": {"spec": {"containers": [
                {"name": "sidecar", "image": "sidecar:1"},
                {"name": "app", "image": "app:2",
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "added", "image": "added:1"}
            ]}}}
        })
    }

    fn edits() -> Vec<FieldEdit> {
        let patch = EditSource::Document {
            file: file("patch.yaml"),
            document: 0,
        };
        let k = EditSource::Kustomization {
            file: file("kustomization.yaml"),
        };
        let inline = |i: usize| EditSource::Inline {
            file: file("kustomization.yaml"),
            pointer: Arc::from(format!("/patches/{i}/patch")),
            document: 0,
        };
        vec![
            edit(
                &format!("{C}/1/resources/requests/memory"),
                patch.clone(),
                &format!("{C}/0/resources/requests/memory"),
            ),
            edit(
                &format!("{C}/2/name"),
                patch.clone(),
                &format!("{C}/1/name"),
            ),
            edit(&format!("{C}/2/image"), patch, &format!("{C}/1/image")),
            edit("/spec/replicas", inline(0), "/spec/replicas"),
            edit("/spec/paused", inline(1), "/spec/paused"),
            edit("/metadata/namespace", k, "/namespace"),
        ]
    }

    fn at(t: &Trace, p: &str) -> (String, u32, bool) {
        let l = t.locate(&rendered(), p);
        (
            l.location.file.display().to_string(),
            l.location.line,
            l.note.is_some(),
        )
    }

    #[test]
    fn fields_are_found_where_their_edit_is_written() {
        let t = trace(edits());
        assert_eq!(
            at(&t, &format!("{C}/1/resources/requests/memory")),
            ("patch.yaml".into(), 12, false)
        );
        // A container a patch added: where the patch writes it.
        assert_eq!(at(&t, &format!("{C}/2")), ("patch.yaml".into(), 13, false));
        assert_eq!(
            at(&t, &format!("{C}/2/image")),
            ("patch.yaml".into(), 14, false)
        );
        // A kustomization entry.
        assert_eq!(
            at(&t, "/metadata/namespace"),
            ("kustomization.yaml".into(), 1, false)
        );
        // An inline literal block: the line inside the kustomization.
        assert_eq!(
            at(&t, "/spec/replicas"),
            ("kustomization.yaml".into(), 8, false)
        );
        // A quoted inline patch cannot be read in place: its `patch:` key, with a note.
        assert_eq!(
            at(&t, "/spec/paused"),
            ("kustomization.yaml".into(), 9, true)
        );
    }

    #[test]
    fn fields_no_edit_set_are_found_in_the_origin_or_shown_at_the_object() {
        let t = trace(edits());
        assert_eq!(
            at(&t, &format!("{C}/1/resources/requests/cpu")),
            ("base.yaml".into(), 15, false)
        );
        // A container is shown where the object defines it.
        assert_eq!(at(&t, &format!("{C}/1")), ("base.yaml".into(), 11, false));
        // Changed by something the render did not record: the object, with a note.
        assert_eq!(
            at(&t, &format!("{C}/1/image")),
            ("base.yaml".into(), 2, true)
        );
        // A missing field: its deepest ancestor in the origin.
        assert_eq!(
            at(&t, &format!("{C}/1/livenessProbe")),
            ("base.yaml".into(), 11, false)
        );
        // An edit whose source does not hold the pointer is not trusted.
        let t = trace(vec![edit(
            &format!("{C}/1/image"),
            EditSource::Document {
                file: file("patch.yaml"),
                document: 0,
            },
            "/no/such/field",
        )]);
        assert_eq!(
            at(&t, &format!("{C}/1/image")),
            ("base.yaml".into(), 2, true)
        );
    }

    #[test]
    fn generated_objects_point_at_the_overlay() {
        let generated = Trace {
            origin: None,
            ..trace(Vec::new())
        };
        let l = generated.locate(&rendered(), "/data");
        assert_eq!(l.location.file.display().to_string(), "kustomization.yaml");
        assert!(l.note.is_some());
    }

    #[test]
    fn inline_patches_are_parsed_in_place() {
        let file = "kind: Kustomization\npatches:\n- patch: |\n    kind: Deployment\n    metadata:\n\n      name: é\n- path: other.yaml\n";
        let patch = "kind: Deployment\nmetadata:\n\n  name: é\n";
        let key = file.find("patch:").unwrap();
        let in_place = inline_in_place(file, key, patch).expect("a literal block");
        assert_eq!(in_place.len(), file.len());
        let docs = edgefleet_inventory::source::parse_yaml(Path::new("k.yaml"), &in_place).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].to_json()["metadata"]["name"], "é");
        // `name` is on line 7, column 7 of the file, at its byte offset there.
        let at = docs[0].locate_key("/metadata/name");
        assert_eq!((at.line, at.column), (7, 7));
        assert_eq!(&file[at.offset..at.offset + 4], "name");
        // Not the same lines (a folded or quoted scalar, an edited text): no in-place parse.
        assert!(inline_in_place(file, key, "kind: Service\n").is_none());
        let folded = file.replace("patch: |", "patch: >");
        assert!(inline_in_place(&folded, key, patch).is_none());
        assert!(inline_in_place(file, key, "a: 1\n---\nb: 2\n").is_none());
    }
}

//! Loading what a kustomization points at: resource files (multi-document YAML, `kind: List`
//! expanded), folders holding a kustomization (bases and components), and the files of patches
//! and generators — under kustomize's default load restrictor (`LoadRestrictionsRootOnly`).
//!
//! What kustomize allows, checked with `kubectl kustomize` (v5.8.1):
//! - a *file* (resource, patch, generator input) must be in or below the kustomization's own
//!   folder (symlinks resolved): `../x.yaml` is refused;
//! - a *folder* (a base in `resources`, a component) may be anywhere: sites reference
//!   `../../../../bases/<workload>`;
//! - remote resources (`https://`, `github.com/...`, `git@...`) are refused here: rendering is
//!   offline.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::fs::FileSystem;
use super::kustomization::{parse_options, yaml_error};
use super::{Origin, RenderError, Resource};

/// Largest file the renderer reads (a resource file bigger than this is not a hand-written
/// manifest; refusing it bounds memory).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// What a `resources` entry resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A file of manifests (canonical path).
    File(PathBuf),
    /// A folder holding a kustomization (canonical path).
    Dir(PathBuf),
}

/// `true` for entries that name a remote base (git repositories, URLs).
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
}

/// Resolves `entry` relative to the canonical folder `root` to a canonical path and whether it
/// is a folder, as the renderer's file system answers it (cached).
pub type Resolver<'a> = &'a dyn Fn(&Path, &str) -> std::io::Result<(PathBuf, bool)>;

/// The uncached [`Resolver`] over the disk (the tests' resolver).
#[cfg(test)]
fn fs_resolver(root: &Path, entry: &str) -> std::io::Result<(PathBuf, bool)> {
    let disk = super::fs::DiskFs;
    let real = disk.canonicalize(&root.join(entry))?;
    let is_dir = disk.is_dir(&real);
    Ok((real, is_dir))
}

/// Canonical form of `entry` under `root` (and whether it is a folder), or an error naming the
/// missing path and the kustomization that referenced it.
fn canonical(
    resolve: Resolver<'_>,
    root: &Path,
    entry: &str,
    referrer: &Path,
    field: &str,
) -> Result<(PathBuf, bool), RenderError> {
    resolve(root, entry).map_err(|e| {
        let p = normalize(&root.join(entry));
        RenderError::Field {
            path: referrer.to_path_buf(),
            field: field.to_owned(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                format!("`{entry}` does not exist ({})", p.display())
            } else {
                format!("`{entry}`: {e} ({})", p.display())
            },
        }
    })
}

/// Resolves a `resources` entry of the kustomization file `kfile` whose canonical root is
/// `root`.
pub fn resolve_resource(
    resolve: Resolver<'_>,
    kfile: &Path,
    root: &Path,
    entry: &str,
) -> Result<Entry, RenderError> {
    if is_remote(entry) {
        return Err(RenderError::Unsupported {
            path: kfile.to_path_buf(),
            field: "resources".into(),
            why: format!("remote resource `{entry}`: edgefleet renders offline from local files"),
        });
    }
    let (real, is_dir) = canonical(resolve, root, entry, kfile, "resources")?;
    if is_dir {
        Ok(Entry::Dir(real))
    } else {
        check_under_root(kfile, root, entry, &real)?;
        Ok(Entry::File(real))
    }
}

/// Resolves a folder entry (a component): it must be a folder; it may be outside the root.
pub fn resolve_dir(
    resolve: Resolver<'_>,
    kfile: &Path,
    root: &Path,
    entry: &str,
    field: &str,
) -> Result<PathBuf, RenderError> {
    if is_remote(entry) {
        return Err(RenderError::Unsupported {
            path: kfile.to_path_buf(),
            field: field.into(),
            why: format!("remote `{entry}`: edgefleet renders offline from local files"),
        });
    }
    let (real, is_dir) = canonical(resolve, root, entry, kfile, field)?;
    if !is_dir {
        return Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.into(),
            message: format!("`{entry}` must be a folder holding a kustomization, not a file"),
        });
    }
    Ok(real)
}

/// Resolves a file referenced by a patch, a generator or a replacement: it must exist and be
/// in or below `root` (the default load restrictor).
pub fn resolve_file(
    resolve: Resolver<'_>,
    kfile: &Path,
    root: &Path,
    entry: &str,
    field: &str,
) -> Result<PathBuf, RenderError> {
    let (real, is_dir) = canonical(resolve, root, entry, kfile, field)?;
    check_under_root(kfile, root, entry, &real)?;
    if is_dir {
        return Err(RenderError::Field {
            path: kfile.to_path_buf(),
            field: field.into(),
            message: format!("`{entry}` is a folder, not a file"),
        });
    }
    Ok(real)
}

fn check_under_root(
    kfile: &Path,
    root: &Path,
    entry: &str,
    real: &Path,
) -> Result<(), RenderError> {
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(RenderError::OutsideRoot {
            path: kfile.to_path_buf(),
            reference: entry.to_owned(),
            root: root.to_path_buf(),
        })
    }
}

/// Reads a text file (bounded size, UTF-8).
pub fn read_text(fs: &dyn FileSystem, path: &Path) -> Result<String, RenderError> {
    let io = |source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = fs.file_len(path).map_err(io)?;
    if len > MAX_FILE_BYTES {
        return Err(RenderError::Build {
            path: path.to_path_buf(),
            message: format!(
                "file is {} bytes, more than the {} MiB the renderer reads",
                len,
                MAX_FILE_BYTES >> 20
            ),
        });
    }
    fs.read_to_string(path).map_err(io)
}

/// The documents of a YAML stream; empty documents are dropped.
pub fn parse_documents(path: &Path, text: &str) -> Result<Vec<Value>, RenderError> {
    parse_documents_with(path, text, false)
}

/// [`parse_documents`], reusing the fast reader's result for a text this thread read recently
/// when `recent` (see [`fast_parse`]).
pub(crate) fn parse_documents_with(
    path: &Path,
    text: &str,
    recent: bool,
) -> Result<Vec<Value>, RenderError> {
    // The fast reader takes the unambiguous subset of YAML (what generated overlays hold) and
    // answers `None` for anything else (anchors, tags, doubtful scalars, duplicate keys), which
    // serde-saphyr then reads, with its budget and its error messages.
    let mut docs: Vec<Value> = match fast_parse(text, recent) {
        Some(docs) => docs,
        None => serde_saphyr::from_multiple_with_options(text, parse_options())
            .map_err(|e| yaml_error(path, &e))?,
    };
    if let Some(last) = docs.last_mut() {
        fix_block_scalar_at_eof(text, last);
    }
    if may_hold_timestamp(text) || docs.iter().any(has_typed_annotation) {
        retype_scalars(path, text, &mut docs)?;
    }
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The fast reader's documents of `text` (`None`: it does not take the text). With `recent`, the
/// last texts this thread read are kept by content and a repeated one is copied, not read again:
/// `diff` renders each site's overlay from both revisions one after the other, and its
/// kustomization and inline patches are most often the same text on both sides.
pub(crate) fn fast_parse(text: &str, recent: bool) -> Option<Vec<Value>> {
    use std::cell::RefCell;
    const KEEP: usize = 32;
    type Recent = Vec<(Box<str>, Option<Vec<Value>>)>;
    thread_local! {
        static RECENT: RefCell<Recent> = const { RefCell::new(Vec::new()) };
    }
    if !recent {
        return kube_basics::fastyaml::parse_stream(text);
    }
    RECENT.with(|cell| {
        let mut kept = cell.borrow_mut();
        if let Some(i) = kept.iter().position(|(t, _)| **t == *text) {
            let hit = kept.remove(i);
            let docs = hit.1.clone();
            kept.push(hit);
            return docs;
        }
        let docs = kube_basics::fastyaml::parse_stream(text);
        if kept.len() == KEEP {
            kept.remove(0);
        }
        kept.push((text.into(), docs.clone()));
        docs
    })
}

/// Cheap pre-check: four digits and a dash, the start of every YAML timestamp.
fn may_hold_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(5)
        .any(|w| w[..4].iter().all(u8::is_ascii_digit) && w[4] == b'-')
}

/// An object whose `metadata.annotations` holds a value that is not a string (`n: 5`).
fn has_typed_annotation(doc: &Value) -> bool {
    doc.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| a.values().any(|v| !v.is_string()))
}

/// Plain scalars whose value kustomize keeps differently from their YAML 1.2 type, found by
/// their position in the event stream:
/// - kustomize (go-yaml v3) reads an unquoted `2001-12-14` as a timestamp and prints it as
///   `2001-12-14T00:00:00Z`; serde-saphyr keeps the text. Rewritten as kustomize prints them
///   ([`super::emit::kustomize_timestamp`]).
/// - an object's annotations are a map of strings to kustomize: it reads each value back as the
///   text written (`n: 0x1F` is `"0x1F"`, `z: ~` is `"~"`, `f: 1.50` is `"1.50"`), which the
///   typed value has lost. Rewritten as that text (the pipeline's end turns what is still not a
///   string into one).
///
/// Streams whose shape the walk cannot follow (complex keys) are left as they are.
fn retype_scalars(path: &Path, text: &str, docs: &mut [Value]) -> Result<(), RenderError> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::TScalarStyle;

    enum Frame {
        Seq(usize),
        /// The key of the value being read, or `None` while a key is expected.
        Map(Option<String>),
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut doc: Option<usize> = None;
    // (document, keys, new text, whether it replaces a typed annotation value or a timestamp)
    let mut fixes: Vec<(usize, Vec<String>, String, bool)> = Vec::new();
    let pointer = |stack: &[Frame]| -> Vec<String> {
        stack
            .iter()
            .filter_map(|f| match f {
                Frame::Seq(i) => Some(i.to_string()),
                Frame::Map(k) => k.clone(),
            })
            .collect()
    };
    // After a value ends: the parent moves to its next entry.
    fn advance(stack: &mut [Frame]) {
        match stack.last_mut() {
            Some(Frame::Seq(i)) => *i += 1,
            Some(Frame::Map(k)) => *k = None,
            None => {}
        }
    }
    loop {
        let Ok((event, _)) = parser.next_token() else {
            return Ok(()); // serde-saphyr accepted it; nothing to retype that we can follow
        };
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                doc = Some(doc.map_or(0, |d| d + 1));
                stack.clear();
            }
            Event::Scalar(value, style, _, tag) => {
                if let Some(Frame::Map(k @ None)) = stack.last_mut() {
                    *k = Some(value);
                    continue;
                }
                let in_annotations = stack.len() == 3
                    && matches!(&stack[0], Frame::Map(Some(k)) if k == "metadata")
                    && matches!(&stack[1], Frame::Map(Some(k)) if k == "annotations");
                if style == TScalarStyle::Plain && tag.is_none() && in_annotations {
                    fixes.push((doc.unwrap_or(0), pointer(&stack), value, true));
                } else if style == TScalarStyle::Plain
                    && tag.is_none()
                    && let Some(ts) = super::emit::kustomize_timestamp(&value)
                {
                    let ts = ts.map_err(|message| RenderError::Yaml {
                        path: path.to_path_buf(),
                        line: 1,
                        column: 1,
                        message,
                    })?;
                    fixes.push((doc.unwrap_or(0), pointer(&stack), ts, false));
                }
                advance(&mut stack);
            }
            Event::Alias(_) => {
                if let Some(Frame::Map(None)) = stack.last() {
                    return Ok(()); // an aliased key: not followed
                }
                advance(&mut stack);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if let Some(Frame::Map(None)) = stack.last() {
                    return Ok(()); // a complex key: not followed
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq(0)
                } else {
                    Frame::Map(None)
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                advance(&mut stack);
            }
            _ => {}
        }
    }
    if fixes.is_empty() || doc.map_or(0, |d| d + 1) != docs.len() {
        return Ok(());
    }
    for (d, keys, text, annotation) in fixes {
        let mut ptr = String::new();
        for k in &keys {
            kube_basics::pointer::push(&mut ptr, k);
        }
        if let Some(v) = docs[d].pointer_mut(&ptr)
            && v.is_string() != annotation
        {
            *v = Value::String(text);
        }
    }
    Ok(())
}

/// A literal or folded block scalar that ends the text without a final line break has no
/// trailing newline (YAML 1.2 §8.1.1.2, and go-yaml, hence kustomize); serde-saphyr 2.2 adds one.
/// This matters for inline patches, which kustomize trims: `patch: |` ending with
/// `key: |` + lines yields a value without its final newline.
fn fix_block_scalar_at_eof(text: &str, doc: &mut Value) {
    if text.is_empty() || text.ends_with('\n') || text.ends_with('"') || text.ends_with('\'') {
        return;
    }
    let last_line = text.rsplit('\n').next().unwrap_or_default().trim_start();
    if last_line.starts_with('#') || last_line.starts_with("---") || last_line.starts_with("...") {
        return;
    }
    // The last line must be the indented content of a block scalar: find the value printed
    // last (the last entry, recursively) and drop one trailing newline from it.
    let mut cur = doc;
    loop {
        match cur {
            Value::Object(m) => match m.values_mut().last() {
                Some(v) => cur = v,
                None => return,
            },
            Value::Array(a) => match a.last_mut() {
                Some(v) => cur = v,
                None => return,
            },
            Value::String(s) => {
                if s.ends_with('\n') {
                    s.pop();
                }
                return;
            }
            _ => return,
        }
    }
}

/// The objects of a manifest file: each document must be a Kubernetes object (apiVersion, kind,
/// metadata.name); `kind: List` (or `*List`) documents are expanded into their `items`.
pub fn resources_of(path: &Arc<Path>, docs: &[Value]) -> Result<Vec<Resource>, RenderError> {
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let origin = Origin {
            file: path.clone(),
            document: i,
        };
        let is_list = doc
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && doc.get("items").is_some();
        if is_list {
            let items = doc
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                check_object(path, i, &item)?;
                out.push(Resource::new(item, origin.clone()));
            }
        } else {
            check_object(path, i, doc)?;
            out.push(Resource::new(doc.clone(), origin));
        }
    }
    Ok(out)
}

fn check_object(path: &Path, document: usize, v: &Value) -> Result<(), RenderError> {
    let fail = |message: String| RenderError::Build {
        path: path.to_path_buf(),
        message: format!("document {}: {message}", document + 1),
    };
    let Some(m) = v.as_object() else {
        return Err(fail("is not a mapping (a Kubernetes object)".into()));
    };
    // kustomize needs a kind and a name; `apiVersion` may be missing or anything (measured).
    match m.get("kind") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => return Err(fail("missing kind".into())),
    }
    match m.get("metadata").and_then(|md| md.get("name")) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err(fail("missing metadata.name".into())),
    }
}

/// `p` with `.` and `..` removed lexically (for messages about paths that do not exist).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictor_refuses_files_outside_root_but_not_folders() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("site");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(t.path().join("base")).unwrap();
        std::fs::write(t.path().join("secret.yaml"), "a: 1\n").unwrap();
        std::fs::write(root.join("sub/ok.yaml"), "a: 1\n").unwrap();
        let root = std::fs::canonicalize(&root).unwrap();
        let k = root.join("kustomization.yaml");
        assert!(matches!(
            resolve_file(&fs_resolver, &k, &root, "../secret.yaml", "patches"),
            Err(RenderError::OutsideRoot { .. })
        ));
        assert!(resolve_file(&fs_resolver, &k, &root, "sub/ok.yaml", "patches").is_ok());
        assert!(matches!(
            resolve_resource(&fs_resolver, &k, &root, "../base"),
            Ok(Entry::Dir(_))
        ));
        let e = resolve_resource(&fs_resolver, &k, &root, "missing.yaml").unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(matches!(
            resolve_resource(&fs_resolver, &k, &root, "https://github.com/x/y"),
            Err(RenderError::Unsupported { .. })
        ));
    }

    #[test]
    fn documents_and_lists() {
        let p: Arc<Path> = Arc::from(Path::new("/x.yaml"));
        let docs = parse_documents(
            &p,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n",
        )
        .unwrap();
        let rs = resources_of(&p, &docs).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[1].kind(), "Secret");
        assert_eq!(rs[1].origin.document, 1);
        assert!(resources_of(&p, &[serde_json::json!({"apiVersion": "v1", "kind": "X"})]).is_err());
    }

    #[test]
    fn block_scalar_ending_the_text_has_no_final_newline() {
        let p = Path::new("/p.yaml");
        let docs = parse_documents(p, "data:\n  a: |\n    x\n  b: |\n    y\n    z").unwrap();
        assert_eq!(docs[0]["data"]["a"], "x\n");
        assert_eq!(docs[0]["data"]["b"], "y\nz");
        let docs = parse_documents(p, "data:\n  b: |\n    y\n").unwrap();
        assert_eq!(docs[0]["data"]["b"], "y\n");
        let docs = parse_documents(p, "data:\n  b: \"y\\n\"").unwrap();
        assert_eq!(docs[0]["data"]["b"], "y\n");
    }

    #[test]
    fn plain_timestamps_are_read_as_kustomize_reads_them() {
        let p = Path::new("/t.yaml");
        let docs = parse_documents(
            p,
            "a: 1\n---\nd: 2001-12-14\nq: \"2001-12-14\"\nl: [x, 2001-12-14 21:59:43.10]\nm: {k: 2001-12-14}\n",
        )
        .unwrap();
        assert_eq!(docs[1]["d"], "2001-12-14T00:00:00Z");
        assert_eq!(docs[1]["q"], "2001-12-14");
        assert_eq!(docs[1]["l"][1], "2001-12-14T21:59:43.1Z");
        assert_eq!(docs[1]["m"]["k"], "2001-12-14T00:00:00Z");
    }

    #[test]
    fn alias_bomb_is_refused_fast() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let start = std::time::Instant::now();
        assert!(parse_documents(Path::new("/bomb.yaml"), &text).is_err());
        assert!(start.elapsed().as_secs() < 5);
    }
}

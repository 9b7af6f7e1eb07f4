//! Provenance: for each rendered object, the file (and document) that defined it ([`Origin`])
//! and, per operation, which fields each patch, transformer or generator set ([`Edit`]).
//!
//! Kustomize can write the same facts into the output as annotations (`buildMetadata:
//! [originAnnotations, transformerAnnotations]`); here they are typed data on
//! [`Resource::edits`](crate::Resource::edits) and the output does not change. Edits are recorded
//! as each step runs (a patch's own fields, the entries a transformer applied), never by
//! comparing whole objects. A field is named by its JSON pointer in the object as it was when
//! the step ran, and the instruction by its file and a JSON pointer into that file's document:
//! a YAML reader that keeps positions turns the pointer into a line and column.
//!
//! [`Origin`]: crate::Origin

use std::path::Path;
use std::sync::Arc;

use kube_basics::pointer::push;
use serde_json::Value;

use crate::Resource;

/// The build step that set a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// A strategic-merge patch (`patches`, `patchesStrategicMerge`).
    StrategicMerge,
    /// A JSON 6902 patch (`patches` with a list of operations, `patchesJson6902`).
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

/// Where an instruction is written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A document (0-based, empty documents not counted) of a file: a patch file.
    Document { file: Arc<Path>, document: usize },
    /// An entry of a kustomization file (`namespace`, `images`, `labels`, ...).
    Kustomization { file: Arc<Path> },
    /// A document (0-based) of a YAML text held in a string of a kustomization file (an inline
    /// patch); `pointer` is the JSON pointer of that string in the kustomization.
    Inline {
        file: Arc<Path>,
        pointer: Arc<str>,
        document: usize,
    },
}

impl Source {
    /// The file the instruction is written in.
    pub fn file(&self) -> &Arc<Path> {
        match self {
            Self::Document { file, .. }
            | Self::Kustomization { file }
            | Self::Inline { file, .. } => file,
        }
    }
}

/// One field of an object set by one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub step: Step,
    /// JSON pointer of the field in the object.
    pub field: Arc<str>,
    /// Where the instruction is written.
    pub source: Source,
    /// JSON pointer, in the source document, of the value (or entry) that set the field.
    pub at: Arc<str>,
}

/// Keys a list item of a strategic-merge patch is matched by when it has one (the merge keys of
/// the Kubernetes types kustomize knows); other items are matched by position when both lists
/// have the same length, or by equality.
const ITEM_KEYS: [&str; 6] = [
    "name",
    "mountPath",
    "devicePath",
    "containerPort",
    "ip",
    "port",
];

/// The fields a strategic-merge patch set in `merged` (the object after the patch): each leaf of
/// the patch (directives, deletions and the patch's own identity left out) as
/// `(pointer in merged, pointer in patch)`.
pub(crate) fn merged_fields(patch: &Value, merged: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Value::Object(pm) = patch else {
        return out;
    };
    let mut field = String::new();
    let mut at = String::new();
    for (k, v) in pm {
        if matches!(k.as_str(), "apiVersion" | "kind") || k.starts_with('$') {
            continue;
        }
        let Some(r) = merged.get(k) else { continue };
        push(&mut field, k);
        push(&mut at, k);
        if k == "metadata"
            && let (Value::Object(md), Value::Object(_)) = (v, r)
        {
            for (mk, mv) in md {
                if matches!(mk.as_str(), "name" | "namespace") || mk.starts_with('$') {
                    continue;
                }
                if let Some(rv) = r.get(mk) {
                    let (fl, al) = (field.len(), at.len());
                    push(&mut field, mk);
                    push(&mut at, mk);
                    walk(mv, rv, &mut field, &mut at, &mut out);
                    field.truncate(fl);
                    at.truncate(al);
                }
            }
        } else {
            walk(v, r, &mut field, &mut at, &mut out);
        }
        field.clear();
        at.clear();
    }
    out
}

fn walk(
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
                walk(v, rv, field, at, out);
                field.truncate(fl);
                at.truncate(al);
            }
        }
        (Value::Array(pa), Value::Array(ra)) => {
            for (j, item) in pa.iter().enumerate() {
                if item.get("$patch").is_some() {
                    continue;
                }
                let Some(i) = find_item(item, j, pa.len(), ra) else {
                    continue;
                };
                let (fl, al) = (field.len(), at.len());
                field.push('/');
                field.push_str(&i.to_string());
                at.push('/');
                at.push_str(&j.to_string());
                walk(item, &ra[i], field, at, out);
                field.truncate(fl);
                at.truncate(al);
            }
        }
        (Value::Null, _) | (Value::Object(_) | Value::Array(_), _) => {}
        _ => out.push((field.clone(), at.clone())),
    }
}

fn find_item(item: &Value, j: usize, len: usize, list: &[Value]) -> Option<usize> {
    if let Value::Object(m) = item {
        for key in ITEM_KEYS {
            if let Some(v) = m.get(key)
                && !v.is_object()
                && !v.is_array()
            {
                return list.iter().position(|x| x.get(key) == Some(v));
            }
        }
    }
    if len == list.len() {
        return Some(j);
    }
    list.iter().position(|x| x == item)
}

/// Line and column (1-based) in `text` of the field at `pointer` of its `document`-th non-empty
/// document: the key of a mapping entry, the start of a sequence item, the root for `""`. `None`
/// when the text does not hold the field or cannot be followed (aliases, complex keys, invalid
/// YAML). Positions inside a string (an inline patch) are not followed: ask for the string.
pub fn locate(text: &str, document: usize, pointer: &str) -> Option<(u32, u32)> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::Marker;

    enum Frame {
        Seq(usize),
        /// The key being read (and where it is written), `None` while a key is expected.
        Map(Option<(String, Marker)>),
    }
    let want: Vec<String> = kube_basics::pointer::tokens(pointer).collect();
    let position = |m: Marker| -> Option<(u32, u32)> {
        Some((
            u32::try_from(m.line()).ok()?,
            u32::try_from(m.col() + 1).ok()?,
        ))
    };
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // Non-empty documents seen, counting the current one; `None` before the first.
    let mut seen: Option<usize> = None;
    let mut at_root = false;
    loop {
        let (event, mark) = parser.next_token().ok()?;
        // A value starts at `mark`: is it the field?
        let starts_value = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        ) && !matches!(stack.last(), Some(Frame::Map(None)));
        if starts_value {
            if at_root {
                at_root = false;
                let empty = matches!(&event, Event::Scalar(v, ..) if v.is_empty() || v == "~" || v == "null");
                if !empty {
                    seen = Some(seen.map_or(0, |d| d + 1));
                }
            }
            if seen == Some(document) && stack.len() == want.len() {
                let here = stack.iter().zip(&want).all(|(f, w)| match f {
                    Frame::Seq(i) => i.to_string() == *w,
                    Frame::Map(Some((k, _))) => k == w,
                    Frame::Map(None) => false,
                });
                if here {
                    return match stack.last() {
                        Some(Frame::Map(Some((_, key)))) => position(*key),
                        _ => position(mark),
                    };
                }
            }
            if seen.is_some_and(|d| d > document) {
                return None;
            }
        }
        match event {
            Event::StreamEnd => return None,
            Event::DocumentStart => {
                stack.clear();
                at_root = true;
            }
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map(k @ None)) = stack.last_mut() {
                    *k = Some((value, mark));
                    continue;
                }
                advance(&mut stack);
            }
            Event::Alias(_) => {
                if let Some(Frame::Map(None)) = stack.last() {
                    return None;
                }
                advance(&mut stack);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if let Some(Frame::Map(None)) = stack.last() {
                    return None;
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

    fn advance(stack: &mut [Frame]) {
        match stack.last_mut() {
            Some(Frame::Seq(i)) => *i += 1,
            Some(Frame::Map(k)) => *k = None,
            None => {}
        }
    }
}

/// The `image` fields of every container and init container in `v` (wherever a pod template
/// is, as the images transformer looks) whose image name is `name_of(image)`'s answer, with
/// that answer: `(pointer, answer)`.
pub(crate) fn image_fields<T>(v: &Value, matches: &dyn Fn(&str) -> Option<T>) -> Vec<(String, T)> {
    fn walk<T>(
        v: &Value,
        pointer: &mut String,
        matches: &dyn Fn(&str) -> Option<T>,
        out: &mut Vec<(String, T)>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let len = pointer.len();
                    push(pointer, k);
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = child
                    {
                        for (i, c) in items.iter().enumerate() {
                            if let Some(Value::String(img)) = c.get("image")
                                && let Some(t) = matches(img)
                            {
                                out.push((format!("{pointer}/{i}/image"), t));
                            }
                        }
                    }
                    walk(child, pointer, matches, out);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    walk(item, pointer, matches, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut String::new(), matches, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Recording, one call per step of the pipeline

fn arc(s: &str) -> Arc<str> {
    Arc::from(s)
}

/// A strategic-merge patch was applied to `r`: its own fields, found in the merged object.
/// `prefix` is the patch's pointer in its source document when the patch is a mapping written
/// in a kustomization (`/patchesStrategicMerge/0`), else empty.
pub(crate) fn record_patch(r: &mut Resource, patch: &Value, source: &Source, prefix: &str) {
    for (field, at) in merged_fields(patch, &r.value) {
        r.edits.push(Edit {
            step: Step::StrategicMerge,
            field: Arc::from(field),
            source: source.clone(),
            at: if prefix.is_empty() {
                Arc::from(at)
            } else {
                Arc::from(format!("{prefix}{at}"))
            },
        });
    }
}

/// A JSON 6902 patch (`ops`, a list of operations) was applied to `r`: the path of each
/// operation that writes a value.
pub(crate) fn record_ops(r: &mut Resource, ops: &Value, source: &Source) {
    let Value::Array(ops) = ops else { return };
    for (i, op) in ops.iter().enumerate() {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let Some(path) = op.get("path").and_then(Value::as_str) else {
            continue;
        };
        if !matches!(kind, "add" | "replace" | "copy" | "move") {
            continue;
        }
        // `-` appends: the item is now the last of its list.
        let field = match path.strip_suffix("/-") {
            Some(list) => match r.value.pointer(list).and_then(Value::as_array) {
                Some(items) if !items.is_empty() => format!("{list}/{}", items.len() - 1),
                _ => continue,
            },
            None => path.to_owned(),
        };
        let at = if op.get("value").is_some() {
            format!("/{i}/value")
        } else {
            format!("/{i}")
        };
        r.edits.push(Edit {
            step: Step::Json6902,
            field: Arc::from(field),
            source: source.clone(),
            at: Arc::from(at),
        });
    }
}

/// `namespace` was applied: the namespace of namespaced objects (the name of a `Namespace`).
pub(crate) fn record_namespace(ra: &mut [Resource], kfile: &Arc<Path>) {
    let source = Source::Kustomization {
        file: kfile.clone(),
    };
    let (ns, name, at) = (
        arc("/metadata/namespace"),
        arc("/metadata/name"),
        arc("/namespace"),
    );
    for r in ra.iter_mut() {
        let field = if r.kind() == "Namespace" && r.api_version() == "v1" {
            &name
        } else if r.is_cluster_scoped() {
            continue;
        } else {
            &ns
        };
        r.edits.push(Edit {
            step: Step::Namespace,
            field: field.clone(),
            source: source.clone(),
            at: at.clone(),
        });
    }
}

/// `namePrefix` / `nameSuffix` were applied.
pub(crate) fn record_name(ra: &mut [Resource], kfile: &Arc<Path>, prefix: bool, suffix: bool) {
    if !prefix && !suffix {
        return;
    }
    let source = Source::Kustomization {
        file: kfile.clone(),
    };
    let field = arc("/metadata/name");
    let at = arc(if prefix { "/namePrefix" } else { "/nameSuffix" });
    for r in ra.iter_mut() {
        if matches!(
            r.kind(),
            "Namespace" | "CustomResourceDefinition" | "APIService"
        ) {
            continue;
        }
        r.edits.push(Edit {
            step: Step::Name,
            field: field.clone(),
            source: source.clone(),
            at: at.clone(),
        });
    }
}

/// One pair a label or annotation transformer sets.
pub(crate) struct Pair<'a> {
    pub key: &'a str,
    pub value: &'a str,
    /// The entry's pointer in the kustomization (`/commonLabels/app`).
    pub at: String,
    /// Whether the transformer writes it into pod templates, and into selectors.
    pub templates: bool,
    pub selectors: bool,
}

/// `labels`, `commonLabels` or `commonAnnotations` were applied: each pair in the object's
/// metadata, its pod template's and (labels with selectors) the selectors of workloads and
/// Services, wherever the object now holds it with that value.
pub(crate) fn record_pairs(ra: &mut [Resource], kfile: &Arc<Path>, step: Step, pairs: &[Pair<'_>]) {
    if pairs.is_empty() {
        return;
    }
    let source = Source::Kustomization {
        file: kfile.clone(),
    };
    let map = if step == Step::Annotations {
        "/annotations"
    } else {
        "/labels"
    };
    // Every (field, value, at) a pair may set, built once for all objects.
    let mut candidates: Vec<(Arc<str>, &str, Arc<str>)> = Vec::new();
    for pair in pairs {
        let at = arc(&pair.at);
        let mut places = vec![format!("/metadata{map}")];
        if pair.templates || pair.selectors {
            places.push(format!("/spec/template/metadata{map}"));
        }
        if pair.selectors {
            places.push("/spec/selector/matchLabels".into());
            places.push("/spec/selector".into());
        }
        for mut field in places {
            push(&mut field, pair.key);
            candidates.push((Arc::from(field), pair.value, at.clone()));
        }
    }
    for r in ra.iter_mut() {
        for (field, value, at) in &candidates {
            if r.value.pointer(field).and_then(Value::as_str) == Some(*value) {
                r.edits.push(Edit {
                    step,
                    field: field.clone(),
                    source: source.clone(),
                    at: at.clone(),
                });
            }
        }
    }
}

/// `replicas` was applied (same matching as the transformer).
pub(crate) fn record_replicas(ra: &mut [Resource], kfile: &Arc<Path>, names: &[&str]) {
    let source = Source::Kustomization {
        file: kfile.clone(),
    };
    let field = arc("/spec/replicas");
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
            r.edits.push(Edit {
                step: Step::Replicas,
                field: field.clone(),
                source: source.clone(),
                at: at.clone(),
            });
        }
    }
}

/// `images` is about to be applied: the containers whose image it rewrites, each traced to the
/// entry that rewrites it (`entry(image)`: the entry's pointer in the kustomization).
pub(crate) fn record_images(
    ra: &mut [Resource],
    kfile: &Arc<Path>,
    entry: &dyn Fn(&str) -> Option<Arc<str>>,
) {
    let source = Source::Kustomization {
        file: kfile.clone(),
    };
    for r in ra.iter_mut() {
        for (field, at) in image_fields(&r.value, entry) {
            r.edits.push(Edit {
                step: Step::Images,
                field: Arc::from(field),
                source: source.clone(),
                at,
            });
        }
    }
}

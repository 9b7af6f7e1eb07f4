//! `buildMetadata`: the annotations and label kustomize writes when a kustomization asks for
//! them (`originAnnotations`, `transformerAnnotations`, `managedByLabel`; other words are
//! ignored, as in kustomize). Only the top kustomization's list counts: kustomize gives every
//! base and component the list of the kustomization being built.
//!
//! Measured with kubectl (Kustomize v5.8.1):
//! - `config.kubernetes.io/origin`: `path: <file>` for an object read from a file, the path
//!   relative to the top kustomization's folder (`base/objs.yaml`, `../base/objs.yaml`); for a
//!   generated object `configuredIn: <kustomization file>` and `configuredBy` (`apiVersion:
//!   builtin`, `kind: ConfigMapGenerator` or `SecretGenerator`);
//! - `alpha.config.kubernetes.io/transformations`: one entry per transformer a kustomization
//!   configured, on every object present when it ran, innermost kustomization first (each entry
//!   `configuredIn` + `configuredBy`), whether or not the transformer changed the object;
//!   transformers are configured as kustomize's `configureBuiltinTransformers` does: one
//!   `PatchStrategicMergeTransformer` for all `patchesStrategicMerge`, one `PatchTransformer` per
//!   `patches` entry, `NamespaceTransformer`, `PrefixTransformer`, `SuffixTransformer` when set,
//!   one `LabelTransformer` per `labels` entry plus one for `commonLabels` (when either is
//!   given), `AnnotationsTransformer`, one `PatchJson6902Transformer`, `ReplicaCountTransformer`
//!   and `ImageTagTransformer` per entry, one `ReplacementTransformer` for all `replacements`;
//! - `app.kubernetes.io/managed-by: kustomize-v5.8.1` on every object's labels.
//!
//! Renderers record notes only when building a kustomization that asks for them (see
//! [`crate::Renderer`]); other builds pay nothing.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::Resource;
use crate::kustomization::Kustomization;

/// The version string kustomize writes in `app.kubernetes.io/managed-by`.
pub const MANAGED_BY: &str = "kustomize-v5.8.1";

/// One transformer that ran on an object: the kustomization that configured it and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub configured_in: Arc<Path>,
    pub api_version: Arc<str>,
    pub kind: Arc<str>,
    pub name: Option<Arc<str>>,
}

/// The hook every transformer step calls (builtin transformer configs too): appends a note to
/// every object of `ra`.
pub(crate) fn record(ra: &mut [Resource], note: &Note) {
    for r in ra.iter_mut() {
        r.transformations.push(note.clone());
    }
}

/// The builtin transformers `k` configures, in kustomize's order.
pub(crate) fn builtin_transformers(k: &Kustomization) -> Vec<&'static str> {
    let mut v = Vec::new();
    if !k.patches_strategic_merge.is_empty() {
        v.push("PatchStrategicMergeTransformer");
    }
    v.extend(k.patches.iter().map(|_| "PatchTransformer"));
    if k.namespace.is_some() {
        v.push("NamespaceTransformer");
    }
    if k.name_prefix.is_some() {
        v.push("PrefixTransformer");
    }
    if k.name_suffix.is_some() {
        v.push("SuffixTransformer");
    }
    if !k.labels.is_empty() || !k.common_labels.is_empty() {
        v.extend(k.labels.iter().map(|_| "LabelTransformer"));
        v.push("LabelTransformer");
    }
    if !k.common_annotations.is_empty() {
        v.push("AnnotationsTransformer");
    }
    v.extend(
        k.patches_json6902
            .iter()
            .map(|_| "PatchJson6902Transformer"),
    );
    v.extend(k.replicas.iter().map(|_| "ReplicaCountTransformer"));
    v.extend(k.images.iter().map(|_| "ImageTagTransformer"));
    if !k.replacements.is_empty() {
        v.push("ReplacementTransformer");
    }
    v
}

/// Records the builtin transformers of `k` on every object of `ra` (after they ran).
pub(crate) fn record_builtins(ra: &mut [Resource], k: &Kustomization) {
    let configured_in: Arc<Path> = Arc::from(k.file.as_path());
    let builtin: Arc<str> = Arc::from("builtin");
    for kind in builtin_transformers(k) {
        record(
            ra,
            &Note {
                configured_in: configured_in.clone(),
                api_version: builtin.clone(),
                kind: Arc::from(kind),
                name: None,
            },
        );
    }
}

/// `path` relative to the folder `root` (both absolute), with `..` where needed.
fn relative(root: &Path, path: &Path) -> PathBuf {
    let a: Vec<Component<'_>> = root.components().collect();
    let b: Vec<Component<'_>> = path.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    out
}

fn text(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// A scalar as go-yaml writes it in these annotations (plain when the emitter would keep it
/// plain, else quoted as the emitter quotes it).
fn scalar(s: &str) -> String {
    let doc = crate::emit::emit_document(&Value::String(s.to_owned()));
    doc.trim_end_matches('\n').to_owned()
}

fn configured_by(out: &mut String, indent: &str, n: &Note, root: &Path) {
    out.push_str(&format!(
        "{indent}configuredIn: {}\n{indent}configuredBy:\n{indent}  apiVersion: {}\n{indent}  kind: {}\n",
        scalar(&text(&relative(root, &n.configured_in))),
        scalar(&n.api_version),
        scalar(&n.kind),
    ));
    if let Some(name) = &n.name {
        out.push_str(&format!("{indent}  name: {}\n", scalar(name)));
    }
}

/// Writes what `options` (the top kustomization's `buildMetadata`) asks for, at the end of a
/// build rooted at `root`.
pub(crate) fn finish(resources: &mut [Resource], root: &Path, options: &[String]) {
    let want = |o: &str| options.iter().any(|x| x == o);
    let (origin, transformations, managed) = (
        want("originAnnotations"),
        want("transformerAnnotations"),
        want("managedByLabel"),
    );
    for r in resources.iter_mut() {
        let mut add: Vec<(&str, String)> = Vec::new();
        if origin {
            let text = match r.generated_by {
                Some(kind) => {
                    let mut s = String::new();
                    configured_by(
                        &mut s,
                        "",
                        &Note {
                            configured_in: r.origin.file.clone(),
                            api_version: Arc::from("builtin"),
                            kind: Arc::from(kind),
                            name: None,
                        },
                        root,
                    );
                    s
                }
                None => format!("path: {}\n", scalar(&text(&relative(root, &r.origin.file)))),
            };
            add.push(("config.kubernetes.io/origin", text));
        }
        if transformations && !r.transformations.is_empty() {
            let mut s = String::new();
            for n in &r.transformations {
                let mut entry = String::new();
                configured_by(&mut entry, "  ", n, root);
                s.push_str("- ");
                s.push_str(&entry[2..]);
            }
            add.push(("alpha.config.kubernetes.io/transformations", s));
        }
        let Value::Object(m) = &mut r.value else {
            continue;
        };
        if !add.is_empty() {
            let md = m
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(md) = md {
                let an = md
                    .entry("annotations")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !an.is_object() {
                    *an = Value::Object(Map::new());
                }
                if let Value::Object(an) = an {
                    for (k, v) in add {
                        an.insert(k.to_owned(), Value::String(v));
                    }
                }
            }
        }
        if managed {
            let md = m
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(md) = md {
                let labels = md
                    .entry("labels")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !labels.is_object() {
                    *labels = Value::Object(Map::new());
                }
                if let Value::Object(l) = labels {
                    l.insert(
                        "app.kubernetes.io/managed-by".into(),
                        Value::String(MANAGED_BY.into()),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/w/o"), Path::new("/w/o/base/x.yaml")),
            Path::new("base/x.yaml")
        );
        assert_eq!(
            relative(Path::new("/w/o"), Path::new("/w/base/x.yaml")),
            Path::new("../base/x.yaml")
        );
    }
}

//! Provenance of builtin plugin configs (`transformers:`, `generators:`): each field a config set
//! is traced to the config's own file, document and line (or, for an inline config, to its line
//! in the kustomization). Expected lines are found by searching the fixture text.

use std::path::Path;

use kustomize::fs::MemoryFs;
use kustomize::provenance::{Edit, Step};
use kustomize::{Renderer, Resource};

const TREE: &[(&str, &str)] = &[
    (
        "app/kustomization.yaml",
        "resources:
- objs.yaml
generators:
- gen.yaml
transformers:
- |-
  apiVersion: builtin
  kind: AnnotationsTransformer
  metadata:
    name: notes
  annotations:
    inline-note: from-inline
  fieldSpecs:
  - path: metadata/annotations
    create: true
- |-
  apiVersion: builtin
  kind: PatchTransformer
  metadata:
    name: pause
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      paused: true
- configs.yaml
",
    ),
    (
        "app/objs.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
",
    ),
    (
        "app/gen.yaml",
        "apiVersion: builtin
kind: ConfigMapGenerator
metadata:
  name: settings
literals:
- mode=edge
",
    ),
    (
        "app/configs.yaml",
        "apiVersion: builtin
kind: PrefixSuffixTransformer
metadata:
  name: names
prefix: edge-
fieldSpecs:
- path: metadata/name
---
apiVersion: builtin
kind: LabelTransformer
metadata:
  name: labels
labels:
  site-label: berlin
fieldSpecs:
- path: metadata/labels
  create: true
---
apiVersion: builtin
kind: NamespaceTransformer
metadata:
  name: ns
  namespace: edge-sites
---
apiVersion: builtin
kind: ImageTagTransformer
metadata:
  name: image
imageTag:
  name: nginx
  newTag: \"1.27\"
---
apiVersion: builtin
kind: ReplicaCountTransformer
metadata:
  name: replicas
replica:
  name: web
  count: 3
fieldSpecs:
- path: spec/replicas
  kind: Deployment
",
    ),
];

fn build() -> Vec<Resource> {
    let mut fs = MemoryFs::new();
    for (path, text) in TREE {
        fs.add_file(Path::new("/repo").join(path), *text);
    }
    Renderer::with_fs(fs)
        .with_provenance(true)
        .build(Path::new("/repo/app"))
        .unwrap()
}

/// 1-based number of the only line of `file` that contains `needle`.
fn line_with(file: &str, needle: &str) -> u32 {
    let (_, text) = TREE.iter().find(|(p, _)| *p == file).unwrap();
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "{needle:?} in {file}: {hits:?}");
    u32::try_from(hits[0]).unwrap()
}

fn set_by<'a>(r: &'a Resource, field: &str) -> &'a Edit {
    r.set_by(field)
        .unwrap_or_else(|| panic!("no edit of {field}: {:#?}", r.edits))
}

fn place(e: &Edit) -> (String, u32) {
    let file = e
        .file()
        .strip_prefix("/repo")
        .unwrap()
        .display()
        .to_string();
    let p = e.position().unwrap_or_else(|| panic!("{e:?}: no position"));
    (file, p.line)
}

#[test]
fn builtin_configs_are_traced_to_their_file_document_and_line() {
    let rs = build();
    let d = rs.iter().find(|r| r.kind() == "Deployment").unwrap();
    assert_eq!(d.name(), "edge-web");
    let configs = "app/configs.yaml";

    let name = set_by(d, "/metadata/name");
    assert_eq!(name.step(), Step::Name);
    assert_eq!(
        place(name),
        (configs.into(), line_with(configs, "prefix: edge-"))
    );

    let label = set_by(d, "/metadata/labels/site-label");
    assert_eq!(label.step(), Step::Labels);
    assert_eq!(label.document(), 1);
    assert_eq!(
        place(label),
        (configs.into(), line_with(configs, "site-label: berlin"))
    );

    let ns = set_by(d, "/metadata/namespace");
    assert_eq!(ns.step(), Step::Namespace);
    assert_eq!(
        place(ns),
        (configs.into(), line_with(configs, "namespace: edge-sites"))
    );

    let image = set_by(d, "/spec/template/spec/containers/0/image");
    assert_eq!(image.step(), Step::Images);
    assert_eq!(
        place(image),
        (configs.into(), line_with(configs, "newTag:"))
    );

    let replicas = set_by(d, "/spec/replicas");
    assert_eq!(replicas.step(), Step::Replicas);
    assert_eq!(
        place(replicas),
        (configs.into(), line_with(configs, "count: 3"))
    );

    // An inline config: its line in the kustomization.
    let note = set_by(d, "/metadata/annotations/inline-note");
    assert_eq!(note.step(), Step::Annotations);
    let k = "app/kustomization.yaml";
    assert_eq!(
        place(note),
        (k.into(), line_with(k, "inline-note: from-inline"))
    );

    // A patch written inline in a config: recorded, without a position.
    let paused = set_by(d, "/spec/paused");
    assert_eq!(paused.step(), Step::StrategicMerge);
    assert!(paused.position().is_none(), "{paused:?}");

    // A generator config: the generated name and its data key, in the config file.
    let cm = rs.iter().find(|r| r.kind() == "ConfigMap").unwrap();
    assert_eq!(&*cm.origin.file, Path::new("/repo/app/gen.yaml"));
    let data = set_by(cm, "/data/mode");
    assert_eq!(data.step(), Step::Generator);
    let gen_file = "app/gen.yaml";
    assert_eq!(
        place(data),
        (gen_file.into(), line_with(gen_file, "- mode=edge"))
    );
    // The generator named it; the prefix config renamed it last.
    assert_eq!(place(set_by(cm, "/metadata/name")).0, configs);
    let gen_name = cm
        .edits
        .iter()
        .find(|e| e.step() == Step::Generator && &**e.field() == "/metadata/name")
        .unwrap();
    assert_eq!(
        place(gen_name),
        (gen_file.into(), line_with(gen_file, "name: settings"))
    );
}

#[test]
fn builtin_configs_render_the_same_with_provenance_on_and_off() {
    let mut fs = MemoryFs::new();
    for (path, text) in TREE {
        fs.add_file(Path::new("/repo").join(path), *text);
    }
    let fs = std::sync::Arc::new(fs);
    let on = Renderer::with_shared_fs(fs.clone())
        .with_provenance(true)
        .build_yaml(Path::new("/repo/app"))
        .unwrap();
    let off = Renderer::with_shared_fs(fs)
        .build_yaml(Path::new("/repo/app"))
        .unwrap();
    assert_eq!(on, off);
    assert!(
        off.contains("name: edge-web\n  namespace: edge-sites\n"),
        "{off}"
    );
}

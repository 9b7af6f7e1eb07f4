//! Provenance at the renderer level, on a tree held in memory: each field a patch, transformer
//! or generator set is traced to the file (and the line) that set it, a component's patch and a
//! site's patch each to their own.

use std::path::Path;

use kustomize::fs::MemoryFs;
use kustomize::provenance::{self, Edit, Source, Step};
use kustomize::{Renderer, Resource};

const TREE: &[(&str, &str)] = &[
    (
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\n",
    ),
    (
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        image: proxy:1\n      - name: web\n        image: web:1\n        resources:\n          requests:\n            cpu: 100m\n",
    ),
    (
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    ),
    (
        "components/small/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: limits.yaml\n",
    ),
    (
        "components/small/limits.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        resources:\n          limits:\n            memory: 64Mi\n",
    ),
    (
        "site/kustomization.yaml",
        "resources:\n- ../base\ncomponents:\n- ../components/small\nnamespace: edge\nimages:\n- name: web\n  newTag: \"2\"\npatches:\n- path: replicas.yaml\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          containers:\n          - name: web\n            env:\n            - name: SITE\n              value: rig-1\n- target:\n    kind: Service\n  patch: |-\n    - op: replace\n      path: /spec/ports/0/port\n      value: 8080\n",
    ),
    (
        "site/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    ),
];

fn tree() -> MemoryFs {
    let mut fs = MemoryFs::new();
    for (path, text) in TREE {
        fs.add_file(Path::new("/repo").join(path), *text);
    }
    fs
}

fn text_of(path: &Path) -> &'static str {
    TREE.iter()
        .find(|(p, _)| Path::new("/repo").join(p) == path)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("{} is not in the tree", path.display()))
}

/// 1-based line of the first line of `file` that contains `needle` (read off the text, not
/// computed by the renderer).
fn line_with(file: &str, needle: &str) -> u32 {
    let text = text_of(&Path::new("/repo").join(file));
    let i = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"));
    u32::try_from(i + 1).unwrap()
}

fn build() -> Vec<Resource> {
    Renderer::with_fs(tree())
        .build(Path::new("/repo/site"))
        .unwrap()
}

fn object<'a>(rs: &'a [Resource], kind: &str) -> &'a Resource {
    rs.iter().find(|r| r.kind() == kind).unwrap()
}

/// The last edit of `field` (the one whose value the output shows).
fn set_by<'a>(r: &'a Resource, field: &str) -> &'a Edit {
    r.edits
        .iter()
        .rev()
        .find(|e| &*e.field == field)
        .unwrap_or_else(|| panic!("no edit of {field}: {:#?}", r.edits))
}

/// File and line where the edit's instruction is written.
fn place(e: &Edit) -> (String, u32) {
    let file = e.source.file().display().to_string();
    let (doc, at) = match &e.source {
        Source::Document { document, .. } => (*document, e.at.to_string()),
        Source::Kustomization { .. } => (0, e.at.to_string()),
        // A field inside an inline patch: the line of the `patch:` entry's text, from the
        // position of the string plus the field's line inside it.
        Source::Inline { pointer, .. } => (0, pointer.to_string()),
    };
    let (line, _) = provenance::locate(text_of(e.source.file()), doc, &at)
        .unwrap_or_else(|| panic!("{at} not found in {file}"));
    (file, line)
}

const WEB: &str = "/spec/template/spec/containers/1";

#[test]
fn a_component_patch_and_a_site_patch_are_each_traced_to_their_own_file_and_line() {
    let rs = build();
    let d = object(&rs, "Deployment");
    assert_eq!(&*d.origin.file, Path::new("/repo/base/deployment.yaml"));

    let memory = set_by(d, &format!("{WEB}/resources/limits/memory"));
    assert_eq!(memory.step, Step::StrategicMerge);
    assert_eq!(
        place(memory),
        (
            "/repo/components/small/limits.yaml".into(),
            line_with("components/small/limits.yaml", "memory: 64Mi")
        )
    );
    let replicas = set_by(d, "/spec/replicas");
    assert_eq!(
        place(replicas),
        (
            "/repo/site/replicas.yaml".into(),
            line_with("site/replicas.yaml", "replicas: 3")
        )
    );
    // The rendered values are the ones the edits name.
    assert_eq!(d.value.pointer(&memory.field).unwrap(), "64Mi");
    assert_eq!(d.value.pointer(&replicas.field).unwrap(), 3);
    // The patch's own identity (kind, name) is not an edit; the base's cpu request is not one.
    assert!(
        !d.edits
            .iter()
            .any(|e| &*e.field == "/metadata/name" || &*e.field == "/kind")
    );
    assert!(
        !d.edits
            .iter()
            .any(|e| e.field.ends_with("/resources/requests/cpu"))
    );
}

#[test]
fn kustomization_entries_and_inline_patches_are_traced_to_the_kustomization() {
    let rs = build();
    let d = object(&rs, "Deployment");
    let k = "site/kustomization.yaml";
    let ns = set_by(d, "/metadata/namespace");
    assert_eq!(ns.step, Step::Namespace);
    assert_eq!(
        place(ns),
        (format!("/repo/{k}"), line_with(k, "namespace: edge"))
    );
    let image = set_by(d, &format!("{WEB}/image"));
    assert_eq!(image.step, Step::Images);
    assert_eq!(place(image), (format!("/repo/{k}"), line_with(k, "newTag")));
    assert_eq!(d.value.pointer(&image.field).unwrap(), "web:2");
    // The sidecar's image is not `web`: no edit.
    assert!(
        !d.edits
            .iter()
            .any(|e| &*e.field == "/spec/template/spec/containers/0/image")
    );

    // An inline strategic-merge patch: the field inside the patch's own text.
    let env = set_by(d, &format!("{WEB}/env/0/value"));
    let Source::Inline {
        pointer, document, ..
    } = &env.source
    else {
        panic!("{env:#?}");
    };
    assert_eq!((&**pointer, *document), ("/patches/1/patch", 0));
    assert_eq!(
        place(env),
        (format!("/repo/{k}"), line_with(k, "- patch: |"))
    );
    assert_eq!(d.value.pointer(&env.field).unwrap(), "rig-1");
    // The field's line in the file: the literal block starts on the line after `patch: |`.
    let kustomization: serde_json::Value =
        serde_saphyr::from_str(text_of(Path::new("/repo/site/kustomization.yaml"))).unwrap();
    let patch = kustomization.pointer(pointer).unwrap().as_str().unwrap();
    let (inner, _) = provenance::locate(patch, *document, &env.at).unwrap();
    assert_eq!(
        line_with(k, "- patch: |") + inner,
        line_with(k, "value: rig-1")
    );

    // A JSON 6902 operation on a targeted object.
    let s = object(&rs, "Service");
    let port = set_by(s, "/spec/ports/0/port");
    assert_eq!(port.step, Step::Json6902);
    assert_eq!(&*port.at, "/0/value");
    assert_eq!(s.value.pointer(&port.field).unwrap(), 8080);
}

#[test]
fn debug_dump() {
    let rs = build();
    for r in &rs {
        eprintln!("{}\n{:#?}", serde_json::to_string_pretty(&r.value).unwrap(), r.edits.iter().map(|e| (e.field.to_string(), e.at.to_string())).collect::<Vec<_>>());
    }
    panic!();
}

#[test]
fn locate_finds_keys_items_and_documents() {
    let text = "---\n# empty\n---\na: 1\nb:\n  c: [x, y]\n  d:\n  - e: 1\n    f: 2\n---\ng: h\n";
    assert_eq!(provenance::locate(text, 0, "/a"), Some((4, 1)));
    assert_eq!(provenance::locate(text, 0, "/b/c"), Some((6, 3)));
    assert_eq!(provenance::locate(text, 0, "/b/d/0/f"), Some((9, 5)));
    assert_eq!(provenance::locate(text, 1, "/g"), Some((11, 1)));
    assert_eq!(provenance::locate(text, 0, "/zz"), None);
    assert_eq!(provenance::locate(text, 2, "/g"), None);
}

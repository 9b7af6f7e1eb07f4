//! Provenance on a tree held in memory: each field a patch, transformer or generator set is
//! traced to the file and line that set it — a component's patch and a site's patch each to
//! their own. Expected lines are found by searching the fixture text, never computed the way the
//! renderer computes them.

use std::path::Path;

use kustomize::fs::MemoryFs;
use kustomize::provenance::{Edit, Step};
use kustomize::{Renderer, Resource};

const TREE: &[(&str, &str)] = &[
    (
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\n",
    ),
    (
        "base/deployment.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: proxy:1
      - name: web
        image: web:1
        resources:
          requests:
            cpu: 100m
",
    ),
    (
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    ),
    (
        "components/small/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- path: limits.yaml
",
    ),
    // Merging puts the patch's container first: `web` moves to index 0.
    (
        "components/small/limits.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        resources:
          limits:
            memory: 64Mi
",
    ),
    // The site's inline patch names the sidecar: it moves back to index 0.
    (
        "site/kustomization.yaml",
        "resources:
- ../base
components:
- ../components/small
namespace: edge
labels:
- pairs:
    edgefleet.io/site: rig-1
  includeTemplates: true
commonAnnotations:
  edgefleet.io/location: north
images:
- name: web
  newTag: \"2\"
configMapGenerator:
- name: settings
  literals:
  - MODE=edge
patches:
- path: replicas.yaml
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
          - name: sidecar
            env:
            - name: SITE
              value: rig-1
- target:
    kind: Service
  patch: |-
    - op: replace
      path: /spec/ports/0/port
      value: 8080
- patch: \"apiVersion: apps/v1\\nkind: Deployment\\nmetadata:\\n  name: web\\nspec:\\n  paused: true\\n\"
",
    ),
    (
        "site/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
    ),
];

const SITE: &str = "site/kustomization.yaml";

fn tree() -> MemoryFs {
    let mut fs = MemoryFs::new();
    for (path, text) in TREE {
        fs.add_file(Path::new("/repo").join(path), *text);
    }
    fs
}

/// 1-based number of the only line of `file` that contains `needle`, read off the fixture.
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

fn build() -> Vec<Resource> {
    Renderer::with_fs(tree())
        .with_provenance(true)
        .build(Path::new("/repo/site"))
        .unwrap()
}

fn object<'a>(rs: &'a [Resource], kind: &str) -> &'a Resource {
    rs.iter().find(|r| r.kind() == kind).unwrap()
}

/// The edit whose value the output shows.
fn set_by<'a>(r: &'a Resource, field: &str) -> &'a Edit {
    r.set_by(field)
        .unwrap_or_else(|| panic!("no edit of {field}: {:#?}", r.edits))
}

/// The file (relative to the tree) and line where the edit's instruction is written.
fn place(e: &Edit) -> (String, u32) {
    let file = e
        .file()
        .strip_prefix("/repo")
        .unwrap()
        .display()
        .to_string();
    let p = e.position().unwrap_or_else(|| panic!("{e:?}: no position"));
    assert!(p.exact, "{e:?}");
    (file, p.line)
}

/// The JSON pointer of the container named `name`.
fn container(r: &Resource, name: &str) -> String {
    let list = r
        .value
        .pointer("/spec/template/spec/containers")
        .unwrap()
        .as_array()
        .unwrap();
    let i = list.iter().position(|c| c["name"] == name).unwrap();
    format!("/spec/template/spec/containers/{i}")
}

#[test]
fn a_component_patch_and_a_site_patch_are_each_traced_to_their_own_file_and_line() {
    let rs = build();
    let d = object(&rs, "Deployment");
    assert_eq!(&*d.origin.file, Path::new("/repo/base/deployment.yaml"));
    let (web, sidecar) = (container(d, "web"), container(d, "sidecar"));
    // The two merges reordered the containers twice: `web` is back at index 1.
    assert_eq!(web, "/spec/template/spec/containers/1");

    let memory = set_by(d, &format!("{web}/resources/limits/memory"));
    assert_eq!(memory.step(), Step::StrategicMerge);
    let limits = "components/small/limits.yaml";
    assert_eq!(
        place(memory),
        (limits.into(), line_with(limits, "memory: 64Mi"))
    );
    assert_eq!(d.value.pointer(memory.field()).unwrap(), "64Mi");

    let env = set_by(d, &format!("{sidecar}/env/0/value"));
    assert_eq!(env.step(), Step::StrategicMerge);
    assert_eq!(place(env), (SITE.into(), line_with(SITE, "value: rig-1")));
    assert_eq!(d.value.pointer(env.field()).unwrap(), "rig-1");

    let replicas = set_by(d, "/spec/replicas");
    let file = "site/replicas.yaml";
    assert_eq!(
        place(replicas),
        (file.into(), line_with(file, "replicas: 3"))
    );

    // The patches' identities are not edits, nor is the base's cpu request.
    for e in &d.edits {
        assert!(
            !matches!(&**e.field(), "/kind" | "/apiVersion")
                && !e.field().ends_with("/requests/cpu"),
            "{e:?}"
        );
    }
}

#[test]
fn kustomization_entries_generators_and_operations_are_traced_to_their_line() {
    let rs = build();
    let d = object(&rs, "Deployment");
    let web = container(d, "web");

    let ns = set_by(d, "/metadata/namespace");
    assert_eq!(ns.step(), Step::Namespace);
    assert_eq!(place(ns), (SITE.into(), line_with(SITE, "namespace: edge")));

    let image = set_by(d, &format!("{web}/image"));
    assert_eq!(image.step(), Step::Images);
    assert_eq!(place(image), (SITE.into(), line_with(SITE, "newTag")));
    assert_eq!(d.value.pointer(image.field()).unwrap(), "web:2");
    // The sidecar's image is not `web`'s: no edit.
    assert!(
        d.set_by(&format!("{}/image", container(d, "sidecar")))
            .is_none()
    );

    // A label on the object and on its pod template, from the same entry.
    for field in [
        "/metadata/labels/edgefleet.io~1site",
        "/spec/template/metadata/labels/edgefleet.io~1site",
    ] {
        let e = set_by(d, field);
        assert_eq!(e.step(), Step::Labels);
        assert_eq!(
            place(e),
            (SITE.into(), line_with(SITE, "edgefleet.io/site: rig-1"))
        );
    }
    let a = set_by(d, "/metadata/annotations/edgefleet.io~1location");
    assert_eq!(a.step(), Step::Annotations);
    assert_eq!(place(a), (SITE.into(), line_with(SITE, "location: north")));

    let cm = object(&rs, "ConfigMap");
    assert!(cm.name().starts_with("settings-"), "{}", cm.name());
    let mode = set_by(cm, "/data/MODE");
    assert_eq!(mode.step(), Step::Generator);
    assert_eq!(place(mode), (SITE.into(), line_with(SITE, "- MODE=edge")));

    // A JSON 6902 operation of an inline patch: the operation's value, in the kustomization.
    let s = object(&rs, "Service");
    let port = set_by(s, "/spec/ports/0/port");
    assert_eq!(port.step(), Step::Json6902);
    assert_eq!(place(port), (SITE.into(), line_with(SITE, "value: 8080")));
    assert_eq!(s.value.pointer(port.field()).unwrap(), 8080);
}

#[test]
fn a_quoted_inline_patch_is_placed_at_its_key_and_says_so() {
    let rs = build();
    let d = object(&rs, "Deployment");
    let paused = set_by(d, "/spec/paused");
    let p = paused.position().unwrap();
    assert!(!p.exact, "{p:?}");
    assert_eq!(p.line, line_with(SITE, "paused"));
    assert_eq!(paused.source().inline_pointer(), Some("/patches/3/patch"));
}

#[test]
fn provenance_is_off_by_default_and_never_changes_the_output() {
    let plain = Renderer::with_fs(tree());
    assert!(!plain.provenance());
    let rs = plain.build(Path::new("/repo/site")).unwrap();
    assert!(rs.iter().all(|r| r.edits.is_empty()));
    let traced = build();
    assert!(traced.iter().all(|r| !r.edits.is_empty()));
    assert_eq!(kustomize::to_yaml(&rs), kustomize::to_yaml(&traced));
    // Every edit names a field the object holds.
    for r in &traced {
        for e in &r.edits {
            assert!(r.value.pointer(e.field()).is_some(), "{e:?}");
        }
    }
}

/// Patches of the older fields and from files: a two-document patch file, a JSON 6902 file, a
/// strategic-merge patch written as a literal block in the kustomization, and `replicas`.
const LEGACY: &[(&str, &str)] = &[
    (
        "app/kustomization.yaml",
        "resources:
- deployment.yaml
patchesStrategicMerge:
- two.yaml
- |-
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: api
  spec:
    minReadySeconds: 5
patchesJson6902:
- target:
    group: apps
    version: v1
    kind: Deployment
    name: api
  path: ops.yaml
replicas:
- name: api
  count: 4
",
    ),
    (
        "app/deployment.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
      - name: api
        image: api:1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      containers:
      - name: worker
        image: worker:1
",
    ),
    (
        "app/two.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  paused: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  progressDeadlineSeconds: 90
",
    ),
    (
        "app/ops.yaml",
        "- op: add
  path: /spec/template/spec/containers/0
  value:
    name: init-check
    image: check:1
",
    ),
];

#[test]
fn legacy_fields_and_patch_files_are_traced_to_their_document_and_line() {
    let mut fs = MemoryFs::new();
    for (path, text) in LEGACY {
        fs.add_file(Path::new("/repo").join(path), *text);
    }
    let rs = Renderer::with_fs(fs)
        .with_provenance(true)
        .build(Path::new("/repo/app"))
        .unwrap();
    let line = |file: &str, needle: &str| {
        let (_, text) = LEGACY.iter().find(|(p, _)| *p == file).unwrap();
        let hits: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(needle))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(hits.len(), 1, "{needle:?} in {file}");
        u32::try_from(hits[0]).unwrap()
    };
    let at = |r: &Resource, field: &str| {
        let e = set_by(r, field);
        let file = e
            .file()
            .strip_prefix("/repo")
            .unwrap()
            .display()
            .to_string();
        (file, e.position().unwrap().line)
    };
    let k = "app/kustomization.yaml";
    let api = rs.iter().find(|r| r.name() == "api").unwrap();
    let worker = rs.iter().find(|r| r.name() == "worker").unwrap();
    // The second document of the patch file patches the second object.
    assert_eq!(
        at(api, "/spec/paused"),
        ("app/two.yaml".into(), line("app/two.yaml", "paused"))
    );
    assert_eq!(
        at(worker, "/spec/progressDeadlineSeconds"),
        (
            "app/two.yaml".into(),
            line("app/two.yaml", "progressDeadlineSeconds")
        )
    );
    assert_eq!(
        at(api, "/spec/minReadySeconds"),
        (k.into(), line(k, "minReadySeconds"))
    );
    assert_eq!(at(api, "/spec/replicas"), (k.into(), line(k, "count: 4")));
    // The operation inserted a container before `api`: `api`'s fields keep their own places.
    let added = "/spec/template/spec/containers/0";
    assert_eq!(
        api.value.pointer(&format!("{added}/name")).unwrap(),
        "init-check"
    );
    assert_eq!(
        at(api, &format!("{added}/image")),
        (
            "app/ops.yaml".into(),
            line("app/ops.yaml", "image: check:1")
        )
    );
    assert_eq!(
        at(api, added),
        ("app/ops.yaml".into(), line("app/ops.yaml", "value:"))
    );
    assert!(
        api.set_by("/spec/template/spec/containers/1/image")
            .is_none()
    );
}

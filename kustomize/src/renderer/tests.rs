use super::*;
use std::fs;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn names(rs: &[Resource]) -> Vec<String> {
    rs.iter()
        .map(|r| format!("{}/{}", r.kind(), r.name()))
        .collect()
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx:1\n        envFrom:\n        - configMapRef:\n            name: cfg\n";

#[test]
fn renderer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Renderer>();
}

#[test]
fn overlay_with_base_components_and_transformers() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "base/kustomization.yaml",
        "resources:\n- deploy.yaml\nconfigMapGenerator:\n- name: cfg\n  literals: [a=b]\n",
    );
    write(r, "base/deploy.yaml", DEPLOY);
    write(
        r,
        "comp/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      replicas: 2\n",
    );
    write(
        r,
        "site/kustomization.yaml",
        "resources:\n- ../base\ncomponents:\n- ../comp\nnamespace: edge\nnamePrefix: s-\nimages:\n- name: nginx\n  newTag: \"2\"\n",
    );
    let rs = build(&r.join("site")).unwrap();
    assert_eq!(names(&rs)[1], "Deployment/s-web");
    let cm = &rs[0];
    assert!(cm.name().starts_with("s-cfg-"), "{}", cm.name());
    let d = &rs[1].value;
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["metadata"]["namespace"], "edge");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx:2");
    assert_eq!(c["envFrom"][0]["configMapRef"]["name"], cm.name());
    let yaml = build_yaml(&r.join("site")).unwrap();
    assert!(yaml.contains("---\n"), "{yaml}");
}

#[test]
fn cached_bases_give_the_same_builds() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "base/kustomization.yaml", "resources:\n- deploy.yaml\n");
    write(r, "base/deploy.yaml", DEPLOY);
    for site in ["a", "b"] {
        write(
            r,
            &format!("{site}/kustomization.yaml"),
            &format!("resources:\n- ../base\nnameSuffix: -{site}\n"),
        );
    }
    let renderer = Renderer::new();
    for site in ["a", "b", "a"] {
        let cached = renderer.build_yaml(&r.join(site)).unwrap();
        assert_eq!(cached, build_yaml(&r.join(site)).unwrap());
        assert!(cached.contains(&format!("name: web-{site}")));
    }
}

#[test]
fn component_and_kustomization_kinds_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "base/kustomization.yaml", "resources: []\n");
    write(r, "site/kustomization.yaml", "components:\n- ../base\n");
    let e = build(&r.join("site")).unwrap_err().to_string();
    assert!(e.contains("not a Component"), "{e}");
}

#[test]
fn cycles_are_reported_with_the_chain() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "a/kustomization.yaml", "resources:\n- ../b\n");
    write(r, "b/kustomization.yaml", "resources:\n- ../a\n");
    let e = build(&r.join("a")).unwrap_err();
    let RenderError::Cycle { chain } = &e else {
        panic!("{e}")
    };
    assert_eq!(chain.len(), 3);
    assert!(e.to_string().contains(" -> "), "{e}");
}

#[test]
fn a_50_level_chain_builds_on_a_small_stack() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().to_path_buf();
    write(&r, "l50/kustomization.yaml", "resources:\n- deploy.yaml\n");
    write(&r, "l50/deploy.yaml", DEPLOY);
    for i in 0..50 {
        write(
            &r,
            &format!("l{i}/kustomization.yaml"),
            &format!("resources:\n- ../l{}\nnamePrefix: p{i}-\n", i + 1),
        );
    }
    // rayon's worker threads have 2 MiB stacks: build on one that size
    let rs = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || build(&r.join("l0")))
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    assert!(rs[0].name().starts_with("p0-p1-"));
    assert!(rs[0].name().ends_with("p49-web"));
}

#[test]
fn too_deep_chains_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let n = MAX_DEPTH + 5;
    write(r, &format!("l{n}/kustomization.yaml"), "resources: []\n");
    for i in 0..n {
        write(
            r,
            &format!("l{i}/kustomization.yaml"),
            &format!("resources:\n- ../l{}\n", i + 1),
        );
    }
    let e = build(&r.join("l0")).unwrap_err().to_string();
    assert!(e.contains("levels deep"), "{e}");
}

#[test]
fn files_outside_the_root_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "secret.yaml", DEPLOY);
    write(
        r,
        "site/kustomization.yaml",
        "resources:\n- ../secret.yaml\n",
    );
    let e = build(&r.join("site")).unwrap_err();
    assert!(matches!(e, RenderError::OutsideRoot { .. }), "{e}");
    write(
        r,
        "site/kustomization.yaml",
        "resources: []\npatches:\n- path: ../../../../../../etc/passwd\n",
    );
    let e = build(&r.join("site")).unwrap_err();
    assert!(
        matches!(
            e,
            RenderError::OutsideRoot { .. } | RenderError::Field { .. }
        ),
        "{e}"
    );
}

#[test]
fn missing_paths_name_the_kustomization() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "site/kustomization.yaml", "resources:\n- nope.yaml\n");
    let e = build(&r.join("site")).unwrap_err().to_string();
    assert!(
        e.contains("kustomization.yaml") && e.contains("nope.yaml"),
        "{e}"
    );
    let e = build(&r.join("absent")).unwrap_err().to_string();
    assert!(e.contains("absent"), "{e}");
}

#[test]
fn duplicate_ids_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "site/a.yaml", DEPLOY);
    write(r, "site/b.yaml", DEPLOY);
    write(
        r,
        "site/kustomization.yaml",
        "resources:\n- a.yaml\n- b.yaml\n",
    );
    let e = build(&r.join("site")).unwrap_err().to_string();
    assert!(e.contains("already registered id"), "{e}");
}

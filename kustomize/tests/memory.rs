//! A kustomization held entirely in memory renders through [`MemoryFs`], with no temporary
//! folder; the same tree written to disk renders to the same bytes through the disk, and the
//! load restrictor and symlink rules answer the same on both.

use std::path::Path;

use kustomize::Renderer;
use kustomize::fs::MemoryFs;

/// An overlay with a base, a component, a strategic-merge patch, a JSON 6902 patch and a
/// ConfigMap generator reading a file: every kind of read the renderer makes.
const TREE: &[(&str, &str)] = &[
    (
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\nlabels:\n- pairs: {app: web}\n",
    ),
    (
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0\n        envFrom:\n        - configMapRef: {name: settings}\n",
    ),
    (
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    ),
    (
        "components/small/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: resources.yaml\n",
    ),
    (
        "components/small/resources.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        resources:\n          limits: {memory: 64Mi}\n",
    ),
    (
        "site/kustomization.yaml",
        "resources:\n- ../base\ncomponents:\n- ../components/small\nnamePrefix: rig-\nnamespace: edge\nconfigMapGenerator:\n- name: settings\n  files:\n  - app.conf\npatches:\n- target: {kind: Service}\n  patch: |-\n    - op: replace\n      path: /spec/ports/0/port\n      value: 8080\n",
    ),
    ("site/app.conf", "level=info\n"),
];

fn memory_tree() -> MemoryFs {
    let mut fs = MemoryFs::new();
    for (path, text) in TREE {
        fs.add_file(Path::new("/repo").join(path), *text);
    }
    fs
}

#[test]
fn renders_a_tree_held_in_memory() {
    let yaml = Renderer::with_fs(memory_tree())
        .build_yaml(Path::new("/repo/site"))
        .unwrap();
    // What each step must have done, read off the output.
    assert!(yaml.contains("name: rig-web\n"), "{yaml}");
    assert!(yaml.contains("namespace: edge\n"), "{yaml}");
    assert!(
        yaml.contains("memory: 64Mi"),
        "component patch missing:\n{yaml}"
    );
    assert!(
        yaml.contains("port: 8080"),
        "JSON 6902 patch missing:\n{yaml}"
    );
    assert!(
        yaml.contains("app.conf: |\n    level=info\n"),
        "generator file missing:\n{yaml}"
    );
    // The generated ConfigMap's hashed name, and the Deployment's reference to it.
    let hashed = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: rig-settings-"))
        .expect("a hashed ConfigMap name");
    assert_eq!(hashed.len(), 10, "{yaml}");
    assert_eq!(
        yaml.matches(&format!("rig-settings-{hashed}")).count(),
        2,
        "{yaml}"
    );
}

#[test]
fn memory_and_disk_render_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in TREE {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let disk = Renderer::new()
        .build_yaml(&dir.path().join("site"))
        .unwrap();
    let memory = Renderer::with_fs(memory_tree())
        .build_yaml(Path::new("/repo/site"))
        .unwrap();
    assert_eq!(disk, memory);
}

#[test]
fn the_load_restrictor_holds_in_memory() {
    let mut fs = memory_tree();
    fs.add_file(
        "/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
    );
    // A file outside the overlay's root, named directly and through a symlink inside the root.
    fs.add_file(
        "/repo/escape/kustomization.yaml",
        "resources:\n- ../../secret.yaml\n",
    );
    fs.add_symlink("/repo/linked/secret.yaml", "../../secret.yaml");
    fs.add_file(
        "/repo/linked/kustomization.yaml",
        "resources:\n- secret.yaml\n",
    );
    let r = Renderer::with_fs(fs);
    for dir in ["/repo/escape", "/repo/linked"] {
        let e = r.build(Path::new(dir)).unwrap_err().to_string();
        assert!(e.contains("outside the kustomization root"), "{dir}: {e}");
    }
}

#[test]
fn a_symlinked_base_inside_the_tree_renders() {
    let mut fs = memory_tree();
    fs.add_symlink("/repo/site-link", "site");
    let via_link = Renderer::with_fs(fs.clone())
        .build_yaml(Path::new("/repo/site-link"))
        .unwrap();
    let direct = Renderer::with_fs(fs)
        .build_yaml(Path::new("/repo/site"))
        .unwrap();
    assert_eq!(via_link, direct);
}

#[test]
fn missing_paths_name_the_kustomization() {
    let mut fs = MemoryFs::new();
    fs.add_file("/k/kustomization.yaml", "resources:\n- absent.yaml\n");
    let e = Renderer::with_fs(fs)
        .build(Path::new("/k"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/k/kustomization.yaml") && e.contains("absent.yaml"),
        "{e}"
    );
    let e = Renderer::with_fs(MemoryFs::new())
        .build(Path::new("/nowhere"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nowhere"), "{e}");
}

//! Proves the oracle harness works: a tiny hand-written kustomization goes through the real
//! `kubectl kustomize`, the output parses and the objects pass the embedded strict schemas.
//! A missing oracle fails these tests unless `EDGEFLEET_SKIP_ORACLES=1` (see `require_kubectl`).

use std::fs;
use std::path::Path;

use edgefleet_e2e::{
    kustomize_build, parse_stream, require_kubectl, require_pre_commit, workspace_root,
};
use edgefleet_lints::schema::validate_kubernetes;
use serde_json::{Value, json};

const DIGEST: &str = "sha256:4d2f6c1f0e8b7a9d3c5e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c";

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
}

fn tiny_kustomization(dir: &Path) {
    write(
        dir,
        "deployment.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: telemetry-agent
  labels:
    app: telemetry-agent
spec:
  replicas: 1
  selector:
    matchLabels:
      app: telemetry-agent
  template:
    metadata:
      labels:
        app: telemetry-agent
    spec:
      containers:
        - name: agent
          image: registry.example.com/edge/telemetry-agent:1.4.2
          imagePullPolicy: IfNotPresent
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
"#,
    );
    write(
        dir,
        "kustomization.yaml",
        &format!(
            r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: edge
resources:
  - deployment.yaml
labels:
  - pairs:
      edgefleet.io/site: rig-nsea-042
      edgefleet.io/wave: canary
    includeTemplates: true
images:
  - name: registry.example.com/edge/telemetry-agent
    newName: mirror.eu-north.example.net/edge/telemetry-agent
    digest: {DIGEST}
"#
        ),
    );
}

#[test]
fn kustomize_oracle_builds_labels_and_images() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    tiny_kustomization(dir.path());

    let yaml = kustomize_build(&kubectl, dir.path()).expect("kubectl kustomize succeeds");
    let objects = parse_stream(&yaml);
    assert_eq!(objects.len(), 1, "{yaml}");
    let deployment = &objects[0];

    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["metadata"]["namespace"], "edge");
    let site_labels = json!({"edgefleet.io/site": "rig-nsea-042", "edgefleet.io/wave": "canary"});
    for (key, value) in site_labels.as_object().unwrap() {
        assert_eq!(&deployment["metadata"]["labels"][key], value, "{yaml}");
        // includeTemplates: true puts them on the pod template...
        assert_eq!(
            &deployment["spec"]["template"]["metadata"]["labels"][key], value,
            "{yaml}"
        );
        // ...and `labels` (unlike the deprecated commonLabels) leaves the immutable selector alone.
        assert_eq!(
            deployment["spec"]["selector"]["matchLabels"][key],
            Value::Null,
            "{yaml}"
        );
    }
    assert_eq!(deployment["metadata"]["labels"]["app"], "telemetry-agent");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("mirror.eu-north.example.net/edge/telemetry-agent@{DIGEST}").as_str(),
        "{yaml}"
    );

    for obj in &objects {
        if let Err(violations) = validate_kubernetes(obj) {
            panic!("kustomize output fails the schema: {violations:#?}\n{yaml}");
        }
    }
}

#[test]
fn kustomize_errors_are_returned_not_panicked() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "kustomization.yaml",
        "resources:\n  - does-not-exist.yaml\n",
    );
    let err = kustomize_build(&kubectl, dir.path()).expect_err("a missing resource fails");
    assert!(err.contains("does-not-exist.yaml"), "{err}");
}

#[test]
fn schema_rejects_what_kustomize_happily_renders() {
    // Kustomize does not validate fields: the schema oracle has to catch a typo.
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    tiny_kustomization(dir.path());
    let text = fs::read_to_string(dir.path().join("deployment.yaml")).unwrap();
    write(
        dir.path(),
        "deployment.yaml",
        &text.replace("imagePullPolicy:", "imagePulPolicy:"),
    );
    let objects = parse_stream(&kustomize_build(&kubectl, dir.path()).expect("renders"));
    let violations = validate_kubernetes(&objects[0]).expect_err("typo is caught");
    assert_eq!(
        violations[0].instance_path,
        "/spec/template/spec/containers/0"
    );
    assert!(violations[0].message.contains("imagePulPolicy"));
}

#[test]
fn pre_commit_oracle_runs() {
    let Some(pre_commit) = require_pre_commit() else {
        return;
    };
    let out = std::process::Command::new(&pre_commit)
        .arg("--version")
        .output()
        .expect("pre-commit runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("pre-commit 4."));
}

#[test]
fn parse_stream_splits_documents_and_skips_empty_ones() {
    let docs =
        parse_stream("---\na: 1\n---\n---\n# only a comment\n---\nb: [x, y, on, yes, true]\n...\n");
    // YAML 1.2 core, as Kustomize reads it: `y`, `on`, `yes` are strings.
    assert_eq!(
        docs,
        vec![json!({"a": 1}), json!({"b": ["x", "y", "on", "yes", true]})]
    );
    assert!(parse_stream("").is_empty());
}

#[test]
fn workspace_root_is_the_workspace() {
    let root = workspace_root();
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    assert!(manifest.contains("[workspace]"));
    assert!(root.join("scripts/test.sh").is_file());
}

#[test]
fn edgefleet_binary_is_built_next_to_the_tests() {
    let bin = edgefleet_e2e::edgefleet_bin();
    assert!(bin.is_file(), "{}", bin.display());
    assert_eq!(
        bin.file_stem().and_then(|s| s.to_str()),
        Some("edgefleet"),
        "{}",
        bin.display()
    );
    // Same profile folder as this test executable.
    let exe = std::env::current_exe().unwrap();
    assert!(
        exe.starts_with(bin.parent().unwrap()),
        "{} vs {}",
        exe.display(),
        bin.display()
    );
}

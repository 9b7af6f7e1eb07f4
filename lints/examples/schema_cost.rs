//! Measures what schema validation costs per object, once the validators are compiled.
//!
//! `cargo run -p edgefleet-lints --release --example schema_cost [N]`
//!
//! Prints the one-off compile time of each validator and the mean cost of validating a typical
//! Deployment, Service, ConfigMap and ApplicationSet N times each (default 20,000), plus the
//! cost of an invalid Deployment (which builds the error report).

use std::time::Instant;

use edgefleet_lints::schema::{validate, validate_kubernetes};
use serde_json::{Value, json};

fn deployment(i: usize) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("agent-{i}"), "namespace": "edge",
                     "labels": {"app": "agent", "edgefleet.io/site": format!("site-{i}")}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {
                    "nodeSelector": {"kubernetes.io/arch": "arm64"},
                    "containers": [{
                        "name": "agent",
                        "image": "registry.example.com/edge/agent@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "imagePullPolicy": "IfNotPresent",
                        "args": ["--buffer=72h", "--endpoint=https://otlp.eu-north.example.net"],
                        "env": [{"name": "SITE", "value": format!("site-{i}")},
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        "ports": [{"name": "otlp", "containerPort": 4317}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                      "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 13133}},
                        "livenessProbe": {"httpGet": {"path": "/", "port": 13133}},
                        "volumeMounts": [{"name": "buffer", "mountPath": "/var/lib/agent"}]
                    }],
                    "volumes": [{"name": "buffer", "persistentVolumeClaim": {"claimName": "agent-buffer"}}]
                }
            }
        }
    })
}

fn others(i: usize) -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("s{i}")},
               "spec": {"selector": {"app": "agent"}, "ports": [{"name": "otlp", "port": 4317, "targetPort": "otlp"}]}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")},
               "data": {"config.yaml": "receivers: {}\n"}}),
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
               "metadata": {"name": format!("a{i}"), "namespace": "argocd"},
               "spec": {"goTemplate": true, "goTemplateOptions": ["missingkey=error"],
                        "generators": [{"git": {"repoURL": "https://git.example.com/fleet.git", "revision": "main",
                                                "files": [{"path": "sites/eu-north/*/site.json"}]}}],
                        "template": {"metadata": {"name": "agent-{{.site}}"},
                                     "spec": {"project": "edge",
                                              "source": {"repoURL": "https://git.example.com/fleet.git", "path": "sites/{{.site}}"},
                                              "destination": {"name": "{{.cluster}}", "namespace": "edge"}}}}}),
    ]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);

    let deployments: Vec<Value> = (0..n).map(deployment).collect();
    let rest: Vec<Vec<Value>> = (0..n).map(others).collect();

    // First use compiles (and caches) the validators.
    let t = Instant::now();
    validate(&deployments[0]).expect("valid Deployment");
    println!(
        "first Deployment (compiles its validator): {:?}",
        t.elapsed()
    );
    for obj in &rest[0] {
        let t = Instant::now();
        validate(obj).expect("valid object");
        println!(
            "first {} (compiles its validator): {:?}",
            obj["kind"],
            t.elapsed()
        );
    }

    let t = Instant::now();
    for obj in &deployments {
        validate_kubernetes(obj).expect("valid Deployment");
    }
    let per = t.elapsed() / n as u32;
    println!("valid Deployment: {per:?} per object ({n} objects)");

    for (k, name) in ["Service", "ConfigMap", "ApplicationSet"]
        .iter()
        .enumerate()
    {
        let t = Instant::now();
        for objs in &rest {
            validate(&objs[k]).expect("valid object");
        }
        println!("valid {name}: {:?} per object", t.elapsed() / n as u32);
    }

    let mut bad = deployments[0].clone();
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    let t = Instant::now();
    for _ in 0..n {
        assert!(validate(&bad).is_err());
    }
    println!(
        "invalid Deployment (error report built): {:?} per object",
        t.elapsed() / n as u32
    );
}

//! The loopback API server speaks Kubernetes: the real `kubectl` (the pinned oracle), through
//! the kubeconfig the server writes, returns exactly what edgefleet's cluster source read for
//! the same objects (`get <kind> <name> -o json --show-managed-fields`: kubectl hides them
//! otherwise), the same labelled objects
//! (`get -l edgefleet.io/site=<id>`), and discovers the same listable kinds
//! (`api-resources --verbs=list`); and neither client ever sent anything but GET.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use edgefleet_drift::cluster::{ClusterOptions, ClusterSource};
use edgefleet_drift::{LiveSource, ObjectKey};
use edgefleet_e2e::{describe, generate_fleet, require_kubectl, workspace_root};
use edgefleet_fleet::FleetTree;
use edgefleet_test_apiserver::{Applier, KubeconfigOptions, TestApiServer};
use serde_json::{Value, json};

const TEMPLATE: &str = "edge-{site}";

fn key_of(obj: &Value) -> ObjectKey {
    ObjectKey {
        api_version: obj["apiVersion"].as_str().unwrap().to_owned(),
        kind: obj["kind"].as_str().unwrap().to_owned(),
        namespace: obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: obj["metadata"]["name"].as_str().unwrap().to_owned(),
    }
}

fn kubectl_json(
    kubectl: &Path,
    kubeconfig: &Path,
    cache: &Path,
    context: &str,
    args: &[&str],
) -> Value {
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--context", context])
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(out.status.success(), "kubectl {args:?}: {}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("kubectl prints JSON")
}

/// `deployment.apps`, `configmap`: the kind as kubectl's resource argument.
fn resource_arg(key: &ObjectKey) -> String {
    let kind = key.kind.to_lowercase();
    match key.api_version.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind,
    }
}

#[test]
fn kubectl_reads_through_the_loopback_server_what_the_cluster_source_read() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    generate_fleet(
        &workspace_root().join("examples/fleet/site-inventory"),
        &workspace_root().join("templates"),
        &out,
    );
    let tree = FleetTree::on_disk(&out).unwrap();
    let discovery = tree.sites();
    assert!(discovery.problems.is_empty(), "{:?}", discovery.problems);
    let sites: Vec<_> = discovery.sites.into_iter().take(2).collect();
    let rendered = tree.render_sites(&sites);

    let server = TestApiServer::start().unwrap();
    let mut desired: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for site in &rendered {
        for (overlay, objects) in &site.overlays {
            let objects: Vec<Value> = objects
                .as_ref()
                .unwrap()
                .iter()
                .map(|r| r.value.clone())
                .collect();
            let applier = Applier {
                app: Some(format!("{}-{}", site.site, overlay.workload)),
                ..Applier::default()
            };
            server.apply(&site.site, &objects, &applier);
            desired
                .entry(site.site.clone())
                .or_default()
                .extend(objects);
        }
    }
    // Something changed by hand on the first site, so managed fields of a person are served.
    let first = rendered[0].site.clone();
    let deployment = desired[&first]
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .map(key_of)
        .expect("the example site runs a Deployment");
    assert!(server.edit(
        &first,
        &deployment.api_version,
        &deployment.kind,
        deployment.namespace.as_deref(),
        &deployment.name,
        "/spec/replicas",
        json!(3),
        "kubectl-edit",
    ));

    let kubeconfig = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(
            &kubeconfig,
            &KubeconfigOptions {
                context_template: TEMPLATE.to_owned(),
                ..KubeconfigOptions::default()
            },
        )
        .unwrap();
    let source = ClusterSource::new(ClusterOptions {
        kubeconfig: Some(kubeconfig.clone()),
        context_template: TEMPLATE.to_owned(),
        timeout: Duration::from_secs(20),
    })
    .unwrap();
    let cache = dir.path().join("kube-cache");

    for (site, objects) in &desired {
        let keys: Vec<ObjectKey> = objects.iter().map(key_of).collect();
        let live = source.read_site(site, &keys).expect("the site reads");
        let context = TEMPLATE.replace("{site}", site);

        // Each desired object, one `kubectl get` each (first site), as one list (others).
        if *site == first {
            for key in &keys {
                let mut args = vec!["get".to_owned(), resource_arg(key), key.name.clone()];
                if let Some(ns) = &key.namespace {
                    args.extend(["-n".to_owned(), ns.clone()]);
                }
                args.extend(["-o", "json", "--show-managed-fields"].map(str::to_owned));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let got = kubectl_json(&kubectl, &kubeconfig, &cache, &context, &args);
                assert_eq!(
                    live.objects[key].as_ref(),
                    Some(&got),
                    "{site}: kubectl and the cluster source differ on {key:?}"
                );
            }
            let edited = live.objects[&deployment].as_ref().unwrap();
            assert_eq!(edited["spec"]["replicas"], 3);
        }

        // Everything labelled with the site, kind by kind, as kubectl lists it.
        let mut by_kind: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for o in &live.labelled {
            by_kind
                .entry((
                    o["apiVersion"].as_str().unwrap().to_owned(),
                    o["kind"].as_str().unwrap().to_owned(),
                ))
                .or_default()
                .insert(o.to_string());
        }
        assert!(
            by_kind.keys().any(|(_, k)| k == "Pod"),
            "{:?}",
            by_kind.keys()
        );
        assert!(
            by_kind.keys().any(|(_, k)| k == "ReplicaSet"),
            "{:?}",
            by_kind.keys()
        );
        for ((api_version, kind), from_source) in &by_kind {
            let key = ObjectKey {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: None,
                name: String::new(),
            };
            let selector = format!("edgefleet.io/site={site}");
            let list = kubectl_json(
                &kubectl,
                &kubeconfig,
                &cache,
                &context,
                &[
                    "get",
                    &resource_arg(&key),
                    "-A",
                    "-l",
                    &selector,
                    "-o",
                    "json",
                    "--show-managed-fields",
                ],
            );
            let from_kubectl: BTreeSet<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| {
                    // Reparse the source's object through the same canonical text.
                    item.to_string()
                })
                .collect();
            let from_source: BTreeSet<String> = from_source
                .iter()
                .map(|t| serde_json::from_str::<Value>(t).unwrap().to_string())
                .collect();
            let (k, c) = (canonical(&from_kubectl), canonical(&from_source));
            if k != c {
                let only_k: Vec<&String> = k.difference(&c).collect();
                let only_c: Vec<&String> = c.difference(&k).collect();
                let first_diff = match (only_k.first(), only_c.first()) {
                    (Some(a), Some(b)) => first_difference(
                        &serde_json::from_str(a).unwrap(),
                        &serde_json::from_str(b).unwrap(),
                        "",
                    ),
                    _ => None,
                };
                panic!(
                    "{site}: `kubectl get {kind} -l {selector}` differs: {} only from kubectl, {} \
                     only from the source; first difference: {first_diff:?}",
                    only_k.len(),
                    only_c.len()
                );
            }
        }

        // The same kinds are listable to kubectl's discovery as to the source's.
        let out = Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(&cache)
            .args([
                "--context",
                &context,
                "api-resources",
                "--verbs=list",
                "-o",
                "name",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        let kubectl_kinds: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let before = server.requests().len();
        let again = source.read_site(site, &keys).expect("reads again");
        assert_eq!(again.labelled.len(), live.labelled.len());
        let listed: BTreeSet<String> = server.requests()[before..]
            .iter()
            .filter(|r| {
                r.query
                    .as_deref()
                    .is_some_and(|q| q.starts_with("labelSelector="))
            })
            .map(|r| {
                let segs: Vec<&str> = r.path.trim_matches('/').split('/').collect();
                match segs.as_slice() {
                    ["api", _, plural] => (*plural).to_owned(),
                    ["apis", group, _, plural] => format!("{plural}.{group}"),
                    other => panic!("an unexpected list path {other:?}"),
                }
            })
            .collect();
        assert_eq!(listed, kubectl_kinds, "{site}: listable kinds differ");
    }

    let requests = server.requests();
    assert!(requests.iter().all(|r| r.method == "GET"), "{requests:?}");
}

/// JSON texts with object keys sorted (kubectl prints maps sorted, the server in its order).
fn canonical(texts: &BTreeSet<String>) -> BTreeSet<String> {
    fn sort(v: Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<String, Value> =
                    m.into_iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            Value::Array(a) => Value::Array(a.into_iter().map(sort).collect()),
            other => other,
        }
    }
    texts
        .iter()
        .map(|t| sort(serde_json::from_str(t).unwrap()).to_string())
        .collect()
}

/// The first path where two JSON values differ, with both sides (shortened).
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, &p) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: kubectl {u:?} | source {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}/{i}"))),
        _ if a == b => None,
        _ => {
            let (u, v) = (a.to_string(), b.to_string());
            Some(format!(
                "{path}: kubectl {} | source {}",
                &u[..u.len().min(300)],
                &v[..v.len().min(300)]
            ))
        }
    }
}

//! `edgefleet drift --snapshots` over a generated copy of the example fleet. Each site's
//! snapshot is what a Kubernetes API server returns for the objects Git renders (defaults filled
//! in, quantities re-serialised, `status`, server metadata, Argo CD's tracking, the Pods and
//! ReplicaSets of each Deployment), exported as `kubectl get -o yaml` would; each test then
//! changes one thing at one site, as a person on site would. Expected results come from the
//! changes the test made, never from the report's own output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgefleet_fleet::FleetTree;
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn edgefleet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .output()
        .expect("edgefleet runs")
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A project with the example inventory and catalogue, generated into `out/`.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("edgefleet-drift")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = workspace();
    std::fs::write(
        dir.join("edgefleet.toml"),
        format!(
            "[paths]\ninventory = {:?}\ntemplates = {:?}\nout = \"out\"\n",
            w.join("examples/fleet/site-inventory"),
            w.join("templates")
        ),
    )
    .unwrap();
    let o = edgefleet(&dir, &["generate"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    dir
}

/// Every site of the generated tree with its rendered objects.
fn rendered(dir: &Path) -> Vec<(String, Vec<Value>)> {
    let tree = FleetTree::on_disk(&dir.join("out")).unwrap();
    let sites = tree.sites().sites;
    let renders = tree.render_sites(&sites);
    renders
        .into_iter()
        .map(|r| {
            let objects = r
                .overlays
                .into_iter()
                .flat_map(|(_, built)| built.unwrap())
                .map(|res| res.value)
                .collect();
            (r.site, objects)
        })
        .collect()
}

/// A CPU quantity as the API server writes it back (`0.5` → `500m`, `2.0` → `2`).
fn canonical_cpu(v: &Value) -> Value {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(m) = text.strip_suffix('m') {
        let n: u64 = m.parse().unwrap();
        return if n.is_multiple_of(1000) {
            json!((n / 1000).to_string())
        } else {
            json!(text)
        };
    }
    let f: f64 = text.parse().unwrap();
    if f.fract() == 0.0 {
        json!(format!("{}", f as u64))
    } else {
        json!(format!("{}m", (f * 1000.0).round() as u64))
    }
}

fn pod_spec_defaults(spec: &mut Value) {
    let s = spec.as_object_mut().unwrap();
    s.entry("dnsPolicy").or_insert(json!("ClusterFirst"));
    s.entry("restartPolicy").or_insert(json!("Always"));
    s.entry("schedulerName")
        .or_insert(json!("default-scheduler"));
    s.entry("securityContext").or_insert(json!({}));
    s.entry("terminationGracePeriodSeconds")
        .or_insert(json!(30));
    if let Some(sa) = s.get("serviceAccountName").cloned() {
        s.insert("serviceAccount".into(), sa);
    }
    for field in ["containers", "initContainers"] {
        for c in s
            .get_mut(field)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let c = c.as_object_mut().unwrap();
            c.entry("imagePullPolicy").or_insert(json!("IfNotPresent"));
            c.entry("terminationMessagePath")
                .or_insert(json!("/dev/termination-log"));
            c.entry("terminationMessagePolicy").or_insert(json!("File"));
            c.entry("resources").or_insert(json!({}));
            for cpu in ["/resources/requests/cpu", "/resources/limits/cpu"] {
                let mut v = Value::Object(c.clone());
                if let Some(q) = v.pointer_mut(cpu) {
                    *q = canonical_cpu(q);
                    *c = v.as_object().unwrap().clone();
                }
            }
            for p in c
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                p.as_object_mut()
                    .unwrap()
                    .entry("protocol")
                    .or_insert(json!("TCP"));
            }
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                if let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) {
                    p.entry("timeoutSeconds").or_insert(json!(1));
                    p.entry("periodSeconds").or_insert(json!(10));
                    p.entry("successThreshold").or_insert(json!(1));
                    p.entry("failureThreshold").or_insert(json!(3));
                    if let Some(h) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
                        h.entry("scheme").or_insert(json!("HTTP"));
                    }
                }
            }
        }
    }
    for v in s
        .get_mut("volumes")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        for source in ["configMap", "secret"] {
            if let Some(m) = v.get_mut(source).and_then(Value::as_object_mut) {
                m.entry("defaultMode").or_insert(json!(420));
            }
        }
    }
}

/// What the API server returns for an object Argo CD applied.
fn served(mut object: Value, site: &str) -> Value {
    let kind = object["kind"].as_str().unwrap().to_owned();
    let name = object["metadata"]["name"].as_str().unwrap().to_owned();
    let m = object["metadata"].as_object_mut().unwrap();
    m.insert("uid".into(), json!(format!("uid-{site}-{kind}-{name}")));
    m.insert("resourceVersion".into(), json!("48213"));
    m.insert("generation".into(), json!(1));
    m.insert("creationTimestamp".into(), json!("2026-11-30T08:12:40Z"));
    let annotations = m
        .entry("annotations")
        .or_insert(json!({}))
        .as_object_mut()
        .unwrap();
    annotations.insert(
        "argocd.argoproj.io/tracking-id".into(),
        json!(format!("{site}:/{kind}:{name}")),
    );
    match kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" => {
            annotations.insert("deployment.kubernetes.io/revision".into(), json!("1"));
            let spec = object["spec"].as_object_mut().unwrap();
            spec.entry("revisionHistoryLimit").or_insert(json!(10));
            match kind.as_str() {
                "Deployment" => {
                    spec.entry("progressDeadlineSeconds").or_insert(json!(600));
                    spec.entry("strategy")
                        .or_insert(json!({"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}));
                }
                "StatefulSet" => {
                    spec.entry("podManagementPolicy")
                        .or_insert(json!("OrderedReady"));
                    spec.entry("updateStrategy").or_insert(
                        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                    );
                    spec.entry("persistentVolumeClaimRetentionPolicy")
                        .or_insert(json!({"whenDeleted": "Retain", "whenScaled": "Retain"}));
                }
                _ => {}
            }
            let template = spec.get_mut("template").unwrap();
            template["metadata"]["creationTimestamp"] = Value::Null;
            pod_spec_defaults(&mut template["spec"]);
            object["status"] = json!({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1});
        }
        "Service" => {
            let spec = object["spec"].as_object_mut().unwrap();
            // A headless Service keeps `None`.
            let ip = spec
                .entry("clusterIP")
                .or_insert(json!("10.43.0.17"))
                .clone();
            spec.insert("clusterIPs".into(), json!([ip]));
            spec.insert("ipFamilies".into(), json!(["IPv4"]));
            spec.insert("ipFamilyPolicy".into(), json!("SingleStack"));
            spec.entry("sessionAffinity").or_insert(json!("None"));
            spec.entry("internalTrafficPolicy")
                .or_insert(json!("Cluster"));
            spec.entry("type").or_insert(json!("ClusterIP"));
            for p in spec["ports"].as_array_mut().unwrap() {
                let p = p.as_object_mut().unwrap();
                p.entry("protocol").or_insert(json!("TCP"));
                let port = p["port"].clone();
                p.entry("targetPort").or_insert(port);
            }
            object["status"] = json!({"loadBalancer": {}});
        }
        _ => {}
    }
    object
}

/// The ReplicaSet and Pod a Deployment makes: the fleet's labels, and an owner.
fn owned_by(deployment: &Value) -> Vec<Value> {
    let name = deployment["metadata"]["name"].as_str().unwrap();
    let namespace = &deployment["metadata"]["namespace"];
    let labels = deployment["spec"]["template"]["metadata"]["labels"].clone();
    let rs = format!("{name}-7d9c8b6f5");
    vec![
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs, "namespace": namespace, "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": "u1", "controller": true, "blockOwnerDeletion": true}]}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{rs}-x2x9q"), "namespace": namespace, "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                    "uid": "u2", "controller": true, "blockOwnerDeletion": true}]}}),
    ]
}

/// Live state of every site: `site → objects`, in sync with Git.
fn live(dir: &Path) -> Vec<(String, Vec<Value>)> {
    rendered(dir)
        .into_iter()
        .map(|(site, objects)| {
            let mut live: Vec<Value> = Vec::new();
            for o in objects {
                if o["kind"] == "Deployment" {
                    live.extend(owned_by(&o));
                }
                live.push(served(o, &site));
            }
            (site, live)
        })
        .collect()
}

/// Writes the snapshots: a `List` in YAML for most sites, JSON for every third.
fn write_snapshots(dir: &Path, sites: &[(String, Vec<Value>)]) -> PathBuf {
    let snaps = dir.join("snapshots");
    let _ = std::fs::remove_dir_all(&snaps);
    for (i, (site, objects)) in sites.iter().enumerate() {
        let folder = snaps.join(site);
        std::fs::create_dir_all(&folder).unwrap();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        if i % 3 == 2 {
            std::fs::write(
                folder.join("all.json"),
                serde_json::to_string_pretty(&list).unwrap(),
            )
            .unwrap();
        } else {
            std::fs::write(
                folder.join("all.yaml"),
                kustomize::emit::emit_document(&list),
            )
            .unwrap();
        }
    }
    snaps
}

fn drift_json(dir: &Path, extra: &[&str]) -> (Option<i32>, Value, Output) {
    let mut args = vec!["drift", "--snapshots", "snapshots", "--format", "json"];
    args.extend_from_slice(extra);
    let o = edgefleet(dir, &args);
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    (o.status.code(), v, o)
}

/// (site, status) of a site.
type SiteStatus = (String, String);
/// (site, kind/name, status) of an object.
type ObjectStatus = (String, String, String);

/// Every site not in sync, and every object not in sync.
fn not_in_sync(report: &Value) -> (Vec<SiteStatus>, Vec<ObjectStatus>) {
    let mut sites = Vec::new();
    let mut objects = Vec::new();
    for s in report["sites"].as_array().unwrap() {
        let id = s["site"].as_str().unwrap().to_owned();
        if s["status"] != "in-sync" {
            sites.push((id.clone(), s["status"].as_str().unwrap().to_owned()));
        }
        for o in s["objects"].as_array().unwrap() {
            if o["status"] != "in-sync" {
                objects.push((
                    id.clone(),
                    format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap(),
                        o["name"].as_str().unwrap()
                    ),
                    o["status"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    (sites, objects)
}

fn object_diff<'a>(report: &'a Value, site: &str, kind: &str, name: &str) -> &'a str {
    report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == site)
        .and_then(|s| {
            s["objects"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["kind"] == kind && o["name"] == name)
        })
        .and_then(|o| o["diff"].as_str())
        .unwrap_or_else(|| panic!("no diff for {site} {kind}/{name}"))
}

/// The first Deployment of the first site, and its index in that site's objects.
fn first_deployment(sites: &[(String, Vec<Value>)]) -> (usize, String) {
    let i = sites[0]
        .1
        .iter()
        .position(|o| o["kind"] == "Deployment")
        .expect("the example site runs a Deployment");
    let name = sites[0].1[i]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    (i, name)
}

#[test]
fn a_fleet_running_what_git_says_is_in_sync() {
    let dir = scratch("in-sync");
    let sites = live(&dir);
    write_snapshots(&dir, &sites);
    let (code, report, o) = drift_json(&dir, &[]);
    assert_eq!(code, Some(0), "{}", describe(&o));
    assert_eq!(report["version"], 1);
    assert_eq!(report["sites"].as_array().unwrap().len(), sites.len());
    assert_eq!(not_in_sync(&report), (vec![], vec![]));
    assert_eq!(report["summary"]["in-sync"], sites.len());
    // Human output: the table by region and wave.
    let o = edgefleet(&dir, &["drift", "--snapshots", "snapshots"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("region") && text.contains("wave"), "{text}");
    assert!(
        text.contains(&format!("{} sites: {} in sync", sites.len(), sites.len())),
        "{text}"
    );
}

#[test]
fn changes_made_on_site_are_found() {
    let dir = scratch("changes");
    let mut sites = live(&dir);
    let (d, deployment) = first_deployment(&sites);
    let site0 = sites[0].0.clone();
    // Site 0: a new image, by hand.
    let container = &mut sites[0].1[d]["spec"]["template"]["spec"]["containers"][0];
    container["image"] = json!("registry.example.com/edge/hotfix:1.0.1");
    // Site 1: scaled by hand (`kubectl scale`, manager `kubectl`).
    let site1 = sites[1].0.clone();
    let d1 = sites[1]
        .1
        .iter()
        .position(|o| o["kind"] == "Deployment")
        .unwrap();
    let dep1 = sites[1].1[d1]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    sites[1].1[d1]["spec"]["replicas"] = json!(3);
    sites[1].1[d1]["metadata"]["managedFields"] = json!([
        {"manager": "argocd-controller", "operation": "Apply", "apiVersion": "apps/v1",
         "time": "2026-11-30T08:12:40Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:selector": {}, "f:template": {}}}},
        {"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1", "subresource": "scale",
         "time": "2026-12-01T02:03:04Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    ]);
    // Site 2: an env var added by hand to a container that has no `env` in Git.
    let site2 = sites[2].0.clone();
    let (d2, c2) = sites[2]
        .1
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet")))
        .find_map(|(i, o)| {
            o["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .position(|c| c.get("env").is_none())
                .map(|c| (i, c))
        })
        .expect("a container without env in Git");
    let (kind2, name2) = (
        sites[2].1[d2]["kind"].as_str().unwrap().to_owned(),
        sites[2].1[d2]["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    sites[2].1[d2]["spec"]["template"]["spec"]["containers"][c2]["env"] =
        json!([{"name": "LOG_LEVEL", "value": "debug"}]);
    // Site 3: a ConfigMap deleted, and an object labelled for the site that Git does not have.
    let site3 = sites[3].0.clone();
    let cm = sites[3]
        .1
        .iter()
        .position(|o| o["kind"] == "ConfigMap")
        .unwrap();
    let removed = sites[3].1.remove(cm);
    let removed_name = removed["metadata"]["name"].as_str().unwrap().to_owned();
    sites[3]
        .1
        .push(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "debug-notes", "namespace": removed["metadata"]["namespace"],
            "labels": {"edgefleet.io/site": site3}},
        "data": {"note": "left by the technician"}}));
    write_snapshots(&dir, &sites);

    let (code, report, o) = drift_json(&dir, &[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    let (bad_sites, mut bad_objects) = not_in_sync(&report);
    let mut expected_objects = vec![
        (
            site0.clone(),
            format!("Deployment/{deployment}"),
            "drifted".to_owned(),
        ),
        (
            site1.clone(),
            format!("Deployment/{dep1}"),
            "drifted".to_owned(),
        ),
        (
            site2.clone(),
            format!("{kind2}/{name2}"),
            "drifted".to_owned(),
        ),
        (
            site3.clone(),
            format!("ConfigMap/{removed_name}"),
            "missing".to_owned(),
        ),
        (
            site3.clone(),
            "ConfigMap/debug-notes".to_owned(),
            "extra".to_owned(),
        ),
    ];
    expected_objects.sort();
    bad_objects.sort();
    assert_eq!(bad_objects, expected_objects, "{}", describe(&o));
    let mut expected_sites: Vec<(String, String)> = [&site0, &site1, &site2, &site3]
        .iter()
        .map(|s| ((*s).clone(), "drifted".to_owned()))
        .collect();
    expected_sites.sort();
    assert_eq!(bad_sites, expected_sites);

    let diff = object_diff(&report, &site0, "Deployment", &deployment);
    assert!(
        diff.contains("+  - image: registry.example.com/edge/hotfix:1.0.1")
            || diff.contains("image: registry.example.com/edge/hotfix:1.0.1"),
        "{diff}"
    );
    assert!(
        diff.lines()
            .any(|l| l.starts_with('-') && l.contains("image:")),
        "{diff}"
    );
    let diff = object_diff(&report, &site1, "Deployment", &dep1);
    assert!(diff.contains("+++ live (set by kubectl)"), "{diff}");
    assert!(diff.contains("+  replicas: 3"), "{diff}");
    let diff = object_diff(&report, &site2, &kind2, &name2);
    assert!(
        diff.contains("+        env:") && diff.contains("value: debug"),
        "{diff}"
    );

    // An ignoreDifferences rule hides the image at site 0 (and only that).
    let config = std::fs::read_to_string(dir.join("edgefleet.toml")).unwrap();
    std::fs::write(
        dir.join("edgefleet.toml"),
        format!(
            "{config}\n[[drift.ignore_differences]]\ngroup = \"apps\"\nkind = \"Deployment\"\nname = {deployment:?}\njsonPointers = [\"/spec/template/spec/containers/0/image\"]\n"
        ),
    )
    .unwrap();
    let (code, report, o) = drift_json(&dir, &["--site", &site0]);
    assert_eq!(code, Some(0), "{}", describe(&o));
    assert_eq!(not_in_sync(&report), (vec![], vec![]));
    let (code, _, o) = drift_json(&dir, &["--site", &site1]);
    assert_eq!(code, Some(1), "{}", describe(&o));
}

#[test]
fn output_is_the_same_for_any_number_of_jobs() {
    let dir = scratch("jobs");
    let mut sites = live(&dir);
    let (d, _) = first_deployment(&sites);
    sites[0].1[d]["spec"]["replicas"] = json!(2);
    let missing_site = sites.pop().unwrap().0;
    write_snapshots(&dir, &sites);
    let one = edgefleet(
        &dir,
        &[
            "drift",
            "--snapshots",
            "snapshots",
            "--format",
            "json",
            "--jobs",
            "1",
        ],
    );
    let four = edgefleet(
        &dir,
        &[
            "drift",
            "--snapshots",
            "snapshots",
            "--format",
            "json",
            "--jobs",
            "4",
        ],
    );
    assert_eq!(one.status.code(), Some(1), "{}", describe(&one));
    assert_eq!(four.status.code(), Some(1));
    assert_eq!(one.stdout, four.stdout, "byte-identical");
    let report: Value = serde_json::from_slice(&one.stdout).unwrap();
    let ids: Vec<&str> = report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "sorted by site id");
    let unreachable = report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == missing_site.as_str())
        .unwrap();
    assert_eq!(unreachable["status"], "unreachable");
    assert!(
        unreachable["error"]
            .as_str()
            .unwrap()
            .starts_with("no snapshot")
    );
    // The report page reads what drift writes.
    std::fs::write(dir.join("drift.json"), &one.stdout).unwrap();
    let page = edgefleet(
        &dir,
        &["report", "--out", "page.html", "--drift-json", "drift.json"],
    );
    assert_eq!(page.status.code(), Some(0), "{}", describe(&page));
    let html = std::fs::read_to_string(dir.join("page.html")).unwrap();
    assert!(
        html.contains("id=\"drift-drift\" data-value=\"1\""),
        "one site drifted"
    );
    assert!(html.contains("id=\"drift-unreachable\" data-value=\"1\""));
    // Only the missing snapshot: exit 3.
    let (code, _, o) = drift_json(&dir, &["--site", &missing_site, "--site", &sites[1].0]);
    assert_eq!(code, Some(3), "{}", describe(&o));
    // SARIF and JUnit carry the same results.
    let sarif = edgefleet(
        &dir,
        &["drift", "--snapshots", "snapshots", "--format", "sarif"],
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["drift/drifted", "drift/unreachable"]);
    let junit = edgefleet(
        &dir,
        &["drift", "--snapshots", "snapshots", "--format", "junit"],
    );
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(
        xml.contains("<testsuites") && xml.contains("failures=\"1\""),
        "{xml}"
    );
}

#[test]
fn a_broken_snapshot_is_bad_input_at_its_line() {
    let dir = scratch("broken");
    let sites = live(&dir);
    let snaps = write_snapshots(&dir, &sites);
    std::fs::write(
        snaps.join(&sites[0].0).join("extra.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
    )
    .unwrap();
    let o = edgefleet(&dir, &["drift", "--snapshots", "snapshots"]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let file = format!("snapshots/{}/extra.yaml:", sites[0].0);
    assert!(err.contains(&file), "{err}");
    let after = &err[err.find(&file).unwrap() + file.len()..];
    let mut parts = after.splitn(3, ':');
    let line: u32 = parts
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{err}"));
    let column: u32 = parts
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{err}"));
    assert!(line >= 4 && column >= 1, "{err}");
    assert!(o.stdout.is_empty(), "nothing reported");

    // Other bad input: an unknown site, a snapshot folder that does not exist.
    let o = edgefleet(
        &dir,
        &[
            "drift",
            "--snapshots",
            "snapshots",
            "--site",
            "no-such-site",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let o = edgefleet(&dir, &["drift", "--snapshots", "nowhere"]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}

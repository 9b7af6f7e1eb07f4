//! `edgefleet drift` (the real binary) against the loopback Kubernetes API server: each site's
//! rendered objects are served as a real API server returns them after Argo CD applied them
//! (defaults, `status`, `managedFields`, quantities re-serialised, the Pods, ReplicaSets and
//! Endpoints controllers add), through a kubeconfig with one context per site. Each test then
//! changes one thing as a person on site (or a broken site) would, and checks the JSON report
//! and the exit code against that change, never against the report's own output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgefleet_e2e::{describe, edgefleet_bin, generate_fleet, workspace_root};
use edgefleet_fleet::FleetTree;
use edgefleet_test_apiserver::{Applier, KubeconfigOptions, TestApiServer};
use serde_json::{Value, json};

const TEMPLATE: &str = "edge-{site}";
const SITE_LABEL: &str = "edgefleet.io/site";

/// The example fleet, generated once for every test: its tree and each site's rendered objects
/// by overlay (workload), in site order.
struct Fleet {
    out: PathBuf,
    sites: Vec<(String, Overlays)>,
}

/// Rendered objects by overlay (workload name).
type Overlays = Vec<(String, Vec<Value>)>;

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgefleet-drift-cluster");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        generate_fleet(
            &workspace_root().join("examples/fleet/site-inventory"),
            &workspace_root().join("templates"),
            &out,
        );
        let tree = FleetTree::on_disk(&out).unwrap();
        let discovery = tree.sites();
        assert!(discovery.problems.is_empty(), "{:?}", discovery.problems);
        let sites = tree
            .render_sites(&discovery.sites)
            .into_iter()
            .map(|site| {
                let overlays = site
                    .overlays
                    .iter()
                    .map(|(overlay, objects)| {
                        let objects = objects
                            .as_ref()
                            .unwrap_or_else(|e| panic!("{}: {e:?}", site.site))
                            .iter()
                            .map(|r| r.value.clone())
                            .collect();
                        (overlay.workload.clone(), objects)
                    })
                    .collect();
                (site.site.clone(), overlays)
            })
            .collect();
        Fleet { out, sites }
    })
}

/// A loopback server holding the first `n` sites of the fleet (all with `None`), applied by
/// Argo CD; and a scratch folder for the kubeconfig, an `edgefleet.toml`, snapshots.
struct Cluster {
    server: TestApiServer,
    sites: Vec<String>,
    dir: tempfile::TempDir,
}

fn cluster(n: Option<usize>) -> Cluster {
    let fleet = fleet();
    let server = TestApiServer::start().unwrap();
    let mut sites = Vec::new();
    for (site, overlays) in fleet.sites.iter().take(n.unwrap_or(usize::MAX)) {
        for (workload, objects) in overlays {
            let applier = Applier {
                app: Some(format!("{site}-{workload}")),
                ..Applier::default()
            };
            server.apply(site, objects, &applier);
        }
        sites.push(site.clone());
    }
    assert!(
        sites.len() >= n.unwrap_or(1),
        "the example fleet is too small"
    );
    Cluster {
        server,
        sites,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Cluster {
    /// The rendered objects of `site`.
    fn desired(&self, site: &str) -> Vec<Value> {
        fleet()
            .sites
            .iter()
            .find(|(s, _)| s == site)
            .map(|(_, o)| o.iter().flat_map(|(_, objs)| objs.clone()).collect())
            .unwrap()
    }

    /// The first rendered object of `site` of this kind.
    fn first_of(&self, site: &str, kind: &str) -> Value {
        self.desired(site)
            .into_iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("{site} renders no {kind}"))
    }

    fn kubeconfig(&self) -> PathBuf {
        let path = self.dir.path().join("kubeconfig");
        self.server
            .write_kubeconfig(
                &path,
                &KubeconfigOptions {
                    context_template: TEMPLATE.to_owned(),
                    ..KubeconfigOptions::default()
                },
            )
            .unwrap();
        path
    }

    /// Edits `obj` (its identity) at `site` as `manager` would.
    fn edit(&self, site: &str, obj: &Value, pointer: &str, value: Value, manager: &str) {
        let (api, kind, ns, name) = identity(obj);
        assert!(
            self.server.edit(
                site,
                &api,
                &kind,
                ns.as_deref(),
                &name,
                pointer,
                value,
                manager
            ),
            "{site}: cannot edit {kind}/{name} at {pointer}"
        );
    }

    /// `edgefleet drift --fleet OUT --kubeconfig K --context-template T --format json` over the
    /// cluster's sites (every site of the tree when `whole`), run in the scratch folder.
    fn drift(&self, extra: &[&str]) -> (Option<i32>, Value, Output) {
        let kubeconfig = self.kubeconfig();
        let mut args: Vec<String> = vec![
            "drift".into(),
            "--fleet".into(),
            fleet().out.display().to_string(),
            "--kubeconfig".into(),
            kubeconfig.display().to_string(),
            "--context-template".into(),
            TEMPLATE.into(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        self.run_json(&args)
    }

    /// `drift` over just these sites.
    fn drift_sites(&self, extra: &[&str]) -> (Option<i32>, Value, Output) {
        let mut args: Vec<&str> = Vec::new();
        for s in &self.sites {
            args.extend(["--site", s]);
        }
        args.extend(extra);
        self.drift(&args)
    }

    fn run(&self, args: &[String]) -> Output {
        Command::new(edgefleet_bin())
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("KUBECONFIG")
            .output()
            .expect("edgefleet runs")
    }

    fn run_json(&self, args: &[String]) -> (Option<i32>, Value, Output) {
        let o = self.run(args);
        let doc: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("JSON report ({e}): {}", describe(&o)));
        assert_eq!(doc["version"], 1);
        (o.status.code(), doc, o)
    }
}

fn identity(obj: &Value) -> (String, String, Option<String>, String) {
    (
        obj["apiVersion"].as_str().unwrap().to_owned(),
        obj["kind"].as_str().unwrap().to_owned(),
        obj.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        obj["metadata"]["name"].as_str().unwrap().to_owned(),
    )
}

fn site<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == id)
        .unwrap_or_else(|| panic!("no site {id} in {doc:#}"))
}

/// The site's reported object with `obj`'s identity.
fn object<'a>(site: &'a Value, obj: &Value) -> &'a Value {
    let (api, kind, ns, name) = identity(obj);
    site["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| {
            o["apiVersion"] == api.as_str()
                && o["kind"] == kind.as_str()
                && o["namespace"].as_str() == ns.as_deref()
                && o["name"] == name.as_str()
        })
        .unwrap_or_else(|| panic!("no {kind}/{name} in {site:#}"))
}

/// Objects of the site whose status is not `status`, as `kind/name: status`.
fn others(site: &Value, status: &str, except: &[&Value]) -> Vec<String> {
    site["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != status && !except.contains(o))
        .map(|o| format!("{}/{}: {}", o["kind"], o["name"], o["status"]))
        .collect()
}

/// Every site of `doc` is in sync with every one of its rendered objects listed in sync.
fn assert_in_sync(c: &Cluster, doc: &Value, ids: &[String]) {
    for id in ids {
        let s = site(doc, id);
        assert_eq!(s["status"], "in-sync", "{s:#}");
        assert!(s.get("error").is_none(), "{s:#}");
        let desired = c.desired(id);
        assert_eq!(
            s["objects"].as_array().unwrap().len(),
            desired.len(),
            "{id}: {s:#}"
        );
        for obj in &desired {
            assert_eq!(object(s, obj)["status"], "in-sync", "{id}");
        }
    }
}

#[test]
fn a_cluster_that_runs_what_git_says_is_in_sync() {
    let c = cluster(Some(3));
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(0), "{}", describe(&o));
    assert_in_sync(&c, &doc, &c.sites);
    assert_eq!(doc["sites"].as_array().unwrap().len(), c.sites.len());
    assert_eq!(doc["summary"]["sites"], c.sites.len());
    assert_eq!(doc["summary"]["in-sync"], c.sites.len());
    assert_eq!(doc["summary"]["objects"]["drifted"], 0);
}

#[test]
fn pods_and_replicasets_of_a_deployment_are_not_extra() {
    let c = cluster(Some(2));
    for id in &c.sites {
        let served = c.server.objects(id);
        for kind in ["Pod", "ReplicaSet"] {
            assert!(
                served.iter().any(|o| o["kind"] == kind
                    && o.pointer(&format!(
                        "/metadata/labels/{}",
                        SITE_LABEL.replace('/', "~1")
                    )) == Some(&json!(id))
                    && o.pointer("/metadata/ownerReferences").is_some()),
                "{id}: the server serves no labelled, owned {kind}"
            );
        }
    }
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(0), "{}", describe(&o));
    for id in &c.sites {
        let s = site(&doc, id);
        for o in s["objects"].as_array().unwrap() {
            assert_ne!(o["status"], "extra", "{id}: {o:#}");
            assert!(o["kind"] != "Pod" && o["kind"] != "ReplicaSet", "{o:#}");
        }
    }
    assert_eq!(doc["summary"]["objects"]["extra"], 0);
}

#[test]
fn a_changed_image_is_drift_and_the_diff_names_it() {
    let c = cluster(Some(2));
    let (a, b) = (&c.sites[0], &c.sites[1]);
    let deployment = c.first_of(a, "Deployment");
    let image = "registry.invalid/hand-built/collector:debug";
    c.edit(
        a,
        &deployment,
        "/spec/template/spec/containers/0/image",
        json!(image),
        "kubectl-set",
    );
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    let s = site(&doc, a);
    assert_eq!(s["status"], "drifted");
    let reported = object(s, &deployment);
    assert_eq!(reported["status"], "drifted");
    let diff = reported["diff"]
        .as_str()
        .expect("a drifted object has a diff");
    assert!(
        diff.lines()
            .any(|l| l.starts_with('+') && l.contains("image:") && l.contains(image)),
        "{diff}"
    );
    let git_image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    assert!(
        diff.lines()
            .any(|l| l.starts_with('-') && l.contains("image:") && l.contains(git_image)),
        "{diff}"
    );
    assert!(diff.contains("kubectl-set"), "{diff}");
    assert!(others(s, "in-sync", &[reported]).is_empty(), "{s:#}");
    assert_in_sync(&c, &doc, std::slice::from_ref(b));
    assert_eq!(doc["summary"]["drifted"], 1);
}

#[test]
fn replicas_changed_by_hand_are_drift() {
    let c = cluster(Some(2));
    let (a, b) = (&c.sites[0], &c.sites[1]);
    let deployment = c.first_of(a, "Deployment");
    let before = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    // `kubectl edit` at one site, `kubectl scale` at the other.
    c.edit(
        a,
        &deployment,
        "/spec/replicas",
        json!(before + 2),
        "kubectl-edit",
    );
    let deployment_b = c.first_of(b, "Deployment");
    c.edit(b, &deployment_b, "/spec/replicas", json!(0), "kubectl");
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    for (id, obj, now) in [(a, &deployment, before + 2), (b, &deployment_b, 0)] {
        let s = site(&doc, id);
        assert_eq!(s["status"], "drifted", "{s:#}");
        let reported = object(s, obj);
        assert_eq!(reported["status"], "drifted");
        let diff = reported["diff"].as_str().unwrap();
        assert!(
            diff.lines()
                .any(|l| l.starts_with('+') && l.contains(&format!("replicas: {now}"))),
            "{diff}"
        );
        assert!(others(s, "in-sync", &[reported]).is_empty(), "{s:#}");
    }
}

#[test]
fn an_env_var_added_by_hand_to_a_container_without_env_is_drift() {
    let c = cluster(Some(2));
    let a = &c.sites[0];
    // A container of a workload that Git gives no `env`.
    let (obj, index) = c
        .desired(a)
        .into_iter()
        .filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "DaemonSet")
            )
        })
        .find_map(|o| {
            let i = o["spec"]["template"]["spec"]["containers"]
                .as_array()?
                .iter()
                .position(|c| c.get("env").is_none())?;
            Some((o, i))
        })
        .expect("the example site runs a container without env");
    c.edit(
        a,
        &obj,
        &format!("/spec/template/spec/containers/{index}/env"),
        json!([{"name": "DEBUG_HAND_SET", "value": "1"}]),
        "kubectl-edit",
    );
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    let s = site(&doc, a);
    let reported = object(s, &obj);
    assert_eq!(reported["status"], "drifted", "{s:#}");
    let diff = reported["diff"].as_str().unwrap();
    assert!(diff.contains("DEBUG_HAND_SET"), "{diff}");
    assert!(diff.contains("kubectl-edit"), "{diff}");
    assert!(others(s, "in-sync", &[reported]).is_empty(), "{s:#}");
    assert_in_sync(&c, &doc, &c.sites[1..]);
}

#[test]
fn a_deleted_object_is_missing() {
    let c = cluster(Some(2));
    let a = &c.sites[0];
    let service = c.first_of(a, "Service");
    let (api, kind, ns, name) = identity(&service);
    assert!(c.server.delete_object(a, &api, &kind, ns.as_deref(), &name));
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    let s = site(&doc, a);
    assert_eq!(s["status"], "drifted");
    let reported = object(s, &service);
    assert_eq!(reported["status"], "missing", "{s:#}");
    assert!(reported.get("diff").is_none());
    assert!(others(s, "in-sync", &[reported]).is_empty(), "{s:#}");
    assert_eq!(doc["summary"]["objects"]["missing"], 1);
    assert_in_sync(&c, &doc, &c.sites[1..]);
}

#[test]
fn an_object_with_the_site_label_that_git_does_not_render_is_extra() {
    let c = cluster(Some(2));
    let a = &c.sites[0];
    let like = c.first_of(a, "ConfigMap");
    let ns = like["metadata"]["namespace"].as_str().unwrap();
    let extra = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "left-behind-by-hand",
            "namespace": ns,
            "labels": {SITE_LABEL: a},
            "uid": "0d7c6a1e-0000-4000-8000-00000000e0e0",
            "creationTimestamp": "2026-12-01T09:30:00Z",
            "managedFields": [{
                "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
                "time": "2026-12-01T09:30:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:debug": {}},
                             "f:metadata": {"f:labels": {".": {}, "f:edgefleet.io/site": {}}}}
            }]
        },
        "data": {"debug": "true"}
    });
    c.server.put_object(a, extra.clone());
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    let s = site(&doc, a);
    assert_eq!(s["status"], "drifted");
    let reported = object(s, &extra);
    assert_eq!(reported["status"], "extra", "{s:#}");
    assert!(others(s, "in-sync", &[reported]).is_empty(), "{s:#}");
    assert_eq!(doc["summary"]["objects"]["extra"], 1);
    assert_in_sync(&c, &doc, &c.sites[1..]);
}

#[test]
fn revoked_and_forbidden_sites_are_unauthorized_and_the_others_finish() {
    let c = cluster(Some(3));
    let (revoked, forbidden, fine) = (&c.sites[0], &c.sites[1], &c.sites[2]);
    c.server.set_revoked(revoked, true);
    c.server.set_forbidden(forbidden, true);
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(3), "{}", describe(&o));
    for (id, why) in [(revoked, "401"), (forbidden, "403")] {
        let s = site(&doc, id);
        assert_eq!(s["status"], "unauthorized", "{s:#}");
        let error = s["error"].as_str().expect("an unauthorized site says why");
        assert!(error.contains(why), "{id}: {error}");
        assert!(s["objects"].as_array().unwrap().is_empty(), "{s:#}");
    }
    assert_in_sync(&c, &doc, std::slice::from_ref(fine));
    assert_eq!(doc["summary"]["unauthorized"], 2);
}

#[test]
fn drift_elsewhere_wins_over_an_unauthorized_site() {
    let c = cluster(Some(2));
    c.server.set_revoked(&c.sites[0], true);
    let deployment = c.first_of(&c.sites[1], "Deployment");
    c.edit(
        &c.sites[1],
        &deployment,
        "/spec/replicas",
        json!(7),
        "kubectl",
    );
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    assert_eq!(site(&doc, &c.sites[0])["status"], "unauthorized");
    assert_eq!(site(&doc, &c.sites[1])["status"], "drifted");
}

#[test]
fn a_site_that_never_answers_is_unreachable_after_its_timeout() {
    let c = cluster(Some(3));
    let silent = &c.sites[0];
    c.server.set_hanging(silent, true);
    let started = Instant::now();
    let (code, doc, o) = c.drift_sites(&["--timeout", "3"]);
    let took = started.elapsed();
    assert_eq!(code, Some(3), "{}", describe(&o));
    let s = site(&doc, silent);
    assert_eq!(s["status"], "unreachable", "{s:#}");
    let error = s["error"].as_str().unwrap();
    assert!(error.contains("3 s"), "{error}");
    assert_in_sync(&c, &doc, &c.sites[1..]);
    // The silent site costs its timeout, not more (generous margin for a loaded machine).
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(took < Duration::from_secs(12), "{took:?}");
}

#[test]
fn a_tls_verification_failure_is_unreachable_and_says_tls() {
    let c = cluster(Some(2));
    let untrusted = &c.sites[0];
    c.server.set_untrusted(untrusted, true);
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(3), "{}", describe(&o));
    let s = site(&doc, untrusted);
    assert_eq!(s["status"], "unreachable", "{s:#}");
    let error = s["error"].as_str().unwrap();
    assert!(error.contains("TLS"), "{error}");
    assert_in_sync(&c, &doc, &c.sites[1..]);
}

#[test]
fn an_ignore_differences_rule_hides_one_drifted_field() {
    let c = cluster(Some(2));
    let a = &c.sites[0];
    let deployment = c.first_of(a, "Deployment");
    let name = deployment["metadata"]["name"].as_str().unwrap();
    c.edit(a, &deployment, "/spec/replicas", json!(9), "kubectl");
    // Without the rule: drift.
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    assert_eq!(object(site(&doc, a), &deployment)["status"], "drifted");
    std::fs::write(
        c.dir.path().join("edgefleet.toml"),
        format!(
            "[[drift.ignore_differences]]\ngroup = \"apps\"\nkind = \"Deployment\"\n\
             name = {name:?}\njsonPointers = [\"/spec/replicas\"]\n"
        ),
    )
    .unwrap();
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(0), "{}", describe(&o));
    assert_in_sync(&c, &doc, &c.sites);
    // The rule hides that field only: an image changed by hand is still found.
    c.edit(
        a,
        &deployment,
        "/spec/template/spec/containers/0/image",
        json!("registry.invalid/other:1"),
        "kubectl-set",
    );
    let (code, doc, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));
    let diff = object(site(&doc, a), &deployment)["diff"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(diff.contains("image:"), "{diff}");
    assert!(!diff.contains("replicas"), "{diff}");
}

#[test]
fn a_snapshot_of_the_cluster_gives_the_same_result_as_the_cluster() {
    let c = cluster(Some(2));
    let (a, b) = (&c.sites[0], &c.sites[1]);
    // Something of each kind of result at the first site.
    let deployment = c.first_of(a, "Deployment");
    c.edit(
        a,
        &deployment,
        "/spec/template/spec/containers/0/image",
        json!("registry.invalid/hand-built/collector:debug"),
        "kubectl-set",
    );
    let service = c.first_of(a, "Service");
    let (api, kind, ns, name) = identity(&service);
    assert!(c.server.delete_object(a, &api, &kind, ns.as_deref(), &name));
    c.server.put_object(
        a,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "left-behind", "namespace": ns, "labels": {SITE_LABEL: a}},
               "data": {"k": "v"}}),
    );
    let (code, from_cluster, o) = c.drift_sites(&[]);
    assert_eq!(code, Some(1), "{}", describe(&o));

    let kubeconfig = c.kubeconfig();
    let snapshots = c.dir.path().join("snapshots");
    for id in [a, b] {
        let o = c.run(&[
            "drift".into(),
            "snapshot".into(),
            "--site".into(),
            id.clone(),
            "--out".into(),
            snapshots.display().to_string(),
            "--fleet".into(),
            fleet().out.display().to_string(),
            "--kubeconfig".into(),
            kubeconfig.display().to_string(),
            "--context-template".into(),
            TEMPLATE.into(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(snapshots.join(id).join("objects.yaml").is_file());
    }
    let mut args: Vec<String> = vec![
        "drift".into(),
        "--fleet".into(),
        fleet().out.display().to_string(),
        "--snapshots".into(),
        snapshots.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    for id in [a, b] {
        args.extend(["--site".into(), id.clone()]);
    }
    let (code, from_snapshots, o) = c.run_json(&args);
    assert_eq!(code, Some(1), "{}", describe(&o));
    assert_eq!(from_snapshots["sites"], from_cluster["sites"]);
    assert_eq!(from_snapshots["summary"], from_cluster["summary"]);
    let s = site(&from_snapshots, a);
    assert_eq!(object(s, &deployment)["status"], "drifted");
    assert_eq!(object(s, &service)["status"], "missing");
    assert_eq!(from_snapshots["summary"]["objects"]["extra"], 1);
}

#[test]
fn a_whole_fleet_run_sends_only_get_requests() {
    let c = cluster(None);
    assert!(c.sites.len() > 3, "the whole example fleet");
    let (code, doc, o) = c.drift(&[]);
    assert_eq!(code, Some(0), "{}", describe(&o));
    assert_eq!(doc["sites"].as_array().unwrap().len(), c.sites.len());
    assert_in_sync(&c, &doc, &c.sites);
    let requests = c.server.requests();
    assert!(!requests.is_empty());
    let not_get: Vec<_> = requests.iter().filter(|r| r.method != "GET").collect();
    assert!(not_get.is_empty(), "{not_get:?}");
    // Every site was asked, with its own token: discovery, GETs and labelled LISTs.
    for id in &c.sites {
        let mine: Vec<_> = requests
            .iter()
            .filter(|r| r.site.as_deref() == Some(id))
            .collect();
        assert!(
            mine.iter().any(|r| r.path == "/api" || r.path == "/apis"),
            "{id}"
        );
        assert!(
            mine.iter().any(|r| r
                .query
                .as_deref()
                .is_some_and(|q| q.contains("labelSelector="))),
            "{id}"
        );
    }
}

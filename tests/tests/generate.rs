//! `edgefleet generate` end to end: the binary on real inventories, the output checked by the
//! real `kubectl kustomize`, the strict Kubernetes schemas and the ArgoCD CRD schemas.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use edgefleet_e2e::{
    describe as text, kustomize_build, parse_stream, require_kubectl, run_edgefleet as edgefleet,
    workspace_root,
};
use rayon::prelude::*;
use serde_json::Value;

fn example_inventory() -> PathBuf {
    workspace_root().join("examples/fleet/site-inventory")
}

fn generate(inventory: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "generate",
        "--inventory",
        inventory.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    edgefleet(&args)
}

fn generate_ok(inventory: &Path, out: &Path, extra: &[&str]) -> String {
    let o = generate(inventory, out, extra);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn synth(dir: &Path, sites: usize, seed: u64) {
    let o = edgefleet(&[
        "inventory",
        "synth",
        "--sites",
        &sites.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// Every file under `root` but the rerun cache, relative path → bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                // The rerun cache is not part of the tree (it records times and inodes).
                if rel != ".edgefleet/cache" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

/// `(site id, workload, overlay dir)` of every generated site overlay.
fn site_overlays(out: &Path) -> Vec<(String, String, PathBuf)> {
    let mut v: Vec<_> = files(out)
        .into_keys()
        .filter(|p| p.starts_with("sites/") && p.ends_with("/kustomization.yaml"))
        .map(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            (
                parts[2].to_owned(),
                parts[3].to_owned(),
                out.join(&p).parent().unwrap().to_path_buf(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Build every overlay with real kustomize (two at a time: the CI machine has two cores).
fn build_all(kubectl: &Path, overlays: &[(String, String, PathBuf)]) -> Vec<Vec<Value>> {
    overlays
        .par_iter()
        .map(|(site, workload, dir)| {
            let yaml = kustomize_build(kubectl, dir)
                .unwrap_or_else(|e| panic!("kubectl kustomize {site}/{workload} failed: {e}"));
            parse_stream(&yaml)
        })
        .collect()
}

fn validate_objects(site: &str, workload: &str, objects: &[Value]) {
    assert!(!objects.is_empty(), "{site}/{workload}: no objects");
    for obj in objects {
        if let Err(violations) = edgefleet_lints::schema::validate_kubernetes(obj) {
            panic!(
                "{site}/{workload}: {} {} violates the Kubernetes 1.35 schema: {violations:?}",
                obj["kind"], obj["metadata"]["name"]
            );
        }
    }
}

fn pod_specs(objects: &[Value]) -> Vec<&Value> {
    objects
        .iter()
        .filter_map(|o| o.pointer("/spec/template/spec"))
        .collect()
}

fn load(inventory: &Path) -> edgefleet_inventory::Fleet {
    edgefleet_inventory::load_inventory(inventory).unwrap_or_else(|d| panic!("{d}"))
}

/// The checks every built site overlay must pass: schema-valid objects that carry the site's
/// labels, run on its hardware's architecture (unless they run WebAssembly), and use an accelerator exactly where it has one.
fn check_site_objects(
    fleet: &edgefleet_inventory::Fleet,
    site_id: &str,
    workload: &str,
    objects: &[Value],
) {
    validate_objects(site_id, workload, objects);
    let site = fleet
        .site(site_id)
        .unwrap_or_else(|| panic!("unknown site {site_id}"));
    let hardware = fleet.hardware_of(site);
    let region = fleet.region_of(site);
    for obj in objects {
        let labels = &obj["metadata"]["labels"];
        assert_eq!(
            labels["edgefleet.io/site"],
            site.id.as_str(),
            "{site_id}/{workload}: {obj}"
        );
        assert_eq!(labels["edgefleet.io/region"], site.region.as_str());
        for (k, v) in &site.labels {
            assert_eq!(
                labels[k.as_str()],
                v.as_str(),
                "{site_id}/{workload}: site label {k}"
            );
        }
    }
    let pods = pod_specs(objects);
    assert!(!pods.is_empty(), "{site_id}/{workload}: no pod template");
    let platform = fleet.platform_of(site);
    for pod in &pods {
        // A WebAssembly component runs on any architecture: its pod needs no arch selector.
        // Every other pod (containers, confidential VMs) runs images built for one.
        let wasm = pod["runtimeClassName"].as_str().is_some_and(|class| {
            platform
                .and_then(|p| p.runtime_classes.get(class))
                .is_some_and(|r| r.kind.is_wasm())
        });
        let arch = &pod["nodeSelector"]["kubernetes.io/arch"];
        if wasm {
            assert!(
                arch.is_null(),
                "{site_id}/{workload}: a Wasm pod pinned to an architecture: {arch}"
            );
        } else {
            assert_eq!(
                arch,
                hardware.arch.as_str(),
                "{site_id}/{workload}: node selector"
            );
        }
        for c in pod["containers"].as_array().unwrap() {
            let image = c["image"].as_str().unwrap();
            assert!(
                image.contains("@sha256:"),
                "{site_id}/{workload}: {image} not pinned"
            );
            assert_ne!(c["imagePullPolicy"], "Always", "{site_id}/{workload}");
            assert!(
                c.pointer("/resources/requests/cpu").is_some(),
                "{site_id}/{workload}: cpu request"
            );
            assert!(
                c.pointer("/resources/limits/memory").is_some(),
                "{site_id}/{workload}: memory limit"
            );
        }
    }
    let gpu_requested = pods.iter().any(|p| {
        p["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.pointer("/resources/limits/nvidia.com~1gpu").is_some())
    });
    if workload == "inference-server" {
        assert_eq!(
            gpu_requested,
            hardware.gpus() > 0,
            "{site_id}: GPU request vs hardware"
        );
    } else {
        assert!(!gpu_requested, "{site_id}/{workload} requests a GPU");
    }
    // Workloads that send data upstream send it to their region's endpoint, nowhere else.
    let all = serde_json::to_string(objects).unwrap();
    let purpose = match workload {
        "telemetry-collector" => Some("telemetry"),
        "metrics-agent" => Some("metrics"),
        _ => None,
    };
    if let Some(p) = purpose {
        let endpoint = &region.endpoints[p];
        assert!(
            all.contains(endpoint.as_str()),
            "{site_id}/{workload}: endpoint {endpoint} missing"
        );
        for other in fleet.regions.values().filter(|r| r.name != region.name) {
            assert!(
                !all.contains(other.endpoints[p].as_str()),
                "{site_id}/{workload}: foreign endpoint"
            );
        }
    }
}

#[test]
fn example_fleet_builds_with_kustomize_and_carries_site_values() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate_ok(&example_inventory(), &out, &[]);
    let fleet = load(&example_inventory());
    let overlays = site_overlays(&out);
    let sites: std::collections::BTreeSet<_> = overlays.iter().map(|o| o.0.clone()).collect();
    assert_eq!(sites.len(), fleet.sites.len());
    assert!(sites.len() >= 12);
    let built = build_all(&kubectl, &overlays);
    for ((site, workload, _), objects) in overlays.iter().zip(&built) {
        check_site_objects(&fleet, site, workload, objects);
    }
    // Buffers follow the backhaul (docs/templates.md): the telemetry queue volume holds the
    // upstream rate × the longest outage, plus a quarter for the queue database and 32 MiB.
    let queue_size_limit = |site: &str| -> String {
        let i = overlays
            .iter()
            .position(|o| o.0 == site && o.1 == "telemetry-collector")
            .unwrap();
        let deployment = built[i].iter().find(|o| o["kind"] == "Deployment").unwrap();
        let volumes = deployment["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap();
        let queue = volumes.iter().find(|v| v["name"] == "queue").unwrap();
        queue["emptyDir"]["sizeLimit"].as_str().unwrap().to_owned()
    };
    // rig-nsea-042: 256 kbit/s for 72 h on vsat-2m = 8,294,400,000 B = 7,911 MiB (rounded up),
    // under its disk bound (100 Gi × 0.2); + 1,978 + 32 = 9,921 MiB.
    assert_eq!(queue_size_limit("rig-nsea-042"), "9921Mi");
    // fab-stuttgart-01: 15 min on fibre needs 28 MiB, raised to the 64 MiB minimum; + 16 + 32.
    assert_eq!(queue_size_limit("fab-stuttgart-01"), "112Mi");
}

#[test]
fn synthetic_fleet_of_300_sites_builds_and_validates() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    synth(&inventory, 300, 42);
    generate_ok(&inventory, &out, &[]);
    let fleet = load(&inventory);
    let overlays = site_overlays(&out);
    let sites: std::collections::BTreeSet<_> = overlays.iter().map(|o| o.0.clone()).collect();
    assert_eq!(sites.len(), 300);
    let built = build_all(&kubectl, &overlays);
    for ((site, workload, _), objects) in overlays.iter().zip(&built) {
        check_site_objects(&fleet, site, workload, objects);
    }
}

/// ApplicationSets of a fleet big enough to shard: schema-valid, bounded, and every Application
/// they expand to (offline preview over the generated tree) is in exactly one RollingSync step.
#[test]
fn appsets_are_valid_bounded_and_cover_every_application_once() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    synth(&inventory, 6000, 3);
    let fleet = load(&inventory);
    let catalogue = edgefleet_overlays::catalogue::Catalogue::builtin();
    let options = edgefleet_overlays::plan::PlanOptions::default();
    let plan = edgefleet_overlays::plan::plan(&fleet, &catalogue, &options, &|_| {}).unwrap();

    let mut expected: usize = 0;
    for site in &fleet.sites {
        expected += edgefleet_overlays::plan::site_workloads(site, &catalogue).len();
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut sharded = false;
    let fs = edgefleet_fleet::memory_fs(&plan.tree, Path::new("/out"));
    let repo = edgefleet_fleet::appset::Repo::new(&fs, Path::new("/out"), "");
    for (path, bytes) in plan.tree.iter().filter(|(p, _)| p.starts_with("appsets/")) {
        assert!(bytes.len() <= 256 * 1024, "{path}: {} bytes", bytes.len());
        let docs = parse_stream(std::str::from_utf8(bytes).unwrap());
        assert_eq!(docs.len(), 1, "{path}");
        let appset = &docs[0];
        if let Err(v) = edgefleet_lints::schema::validate_argocd(appset) {
            panic!("{path} violates the ApplicationSet CRD schema: {v:?}");
        }
        sharded |= appset
            .pointer("/spec/generators/0/selector/matchLabels/shard")
            .is_some();
        let apps = edgefleet_fleet::appset::AppSet::from_value(appset)
            .unwrap()
            .expand(&repo)
            .unwrap();
        assert!(
            !apps.is_empty() && apps.len() <= 1000,
            "{path}: {} Applications",
            apps.len()
        );
        let steps = appset["spec"]["strategy"]["rollingSync"]["steps"]
            .as_array()
            .unwrap();
        for app in &apps {
            if let Err(v) = edgefleet_lints::schema::validate_argocd(app) {
                panic!(
                    "{path}: Application {} violates the CRD schema: {v:?}",
                    app["metadata"]["name"]
                );
            }
            let labels: BTreeMap<&str, &str> = app["metadata"]["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            let matching = steps
                .iter()
                .filter(|s| {
                    kube_basics::selector::LabelSelector::from_value(s)
                        .unwrap()
                        .matches_with(&|k| labels.get(k).map(|v| (*v).to_owned()))
                })
                .count();
            assert_eq!(
                matching, 1,
                "{path}: {} matches {matching} steps",
                app["metadata"]["name"]
            );
            // The Application points at a generated overlay.
            let source = app["spec"]["source"]["path"].as_str().unwrap();
            assert!(
                plan.tree
                    .get(&format!("{source}/kustomization.yaml"))
                    .is_some(),
                "{source}"
            );
            assert!(
                seen.insert(app["metadata"]["name"].as_str().unwrap().to_owned()),
                "duplicate Application"
            );
        }
    }
    assert!(
        sharded,
        "6000 sites over 6 regions should split some region into shards"
    );
    assert_eq!(
        seen.len(),
        expected,
        "every site × workload has exactly one Application"
    );
}

#[test]
fn output_is_identical_whatever_the_file_order_or_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    synth(&a, 400, 9);
    // The same inventory with its sites shuffled across differently named files.
    let b = tmp.path().join("b");
    std::fs::create_dir_all(b.join("more")).unwrap();
    let mut lines: Vec<String> = Vec::new();
    for (rel, bytes) in files(&a) {
        let text = String::from_utf8(bytes).unwrap();
        if rel.starts_with("sites/") && rel.ends_with(".yaml") {
            lines.extend(
                text.lines()
                    .filter(|l| l.starts_with("  - "))
                    .map(str::to_owned),
            );
        } else {
            let name = rel.replace('/', "-");
            std::fs::write(b.join("more").join(format!("z-{name}")), text).unwrap();
        }
    }
    let mut rng = fastrand_like(7);
    for i in (1..lines.len()).rev() {
        lines.swap(i, rng(i + 1));
    }
    for (n, chunk) in lines.chunks(97).enumerate() {
        let text = format!("sites:\n{}\n", chunk.join("\n"));
        std::fs::write(b.join(format!("{:02}-part.yaml", 50 - n)), text).unwrap();
    }
    let (out1, out2) = (tmp.path().join("out1"), tmp.path().join("out2"));
    generate_ok(&a, &out1, &["--jobs", "1"]);
    generate_ok(&b, &out2, &["--jobs", "4"]);
    let (f1, f2) = (files(&out1), files(&out2));
    assert_eq!(f1.keys().collect::<Vec<_>>(), f2.keys().collect::<Vec<_>>());
    for (k, v) in &f1 {
        assert!(v == &f2[k], "{k} differs");
    }
}

/// A small deterministic shuffle source (no extra dependency for one test).
fn fastrand_like(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    move |n| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    }
}

fn mtimes(root: &Path) -> BTreeMap<String, std::time::SystemTime> {
    files(root)
        .into_keys()
        .map(|k| {
            let m = std::fs::metadata(root.join(&k))
                .unwrap()
                .modified()
                .unwrap();
            (k, m)
        })
        .collect()
}

#[test]
fn second_run_writes_nothing_and_check_reports_staleness() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    synth(&inventory, 50, 5);
    let first = generate_ok(&inventory, &out, &[]);
    assert!(first.contains("files written"), "{first}");
    let before = mtimes(&out);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = generate_ok(&inventory, &out, &[]);
    assert!(second.contains("up to date, 0 files written"), "{second}");
    assert_eq!(before, mtimes(&out), "a second run touched files");

    let check = generate(&inventory, &out, &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    // A new site makes the tree stale: --check says what would change and writes nothing.
    let mut extra = std::fs::read_to_string(inventory.join("sites/eu-north.yaml")).unwrap();
    extra.push_str("  - {\"id\": \"new-site-1\", \"region\": \"eu-north\", \"hardware\": \"xeon-d-2u\", \"backhaul\": \"fibre-1g\", \"wave\": \"main\"}\n");
    std::fs::write(inventory.join("sites/eu-north.yaml"), extra).unwrap();
    let stale = generate(&inventory, &out, &["--check"]);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale));
    let listed = String::from_utf8_lossy(&stale.stdout);
    assert!(
        listed.contains("create sites/eu-north/new-site-1/site.json"),
        "{listed}"
    );
    assert!(
        listed.contains("create sites/eu-north/new-site-1/telemetry-collector/kustomization.yaml")
    );
    assert_eq!(before, mtimes(&out), "--check wrote files");
    assert!(!out.join("sites/eu-north/new-site-1").exists());
}

#[test]
fn removed_sites_are_pruned_and_foreign_files_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&inventory).unwrap();
    for f in [
        "profiles.yaml",
        "regions.yaml",
        "rollout.yaml",
        "platforms.yaml",
    ] {
        std::fs::copy(example_inventory().join(f), inventory.join(f)).unwrap();
    }
    std::fs::copy(
        example_inventory().join("sites/industrial.yaml"),
        inventory.join("sites.yaml"),
    )
    .unwrap();
    generate_ok(&inventory, &out, &[]);
    assert!(out.join("sites/us-gulf/rail-i10-mp187/site.json").exists());
    // Files the user keeps in the output folder, inside and next to generated folders.
    std::fs::write(out.join("README.md"), "ours").unwrap();
    std::fs::write(
        out.join("sites/us-gulf/rail-i10-mp187/NOTES.txt"),
        "site notes",
    )
    .unwrap();

    let text_in = std::fs::read_to_string(inventory.join("sites.yaml")).unwrap();
    let kept: String = text_in
        .split("\n  - ")
        .filter(|chunk| {
            !chunk.starts_with("id: rail-i10-mp187") && !chunk.starts_with("id: fab-linz-02")
        })
        .collect::<Vec<_>>()
        .join("\n  - ");
    std::fs::write(inventory.join("sites.yaml"), kept).unwrap();
    let msg = generate_ok(&inventory, &out, &[]);
    assert!(msg.contains("removed"), "{msg}");
    assert!(
        !out.join("sites/eu-central/fab-linz-02").exists(),
        "folder of a removed site is pruned"
    );
    assert!(!out.join("sites/us-gulf/rail-i10-mp187/site.json").exists());
    assert!(
        !out.join("sites/us-gulf/rail-i10-mp187/telemetry-collector")
            .exists()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sites/us-gulf/rail-i10-mp187/NOTES.txt")).unwrap(),
        "site notes"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "ours"
    );
    assert!(out.join("sites/us-gulf/rail-i10-mp112/site.json").exists());
}

#[test]
fn a_foreign_file_at_a_planned_path_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let hand = out.join("sites/eu-north/rig-nsea-042/telemetry-collector");
    std::fs::create_dir_all(&hand).unwrap();
    std::fs::write(hand.join("kustomization.yaml"), "# hand-written\n").unwrap();
    let o = generate(&example_inventory(), &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not written by edgefleet"), "{err}");
    assert!(
        err.contains("sites/eu-north/rig-nsea-042/telemetry-collector/kustomization.yaml"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(hand.join("kustomization.yaml")).unwrap(),
        "# hand-written\n"
    );
    assert_eq!(files(&out).len(), 1, "nothing else was written");
}

#[test]
fn bad_inventories_exit_2_with_a_location_and_leave_the_output_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate_ok(&example_inventory(), &out, &[]);
    let before = files(&out);
    let cases: [(&str, &str, &str, &str); 7] = [
        (
            "malformed",
            "sites/x.yaml",
            "sites:\n  - id: a\n    region: [eu-north\n",
            "x.yaml:",
        ),
        (
            "unknown-profile",
            "sites/x.yaml",
            "sites:\n  - {id: a-1, region: eu-north, hardware: cray-1, backhaul: fibre-1g, wave: main}\n",
            "x.yaml:2:43: unknown hardware profile `cray-1`",
        ),
        (
            "duplicate",
            "sites/x.yaml",
            "sites:\n  - {id: rig-nsea-042, region: eu-north, hardware: xeon-d-2u, backhaul: fibre-1g, wave: main}\n",
            "x.yaml:2:10: site id `rig-nsea-042` is used twice",
        ),
        (
            "path-id",
            "sites/x.yaml",
            "sites:\n  - {id: ../x, region: eu-north, hardware: xeon-d-2u, backhaul: fibre-1g, wave: main}\n",
            "x.yaml:2:10: `id`: \"../x\" is not a valid name",
        ),
        (
            "upper-id",
            "sites/x.yaml",
            "sites:\n  - {id: UPPER, region: eu-north, hardware: xeon-d-2u, backhaul: fibre-1g, wave: main}\n",
            "x.yaml:2:10: `id`: \"UPPER\" is not a valid name",
        ),
        (
            "csv-column",
            "sites/x.csv",
            "id,region,hardware,backhaul\na-1,eu-north,xeon-d-2u,fibre-1g\n",
            "x.csv:1:1: missing column `wave`",
        ),
        (
            "unknown-workload",
            "sites/x.yaml",
            "sites:\n  - {id: a-1, region: eu-north, hardware: xeon-d-2u, backhaul: fibre-1g, wave: main, workloads: [teleport]}\n",
            "x.yaml:2:98: unknown workload `teleport`",
        ),
    ];
    for (name, file, content, expected) in cases {
        let inventory = tmp.path().join(name);
        copy_dir(&example_inventory(), &inventory);
        std::fs::write(inventory.join(file), content).unwrap();
        let o = generate(&inventory, &out, &[]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(expected),
            "{name}: expected `{expected}` in\n{err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(files(&out) == before, "{name}: the output folder changed");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for (rel, bytes) in files(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

#[test]
fn hostile_strings_cannot_inject_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    copy_dir(&example_inventory(), &inventory);
    let hostile = "a\n---\nkind: Secret\nmetadata: {name: pwned}";
    let site = serde_json::json!({
        "id": "evil-1", "region": "eu-north", "hardware": "xeon-d-2u", "backhaul": "fibre-1g", "wave": "main",
        "location": hostile,
        "annotations": {"example.com/note": hostile},
    });
    std::fs::write(
        inventory.join("sites/evil.yaml"),
        format!("sites:\n  - {site}\n"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    generate_ok(&inventory, &out, &[]);
    let overlay = out.join("sites/eu-north/evil-1/telemetry-collector");
    let twin = out.join("sites/eu-north/rig-nsea-051/telemetry-collector");
    // The kustomization parses to the same structure, with the value intact.
    let k = parse_stream(&std::fs::read_to_string(overlay.join("kustomization.yaml")).unwrap());
    assert_eq!(k.len(), 1);
    assert_eq!(k[0]["commonAnnotations"]["example.com/note"], hostile);
    assert_eq!(k[0]["commonAnnotations"]["edgefleet.io/location"], hostile);
    let site_json: Value = serde_json::from_slice(
        &std::fs::read(out.join("sites/eu-north/evil-1/site.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(site_json["site"], "evil-1");
    if let Some(kubectl) = require_kubectl() {
        let evil = parse_stream(&kustomize_build(&kubectl, &overlay).unwrap());
        let good = parse_stream(&kustomize_build(&kubectl, &twin).unwrap());
        let kinds = |objs: &[Value]| {
            objs.iter()
                .map(|o| o["kind"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&evil), kinds(&good));
        assert!(evil.iter().all(|o| o["kind"] != "Secret"));
        assert!(
            evil.iter()
                .all(|o| o["metadata"]["annotations"]["example.com/note"] == hostile)
        );
    }
    // The same string as a label value is refused, at its line.
    std::fs::write(
        inventory.join("sites/evil.yaml"),
        format!("sites:\n  - {}\n", serde_json::json!({"id": "evil-1", "region": "eu-north", "hardware": "xeon-d-2u", "backhaul": "fibre-1g", "wave": "main", "labels": {"tier": hostile}})),
    )
    .unwrap();
    let o = generate(&inventory, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("evil.yaml:2:"),
        "{}",
        text(&o)
    );
}

//! Platforms on the example fleet: a site per distribution, a WebAssembly and a confidential
//! workload, `lint --fleet` clean; and each platform rule fires on a one-line change of the
//! inventory or a template, at the sites this file's own table names.

use std::collections::BTreeSet;
use std::path::PathBuf;

use edgefleet_e2e::{
    edit, findings, generate_fleet, lint_fleet_json, sites_of, synth_inventory, workspace_root,
};

/// The example fleet's sites, their platform and what they run, as the test knows them (from
/// reading `examples/fleet/site-inventory`, not from edgefleet).
const SITES: &[(&str, &str, &str)] = &[
    // (site, platform, workloads: "all", or the opt-in one it adds)
    ("rig-nsea-042", "k3s-jetson", "all"),
    ("rig-nsea-043", "k3s-jetson", "all"),
    ("rig-gulf-007", "k3s-jetson", "all"),
    ("rig-nsea-051", "kubeedge-corridor", "all"),
    ("rig-gulf-011", "kubernetes-mec", "all"),
    ("rail-i10-mp112", "kubeedge-corridor", "telemetry, metrics"),
    ("rail-i10-mp187", "kubeedge-corridor", "telemetry, metrics"),
    (
        "fab-stuttgart-01",
        "openyurt-factory",
        "all + sensor-filter",
    ),
    (
        "fab-linz-02",
        "openyurt-factory",
        "telemetry, metrics, mqtt",
    ),
    ("mec-sg-jurong-1", "kubernetes-mec", "all + badge-verifier"),
    ("mec-sg-changi-2", "kubernetes-mec", "all"),
    (
        "store-de-berlin-0117",
        "k3s-store",
        "telemetry, metrics, mqtt + sensor-filter",
    ),
    (
        "store-de-hamburg-0342",
        "k3s-store",
        "telemetry, metrics, mqtt",
    ),
    ("store-de-munich-0508", "microshift-store", "all"),
    (
        "store-no-bergen-0021",
        "k3s-store",
        "telemetry, metrics, mqtt",
    ),
];

/// Sites of the table whose row satisfies `pick`.
fn sites(pick: impl Fn(&str, &str, &str) -> bool) -> BTreeSet<String> {
    SITES
        .iter()
        .filter(|(s, p, w)| pick(s, p, w))
        .map(|(s, _, _)| s.to_string())
        .collect()
}

/// Sites that run the inference server (the whole catalogue), and those of them on GPU
/// hardware (Jetson, EPYC with GPUs: the rigs on k3s-jetson and the kubernetes-mec sites).
fn inference_sites() -> BTreeSet<String> {
    sites(|_, _, w| w.starts_with("all"))
}

struct Fleet {
    _tmp: tempfile::TempDir,
    inventory: PathBuf,
    templates: PathBuf,
    out: PathBuf,
}

/// A copy of the example inventory and of the catalogue, generated.
fn example() -> Fleet {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let templates = tmp.path().join("templates");
    edgefleet_e2e::copy_dir(
        &workspace_root().join("examples/fleet/site-inventory"),
        &inventory,
    );
    edgefleet_e2e::copy_dir(&workspace_root().join("templates"), &templates);
    let out = tmp.path().join("out");
    generate_fleet(&inventory, &templates, &out);
    Fleet {
        _tmp: tmp,
        inventory,
        templates,
        out,
    }
}

impl Fleet {
    /// Regenerates, lints, and the sites where `rule` fires.
    fn fired(&self, rule: &str) -> BTreeSet<String> {
        generate_fleet(&self.inventory, &self.templates, &self.out);
        let (code, doc) = lint_fleet_json(&self.out, &self.inventory);
        assert_ne!(code, Some(2), "{}", doc["summary"]);
        sites_of(&findings(&doc, rule))
    }

    fn file(&self, rel: &str) -> PathBuf {
        if let Some(t) = rel.strip_prefix("templates/") {
            self.templates.join(t)
        } else {
            self.inventory.join(rel)
        }
    }
}

#[test]
fn the_example_fleet_runs_every_distribution_and_lints_clean() {
    let f = example();
    let fleet = edgefleet_inventory::load_inventory(&f.inventory).expect("example loads");
    // The table above is the example fleet.
    assert_eq!(fleet.sites.len(), SITES.len());
    for (id, platform, _) in SITES {
        let site = fleet.site(id).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(site.platform.as_deref(), Some(*platform), "{id}");
    }
    let distributions: BTreeSet<&str> = fleet
        .sites
        .iter()
        .filter_map(|s| fleet.platform_of(s))
        .map(|p| p.distribution.as_str())
        .collect();
    assert_eq!(
        distributions,
        ["k3s", "kubeedge", "kubernetes", "microshift", "openyurt"]
            .into_iter()
            .collect()
    );
    // The Wasm workload gets the site's Wasm class, the confidential one the SNP class.
    let overlay = |region: &str, site: &str, w: &str| {
        std::fs::read_to_string(
            f.out
                .join(format!("sites/{region}/{site}/{w}/kustomization.yaml")),
        )
        .unwrap()
    };
    assert!(
        overlay("eu-central", "store-de-berlin-0117", "sensor-filter")
            .contains("runtimeClassName: spin")
    );
    assert!(
        overlay("eu-central", "fab-stuttgart-01", "sensor-filter")
            .contains("runtimeClassName: wasmtime-spin-v2")
    );
    assert!(
        overlay("ap-southeast", "mec-sg-jurong-1", "badge-verifier")
            .contains("runtimeClassName: kata-qemu-snp")
    );
    // Placement per distribution.
    assert!(
        overlay("us-gulf", "rail-i10-mp112", "telemetry-collector")
            .contains("node-role.kubernetes.io/edge")
    );
    assert!(
        overlay("eu-central", "fab-linz-02", "mqtt-broker")
            .contains("apps.openyurt.io/nodepool: fab-linz-02")
    );
    assert!(
        overlay("eu-central", "store-de-munich-0508", "metrics-agent").contains("runAsUser: null")
    );
    assert!(!overlay("eu-north", "rig-nsea-042", "metrics-agent").contains("nodeSelector"));

    let (code, doc) = lint_fleet_json(&f.out, &f.inventory);
    assert_eq!(
        code,
        Some(0),
        "lint --fleet is not clean on the example: {:#}",
        doc["findings"]
    );
    assert!(doc["findings"].as_array().unwrap().is_empty());
}

#[test]
fn each_platform_rule_fires_on_a_one_line_change() {
    // (file, from, to, rule, sites expected)
    let gpu = sites(|_, p, w| w.starts_with("all") && (p == "k3s-jetson" || p == "kubernetes-mec"));
    let cases: Vec<(&str, &str, &str, &str, BTreeSet<String>)> = vec![
        // The store boxes lose their Wasm shims: the sensor filter at the Berlin store.
        (
            "platforms.yaml",
            "runtime_classes: [runc, spin, wasmedge]",
            "runtime_classes: [runc]",
            "platform/wasm-without-runtime",
            sites(|_, p, w| p == "k3s-store" && w.contains("sensor-filter")),
        ),
        // The model server asks for the NVIDIA runtime: every site running it without one.
        (
            "templates/inference-server/base.yaml.j2",
            "      serviceAccountName: {{ name }}",
            "      runtimeClassName: nvidia\n      serviceAccountName: {{ name }}",
            "platform/runtime-class-not-installed",
            &inference_sites() - &gpu,
        ),
        // An API removed from Kubernetes long ago: every site running the model server.
        (
            "templates/inference-server/base.yaml.j2",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy",
            "apiVersion: extensions/v1beta1\nkind: NetworkPolicy",
            "platform/api-not-served",
            inference_sites(),
        ),
        // The EPYC servers lose SEV-SNP: the badge verifier at the one MEC site running it.
        (
            "profiles.yaml",
            "    tee: sev-snp\n",
            "",
            "platform/tee-required",
            sites(|_, _, w| w.contains("badge-verifier")),
        ),
        // SVIDs of 10 minutes on the MEC platform: shorter than fibre's 15m outage, at the site
        // whose workload mounts the SPIFFE CSI driver.
        (
            "platforms.yaml",
            "    runtime_classes: [runc, nvidia, kata-qemu-snp]\n    identity: {trust_domain: edge.example.net, svid_ttl: 96h}",
            "    runtime_classes: [runc, nvidia, kata-qemu-snp]\n    identity: {trust_domain: edge.example.net, svid_ttl: 10m}",
            "platform/svid-ttl-below-outage",
            sites(|_, _, w| w.contains("badge-verifier")),
        ),
    ];
    for (file, from, to, rule, expected) in cases {
        let f = example();
        assert!(f.fired(rule).is_empty(), "{rule} fires before the change");
        edit(&f.file(file), from, to);
        assert_eq!(f.fired(rule), expected, "{rule} after editing {file}");
    }
}

#[test]
fn accelerator_kinds_follow_the_hardware() {
    let gpu = sites(|_, p, w| w.starts_with("all") && (p == "k3s-jetson" || p == "kubernetes-mec"));
    let mec = sites(|_, p, w| w.starts_with("all") && p == "kubernetes-mec");
    for name in [
        "hailo.ai/npu",
        "npu.intel.com/accel",
        "vpu.intel.com/hddl",
        "gpu.intel.com/i915",
        "rockchip.com/npu",
    ] {
        let f = example();
        // The model server asks for this accelerator instead of a GPU: every GPU site lacks it.
        edit(
            &f.file("templates/inference-server/hardware.yaml.j2"),
            "\"nvidia.com/gpu\": \"1\"} %}",
            &format!("\"{name}\": \"1\"}} %}}"),
        );
        assert_eq!(f.fired("resources/accelerator-unavailable"), gpu, "{name}");
        // The Jetsons get one: only the MEC servers lack it now.
        edit(
            &f.file("profiles.yaml"),
            "accelerators: {nvidia.com/gpu: 1}",
            &format!("accelerators: {{nvidia.com/gpu: 1, {name}: 1}}"),
        );
        assert_eq!(f.fired("resources/accelerator-unavailable"), mec, "{name}");
    }
}

#[test]
fn a_synthetic_fleet_lints_clean_on_every_platform_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    synth_inventory(200, 3, &inventory);
    generate_fleet(&inventory, &workspace_root().join("templates"), &out);
    let (code, doc) = lint_fleet_json(&out, &inventory);
    assert_ne!(code, Some(2), "{}", doc["summary"]);
    let found = findings(&doc, "platform/");
    assert!(found.is_empty(), "{found:#?}");
}

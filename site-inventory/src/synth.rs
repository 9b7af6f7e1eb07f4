//! Realistic synthetic fleets for demos, tests and benchmarks.
//!
//! The mix mirrors what platform teams run: retail stores on small ARM or x86 boxes behind LTE or
//! fibre, offshore rigs with GPU boxes behind satellite, factories and private-5G edge sites on
//! servers, rail corridors on tiny ARM boxes. The same seed gives the same files, byte for byte.

use serde_json::{Value, json};

/// One file of a synthetic inventory: path relative to the inventory folder, and content.
pub struct SynthFile {
    pub path: String,
    pub content: String,
}

struct RegionDef {
    name: &'static str,
    short: &'static str,
    jurisdiction: &'static str,
    zone: &'static str,
    tld: &'static str,
    mqtt: bool,
}

const REGIONS: [RegionDef; 6] = [
    RegionDef {
        name: "eu-north",
        short: "no",
        jurisdiction: "NO",
        zone: "EEA",
        tld: "example.net",
        mqtt: true,
    },
    RegionDef {
        name: "eu-central",
        short: "de",
        jurisdiction: "DE",
        zone: "EEA",
        tld: "example.net",
        mqtt: true,
    },
    RegionDef {
        name: "eu-west",
        short: "fr",
        jurisdiction: "FR",
        zone: "EEA",
        tld: "example.net",
        mqtt: false,
    },
    RegionDef {
        name: "us-gulf",
        short: "tx",
        jurisdiction: "US",
        zone: "US",
        tld: "example.com",
        mqtt: false,
    },
    RegionDef {
        name: "us-west",
        short: "ca",
        jurisdiction: "US",
        zone: "US",
        tld: "example.com",
        mqtt: true,
    },
    RegionDef {
        name: "ap-southeast",
        short: "sg",
        jurisdiction: "SG",
        zone: "SG",
        tld: "example.sg",
        mqtt: true,
    },
];

/// Kinds of site: id prefix, asset class, (hardware, backhaul) choices, workloads (None = all).
struct SiteKind {
    prefix: &'static str,
    class: &'static str,
    weight: u32,
    hardware: &'static [&'static str],
    backhaul: &'static [&'static str],
    workloads: Option<&'static [&'static str]>,
}

const KINDS: [SiteKind; 5] = [
    SiteKind {
        prefix: "store",
        class: "store",
        weight: 55,
        hardware: &["rpi-cm4", "nuc-i5", "nuc-i5"],
        backhaul: &["lte-cat12", "fibre-1g", "fibre-1g", "5g-sa"],
        workloads: Some(&["telemetry-collector", "metrics-agent", "mqtt-broker"]),
    },
    SiteKind {
        prefix: "rig",
        class: "rig",
        weight: 10,
        hardware: &["jetson-orin-nx", "xeon-d-2u"],
        backhaul: &["vsat-2m", "leo-sat", "leo-sat"],
        workloads: None,
    },
    SiteKind {
        prefix: "fab",
        class: "factory",
        weight: 15,
        hardware: &["xeon-d-2u", "epyc-gpu-1u"],
        backhaul: &["fibre-1g", "5g-sa"],
        workloads: None,
    },
    SiteKind {
        prefix: "rail",
        class: "rail",
        weight: 12,
        hardware: &["rpi-cm4"],
        backhaul: &["lte-cat12", "leo-sat"],
        workloads: Some(&["telemetry-collector", "metrics-agent"]),
    },
    SiteKind {
        prefix: "mec",
        class: "mec",
        weight: 8,
        hardware: &["epyc-gpu-1u", "jetson-orin-nx"],
        backhaul: &["fibre-1g", "5g-sa"],
        workloads: None,
    },
];

fn profiles() -> Value {
    json!({
        "hardware": {
            "rpi-cm4": {"arch": "arm64", "allocatable": {"cpu": "3500m", "memory": "6Gi", "ephemeral-storage": "24Gi"}, "power_watts": 12},
            "nuc-i5": {"arch": "amd64", "allocatable": {"cpu": "7", "memory": "28Gi", "ephemeral-storage": "400Gi"}, "power_watts": 35},
            "jetson-orin-nx": {"arch": "arm64", "allocatable": {"cpu": "6", "memory": "14Gi", "ephemeral-storage": "100Gi"}, "accelerators": {"nvidia.com/gpu": 1}, "power_watts": 25},
            "xeon-d-2u": {"arch": "amd64", "allocatable": {"cpu": "14", "memory": "60Gi", "ephemeral-storage": "800Gi"}, "power_watts": 180},
            "epyc-gpu-1u": {"arch": "amd64", "allocatable": {"cpu": "30", "memory": "120Gi", "ephemeral-storage": "1500Gi"}, "accelerators": {"nvidia.com/gpu": 2}, "power_watts": 450, "tee": "sev-snp"}
        },
        "backhaul": {
            "fibre-1g": {"bandwidth_kbps": 1000000, "metered": false, "latency_ms": 8, "max_outage": "15m"},
            "5g-sa": {"bandwidth_kbps": 200000, "metered": false, "latency_ms": 15, "max_outage": "1h"},
            "lte-cat12": {"bandwidth_kbps": 30000, "metered": true, "latency_ms": 60, "max_outage": "6h"},
            "leo-sat": {"bandwidth_kbps": 40000, "metered": true, "latency_ms": 45, "max_outage": "4h"},
            "vsat-2m": {"bandwidth_kbps": 2048, "metered": true, "latency_ms": 650, "max_outage": "72h"}
        }
    })
}

/// The platforms of the synthetic fleet, in their own file as in the example inventory (so
/// `synth --force` over an inventory replaces them instead of defining them twice).
fn platforms() -> Value {
    json!({
        "platforms": {
            "k3s-edge": {"distribution": "k3s", "version": "1.33", "runtime_classes": ["runc", "spin", "wasmedge"], "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h"}},
            "k3s-jetson": {"distribution": "k3s", "version": "1.33", "runtime_classes": ["runc", "nvidia", "spin"], "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h"}},
            "microshift-store": {"distribution": "microshift", "version": "4.18", "runtime_classes": ["runc"], "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h"}},
            "kubeedge-corridor": {"distribution": "kubeedge", "version": "1.21", "kubernetes": "1.31", "runtime_classes": ["runc"], "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h"}},
            "openyurt-factory": {"distribution": "openyurt", "version": "1.6", "kubernetes": "1.32", "runtime_classes": ["runc", "wasmtime-spin-v2"], "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h"}},
            "kubernetes-mec": {"distribution": "kubernetes", "version": "1.34", "runtime_classes": ["runc", "nvidia", "kata-qemu-snp"], "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h"}}
        }
    })
}

fn regions() -> Value {
    let mut m = serde_json::Map::new();
    for r in &REGIONS {
        let mut endpoints = serde_json::Map::new();
        endpoints.insert(
            "telemetry".into(),
            format!("https://otlp.{}.{}", r.name, r.tld).into(),
        );
        endpoints.insert(
            "metrics".into(),
            format!("https://prom.{}.{}/api/v1/write", r.name, r.tld).into(),
        );
        endpoints.insert(
            "object_store".into(),
            format!("https://s3.{}.{}", r.name, r.tld).into(),
        );
        if r.mqtt {
            endpoints.insert(
                "mqtt_bridge".into(),
                format!("mqtts://mqtt.{}.{}:8883", r.name, r.tld).into(),
            );
        }
        m.insert(
            r.name.into(),
            json!({"jurisdiction": r.jurisdiction, "zone": r.zone, "endpoints": endpoints}),
        );
    }
    json!({ "regions": m })
}

fn rollout() -> Value {
    json!({"rollout": {
        "waves": [
            {"name": "canary", "max_update": 1},
            {"name": "early", "max_update": "10%"},
            {"name": "main", "max_update": "25%"}
        ],
        "trailing": {"min_outage": "24h", "max_update": "50%"}
    }})
}

/// The platform of a kind of site on its hardware: stores on k3s (small ARM boxes) or
/// MicroShift, rigs on k3s (Jetson) or KubeEdge, rail corridors on KubeEdge, factories on
/// OpenYurt node pools, MEC on upstream Kubernetes with SEV-SNP confidential VMs. Derived, not
/// drawn, so the random choices (and the sites) are those of earlier releases.
fn platform_for(kind: &str, hardware: &str) -> &'static str {
    match (kind, hardware) {
        ("store", "rpi-cm4") => "k3s-edge",
        ("store", _) => "microshift-store",
        (_, "jetson-orin-nx") => "k3s-jetson",
        ("rig" | "rail", _) => "kubeedge-corridor",
        ("fab", _) => "openyurt-factory",
        _ => "kubernetes-mec",
    }
}

/// Block-free YAML: one JSON object per line is valid YAML and diffs well.
fn top_level_yaml(header: &str, v: &Value) -> String {
    let mut out = String::new();
    out.push_str(header);
    if let Value::Object(m) = v {
        for (k, section) in m {
            out.push_str(k);
            out.push_str(":\n");
            match section {
                Value::Object(items) => {
                    for (name, item) in items {
                        out.push_str(&format!("  {name}: {item}\n"));
                    }
                }
                other => out.push_str(&format!("  {other}\n")),
            }
        }
    }
    out
}

/// A synthetic inventory of `sites` sites from `seed`.
pub fn synthesize(sites: usize, seed: u64) -> Vec<SynthFile> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let header = format!(
        "# Synthetic edgefleet inventory: `edgefleet inventory synth --sites {sites} --seed {seed}`.\n"
    );
    let mut files = vec![
        SynthFile {
            path: "profiles.yaml".into(),
            content: top_level_yaml(&header, &profiles()),
        },
        SynthFile {
            path: "platforms.yaml".into(),
            content: top_level_yaml(&header, &platforms()),
        },
        SynthFile {
            path: "regions.yaml".into(),
            content: top_level_yaml(&header, &regions()),
        },
        SynthFile {
            path: "rollout.yaml".into(),
            content: format!("{header}rollout: {}\n", rollout()["rollout"]),
        },
    ];
    let total_weight: u32 = KINDS.iter().map(|k| k.weight).sum();
    let mut per_region: Vec<Vec<String>> = vec![Vec::new(); REGIONS.len()];
    let mut csv_rows: Vec<String> = Vec::new();
    for i in 0..sites {
        let region_idx = rng.usize(..REGIONS.len());
        let region = &REGIONS[region_idx];
        let mut pick = rng.u32(..total_weight);
        let kind = KINDS
            .iter()
            .find(|k| {
                if pick < k.weight {
                    true
                } else {
                    pick -= k.weight;
                    false
                }
            })
            .unwrap_or(&KINDS[0]);
        let hardware = kind.hardware[rng.usize(..kind.hardware.len())];
        let backhaul = kind.backhaul[rng.usize(..kind.backhaul.len())];
        let roll = rng.u32(..1000);
        let wave = if roll < 20 {
            "canary"
        } else if roll < 200 {
            "early"
        } else {
            "main"
        };
        let offline = rng.u32(..1000) < 8;
        let platform = platform_for(kind.prefix, hardware);
        let id = format!("{}-{}-{:05}", kind.prefix, region.short, i);
        // Stores come from a spreadsheet export (CSV); everything else is YAML.
        // Small stores on k3s also run the WebAssembly sensor filter (opt-in in the catalogue).
        let mut workloads: Option<Vec<&str>> = kind.workloads.map(<[_]>::to_vec);
        if platform == "k3s-edge"
            && let Some(w) = &mut workloads
        {
            w.push("sensor-filter");
        }
        if kind.prefix == "store" && region_idx.is_multiple_of(2) {
            let workloads = workloads.map(|w| w.join(";")).unwrap_or_default();
            csv_rows.push(format!(
                "{id},{},{hardware},{backhaul},{wave},{platform},{},{workloads},{},Store {i}",
                region.name, offline, kind.class
            ));
            continue;
        }
        let mut site = json!({
            "id": id, "region": region.name, "hardware": hardware, "backhaul": backhaul,
            "platform": platform, "wave": wave, "labels": {"asset-class": kind.class},
        });
        if let Some(w) = workloads {
            site["workloads"] = json!(w);
        }
        if offline {
            site["offline"] = json!(true);
        }
        if kind.prefix == "rig" && rng.u32(..4) == 0 {
            site["overrides"] =
                json!({"telemetry-collector": {"upstream_kbps": 512 + rng.u64(..8) * 256}});
        }
        per_region[region_idx].push(site.to_string());
    }
    for (r, lines) in REGIONS.iter().zip(&per_region) {
        let mut content = header.clone();
        content.push_str("sites:\n");
        for l in lines {
            content.push_str("  - ");
            content.push_str(l);
            content.push('\n');
        }
        if lines.is_empty() {
            content = format!("{header}sites: []\n");
        }
        files.push(SynthFile {
            path: format!("sites/{}.yaml", r.name),
            content,
        });
    }
    let mut csv = String::from(
        "id,region,hardware,backhaul,wave,platform,offline,workloads,label.asset-class,location\n",
    );
    for row in csv_rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    files.push(SynthFile {
        path: "sites/stores.csv".into(),
        content: csv,
    });
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_files_and_they_load() {
        let a = synthesize(300, 7);
        let b = synthesize(300, 7);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.path == y.path && x.content == y.content)
        );
        let c = synthesize(300, 8);
        assert!(a.iter().zip(&c).any(|(x, y)| x.content != y.content));

        let dir = tempfile::tempdir().unwrap();
        for f in &a {
            let p = dir.path().join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &f.content).unwrap();
        }
        let fleet = crate::load_inventory(dir.path()).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(fleet.sites.len(), 300);
        assert!(fleet.regions.len() >= 3);
        let jurisdictions: std::collections::BTreeSet<_> = fleet
            .regions
            .values()
            .map(|r| r.jurisdiction.as_str())
            .collect();
        assert!(jurisdictions.len() >= 3);
        assert!(fleet.sites.iter().any(|s| fleet.hardware_of(s).gpus() > 0));
        assert!(
            fleet
                .sites
                .iter()
                .any(|s| fleet.hardware_of(s).arch == "arm64")
        );
        assert!(fleet.sites.iter().any(|s| s.wave == "canary"));
        // Every distribution runs somewhere, and every site declares its platform.
        let distributions: std::collections::BTreeSet<_> = fleet
            .sites
            .iter()
            .filter_map(|s| fleet.platform_of(s).map(|p| p.distribution))
            .collect();
        assert_eq!(distributions.len(), crate::Distribution::ALL.len());
        assert!(fleet.sites.iter().all(|s| fleet.platform_of(s).is_some()));
        assert!(
            fleet
                .sites
                .iter()
                .any(|s| fleet.backhaul_of(s).max_outage.seconds >= 72 * 3600)
        );
    }
}

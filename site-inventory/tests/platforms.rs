//! Platform profiles (`platforms:`): what loads, and every error located at file:line:col.

use std::path::Path;

use edgefleet_inventory::{Diagnostics, Distribution, Fleet, RuntimeKind, Tee, load_inventory};

const PROFILES: &str = "\
hardware:
  box: {arch: amd64, allocatable: {cpu: \"4\", memory: 8Gi, ephemeral-storage: 64Gi}, tee: sev-snp}
backhaul:
  lte: {bandwidth_kbps: 20000, max_outage: 6h}
regions:
  eu: {jurisdiction: NO, zone: EEA, endpoints: {telemetry: \"https://t.eu.example.net\", metrics: \"https://m.eu.example.net\"}}
rollout:
  waves: [{name: canary}]
";

fn load(platforms: &str, sites: &str) -> (tempfile::TempDir, Result<Fleet, Diagnostics>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("profiles.yaml"), PROFILES).unwrap();
    std::fs::write(dir.path().join("platforms.yaml"), platforms).unwrap();
    std::fs::write(dir.path().join("sites.csv"), sites).unwrap();
    let r = load_inventory(dir.path());
    (dir, r)
}

fn errors(dir: &Path, r: Result<Fleet, Diagnostics>) -> Vec<(String, String)> {
    let d = r.expect_err("inventory should be rejected");
    d.iter()
        .map(|e| {
            let file = e.location.file.strip_prefix(dir).unwrap().display();
            (
                format!("{file}:{}:{}", e.location.line, e.location.column),
                e.message.clone(),
            )
        })
        .collect()
}

const SITES: &str = "id,region,hardware,backhaul,wave,platform\ns-1,eu,box,lte,canary,edge\ns-2,eu,box,lte,canary,\n";

#[test]
fn platforms_load_with_their_runtimes_and_identity() {
    let (_d, r) = load(
        "platforms:\n  edge:\n    distribution: kubeedge\n    version: \"1.21\"\n    kubernetes: \"1.31\"\n    runtime_classes: [runc, spin, kata-qemu-snp, {name: my-wasm, kind: wasm}]\n    identity: {trust_domain: edge.example.net, svid_ttl: 96h}\n",
        SITES,
    );
    let fleet = r.unwrap_or_else(|d| panic!("{d}"));
    let s1 = fleet.site("s-1").unwrap();
    let p = fleet.platform_of(s1).expect("s-1 declares a platform");
    assert_eq!(p.distribution, Distribution::KubeEdge);
    assert_eq!(p.kubernetes.to_string(), "1.31");
    assert_eq!(p.runtime_classes["spin"].kind, RuntimeKind::Wasm);
    assert_eq!(p.runtime_classes["my-wasm"].kind, RuntimeKind::Wasm);
    assert_eq!(
        p.runtime_classes["kata-qemu-snp"].kind,
        RuntimeKind::Confidential(Tee::SevSnp)
    );
    assert_eq!(p.runtime_classes["runc"].kind, RuntimeKind::Container);
    assert_eq!(p.identity.as_ref().unwrap().svid_ttl.seconds, 96 * 3600);
    assert_eq!(fleet.hardware_of(s1).tee, Some(Tee::SevSnp));
    // An empty cell: no platform, not judged by the platform rules.
    assert!(fleet.platform_of(fleet.site("s-2").unwrap()).is_none());
}

#[test]
fn platform_errors_are_located() {
    let (d, r) = load(
        "platforms:\n  edge:\n    distribution: k3s\n    version: \"1.19\"\n  yurt:\n    distribution: openyurt\n    version: \"1.6\"\n",
        "id,region,hardware,backhaul,wave,platform\ns-1,eu,box,lte,canary,nowhere\n",
    );
    let got = errors(d.path(), r);
    assert_eq!(
        got,
        vec![
            (
                "platforms.yaml:4:14".to_owned(),
                "platform `edge`: k3s 1.19 is not a release edgefleet knows (known: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35)".to_owned()
            ),
            (
                "platforms.yaml:6:19".to_owned(),
                "platform `yurt`: openyurt runs on a Kubernetes cluster; give its version with `kubernetes:`".to_owned()
            ),
            (
                "sites.csv:2:23".to_owned(),
                "unknown platform profile `nowhere` (known: edge, yurt)".to_owned()
            ),
        ]
    );
}

#[test]
fn schema_errors_in_platforms_are_located() {
    let (d, r) = load(
        "platforms:\n  edge:\n    distribution: rke9\n    version: \"1.33\"\n    runtime_classes: [runc, {name: x}]\n    identity: {trust_domain: edge.example.net, svid_ttl: soon}\n",
        "id,region,hardware,backhaul,wave\ns-1,eu,box,lte,canary\n",
    );
    let got = errors(d.path(), r);
    let lines: Vec<&str> = got.iter().map(|(at, _)| at.as_str()).collect();
    assert_eq!(
        lines,
        [
            "platforms.yaml:3:19",
            "platforms.yaml:5:29",
            "platforms.yaml:6:58"
        ],
        "{got:#?}"
    );
    assert!(got[0].1.contains("rke9"), "{got:#?}");
}

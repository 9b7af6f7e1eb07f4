//! Data residency end to end: an EEA / US / SG fleet generated with the real templates and
//! linted with `edgefleet lint --fleet`, then one template change at a time.
//!
//! The expected sites are computed from the inventory this test writes (zone of each site's
//! region, workloads it runs), never from the linter's output.

use std::collections::BTreeSet;
use std::path::PathBuf;

use edgefleet_e2e::{
    copy_dir, describe as text, edit, findings, generate_fleet, line_of, lint_fleet_json,
    run_edgefleet as edgefleet, sites_of, synth_inventory, workspace_root,
};
use serde_json::Value;

/// (site id, region, workloads it runs; `None`: the whole catalogue).
const SITES: &[(&str, &str, Option<&[&str]>)] = &[
    ("rig-no-1", "eu-north", None),
    ("rig-no-2", "eu-north", None),
    (
        "store-no-3",
        "eu-north",
        Some(&["metrics-agent", "mqtt-broker"]),
    ),
    ("plant-de-1", "eu-central", None),
    (
        "plant-de-2",
        "eu-central",
        Some(&["telemetry-collector", "metrics-agent"]),
    ),
    ("store-de-3", "eu-central", Some(&["metrics-agent"])),
    ("rig-us-1", "us-gulf", None),
    ("rig-us-2", "us-gulf", Some(&["telemetry-collector"])),
    ("mec-sg-1", "ap-southeast", None),
    ("mec-sg-2", "ap-southeast", Some(&["telemetry-collector"])),
];

const REGIONS: &str = "\
regions:
  eu-north:
    jurisdiction: \"NO\"
    zone: EEA
    endpoints:
      telemetry: https://otlp.eu-north.example.net
      metrics: https://prom.eu-north.example.net/api/v1/write
      mqtt_bridge: mqtts://mqtt.eu-north.example.net:8883
  eu-central:
    jurisdiction: DE
    zone: EEA
    endpoints:
      telemetry: https://otlp.eu-central.example.net
      metrics: https://prom.eu-central.example.net:9443/api/v1/write
  us-gulf:
    jurisdiction: US
    zone: US
    endpoints:
      telemetry: https://otlp.us-gulf.example.com
      metrics: https://prom.us-gulf.example.com/api/v1/write
  ap-southeast:
    jurisdiction: SG
    zone: SG
    endpoints:
      telemetry: https://otlp.ap-southeast.example.sg
      metrics: https://prom.ap-southeast.example.sg/api/v1/write
      mqtt_bridge: mqtts://mqtt.ap-southeast.example.sg:8883
residency:
  zones:
    EEA: [AT, BE, BG, HR, CY, CZ, DK, EE, FI, FR, DE, GR, HU, IE, IT, LV, LT, LU, MT, NL, PL, PT, RO, SK, SI, ES, SE, IS, LI, \"NO\"]
    US: [US]
    SG: [SG]
  endpoints:
    archive.partner.example.com: US
  policy:
    personal: {\"*\": [same]}
    video-raw: {\"*\": [same]}
    telemetry: {\"*\": [same]}
    public: {\"*\": [any]}
";

fn zone_of_region(region: &str) -> &'static str {
    match region {
        "eu-north" | "eu-central" => "EEA",
        "us-gulf" => "US",
        _ => "SG",
    }
}

fn jurisdiction_of_region(region: &str) -> &'static str {
    match region {
        "eu-north" => "NO",
        "eu-central" => "DE",
        "us-gulf" => "US",
        _ => "SG",
    }
}

/// The sites of a zone that run a workload, from the table above.
fn sites_running(workload: &str, zone: &str) -> BTreeSet<String> {
    SITES
        .iter()
        .filter(|(_, region, _)| zone_of_region(region) == zone)
        .filter(|(_, _, w)| w.is_none_or(|w| w.contains(&workload)))
        .map(|(id, _, _)| (*id).to_owned())
        .collect()
}

/// A scratch folder with the inventory and a copy of the default templates.
struct Fleet {
    tmp: tempfile::TempDir,
}

impl Fleet {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let inv = tmp.path().join("inventory");
        std::fs::create_dir_all(&inv).unwrap();
        let example = workspace_root().join("examples/fleet/site-inventory");
        for f in ["profiles.yaml", "rollout.yaml"] {
            std::fs::copy(example.join(f), inv.join(f)).unwrap();
        }
        std::fs::write(inv.join("regions.yaml"), REGIONS).unwrap();
        let mut sites = String::from("sites:\n");
        for (id, region, workloads) in SITES {
            sites.push_str(&format!(
                "  - {{id: {id}, region: {region}, hardware: xeon-d-2u, backhaul: lte-cat12, wave: main"
            ));
            if let Some(w) = workloads {
                sites.push_str(&format!(", workloads: [{}]", w.join(", ")));
            }
            sites.push_str("}\n");
        }
        std::fs::write(inv.join("sites.yaml"), sites).unwrap();
        copy_dir(
            &workspace_root().join("templates"),
            &tmp.path().join("templates"),
        );
        Self { tmp }
    }

    fn inventory(&self) -> PathBuf {
        self.tmp.path().join("inventory")
    }

    fn template(&self, file: &str) -> PathBuf {
        self.tmp.path().join("templates").join(file)
    }

    fn out(&self) -> PathBuf {
        self.tmp.path().join("out")
    }

    /// Generates the tree and lints it: exit code and the JSON report.
    fn generate_and_lint(&self) -> (Option<i32>, Value) {
        let o = edgefleet(&[
            "generate",
            "--inventory",
            self.inventory().to_str().unwrap(),
            "--templates",
            self.tmp.path().join("templates").to_str().unwrap(),
            "--out",
            self.out().to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = edgefleet(&[
            "lint",
            "--fleet",
            self.out().to_str().unwrap(),
            "--inventory",
            self.inventory().to_str().unwrap(),
            "--format",
            "json",
        ]);
        let doc: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("JSON output ({e}): {}", text(&o)));
        (o.status.code(), doc)
    }
}

/// The region a finding's file belongs to (`components/region/<region>/...`).
fn region_of_file(finding: &Value) -> String {
    let file = finding["file"].as_str().unwrap();
    let rest = file
        .split("components/region/")
        .nth(1)
        .unwrap_or_else(|| panic!("not a region component: {finding:#}"));
    rest.split('/').next().unwrap().to_owned()
}

/// The telemetry endpoint of every EEA region replaced by `endpoint` in the region template.
fn leak_eea_telemetry_to(fleet: &Fleet, endpoint: &str) {
    edit(
        &fleet.template("telemetry-collector/region.yaml.j2"),
        "value: {{ region.endpoints.telemetry }}",
        &format!(
            "value: {{{{ \"{endpoint}\" if region.zone == \"EEA\" else region.endpoints.telemetry }}}}"
        ),
    );
}

#[test]
fn the_compliant_fleet_is_clean() {
    let fleet = Fleet::new();
    let (code, doc) = fleet.generate_and_lint();
    assert_eq!(code, Some(0), "{doc:#}");
    assert!(findings(&doc, "residency/").is_empty(), "{doc:#}");
    assert!(doc["summary"]["objects"].as_u64().unwrap() > 50, "{doc:#}");
}

#[test]
fn one_template_change_leaking_eea_telemetry_to_the_us_is_found_at_every_eea_site() {
    let fleet = Fleet::new();
    leak_eea_telemetry_to(&fleet, "https://otlp.us-gulf.example.com");
    let (code, doc) = fleet.generate_and_lint();
    assert_eq!(code, Some(1), "{doc:#}");
    let leaks = findings(&doc, "residency/endpoint-outside-zone");
    let expected = sites_running("telemetry-collector", "EEA");
    // 2 Norwegian + 2 German sites run the collector; the table is the source of truth.
    assert_eq!(expected.len(), 4);
    assert_eq!(sites_of(&leaks), expected, "{doc:#}");
    // One finding per EEA region component, each at the line that sets the endpoint.
    assert_eq!(leaks.len(), 2, "{doc:#}");
    for f in &leaks {
        let region = region_of_file(f);
        assert_eq!(zone_of_region(&region), "EEA", "{f:#}");
        assert!(
            f["file"]
                .as_str()
                .unwrap()
                .contains(&format!("components/region/{region}/telemetry-collector/")),
            "{f:#}"
        );
        assert_eq!(
            line_of(f).trim(),
            "value: https://otlp.us-gulf.example.com",
            "{f:#}"
        );
        let message = f["message"].as_str().unwrap();
        let jurisdiction = jurisdiction_of_region(&region);
        for needle in [
            format!("a site in {jurisdiction} (zone EEA)"),
            "`otlp.us-gulf.example.com` in zone US".to_owned(),
            "`telemetry`".to_owned(),
            "EDGEFLEET_TELEMETRY_ENDPOINT".to_owned(),
        ] {
            assert!(message.contains(&needle), "{needle:?} in {message}");
        }
        // The site ids of the finding are exactly this region's collector sites.
        let in_region: BTreeSet<String> = SITES
            .iter()
            .filter(|(_, r, w)| {
                *r == region && w.is_none_or(|w| w.contains(&"telemetry-collector"))
            })
            .map(|(id, _, _)| (*id).to_owned())
            .collect();
        assert_eq!(sites_of(&[*f]), in_region, "{f:#}");
        let shown: Vec<&str> = in_region.iter().map(String::as_str).collect();
        assert!(
            message.contains(&format!("[sites {}]", shown.join(", "))),
            "{message}"
        );
    }
    // Nothing else of the family fires, and no US or SG site is named.
    assert_eq!(findings(&doc, "residency/").len(), leaks.len(), "{doc:#}");
}

#[test]
fn an_ip_literal_or_an_uncatalogued_host_is_unknown_never_allowed() {
    for endpoint in [
        "https://10.20.30.40:4318",
        "https://[2001:db8::10]:4318",
        "https://otlp.eu-north.vendor.example.org",
    ] {
        let fleet = Fleet::new();
        leak_eea_telemetry_to(&fleet, endpoint);
        let (code, doc) = fleet.generate_and_lint();
        assert_eq!(code, Some(1), "{endpoint}: {doc:#}");
        let unknown = findings(&doc, "residency/unknown-endpoint");
        assert_eq!(
            sites_of(&unknown),
            sites_running("telemetry-collector", "EEA"),
            "{endpoint}: {doc:#}"
        );
        assert!(
            findings(&doc, "residency/endpoint-outside-zone").is_empty(),
            "{doc:#}"
        );
        for f in &unknown {
            assert!(line_of(f).contains(endpoint), "{f:#}");
        }
    }
}

#[test]
fn a_zone_restricted_workload_targeted_outside_its_zone_names_the_application_set() {
    let fleet = Fleet::new();
    // The inference server becomes EEA-only, and the MQTT broker loses its egress policy.
    edit(
        &fleet.template("inference-server/base.yaml.j2"),
        "    edgefleet.io/data-class: {{ workload.data_class }}\n",
        "    edgefleet.io/data-class: {{ workload.data_class }}\n    edgefleet.io/allowed-zones: EEA\n",
    );
    let (code, doc) = fleet.generate_and_lint();
    assert_eq!(code, Some(1), "{doc:#}");
    let restricted = findings(&doc, "residency/zone-restricted-workload");
    let outside: BTreeSet<String> = ["US", "SG"]
        .iter()
        .flat_map(|z| sites_running("inference-server", z))
        .collect();
    assert_eq!(outside.len(), 2, "rig-us-1 and mec-sg-1");
    assert_eq!(sites_of(&restricted), outside, "{doc:#}");
    for f in &restricted {
        assert_eq!(
            line_of(f).trim(),
            "edgefleet.io/allowed-zones: EEA",
            "{f:#}"
        );
        let m = f["message"].as_str().unwrap();
        let site = f["sites"][0].as_str().unwrap();
        let region = SITES.iter().find(|s| s.0 == site).unwrap().1;
        assert!(
            m.contains(&format!("ApplicationSet `inference-server-{region}`")),
            "{m}"
        );
        assert!(
            m.contains(&format!(
                "a site in {} (zone {})",
                jurisdiction_of_region(region),
                zone_of_region(region)
            )),
            "{m}"
        );
    }
}

#[test]
fn a_restricted_workload_without_its_egress_policy_is_reported() {
    let fleet = Fleet::new();
    let base = fleet.template("mqtt-broker/base.yaml.j2");
    let text = std::fs::read_to_string(&base).unwrap();
    // Drop the NetworkPolicy document from the base, and its patch from the region component.
    let start = text.find("apiVersion: networking.k8s.io/v1").unwrap();
    let end = start + text[start..].find("\n---\n").unwrap();
    std::fs::write(&base, format!("{}{}", &text[..start], &text[end + 5..])).unwrap();
    let region = fleet.template("mqtt-broker/region.yaml.j2");
    let text = std::fs::read_to_string(&region).unwrap();
    let start = text.find("---\napiVersion: networking.k8s.io/v1").unwrap();
    std::fs::write(&region, &text[..start]).unwrap();

    let (_, doc) = fleet.generate_and_lint();
    let missing = findings(&doc, "residency/missing-egress-policy");
    let all: BTreeSet<String> = ["EEA", "US", "SG"]
        .iter()
        .flat_map(|z| sites_running("mqtt-broker", z))
        .collect();
    assert_eq!(sites_of(&missing), all, "{doc:#}");
    for f in &missing {
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("StatefulSet edge-mqtt/mqtt-broker")
        );
        assert!(line_of(f).contains("edgefleet.io/data-class"), "{f:#}");
    }
}

/// The generator and the linter agree: every default template, for a synthetic fleet of 300
/// sites, passes every residency rule.
#[test]
fn a_synthetic_fleet_of_300_sites_has_no_residency_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    synth_inventory(300, 6, &inv);
    generate_fleet(&inv, &workspace_root().join("templates"), &out);
    let (code, doc) = lint_fleet_json(&out, &inv);
    assert_ne!(code, Some(2), "{doc:#}");
    assert!(findings(&doc, "residency/").is_empty(), "{doc:#}");
    // The fleet is really there: 300 sites' objects were linted.
    let sites = std::fs::read_dir(out.join("sites"))
        .unwrap()
        .flat_map(|r| std::fs::read_dir(r.unwrap().path()).unwrap())
        .count();
    assert_eq!(sites, 300);
    assert!(
        doc["summary"]["objects"].as_u64().unwrap() > 300 * 10,
        "{doc:#}"
    );
    // The rules had something to judge: every base declares its classes and ships its egress
    // policy.
    for workload in [
        "telemetry-collector",
        "metrics-agent",
        "mqtt-broker",
        "inference-server",
    ] {
        let dir = out.join("bases").join(workload);
        let all: String = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
            .collect();
        assert!(all.contains("edgefleet.io/data-class:"), "{workload}");
        assert!(all.contains("kind: NetworkPolicy"), "{workload}");
    }
}

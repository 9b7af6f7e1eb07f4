//! The `residency:` section: what it loads to, the default without it, and its errors at
//! file:line:col.

use std::path::Path;

use edgefleet_inventory::residency::{AllowedZone, EndpointZone, Host};
use edgefleet_inventory::{Diagnostics, Fleet, load_inventory};

const PROFILES: &str = "\
hardware:
  box: {arch: arm64, allocatable: {cpu: \"4\", memory: 8Gi, ephemeral-storage: 64Gi}}
backhaul:
  lte: {bandwidth_kbps: 20000, max_outage: 6h}
rollout:
  waves: [{name: canary}]
sites:
  - {id: s-1, region: eu, hardware: box, backhaul: lte, wave: canary}
";

const REGIONS: &str = "\
regions:
  eu: {jurisdiction: NO, zone: EEA, endpoints: {telemetry: \"https://t.eu.example.net\", metrics: \"https://m.eu.example.net:9090/api\"}}
  us: {jurisdiction: US, zone: US, endpoints: {telemetry: \"https://t.us.example.com\", metrics: \"https://m.us.example.com\"}}
";

fn load(residency: Option<&str>) -> (tempfile::TempDir, Result<Fleet, Diagnostics>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("profiles.yaml"), PROFILES).unwrap();
    std::fs::write(dir.path().join("regions.yaml"), REGIONS).unwrap();
    if let Some(text) = residency {
        std::fs::write(dir.path().join("residency.yaml"), text).unwrap();
    }
    let r = load_inventory(dir.path());
    (dir, r)
}

fn errors(dir: &Path, r: Result<Fleet, Diagnostics>) -> Vec<String> {
    r.expect_err("inventory should be rejected")
        .iter()
        .map(|e| {
            let file = e.location.file.strip_prefix(dir).unwrap().display();
            format!(
                "{file}:{}:{} {}",
                e.location.line, e.location.column, e.message
            )
        })
        .collect()
}

fn host(s: &str) -> Host {
    Host::Name(s.to_owned())
}

#[test]
fn without_a_section_the_default_is_derived_from_the_regions() {
    let (_d, r) = load(None);
    let fleet = r.expect("loads");
    let res = &fleet.residency;
    assert!(!res.declared);
    assert_eq!(res.zones["EEA"], ["NO".to_owned()].into());
    assert_eq!(res.zones["US"], ["US".to_owned()].into());
    assert_eq!(
        res.zone_of(&host("m.eu.example.net")),
        EndpointZone::Known("EEA".into())
    );
    assert_eq!(
        res.zone_of(&host("t.us.example.com")),
        EndpointZone::Known("US".into())
    );
    assert_eq!(
        res.zone_of(&host("elsewhere.example.org")),
        EndpointZone::Unknown
    );
    for class in ["personal", "video-raw", "telemetry"] {
        let a = res.allowed(class, "EEA");
        assert!(
            a.restricted() && a.zones == ["EEA".to_owned()].into(),
            "{class}"
        );
    }
    assert!(!res.allowed("public", "EEA").restricted());
}

#[test]
fn a_declared_section_loads() {
    let (_d, r) = load(Some(
        "residency:
  zones: {EEA: [NO, DE], US: [US]}
  endpoints:
    collector.partner.example.org: EEA
    \"*.archive.example.com\": US
  policy:
    telemetry: {\"*\": [same]}
    personal: {EEA: [same], US: [same, EEA]}
    public: {\"*\": [any]}
",
    ));
    let fleet = r.expect("loads");
    let res = &fleet.residency;
    assert!(res.declared);
    assert_eq!(
        res.zone_of(&host("collector.partner.example.org")),
        EndpointZone::Known("EEA".into())
    );
    assert_eq!(
        res.zone_of(&host("x.archive.example.com")),
        EndpointZone::Known("US".into())
    );
    // Region endpoints are implicitly in their region's zone.
    assert_eq!(
        res.zone_of(&host("t.eu.example.net")),
        EndpointZone::Known("EEA".into())
    );
    assert_eq!(
        res.policy["personal"]["US"],
        vec![AllowedZone::Same, AllowedZone::Zone("EEA".into())]
    );
    assert_eq!(res.allowed("personal", "US").zones_text(), "EEA, US");
}

#[test]
fn every_residency_error_is_located() {
    let (d, r) = load(Some(
        "residency:
  zones: {EEA: [DE], same: [FR]}
  endpoints:
    t.us.example.com: EEA
    10.0.0.1: EEA
    x.example.org: MARS
  policy:
    telemetry: {\"*\": [same], ASIA: [same]}
    personal: {EEA: [same, MOON]}
",
    ));
    let e = errors(d.path(), r);
    let expect = [
        "regions.yaml:2:22 region `eu`: jurisdiction `NO` is not in its zone `EEA` (DE)",
        "regions.yaml:3:32 region `us`: zone `US` is not declared in `residency.zones` (declared: EEA)",
        "residency.yaml:2:22 `same` is a policy keyword and cannot name a zone",
        "residency.yaml:4:23 endpoint `t.us.example.com` is placed in zone `EEA`, but region `us` (zone `US`) uses it",
        "residency.yaml:5:5 `10.0.0.1`: an IP literal cannot be placed in a zone; catalogue host names",
        "residency.yaml:6:20 endpoint `x.example.org`: zone `MARS` is not declared (declared: EEA)",
        "residency.yaml:8:30 policy of `telemetry`: site zone `ASIA` is not declared (declared: EEA; `*` for every other zone)",
        "residency.yaml:9:28 policy of `personal`: endpoint zone `MOON` is not declared (declared: EEA; or `same`, `any`)",
    ];
    for x in expect {
        assert!(e.iter().any(|m| m == x), "missing {x:?} in {e:#?}");
    }
    assert_eq!(e.len(), expect.len(), "{e:#?}");
}

#[test]
fn schema_rejects_a_malformed_section_with_its_place() {
    let (d, r) = load(Some(
        "residency:
  zones: {EEA: [no]}
  policy: {Telemetry: {\"*\": [same]}}
  colour: red
",
    ));
    let e = errors(d.path(), r);
    assert!(
        e.iter().any(|m| m.starts_with("residency.yaml:2:17 ")),
        "{e:#?}"
    );
    assert!(
        e.iter().any(|m| m.starts_with("residency.yaml:3:12 ")),
        "{e:#?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("residency.yaml:4:3 unknown field `colour`")),
        "{e:#?}"
    );
}

#[test]
fn residency_declared_twice_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("profiles.yaml"), PROFILES).unwrap();
    std::fs::write(dir.path().join("regions.yaml"), REGIONS).unwrap();
    let section =
        "residency:\n  zones: {EEA: [NO], US: [US]}\n  policy: {public: {\"*\": [any]}}\n";
    std::fs::write(dir.path().join("a.yaml"), section).unwrap();
    std::fs::write(dir.path().join("b.yaml"), section).unwrap();
    let e = errors(dir.path(), load_inventory(dir.path()));
    assert_eq!(e, vec!["b.yaml:1:1 `residency` is declared more than once"]);
}

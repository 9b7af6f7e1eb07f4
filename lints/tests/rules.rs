//! Every rule has docs, a fixture with bad and good cases, and a snapshot of its human output.
//!
//! Fixture convention: `tests/fixtures/<family>/<rule>.yaml`; objects named `bad-*` must each
//! get at least one finding of the rule, objects named `good-*` none.
//!
//! Fleet-aware rules (`Check::Site`) need a site: their fixture is linted as the objects of one
//! site, [`fixture_site`] (2 CPU, 4Gi, one `nvidia.com/gpu`, a backhaul that can be down 72h).
//! `tests/lint_fleet.rs` in `edgefleet-e2e` runs them on a generated tree with a real inventory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use edgefleet_inventory::units::{Duration, Quantity};
use edgefleet_inventory::{BackhaulProfile, HardwareProfile, Region, SourceLocation};
use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::rule::{Check, Rule};
use edgefleet_lints::rules::RULES;
use edgefleet_lints::{Level, LintConfig, LintRun, Linter, SiteContext, Source};

fn fixture(id: &str) -> PathBuf {
    Path::new("tests/fixtures").join(format!("{id}.yaml"))
}

/// Every rule on (the off-by-default ones as warnings), with an allowed registry list.
fn config_enabling_all() -> LintConfig {
    let mut config = LintConfig {
        allowed_registries: vec!["registry.example.com".to_owned()],
        ..LintConfig::default()
    };
    for rule in RULES {
        if rule.default_level == Level::Off {
            config.rules.insert(rule.id.to_owned(), Level::Warning);
        }
    }
    config
}

/// The residency of the fixture site's fleet: zones EEA (NO, DE), US and SG, the default policy
/// (personal, video-raw, telemetry: same zone; public: any), and a small catalogue.
fn fixture_residency() -> edgefleet_inventory::Residency {
    use edgefleet_inventory::residency::AllowedZone;
    let mut r = edgefleet_inventory::Residency::default();
    r.zones
        .insert("EEA".into(), ["NO".to_owned(), "DE".to_owned()].into());
    r.zones.insert("US".into(), ["US".to_owned()].into());
    r.zones.insert("SG".into(), ["SG".to_owned()].into());
    for (host, zone) in [
        ("otlp.eu-north.example.net", "EEA"),
        ("prom.eu-north.example.net", "EEA"),
        ("mqtt.eu-north.example.net", "EEA"),
        ("s3.eu-north.example.net", "EEA"),
        ("otlp.us-gulf.example.com", "US"),
        ("prom.us-gulf.example.com", "US"),
        ("s3.us-gulf.example.com", "US"),
        ("mqtt.ap-southeast.example.sg", "SG"),
    ] {
        r.endpoints.insert(host.into(), zone.into());
    }
    for (class, allowed) in [
        ("personal", AllowedZone::Same),
        ("video-raw", AllowedZone::Same),
        ("telemetry", AllowedZone::Same),
        ("public", AllowedZone::Any),
    ] {
        r.policy
            .insert(class.into(), [("*".to_owned(), vec![allowed])].into());
    }
    r
}

/// The site fleet-aware fixtures are linted at.
fn fixture_site() -> SiteContext {
    let at = SourceLocation::start_of(&std::sync::Arc::from(Path::new("fixture-inventory.yaml")));
    SiteContext {
        id: "fixture-site".to_owned(),
        region: Region {
            name: "eu-north".to_owned(),
            jurisdiction: "NO".to_owned(),
            zone: "EEA".to_owned(),
            endpoints: Default::default(),
            location: at.clone(),
        },
        hardware: HardwareProfile {
            name: "fixture-node".to_owned(),
            arch: "arm64".to_owned(),
            cpu: Quantity::parse("2").unwrap(),
            memory: Quantity::parse("4Gi").unwrap(),
            ephemeral_storage: Quantity::parse("64Gi").unwrap(),
            accelerators: [("nvidia.com/gpu".to_owned(), 1)].into(),
            power_watts: 25,
            location: at.clone(),
        },
        backhaul: BackhaulProfile {
            name: "fixture-vsat".to_owned(),
            bandwidth_kbps: 2048,
            metered: true,
            latency_ms: 650,
            max_outage: Duration::parse("72h").unwrap(),
            location: at,
        },
        residency: std::sync::Arc::new(fixture_residency()),
        applicationsets: Default::default(),
    }
}

fn lint_rule(rule: &Rule, path: &Path) -> LintRun {
    let linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    match rule.check {
        Check::Site(_) => {
            linter.lint_sources_at(vec![Source::from_file(path)], Some(&fixture_site()))
        }
        _ => linter
            .lint_paths(&[path.to_path_buf()])
            .expect("fixture exists"),
    }
}

#[test]
fn rule_ids_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for rule in RULES {
        assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
        let (family, name) = rule.id.split_once('/').expect("id is family/name");
        assert!(
            !family.is_empty()
                && !name.is_empty()
                && rule
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '/'),
            "rule id `{}` must be kebab-case family/name",
            rule.id
        );
    }
}

#[test]
fn every_rule_has_docs() {
    for rule in RULES {
        let docs = rule.explain();
        for section in [
            "## What it does",
            "## Why it matters at an edge site",
            "## Example",
            "## Fix",
        ] {
            assert!(
                docs.contains(section),
                "rule {} lacks `{section}` in its doc comment",
                rule.id
            );
        }
        assert!(!rule.summary.is_empty(), "rule {} lacks a summary", rule.id);
    }
}

#[test]
fn every_rule_has_a_fixture_and_every_fixture_a_rule() {
    for rule in RULES {
        assert!(
            fixture(rule.id).is_file(),
            "rule {} has no fixture at {}",
            rule.id,
            fixture(rule.id).display()
        );
    }
    for family in std::fs::read_dir("tests/fixtures").expect("fixtures folder") {
        let family = family.expect("entry").path();
        for file in std::fs::read_dir(&family).expect("family folder") {
            let file = file.expect("entry").path();
            let id = format!(
                "{}/{}",
                family.file_name().unwrap().to_string_lossy(),
                file.file_stem().unwrap().to_string_lossy()
            );
            assert!(
                edgefleet_lints::rules::find(&id).is_some(),
                "fixture {} names no rule",
                file.display()
            );
        }
    }
}

#[test]
fn fixtures_fire_on_bad_objects_only_and_match_snapshots() {
    for rule in RULES {
        let path = fixture(rule.id);
        let mut run = lint_rule(rule, &path);
        run.findings.retain(|f| f.rule == rule.id);
        assert!(
            !run.findings.is_empty(),
            "rule {} finds nothing in its fixture",
            rule.id
        );
        let flagged: BTreeSet<String> = run
            .findings
            .iter()
            .filter_map(|f| f.object.as_ref().map(|o| o.name.clone()))
            .collect();
        for name in &flagged {
            assert!(
                name.starts_with("bad-"),
                "rule {} fires on `{name}`, a good case",
                rule.id
            );
        }
        // Input rules report whole files, which have no object name to match.
        if !rule.id.starts_with("input/") {
            let text = std::fs::read_to_string(&path).unwrap();
            let bad: BTreeSet<String> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("name: bad-"))
                .map(|n| format!("bad-{n}"))
                .collect();
            assert!(!bad.is_empty(), "fixture of {} has no bad case", rule.id);
            assert_eq!(
                flagged, bad,
                "rule {}: flagged objects vs bad cases",
                rule.id
            );
        }
        let human = report::render(&run, Format::Human, &HumanOptions::default());
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("edgefleet lint {}", path.display()),
        }, {
            insta::assert_snapshot!(rule.id.replace('/', "__"), human);
        });
    }
}

#[test]
fn docs_list_every_rule() {
    let docs = std::fs::read_to_string("../docs/lint.md").expect("docs/lint.md");
    for rule in RULES {
        let row = format!("| `{}` | {} |", rule.id, rule.default_level.as_str());
        assert!(
            docs.contains(&row),
            "docs/lint.md lacks the row for {} with its default level",
            rule.id
        );
    }
}

#[test]
fn fleet_rules_follow_the_sites_profiles() {
    let linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    let at = |site: &SiteContext, id: &str| {
        let run = linter.lint_sources_at(vec![Source::from_file(&fixture(id))], Some(site));
        run.findings.iter().filter(|f| f.rule == id).count()
    };
    let mut site = fixture_site();
    assert!(at(&site, "images/pull-always-on-outage-link") > 0);
    assert!(at(&site, "resources/site-over-capacity") > 0);
    assert!(at(&site, "resources/accelerator-unavailable") > 0);
    // A link that never drops, bigger hardware with the accelerators asked for: all silent.
    site.backhaul.max_outage = Duration::parse("0").unwrap();
    site.hardware.memory = Quantity::parse("8Gi").unwrap();
    site.hardware.accelerators = [
        ("nvidia.com/gpu".to_owned(), 2),
        ("amd.com/gpu".to_owned(), 1),
    ]
    .into();
    assert_eq!(at(&site, "images/pull-always-on-outage-link"), 0);
    assert_eq!(at(&site, "resources/site-over-capacity"), 0);
    // bad-two-gpus (2) + good-one-gpu (1) now exceed the site's 2 GPUs together.
    assert_eq!(at(&site, "resources/accelerator-unavailable"), 1);
    // At a site, the generic pull-policy rule gives way to the site-aware one.
    let run = linter.lint_sources_at(
        vec![Source::from_file(&fixture("images/pull-always"))],
        Some(&fixture_site()),
    );
    assert!(run.findings.iter().all(|f| f.rule != "images/pull-always"));
    assert!(
        run.findings
            .iter()
            .any(|f| f.rule == "images/pull-always-on-outage-link")
    );
}

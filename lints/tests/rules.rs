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
use std::sync::Arc;

use edgefleet_inventory::units::{Duration, Quantity};
use edgefleet_inventory::{BackhaulProfile, HardwareProfile, Region, SourceLocation};
use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::rule::{Check, Rule};
use edgefleet_lints::rules::RULES;
use edgefleet_lints::signature::TrustStore;
use edgefleet_lints::{Level, LintConfig, LintRun, Linter, SiteContext, Source};
use rayon::prelude::*;

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
        wave: "canary".to_owned(),
        labels: Default::default(),
    }
}

/// The trust store `images/signature`'s fixture is linted with: keys from fixed bytes,
/// signatures made now, in `dir`, for the digests the fixture's cases name.
fn fixture_trust_store(dir: &Path) -> TrustStore {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};
    use p256::pkcs8::{EncodePublicKey, LineEnding};

    let key = |seed: u8| SigningKey::from_slice(&[seed; 32]).expect("valid scalar");
    let (release, platform, stranger) = (key(1), key(2), key(3));
    let digest = |n: u32| format!("sha256:{n:064x}");
    let payload = |d: &str, kind: &str| {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"registry.example.com/edge/agent"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"{kind}"}},"optional":null}}"#
        )
        .into_bytes()
    };
    let image = "cosign container image signature";
    let sign = |k: &SigningKey, p: &[u8]| -> Vec<u8> {
        let s: Signature = k.sign(p);
        s.to_der().as_bytes().to_vec()
    };
    let line = |p: &[u8], sig: &[u8], cert: Option<&SigningKey>| {
        let cert = cert.map(|k| {
            k.verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("encodable")
        });
        serde_json::json!({
            "Base64Signature": STANDARD.encode(sig),
            "Payload": STANDARD.encode(p),
            "Cert": cert,
            "Chain": null,
            "Bundle": null,
        })
        .to_string()
            + "\n"
    };
    let write = |n: u32, text: String| {
        std::fs::write(dir.join(format!("sha256-{n:064x}.json")), text).expect("write material");
    };
    let signed = |n: u32, k: &SigningKey, cert: Option<&SigningKey>| {
        let p = payload(&digest(n), image);
        line(&p, &sign(k, &p), cert)
    };
    write(1, signed(1, &release, None));
    write(
        3,
        "{\"Payload\": \"eyJ9\", \"Base64Signature\": 7}\n".to_owned(),
    );
    write(4, signed(4, &stranger, Some(&stranger)));
    write(5, signed(5, &stranger, None));
    write(6, signed(6, &platform, None));
    let p = payload(&digest(8), image);
    write(7, line(&p, &sign(&release, &p), None));
    let p = payload(&digest(9), image);
    let sig = sign(&release, &p);
    let tampered = String::from_utf8(p)
        .unwrap()
        .replace("edge/agent", "edge/agenT")
        .into_bytes();
    write(9, line(&tampered, &sig, Some(&release)));
    let p = payload(&digest(10), "cosign container image attestation");
    write(10, line(&p, &sign(&release, &p), None));
    write(11, signed(11, &platform, None));
    TrustStore::from_keys(
        vec![
            (
                "release".to_owned(),
                *release.verifying_key(),
                vec!["registry.example.com/edge/*".to_owned()],
            ),
            (
                "platform".to_owned(),
                *platform.verifying_key(),
                vec!["registry.example.com/platform/**".to_owned()],
            ),
        ],
        dir,
        Path::new("signatures"),
    )
    .expect("valid patterns")
}

fn lint_rule(rule: &Rule, path: &Path) -> LintRun {
    let mut linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    let material = tempfile::tempdir().expect("temp dir");
    if rule.id == "images/signature" {
        linter = linter.with_signatures(Arc::new(fixture_trust_store(material.path())));
    }
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
        let human = report::render(&run, Format::Human, &HumanOptions::default()).unwrap();
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

/// Findings of one rule on its fixture at `site`, by object name.
fn flagged_at(site: &SiteContext, id: &str) -> BTreeSet<String> {
    let linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    let run = linter.lint_sources_at(vec![Source::from_file(&fixture(id))], Some(site));
    run.findings
        .iter()
        .filter(|f| f.rule == id)
        .filter_map(|f| f.object.as_ref().map(|o| o.name.clone()))
        .collect()
}

#[test]
fn outage_rules_follow_the_sites_backhaul() {
    let names =
        |list: &[&str]| -> BTreeSet<String> { list.iter().map(|s| s.to_string()).collect() };
    let mut site = fixture_site();
    // A 4h outage instead of 72h: 256 kbit/s × 14,400 s / 8 = 460,800,000 B = 439.5 MiB, so a
    // 512Mi queue is enough; 2304 × 0.111 kbit/s needs 437 MiB < 4Gi.
    site.backhaul.max_outage = Duration::parse("4h").unwrap();
    assert_eq!(
        flagged_at(&site, "outage/buffer-below-outage"),
        names(&[
            "bad-no-buffer",
            "bad-volume-too-small",
            "bad-not-a-size",
            "bad-volume-missing"
        ])
    );
    // A week's certificate renewing 56h before expiry now rides out a 4h outage; 24h too; 1 %
    // of 2160h = 21.6h too. The invalid value stays a finding.
    assert_eq!(
        flagged_at(&site, "outage/certificate-renew-before"),
        names(&["bad-not-a-go-duration"])
    );
    // A 100 Mbit/s link: every declared rate fits; the invalid values are still reported.
    site.backhaul.bandwidth_kbps = 100_000;
    assert_eq!(
        flagged_at(&site, "outage/upstream-exceeds-link"),
        names(&["bad-rate-not-a-number", "bad-share-as-percent"])
    );
    // A link that never drops: no buffer or certificate window is needed.
    site.backhaul.max_outage = Duration::parse("0").unwrap();
    assert_eq!(
        flagged_at(&site, "outage/buffer-below-outage"),
        names(&[
            "bad-volume-too-small",
            "bad-not-a-size",
            "bad-volume-missing"
        ])
    );
    assert_eq!(
        flagged_at(&site, "outage/certificate-renew-before"),
        names(&["bad-not-a-go-duration"])
    );
}

#[test]
fn cert_manager_certificates_are_not_schema_errors() {
    // No cert-manager schema is embedded: its kinds are skipped, never reported as invalid.
    let linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    let run = linter.lint_sources_at(
        vec![Source::from_file(&fixture(
            "outage/certificate-renew-before",
        ))],
        Some(&fixture_site()),
    );
    assert!(
        run.findings.iter().all(|f| !f.rule.starts_with("schema/")),
        "{:?}",
        run.findings
            .iter()
            .map(|f| (f.rule, &f.message))
            .collect::<Vec<_>>()
    );
    assert_eq!(run.objects, 9);
}

#[test]
fn signatures_are_verified_once_per_digest_across_sites() {
    let material = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(fixture_trust_store(material.path()));
    let linter = Linter::new(&config_enabling_all(), Path::new("."))
        .expect("valid config")
        .with_signatures(store.clone());
    let fixture = fixture("images/signature");
    // The fixture pins 10 distinct (repository, digest) pairs that can be verified: good-signed
    // uses digest 1 twice (init container and app), good-platform-signed digest 11, and the bad
    // cases digests 2, 3, 4, 5, 6, 7, 9 and 10 (the unpinned and malformed ones never reach the
    // store). Linting it as 50 sites' objects, in parallel, verifies each pair once.
    let findings: Vec<usize> = (0..50)
        .into_par_iter()
        .map(|_| {
            let run =
                linter.lint_sources_at(vec![Source::from_file(&fixture)], Some(&fixture_site()));
            run.findings
                .iter()
                .filter(|f| f.rule == "images/signature")
                .count()
        })
        .collect();
    assert!(findings.iter().all(|&n| n == 10), "{findings:?}");
    assert_eq!(store.verifications(), 10);
}

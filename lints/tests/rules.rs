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
use edgefleet_lints::signature::{AttestationPolicy, TrustStore};
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
    // Face templates may only be processed inside a TEE.
    let at = SourceLocation::start_of(&Arc::from(Path::new("fixture-inventory.yaml")));
    r.confidential.insert("biometric".into(), at);
    r
}

/// The fixture site's platform: k3s 1.33 with runc and the NVIDIA runtime (no Wasm runtime),
/// and SPIRE SVIDs that live 96h.
fn fixture_platform() -> edgefleet_inventory::PlatformProfile {
    use edgefleet_inventory::platform::{Identity, well_known_runtime};
    use edgefleet_inventory::{Distribution, KubeMinor, RuntimeClass, RuntimeKind};
    let at = SourceLocation::start_of(&Arc::from(Path::new("fixture-inventory.yaml")));
    edgefleet_inventory::PlatformProfile {
        name: "fixture-k3s".to_owned(),
        distribution: Distribution::K3s,
        version: "1.33".to_owned(),
        kubernetes: KubeMinor(33),
        runtime_classes: ["runc", "nvidia"]
            .into_iter()
            .map(|n| {
                let kind = well_known_runtime(n).unwrap_or(RuntimeKind::Container);
                (
                    n.to_owned(),
                    RuntimeClass {
                        name: n.to_owned(),
                        kind,
                    },
                )
            })
            .collect(),
        identity: Some(Identity {
            trust_domain: "edge.example.net".to_owned(),
            svid_ttl: Duration::parse("96h").unwrap(),
            svid_ttl_location: at.clone(),
        }),
        location: at,
    }
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
            tee: None,
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
        platform: Some(fixture_platform()),
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
    fixture_attestations(dir, &release, &stranger);
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
    .with_policy(
        AttestationPolicy::new(
            vec!["https://ci.example.com/builders/release@*".to_owned()],
            Some(Duration::parse("24h").unwrap()),
        )
        .expect("valid builder patterns"),
    )
}

/// Attestations for the `images/provenance` and `images/sbom` fixtures, made now in `dir` for
/// the digests their cases name (0x20 and up): DSSE envelopes signed over their PAE, bare (as
/// `cosign download attestation` prints them) or in a Sigstore bundle.
fn fixture_attestations(
    dir: &Path,
    release: &p256::ecdsa::SigningKey,
    stranger: &p256::ecdsa::SigningKey,
) {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use edgefleet_lints::signature::{dsse, intoto};
    use p256::ecdsa::Signature;
    use p256::ecdsa::signature::Signer;
    use serde_json::{Value, json};

    let digest = |n: u32| format!("{n:064x}");
    let statement = |subject: u32, predicate_type: &str, predicate: Value| {
        json!({
            "_type": intoto::STATEMENT_V1,
            "subject": [{"name": "registry.example.com/edge/agent", "digest": {"sha256": digest(subject)}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        })
        .to_string()
    };
    let provenance = |subject: u32, builder: &str| {
        statement(
            subject,
            intoto::SLSA_PROVENANCE_V1,
            json!({"buildDefinition": {"buildType": "https://ci.example.com/container@v1"},
                   "runDetails": {"builder": {"id": builder}}}),
        )
    };
    let spdx = |subject: u32| statement(subject, intoto::SPDX, json!({"spdxVersion": "SPDX-2.3"}));
    let envelope = |k: &p256::ecdsa::SigningKey, payload: &str| {
        let sig: Signature = k.sign(&dsse::pae(dsse::INTOTO_PAYLOAD_TYPE, payload.as_bytes()));
        json!({
            "payloadType": dsse::INTOTO_PAYLOAD_TYPE,
            "payload": STANDARD.encode(payload),
            "signatures": [{"keyid": "", "sig": STANDARD.encode(sig.to_der().as_bytes())}],
        })
    };
    let bundle = |e: Value| {
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "release"}},
            "dsseEnvelope": e,
        })
    };
    let write = |n: u32, items: &[Value]| {
        let lines: Vec<String> = items.iter().map(Value::to_string).collect();
        std::fs::write(
            dir.join(format!("sha256-{}.att.json", digest(n))),
            lines.join("\n") + "\n",
        )
        .expect("write attestations");
    };
    let allowed = "https://ci.example.com/builders/release@v2";
    // 0x20: provenance (v1) and an SPDX SBOM; 0x21: a v0.1 statement with a SLSA v0.2
    // provenance and a CycloneDX SBOM, in Sigstore bundles.
    write(
        0x20,
        &[
            envelope(release, &provenance(0x20, allowed)),
            envelope(release, &spdx(0x20)),
        ],
    );
    let v02 = json!({
        "_type": intoto::STATEMENT_V01,
        "subject": [{"name": "registry.example.com/edge/agent", "digest": {"sha256": digest(0x21)}}],
        "predicateType": intoto::SLSA_PROVENANCE_V02,
        "predicate": {"builder": {"id": allowed}},
    })
    .to_string();
    let cdx = statement(
        0x21,
        "https://cyclonedx.org/bom/v1.5",
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5"}),
    );
    write(
        0x21,
        &[
            bundle(envelope(release, &v02)),
            bundle(envelope(release, &cdx)),
        ],
    );
    // 0x22: nothing. 0x23: a provenance from a laptop, and an SBOM.
    write(
        0x23,
        &[
            envelope(
                release,
                &provenance(0x23, "https://ci.example.com/builders/laptop@v1"),
            ),
            envelope(release, &spdx(0x23)),
        ],
    );
    // 0x24: signed by a stranger. 0x25: made for another image.
    write(
        0x24,
        &[
            envelope(stranger, &provenance(0x24, allowed)),
            envelope(stranger, &spdx(0x24)),
        ],
    );
    write(
        0x25,
        &[
            envelope(release, &provenance(0x99, allowed)),
            envelope(release, &spdx(0x99)),
        ],
    );
    // 0x26: only a provenance; 0x27: only an SBOM.
    write(0x26, &[envelope(release, &provenance(0x26, allowed))]);
    write(0x27, &[envelope(release, &spdx(0x27))]);
    // 0x28: not JSON.
    std::fs::write(
        dir.join(format!("sha256-{}.att.json", digest(0x28))),
        "{\"payloadType\"\n",
    )
    .expect("write attestations");
    // 0x29: an SBOM whose predicate is no SPDX document; the provenance altered after signing.
    let mut altered = envelope(release, &provenance(0x29, allowed));
    altered["payload"] = STANDARD
        .encode(provenance(
            0x29,
            "https://ci.example.com/builders/release@v3",
        ))
        .into();
    write(
        0x29,
        &[
            altered,
            envelope(
                release,
                &statement(0x29, intoto::SPDX, json!({"name": "not spdx"})),
            ),
        ],
    );
}

fn lint_rule(rule: &Rule, path: &Path) -> LintRun {
    let mut linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    let material = tempfile::tempdir().expect("temp dir");
    if matches!(
        rule.id,
        "images/signature" | "images/provenance" | "images/sbom"
    ) {
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

#[test]
fn sboms_are_required_only_where_the_link_can_be_out_long_enough() {
    let material = tempfile::tempdir().expect("temp dir");
    let linter = Linter::new(&config_enabling_all(), Path::new("."))
        .expect("valid config")
        .with_signatures(Arc::new(fixture_trust_store(material.path())));
    let count = |site: &SiteContext| {
        let run =
            linter.lint_sources_at(vec![Source::from_file(&fixture("images/sbom"))], Some(site));
        run.findings
            .iter()
            .filter(|f| f.rule == "images/sbom")
            .count()
    };
    let mut site = fixture_site();
    assert_eq!(count(&site), 5, "72h ≥ sbom_min_outage 24h");
    site.backhaul.max_outage = Duration::parse("24h").unwrap();
    assert_eq!(count(&site), 5, "the bound is inclusive");
    site.backhaul.max_outage = Duration::parse("23h59m").unwrap();
    assert_eq!(count(&site), 0);
    // Without the site (plain `lint`), the fleet-aware rule has nothing to judge.
    let run = linter
        .lint_paths(&[fixture("images/sbom")])
        .expect("fixture exists");
    assert!(run.findings.iter().all(|f| f.rule != "images/sbom"));
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
fn platform_rules_follow_the_sites_platform() {
    let names =
        |list: &[&str]| -> BTreeSet<String> { list.iter().map(|s| s.to_string()).collect() };
    use edgefleet_inventory::{Distribution, KubeMinor, RuntimeClass, RuntimeKind, Tee};
    let class = |name: &str, kind: RuntimeKind| {
        (
            name.to_owned(),
            RuntimeClass {
                name: name.to_owned(),
                kind,
            },
        )
    };
    // MicroShift 4.16 (Kubernetes 1.29): the OpenShift Route is served, flowcontrol v1beta3 is
    // (removed in 1.32), k3s's and OpenYurt's APIs and the 1.34 DeviceClass are not.
    let mut site = fixture_site();
    let platform = site.platform.as_mut().unwrap();
    platform.distribution = Distribution::MicroShift;
    platform.version = "4.16".into();
    platform.kubernetes = KubeMinor(29);
    assert_eq!(
        flagged_at(&site, "platform/api-not-served"),
        names(&[
            "bad-too-new-deviceclass",
            "bad-openyurt-nodepool",
            "good-traefik-middleware",
            "good-k3s-helmchart"
        ])
    );
    // OpenYurt on Kubernetes 1.35: only its own NodePool and the 1.34 DeviceClass pass.
    let platform = site.platform.as_mut().unwrap();
    platform.distribution = Distribution::OpenYurt;
    platform.version = "1.6".into();
    platform.kubernetes = KubeMinor(35);
    assert_eq!(
        flagged_at(&site, "platform/api-not-served"),
        names(&[
            "bad-openshift-route",
            "bad-removed-flowschema",
            "good-traefik-middleware",
            "good-k3s-helmchart"
        ])
    );

    // With the runtimes installed, the runtime rules are silent.
    let mut site = fixture_site();
    let platform = site.platform.as_mut().unwrap();
    platform.runtime_classes.extend([
        class("kata-qemu-tdx", RuntimeKind::Confidential(Tee::Tdx)),
        class("gvisor", RuntimeKind::Container),
        class("wasmtime-spin-v2", RuntimeKind::Wasm),
    ]);
    assert!(flagged_at(&site, "platform/runtime-class-not-installed").is_empty());
    assert!(flagged_at(&site, "platform/wasm-without-runtime").is_empty());
    // A Wasm runtime under another name: the Spin class is then merely not installed, and the
    // annotated pod has a runtime for it.
    let mut site = fixture_site();
    let platform = site.platform.as_mut().unwrap();
    platform
        .runtime_classes
        .extend([class("wasmedge", RuntimeKind::Wasm)]);
    assert!(flagged_at(&site, "platform/wasm-without-runtime").is_empty());
    let linter = Linter::new(&config_enabling_all(), Path::new(".")).expect("valid config");
    let run = linter.lint_sources_at(
        vec![Source::from_file(&fixture("platform/wasm-without-runtime"))],
        Some(&site),
    );
    let not_installed: BTreeSet<String> = run
        .findings
        .iter()
        .filter(|f| f.rule == "platform/runtime-class-not-installed")
        .filter_map(|f| f.object.as_ref().map(|o| o.name.clone()))
        .collect();
    assert_eq!(not_installed, names(&["bad-spin-app"]));

    // TEE: SEV-SNP hardware and the SNP runtime: the matcher passes; on TDX hardware it does
    // not (its class is for SNP); without a confidential class it does not either.
    let mut site = fixture_site();
    site.hardware.tee = Some(Tee::SevSnp);
    site.platform
        .as_mut()
        .unwrap()
        .runtime_classes
        .extend([class(
            "kata-qemu-snp",
            RuntimeKind::Confidential(Tee::SevSnp),
        )]);
    assert!(flagged_at(&site, "platform/tee-required").is_empty());
    site.hardware.tee = Some(Tee::Tdx);
    assert_eq!(
        flagged_at(&site, "platform/tee-required"),
        names(&["bad-biometric-matcher"])
    );
    site.hardware.tee = Some(Tee::SevSnp);
    site.platform
        .as_mut()
        .unwrap()
        .runtime_classes
        .remove("kata-qemu-snp");
    assert_eq!(
        flagged_at(&site, "platform/tee-required"),
        names(&["bad-biometric-matcher"])
    );

    // SVIDs of 1h from the SPIRE server: the CSI pod and the ClusterSPIFFEID without a ttl
    // now expire mid-outage too; on a link that never drops nothing does.
    let mut site = fixture_site();
    site.platform
        .as_mut()
        .unwrap()
        .identity
        .as_mut()
        .unwrap()
        .svid_ttl = Duration::parse("1h").unwrap();
    assert_eq!(
        flagged_at(&site, "platform/svid-ttl-below-outage"),
        names(&[
            "bad-hourly-svids",
            "good-server-default",
            "good-csi-identity"
        ])
    );
    site.backhaul.max_outage = Duration::parse("0").unwrap();
    assert!(flagged_at(&site, "platform/svid-ttl-below-outage").is_empty());

    // A site without a declared platform is not judged by any platform rule.
    let mut site = fixture_site();
    site.platform = None;
    for id in [
        "platform/api-not-served",
        "platform/runtime-class-not-installed",
        "platform/wasm-without-runtime",
        "platform/tee-required",
    ] {
        assert!(flagged_at(&site, id).is_empty(), "{id}");
    }
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

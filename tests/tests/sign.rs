//! Signed images, verified offline, end to end: keys and signatures are made here with p256,
//! written as `cosign download signature` exports them, and judged by the `edgefleet` binary
//! (`lint`, `lint --fleet`, `sign verify`), also inside an empty network namespace.

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use edgefleet_e2e::{copy_dir, describe, edgefleet_bin, is_ci, run_edgefleet, workspace_root};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::Value;

const EDGE: &str = "registry.example.com/edge/agent";
const IMAGE_SIGNATURE: &str = "cosign container image signature";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("valid scalar")
}

fn pem(k: &SigningKey) -> String {
    k.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("encodable")
}

fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn payload(repo: &str, digest: &str, kind: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{repo}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"{kind}"}},"optional":null}}"#
    )
    .into_bytes()
}

fn sign(k: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let s: Signature = k.sign(payload);
    s.to_der().as_bytes().to_vec()
}

/// One line of `cosign download signature` output.
fn line(payload: &[u8], signature: &[u8], cert: Option<&SigningKey>) -> String {
    serde_json::json!({
        "Base64Signature": STANDARD.encode(signature),
        "Payload": STANDARD.encode(payload),
        "Cert": cert.map(pem),
        "Chain": null,
        "Bundle": null,
        "RFC3161Timestamp": null,
    })
    .to_string()
}

/// A project folder: `edgefleet.toml` with `[signatures]`, keys, material.
struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    release: SigningKey,
    platform: SigningKey,
}

impl Project {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let (release, platform) = (key(1), key(2));
        std::fs::create_dir_all(root.join("keys")).unwrap();
        std::fs::create_dir_all(root.join("signatures")).unwrap();
        std::fs::create_dir_all(root.join("manifests")).unwrap();
        std::fs::write(root.join("keys/release.pub"), pem(&release)).unwrap();
        std::fs::write(root.join("keys/platform.pub"), pem(&platform)).unwrap();
        std::fs::write(
            root.join("edgefleet.toml"),
            r#"[signatures]
material = "signatures"

[[signatures.keys]]
id = "release"
public_key = "keys/release.pub"
repositories = ["registry.example.com/edge/*", "registry.example.com/victoriametrics/*", "registry.example.com/eclipse-mosquitto", "registry.example.com/otel/*"]

[[signatures.keys]]
id = "platform"
public_key = "keys/platform.pub"
repositories = ["registry.example.com/platform/**"]
"#,
        )
        .unwrap();
        Self {
            _tmp: tmp,
            root,
            release,
            platform,
        }
    }

    fn material(&self, digest: &str, lines: &[String]) {
        std::fs::write(
            self.root
                .join("signatures")
                .join(format!("{}.json", digest.replace(':', "-"))),
            lines.join("\n") + "\n",
        )
        .unwrap();
    }

    fn signed(&self, repo: &str, d: &str) {
        let p = payload(repo, d, IMAGE_SIGNATURE);
        self.material(d, &[line(&p, &sign(&self.release, &p), None)]);
    }

    fn config(&self) -> String {
        self.root.join("edgefleet.toml").display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        let config = self.config();
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        run_edgefleet(&all)
    }
}

/// A pod per case, one container each; returns the manifest's path.
fn manifests(p: &Project, cases: &[(&str, String)]) -> PathBuf {
    let mut text = String::new();
    for (name, image) in cases {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: app\n      image: {image}\n"
        ));
    }
    let path = p.root.join("manifests/pods.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every signature problem, each in its own pod.
fn every_case(p: &Project) -> PathBuf {
    let stranger = key(3);
    p.signed(EDGE, &digest(1));
    // 2: no material.
    p.material(
        &digest(3),
        &["{\"Payload\": \"e30=\", \"Base64Signature\": ".to_owned()],
    );
    let d4 = payload(EDGE, &digest(4), IMAGE_SIGNATURE);
    p.material(
        &digest(4),
        &[line(&d4, &sign(&stranger, &d4), Some(&stranger))],
    );
    let d5 = payload(EDGE, &digest(5), IMAGE_SIGNATURE);
    p.material(&digest(5), &[line(&d5, &sign(&stranger, &d5), None)]);
    let d6 = payload(EDGE, &digest(6), IMAGE_SIGNATURE);
    p.material(&digest(6), &[line(&d6, &sign(&p.platform, &d6), None)]);
    let d7 = payload(EDGE, &digest(8), IMAGE_SIGNATURE);
    p.material(&digest(7), &[line(&d7, &sign(&p.release, &d7), None)]);
    let d9 = payload(EDGE, &digest(9), IMAGE_SIGNATURE);
    let sig9 = sign(&p.release, &d9);
    let mut altered = d9.clone();
    altered[20] ^= 0x20; // one byte of the signed payload changed
    p.material(&digest(9), &[line(&altered, &sig9, Some(&p.release))]);
    let d10 = payload(EDGE, &digest(10), "cosign container image attestation");
    p.material(&digest(10), &[line(&d10, &sign(&p.release, &d10), None)]);
    manifests(
        p,
        &[
            ("signed", format!("{EDGE}:1.0@{}", digest(1))),
            ("unpinned", format!("{EDGE}:1.0")),
            ("unsigned", format!("{EDGE}@{}", digest(2))),
            ("unreadable", format!("{EDGE}@{}", digest(3))),
            ("untrusted-key", format!("{EDGE}@{}", digest(4))),
            ("no-trusted-key", format!("{EDGE}@{}", digest(5))),
            ("key-not-allowed", format!("{EDGE}@{}", digest(6))),
            ("digest-mismatch", format!("{EDGE}@{}", digest(7))),
            ("tampered", format!("{EDGE}@{}", digest(9))),
            ("wrong-type", format!("{EDGE}@{}", digest(10))),
        ],
    )
}

fn signature_findings(doc: &Value) -> Vec<(String, u64, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "images/signature")
        .map(|f| {
            (
                f["object"]["name"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn lint_reports_each_signature_problem_at_the_image_line() {
    let p = Project::new();
    let pods = every_case(&p);
    let o = p.run(&["lint", "--format", "json", pods.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let found = signature_findings(&doc);
    let text = std::fs::read_to_string(&pods).unwrap();
    let expected = [
        (
            "unpinned",
            "is not pinned by digest, so its signature cannot be verified",
        ),
        ("unsigned", "is unsigned: no signature material for"),
        ("unreadable", "is unreadable: signatures/sha256-"),
        ("untrusted-key", "signed by an untrusted key"),
        (
            "no-trusted-key",
            "the signature holds under no trusted key (release, platform)",
        ),
        (
            "key-not-allowed",
            "signed by trusted key `platform`, which is not trusted for repository `registry.example.com/edge/agent`",
        ),
        (
            "digest-mismatch",
            &format!("the payload names {}", digest(8)),
        ),
        ("tampered", "tampered payload"),
        (
            "wrong-type",
            "critical.type is `cosign container image attestation`",
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (name, needle) in expected {
        let (_, line, message) = found
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no finding for {name}: {found:#?}"));
        assert!(message.contains(needle), "{name}: {message}");
        let at = text.lines().nth(*line as usize - 1).unwrap();
        assert!(at.trim_start().starts_with("image:"), "{name} at {at:?}");
    }
    // The unreadable material is named with its line and column.
    let unreadable = &found.iter().find(|(n, _, _)| n == "unreadable").unwrap().2;
    assert!(
        unreadable.contains(&format!("{}.json:1:", digest(3).replace(':', "-"))),
        "{unreadable}"
    );
    assert!(!found.iter().any(|(n, _, _)| n == "signed"), "{found:#?}");
}

#[test]
fn without_a_trust_store_the_rule_is_silent() {
    let p = Project::new();
    let pods = every_case(&p);
    std::fs::remove_file(p.root.join("edgefleet.toml")).unwrap();
    std::fs::write(p.root.join("edgefleet.toml"), "").unwrap();
    let o = p.run(&["lint", "--format", "json", pods.to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(signature_findings(&doc).is_empty(), "{doc:#}");
}

#[test]
fn a_bad_trust_store_is_a_located_error() {
    let p = Project::new();
    let config = p.root.join("edgefleet.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("keys/platform.pub", "keys/missing.pub"),
    )
    .unwrap();
    let o = p.run(&["lint", p.root.join("manifests").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    // `public_key = "keys/missing.pub"` of the second key: line 11, the value at column 14.
    assert!(
        err.contains("edgefleet.toml:11:14: key `platform`"),
        "{err}"
    );
    std::fs::write(
        &config,
        text.replace("id = \"release\"", "id = \"release\"\nkeyid = 1"),
    )
    .unwrap();
    let o = p.run(&["lint", p.root.join("manifests").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("edgefleet.toml:6:1: unknown field `keyid`"),
        "{err}"
    );
}

#[test]
fn sign_verify_explains_one_image() {
    let p = Project::new();
    every_case(&p);
    let o = p.run(&["sign", "verify", &format!("{EDGE}@{}", digest(1))]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("verified: signed by trusted key `release`"),
        "{out}"
    );
    assert!(
        out.contains("keys trusted for this repository: release\n"),
        "{out}"
    );

    for (n, needle) in [
        (9, "not verified: tampered payload"),
        (2, "not verified: unsigned"),
        (
            6,
            "not verified: signed by trusted key `platform`, which is not trusted",
        ),
    ] {
        let o = p.run(&["sign", "verify", &format!("{EDGE}@{}", digest(n))]);
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(needle), "{out}");
    }
    let o = p.run(&["sign", "verify", &format!("{EDGE}:1.0")]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));

    std::fs::write(p.root.join("edgefleet.toml"), "").unwrap();
    let o = p.run(&["sign", "verify", &format!("{EDGE}@{}", digest(1))]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no [signatures] trust store"));
}

/// Runs the binary with no network at all: an empty network namespace (only a loopback, down).
fn run_without_network(args: &[String]) -> Result<Output, String> {
    let mut tried = Vec::new();
    for flags in [["-n"].as_slice(), ["-r", "-n"].as_slice()] {
        let probe = Command::new("unshare").args(flags).arg("true").output();
        match probe {
            Ok(o) if o.status.success() => {
                return Ok(Command::new("unshare")
                    .args(flags)
                    .arg(edgefleet_bin())
                    .args(args)
                    .current_dir(std::env::temp_dir())
                    .output()
                    .expect("run edgefleet under unshare"));
            }
            Ok(o) => tried.push(format!(
                "unshare {}: {}",
                flags.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => tried.push(format!("unshare {}: {e}", flags.join(" "))),
        }
    }
    Err(tried.join("; "))
}

#[test]
fn lint_gives_the_same_result_without_a_network() {
    let p = Project::new();
    let pods = every_case(&p);
    let args: Vec<String> = [
        "--config",
        &p.config(),
        "lint",
        "--format",
        "json",
        pods.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let online = run_edgefleet(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let offline = match run_without_network(&args) {
        Ok(o) => o,
        Err(why) => {
            assert!(
                !is_ci(),
                "CI=true: cannot run without a network namespace: {why}"
            );
            eprintln!("SKIPPED lint_gives_the_same_result_without_a_network: {why}");
            return;
        }
    };
    assert_eq!(offline.status.code(), Some(1), "{}", describe(&offline));
    assert_eq!(online.status.code(), offline.status.code());
    assert_eq!(
        String::from_utf8_lossy(&online.stdout),
        String::from_utf8_lossy(&offline.stdout)
    );
    let doc: Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(signature_findings(&doc).len(), 9, "{doc:#}");
}

/// The digests of the example catalogue's images: `name` and `digest` from each workload.
fn catalogue_images() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let templates = workspace_root().join("templates");
    let mut dirs: Vec<_> = std::fs::read_dir(&templates)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("workload.yaml")).unwrap();
        let mut name = None;
        for l in text.lines() {
            let l = l.trim();
            if let Some(n) = l.strip_prefix("name: registry.") {
                name = Some(format!("registry.{n}"));
            }
            if let Some(d) = l.strip_prefix("digest: ")
                && let Some(n) = name.take()
            {
                out.push((n, d.to_owned()));
            }
        }
    }
    out
}

#[test]
fn fleet_lint_verifies_the_example_fleet() {
    let p = Project::new();
    let images = catalogue_images();
    assert_eq!(images.len(), 6, "{images:?}");
    // Every catalogue image signed, except the inference server's.
    let unsigned = images
        .iter()
        .find(|(n, _)| n.contains("tritonserver"))
        .cloned()
        .expect("the inference server image");
    let inference_repo_allowed = format!(
        "\"{}\"",
        unsigned.0.rsplit_once('/').unwrap().0.to_owned() + "/*"
    );
    let config = p.root.join("edgefleet.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen(
            "repositories = [",
            &format!("repositories = [{inference_repo_allowed}, "),
            1,
        ),
    )
    .unwrap();
    for (name, d) in &images {
        if *name != unsigned.0 {
            p.signed(name, d);
        }
    }
    let inventory = p.root.join("inventory");
    copy_dir(
        &workspace_root().join("examples/fleet/site-inventory"),
        &inventory,
    );
    let out = p.root.join("out");
    let o = p.run(&[
        "generate",
        "--inventory",
        inventory.to_str().unwrap(),
        "--templates",
        workspace_root().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let o = p.run(&[
        "lint",
        "--fleet",
        out.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_ne!(o.status.code(), Some(2), "{}", describe(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "images/signature")
        .collect();
    assert!(
        !found.is_empty(),
        "the unsigned image is not reported: {doc:#}"
    );
    for f in &found {
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains(&unsigned.1) && message.contains("is unsigned"),
            "only the inference server's image is unsigned: {f:#}"
        );
        assert!(!f["sites"].as_array().unwrap().is_empty(), "{f:#}");
    }
}

// ---------------------------------------------------------------------------------------------
// Attestations: DSSE envelopes of in-toto statements, made here as `cosign attest` makes them
// and exported as `cosign download attestation` prints them.
// ---------------------------------------------------------------------------------------------

const RELEASE_BUILDER: &str = "https://ci.example.com/builders/release@v2";

/// One line of `cosign download attestation` output: a DSSE envelope whose signature covers
/// the PAE of an in-toto Statement v1 about `repo@digest`.
fn attestation(
    k: &SigningKey,
    repo: &str,
    digest: &str,
    predicate_type: &str,
    predicate: Value,
) -> String {
    use edgefleet_lints::signature::{dsse, intoto};
    let hex = digest.strip_prefix("sha256:").unwrap();
    let statement = serde_json::json!({
        "_type": intoto::STATEMENT_V1,
        "subject": [{"name": repo, "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
    .to_string();
    let sig: Signature = k.sign(&dsse::pae(dsse::INTOTO_PAYLOAD_TYPE, statement.as_bytes()));
    serde_json::json!({
        "payloadType": dsse::INTOTO_PAYLOAD_TYPE,
        "payload": STANDARD.encode(&statement),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(sig.to_der().as_bytes())}],
    })
    .to_string()
}

fn provenance(k: &SigningKey, repo: &str, digest: &str, builder: &str) -> String {
    attestation(
        k,
        repo,
        digest,
        "https://slsa.dev/provenance/v1",
        serde_json::json!({
            "buildDefinition": {"buildType": "https://ci.example.com/container@v1", "externalParameters": {}},
            "runDetails": {"builder": {"id": builder}},
        }),
    )
}

fn sbom(k: &SigningKey, repo: &str, digest: &str) -> String {
    attestation(
        k,
        repo,
        digest,
        "https://spdx.dev/Document",
        serde_json::json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []}),
    )
}

impl Project {
    /// `[signatures]` gains the attestation policy.
    fn require_attestations(&self, sbom_min_outage: &str) {
        let config = self.root.join("edgefleet.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            text.replacen(
                "material = \"signatures\"\n",
                &format!(
                    "material = \"signatures\"\nallowed_builders = [\"https://ci.example.com/builders/release@*\"]\nsbom_min_outage = \"{sbom_min_outage}\"\n"
                ),
                1,
            ),
        )
        .unwrap();
    }

    fn attested(&self, digest: &str, lines: &[String]) {
        std::fs::write(
            self.root
                .join("signatures")
                .join(format!("{}.att.json", digest.replace(':', "-"))),
            lines.join("\n") + "\n",
        )
        .unwrap();
    }
}

#[test]
fn sign_verify_shows_each_attestation_also_without_a_network() {
    let p = Project::new();
    p.require_attestations("24h");
    let (good, laptop) = (digest(0x31), digest(0x32));
    for d in [&good, &laptop] {
        p.signed(EDGE, d);
    }
    p.attested(
        &good,
        &[
            provenance(&p.release, EDGE, &good, RELEASE_BUILDER),
            sbom(&p.release, EDGE, &good),
        ],
    );
    p.attested(
        &laptop,
        &[
            provenance(
                &p.release,
                EDGE,
                &laptop,
                "https://ci.example.com/builders/laptop@v1",
            ),
            sbom(&key(3), EDGE, &laptop),
        ],
    );
    let image = format!("{EDGE}@{good}");
    let o = p.run(&["sign", "verify", &image, "--attestations"]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let att = format!("signatures/{}.att.json", good.replace(':', "-"));
    for needle in [
        "verified: signed by trusted key `release`".to_owned(),
        "attestations: 2\n".to_owned(),
        format!(
            "  ok  {att}:1: DSSE envelope: SLSA provenance v1 from builder `{RELEASE_BUILDER}` (in-toto Statement v1), signed by trusted key `release` for {good}"
        ),
        format!("  ok  {att}:2: DSSE envelope: SPDX SBOM (SPDX-2.3) (in-toto Statement v1)"),
        "provenance (allowed builders: https://ci.example.com/builders/release@*): verified"
            .to_owned(),
        "SBOM (sites that can be out 24h or longer): verified".to_owned(),
    ] {
        assert!(out.contains(&needle), "{needle}\n---\n{out}");
    }
    // Without --attestations, only the signature counts.
    let o = p.run(&["sign", "verify", &format!("{EDGE}@{laptop}")]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let o = p.run(&[
        "sign",
        "verify",
        &format!("{EDGE}@{laptop}"),
        "--attestations",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("provenance (allowed builders: https://ci.example.com/builders/release@*): not verified: image")
            && out.contains("`https://ci.example.com/builders/laptop@v1` as the builder"),
        "{out}"
    );
    assert!(
        out.contains("  bad ")
            && out.contains("SBOM (sites that can be out 24h or longer): not verified"),
        "{out}"
    );
    // No attestations at all.
    let o = p.run(&[
        "sign",
        "verify",
        &format!("{EDGE}@{}", digest(1)),
        "--attestations",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("attestations: none (looked for"));

    // The same answers with no network at all.
    for (d, code) in [(&good, 0), (&laptop, 1)] {
        let args: Vec<String> = [
            "--config",
            &p.config(),
            "sign",
            "verify",
            &format!("{EDGE}@{d}"),
            "--attestations",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let online = run_edgefleet(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let offline = match run_without_network(&args) {
            Ok(o) => o,
            Err(why) => {
                assert!(
                    !is_ci(),
                    "CI=true: cannot run without a network namespace: {why}"
                );
                eprintln!("SKIPPED the offline half of sign_verify_shows_each_attestation: {why}");
                return;
            }
        };
        assert_eq!(offline.status.code(), Some(code), "{}", describe(&offline));
        assert_eq!(online.stdout, offline.stdout);
    }
}

#[test]
fn fleet_lint_requires_provenance_everywhere_and_sboms_where_links_fail_long() {
    let p = Project::new();
    p.require_attestations("24h");
    let images = catalogue_images();
    // Every image signed and attested, except: the MQTT broker's provenance comes from a
    // laptop, and the telemetry collector has no SBOM.
    let (mqtt, telemetry) = ("eclipse-mosquitto", "opentelemetry-collector");
    for (name, d) in &images {
        p.signed(name, d);
        let builder = if name.contains(mqtt) {
            "https://ci.example.com/builders/laptop@v1"
        } else {
            RELEASE_BUILDER
        };
        let mut lines = vec![provenance(&p.release, name, d, builder)];
        if !name.contains(telemetry) {
            lines.push(sbom(&p.release, name, d));
        }
        p.attested(d, &lines);
    }
    // The inference server's repository is not in the example trust store: trust it here.
    let config = p.root.join("edgefleet.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen(
            "repositories = [",
            "repositories = [\"registry.example.com/nvidia/*\", ",
            1,
        ),
    )
    .unwrap();
    let inventory = p.root.join("inventory");
    copy_dir(
        &workspace_root().join("examples/fleet/site-inventory"),
        &inventory,
    );
    let out = p.root.join("out");
    let o = p.run(&[
        "generate",
        "--inventory",
        inventory.to_str().unwrap(),
        "--templates",
        workspace_root().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // The test's own table: which site runs which workload (site.json) and how long its link
    // can be out (the example's backhaul profiles).
    let outage_hours = |backhaul: &str| match backhaul {
        "fibre-1g" => 0.25,
        "lte-cat12" => 6.0,
        "leo-sat" => 4.0,
        "vsat-2m" => 72.0,
        other => panic!("backhaul {other} is not in the test's table"),
    };
    let mut sites: Vec<(String, f64, Value)> = Vec::new();
    for region in std::fs::read_dir(out.join("sites")).unwrap() {
        for site in std::fs::read_dir(region.unwrap().path()).unwrap() {
            let json: Value = serde_json::from_str(
                &std::fs::read_to_string(site.unwrap().path().join("site.json")).unwrap(),
            )
            .unwrap();
            let hours = outage_hours(json["backhaul"].as_str().unwrap());
            sites.push((json["site"].as_str().unwrap().to_owned(), hours, json));
        }
    }
    let running = |workload: &str, min_hours: f64| -> std::collections::BTreeSet<String> {
        sites
            .iter()
            .filter(|(_, h, j)| *h >= min_hours && j[format!("workload-{workload}")] == "enabled")
            .map(|(s, _, _)| s.clone())
            .collect()
    };

    let lint = |p: &Project| {
        let o = p.run(&[
            "lint",
            "--fleet",
            out.to_str().unwrap(),
            "--inventory",
            inventory.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let sites_of = |doc: &Value, rule: &str| -> std::collections::BTreeSet<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .flat_map(|f| f["sites"].as_array().unwrap().iter())
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let doc = lint(&p);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "images/signature"),
        "{doc:#}"
    );
    let provenance_sites = sites_of(&doc, "images/provenance");
    assert!(!provenance_sites.is_empty(), "{doc:#}");
    assert_eq!(provenance_sites, running("mqtt-broker", 0.0), "{doc:#}");
    for f in doc["findings"].as_array().unwrap() {
        if f["rule"] == "images/provenance" {
            let m = f["message"].as_str().unwrap();
            assert!(
                m.contains(mqtt) && m.contains("laptop@v1` as the builder"),
                "{m}"
            );
        }
    }
    let long = running("telemetry-collector", 24.0);
    assert!(!long.is_empty());
    assert_eq!(sites_of(&doc, "images/sbom"), long, "{doc:#}");

    // One line of configuration: sites that can be out 4h or more need SBOMs too.
    edgefleet_e2e::edit(
        &config,
        "sbom_min_outage = \"24h\"",
        "sbom_min_outage = \"4h\"",
    );
    let doc = lint(&p);
    let longer = running("telemetry-collector", 4.0);
    assert!(longer.len() > long.len(), "{longer:?}");
    assert_eq!(sites_of(&doc, "images/sbom"), longer, "{doc:#}");

    // One line of the inventory: a store moves from LTE (6h) to VSAT (72h) and needs SBOMs.
    edgefleet_e2e::edit(
        &config,
        "sbom_min_outage = \"4h\"",
        "sbom_min_outage = \"24h\"",
    );
    edgefleet_e2e::edit(
        &inventory.join("sites/stores.csv"),
        "store-de-hamburg-0342,eu-central,rpi-cm4,lte-cat12,",
        "store-de-hamburg-0342,eu-central,rpi-cm4,vsat-2m,",
    );
    let o = p.run(&[
        "generate",
        "--inventory",
        inventory.to_str().unwrap(),
        "--templates",
        workspace_root().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let doc = lint(&p);
    let mut expected = long.clone();
    assert!(!expected.contains("store-de-hamburg-0342"));
    expected.insert("store-de-hamburg-0342".to_owned());
    assert_eq!(sites_of(&doc, "images/sbom"), expected, "{doc:#}");
}

//! Attestations: a public test vector (see `testdata/README.md`), and envelopes, bundles,
//! statements and keys made here, while the tests run.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::Digest;

use super::attestation::{AttestationOutcome, AttestationPolicy, Judgement, MaterialState, Need};
use super::dsse::{self, INTOTO_PAYLOAD_TYPE, Shape};
use super::intoto::{self, Predicate, SlsaVersion, StatementVersion};
use super::{Outcome, TrustStore};

const REPO: &str = "registry.example.com/edge/agent";
const BUILDER: &str = "https://ci.example.com/builders/release@v2";

/// The public vector: a Sigstore bundle (v0.1) of a DSSE envelope holding an in-toto
/// Statement v0.1 with a SLSA provenance v0.2 predicate, signed with the key of its certificate.
const VECTOR_BUNDLE: &str = include_str!("testdata/sigstore-go-bundle-github-staging.json");
const VECTOR_DIGEST: &str = "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751";
const VECTOR_REPO: &str = "registry.example.com/npm/sigstore";

fn key(seed: u8) -> SigningKey {
    let mut bytes = [0x22u8; 32];
    bytes[31] = seed;
    SigningKey::from_slice(&bytes).expect("a valid scalar")
}

fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn policy(builders: &[&str], sbom: Option<&str>) -> AttestationPolicy {
    AttestationPolicy::new(
        builders.iter().map(|b| (*b).to_owned()).collect(),
        sbom.map(|s| edgefleet_inventory::units::Duration::parse(s).unwrap()),
    )
    .unwrap()
}

fn store(
    dir: &Path,
    keys: &[(&str, &SigningKey, &[&str])],
    policy: AttestationPolicy,
) -> TrustStore {
    TrustStore::from_keys(
        keys.iter()
            .map(|(id, sk, repos)| {
                (
                    (*id).to_owned(),
                    *sk.verifying_key(),
                    repos.iter().map(|r| (*r).to_owned()).collect(),
                )
            })
            .collect(),
        dir,
        Path::new("signatures"),
    )
    .expect("valid patterns")
    .with_policy(policy)
}

fn statement(version: &str, digest: &str, predicate_type: &str, predicate: Value) -> Vec<u8> {
    let (alg, hex) = digest.split_once(':').unwrap();
    json!({
        "_type": version,
        "subject": [{"name": REPO, "digest": {alg: hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
    .to_string()
    .into_bytes()
}

fn provenance_v1(builder: &str) -> Value {
    json!({
        "buildDefinition": {"buildType": "https://ci.example.com/container@v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": builder}},
    })
}

fn provenance(digest: &str, builder: &str) -> Vec<u8> {
    statement(
        intoto::STATEMENT_V1,
        digest,
        intoto::SLSA_PROVENANCE_V1,
        provenance_v1(builder),
    )
}

fn spdx(digest: &str) -> Vec<u8> {
    statement(
        intoto::STATEMENT_V01,
        digest,
        intoto::SPDX,
        json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []}),
    )
}

/// A DSSE envelope as `cosign attest` writes it: the signature (ASN.1 DER) is over the PAE.
fn envelope(sk: &SigningKey, payload_type: &str, payload: &[u8]) -> Value {
    let sig: Signature = sk.sign(&dsse::pae(payload_type, payload));
    json!({
        "payloadType": payload_type,
        "payload": STANDARD.encode(payload),
        "signatures": [{"keyid": "", "sig": STANDARD.encode(sig.to_der().as_bytes())}],
    })
}

fn bundle(envelope: Value) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "release"}, "tlogEntries": []},
        "dsseEnvelope": envelope,
    })
}

/// `<material>/<alg>-<hex>.att.json`: one envelope a line.
fn write_lines(dir: &Path, digest: &str, items: &[Value]) {
    let text: Vec<String> = items.iter().map(Value::to_string).collect();
    std::fs::write(
        dir.join(format!("{}.att.json", digest.replace(':', "-"))),
        text.join("\n") + "\n",
    )
    .unwrap();
}

fn only_outcome(s: &TrustStore, repo: &str, digest: &str) -> AttestationOutcome {
    let a = s.attestations(repo, digest);
    assert_eq!(a.material, MaterialState::Found, "{a:?}");
    assert_eq!(a.found.len(), 1, "{a:?}");
    a.found[0].outcome.clone()
}

#[test]
fn published_vector_is_accepted_and_a_changed_byte_rejected() {
    let doc: Value = serde_json::from_str(VECTOR_BUNDLE).unwrap();
    let parsed = dsse::parse(&doc).unwrap();
    assert_eq!(
        parsed.shape,
        Shape::Bundle {
            media_type: "application/vnd.dev.sigstore.bundle+json;version=0.1".into()
        }
    );
    // The vector's signer is the key of its certificate: trust that key here.
    let signer = parsed.claimed_key.expect("the certificate's P-256 key");
    let trusted = |dir: &Path| {
        TrustStore::from_keys(
            vec![(
                "vector".into(),
                signer,
                vec!["registry.example.com/npm/**".into()],
            )],
            dir,
            dir,
        )
        .unwrap()
        .with_policy(policy(&["https://github.com/actions/*"], None))
    };
    let stem = VECTOR_DIGEST.replace(':', "-");

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(format!("{stem}.sigstore.json")),
        VECTOR_BUNDLE,
    )
    .unwrap();
    let s = trusted(tmp.path());
    let a = s.attestations(VECTOR_REPO, VECTOR_DIGEST);
    let AttestationOutcome::Verified { key, statement } = &a.found[0].outcome else {
        panic!("the published vector is rejected: {a:?}");
    };
    assert_eq!(key, "vector");
    assert_eq!(statement.version, StatementVersion::V01);
    assert_eq!(
        statement.predicate,
        Predicate::Provenance {
            version: SlsaVersion::V02,
            builder: Some("https://github.com/actions/runner".into())
        }
    );
    assert!(a.judge(Need::Provenance, s.policy()).is_met());
    assert!(matches!(
        a.judge(
            Need::Provenance,
            &policy(&["https://ci.example.com/**"], None)
        ),
        Judgement::BuilderNotAllowed {
            builder: Some("https://github.com/actions/runner"),
            ..
        }
    ));
    assert!(matches!(
        a.judge(Need::Sbom, s.policy()),
        Judgement::NoneOfKind { .. }
    ));

    // One byte of the signed statement changed: the certificate's key no longer verifies it.
    let mut changed = doc.clone();
    let mut payload = STANDARD
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let at = payload
        .windows(6)
        .position(|w| w == b"runner")
        .expect("the builder id");
    payload[at + 5] = b's';
    changed["dsseEnvelope"]["payload"] = STANDARD.encode(&payload).into();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(format!("{stem}.sigstore.json")),
        changed.to_string(),
    )
    .unwrap();
    let s = trusted(tmp.path());
    assert_eq!(
        only_outcome(&s, VECTOR_REPO, VECTOR_DIGEST),
        AttestationOutcome::Signature(Outcome::Tampered)
    );
    let a = s.attestations(VECTOR_REPO, VECTOR_DIGEST);
    assert!(matches!(
        a.judge(Need::Provenance, s.policy()),
        Judgement::Failed(_)
    ));
}

#[test]
fn statements_v1_and_v01_in_envelopes_bundles_and_layouts_are_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let release = key(1);
    let s = store(
        tmp.path(),
        &[("release", &release, &["registry.example.com/edge/*"])],
        policy(&["https://ci.example.com/builders/*"], Some("24h")),
    );

    // 1: SLSA v1 in a bare envelope (`cosign download attestation`) and an SPDX SBOM (v0.1
    // statement) in a pretty-printed Sigstore bundle.
    let d = digest(1);
    write_lines(
        tmp.path(),
        &d,
        &[envelope(
            &release,
            INTOTO_PAYLOAD_TYPE,
            &provenance(&d, BUILDER),
        )],
    );
    std::fs::write(
        tmp.path()
            .join(format!("{}.sigstore.json", d.replace(':', "-"))),
        serde_json::to_string_pretty(&bundle(envelope(&release, INTOTO_PAYLOAD_TYPE, &spdx(&d))))
            .unwrap(),
    )
    .unwrap();
    let a = s.attestations(REPO, &d);
    assert_eq!(a.found.len(), 2, "{a:?}");
    assert!(
        a.found
            .iter()
            .all(|f| matches!(f.outcome, AttestationOutcome::Verified { .. }))
    );
    assert_eq!(
        a.found[0].origin,
        format!("signatures/{}.att.json:1", d.replace(':', "-"))
    );
    assert!(matches!(a.found[1].shape, Shape::Bundle { .. }));
    assert!(a.judge(Need::Provenance, s.policy()).is_met());
    assert!(a.judge(Need::Sbom, s.policy()).is_met());
    // Verified once per run.
    assert!(std::sync::Arc::ptr_eq(&a, &s.attestations(REPO, &d)));

    // 2: SLSA v0.2 and CycloneDX in a `cosign save` layout.
    let d = digest(2);
    let layout = tmp.path().join(d.replace(':', "-"));
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    let blob = |bytes: &[u8]| {
        let hex: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    };
    let v02 = statement(
        intoto::STATEMENT_V01,
        &d,
        intoto::SLSA_PROVENANCE_V02,
        json!({"builder": {"id": BUILDER}, "buildType": "https://ci.example.com/container@v1"}),
    );
    let cdx = statement(
        intoto::STATEMENT_V1,
        &d,
        "https://cyclonedx.org/bom/v1.5",
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}),
    );
    let layers: Vec<Value> = [v02, cdx]
        .iter()
        .map(|p| {
            let e = envelope(&release, INTOTO_PAYLOAD_TYPE, p).to_string();
            json!({"mediaType": dsse::DSSE_LAYER_MEDIA_TYPE, "digest": blob(e.as_bytes()), "size": e.len()})
        })
        .collect();
    let manifest = json!({"schemaVersion": 2, "layers": layers}).to_string();
    let manifest = blob(manifest.as_bytes());
    std::fs::write(
        layout.join("index.json"),
        json!({"schemaVersion": 2, "manifests": [
            {"digest": manifest, "annotations": {"kind": "dev.cosignproject.cosign/atts"}},
        ]})
        .to_string(),
    )
    .unwrap();
    let a = s.attestations(REPO, &d);
    assert_eq!(a.found.len(), 2, "{a:?}");
    assert!(a.judge(Need::Provenance, s.policy()).is_met(), "{a:?}");
    assert!(a.judge(Need::Sbom, s.policy()).is_met(), "{a:?}");
}

#[test]
fn each_failure_has_its_own_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let (release, platform, stranger) = (key(1), key(2), key(3));
    let s = store(
        tmp.path(),
        &[
            ("release", &release, &["registry.example.com/edge/*"]),
            ("platform", &platform, &["registry.example.com/platform/**"]),
        ],
        policy(&[BUILDER], Some("0")),
    );
    let case = |n: u32, items: &[Value]| {
        let d = digest(n);
        write_lines(tmp.path(), &d, items);
        d
    };

    let d = case(
        1,
        &[envelope(
            &stranger,
            INTOTO_PAYLOAD_TYPE,
            &provenance(&digest(1), BUILDER),
        )],
    );
    assert!(matches!(
        only_outcome(&s, REPO, &d),
        AttestationOutcome::Signature(Outcome::NoTrustedKey { .. })
    ));

    let d = case(
        2,
        &[envelope(
            &platform,
            INTOTO_PAYLOAD_TYPE,
            &provenance(&digest(2), BUILDER),
        )],
    );
    assert!(matches!(
        only_outcome(&s, REPO, &d),
        AttestationOutcome::Signature(Outcome::KeyNotAllowed { .. })
    ));

    // The payload changed after signing.
    let mut e = envelope(
        &release,
        INTOTO_PAYLOAD_TYPE,
        &provenance(&digest(3), BUILDER),
    );
    e["payload"] = STANDARD
        .encode(provenance(
            &digest(3),
            "https://ci.example.com/builders/evil@v1",
        ))
        .into();
    let d = case(3, &[e]);
    assert!(matches!(
        only_outcome(&s, REPO, &d),
        AttestationOutcome::Signature(Outcome::NoTrustedKey { .. })
    ));

    // Signed over the raw payload instead of DSSE's PAE: not a DSSE signature.
    let p = provenance(&digest(4), BUILDER);
    let raw: Signature = release.sign(&p);
    let d = case(
        4,
        &[json!({
            "payloadType": INTOTO_PAYLOAD_TYPE,
            "payload": STANDARD.encode(&p),
            "signatures": [{"sig": STANDARD.encode(raw.to_der().as_bytes())}],
        })],
    );
    assert!(matches!(
        only_outcome(&s, REPO, &d),
        AttestationOutcome::Signature(Outcome::NoTrustedKey { .. })
    ));

    let d = case(5, &[envelope(&release, "text/plain", b"hello")]);
    assert!(matches!(
        only_outcome(&s, REPO, &d),
        AttestationOutcome::NotInToto { .. }
    ));

    let d = case(
        6,
        &[envelope(
            &release,
            INTOTO_PAYLOAD_TYPE,
            &statement(
                "https://in-toto.io/Statement/v9",
                &digest(6),
                intoto::SPDX,
                json!({}),
            ),
        )],
    );
    let AttestationOutcome::BadStatement { reason, .. } = only_outcome(&s, REPO, &d) else {
        panic!("expected a bad statement");
    };
    assert!(reason.contains("unknown statement type"), "{reason}");

    let d = case(
        7,
        &[envelope(
            &release,
            INTOTO_PAYLOAD_TYPE,
            &provenance(&digest(99), BUILDER),
        )],
    );
    assert!(matches!(
        only_outcome(&s, REPO, &d),
        AttestationOutcome::OtherSubject { .. }
    ));

    let d = case(
        8,
        &[envelope(
            &release,
            INTOTO_PAYLOAD_TYPE,
            &provenance(&digest(8), "https://ci.example.com/builders/laptop@v1"),
        )],
    );
    let a = s.attestations(REPO, &d);
    assert!(matches!(
        a.judge(Need::Provenance, s.policy()),
        Judgement::BuilderNotAllowed { .. }
    ));
    let (message, _) =
        a.judge(Need::Provenance, s.policy())
            .message(Need::Provenance, "img", &d, s.policy());
    assert!(
        message.contains("`https://ci.example.com/builders/laptop@v1` as the builder"),
        "{message}"
    );
    assert!(matches!(
        a.judge(Need::Sbom, s.policy()),
        Judgement::NoneOfKind { .. }
    ));

    // No material; unreadable material with its place.
    let a = s.attestations(REPO, &digest(9));
    assert!(matches!(
        a.judge(Need::Sbom, s.policy()),
        Judgement::NoMaterial { .. }
    ));
    std::fs::write(
        tmp.path()
            .join(format!("{}.att.json", digest(10).replace(':', "-"))),
        "{\"payloadType\": \"x\"\n{oops\n",
    )
    .unwrap();
    let a = s.attestations(REPO, &digest(10));
    let MaterialState::Unreadable { origin, .. } = &a.material else {
        panic!("{a:?}");
    };
    assert_eq!(
        origin,
        &format!("signatures/{}.att.json:1:19", digest(10).replace(':', "-"))
    );
    // An image signature is not an attestation.
    std::fs::write(
        tmp.path()
            .join(format!("{}.att.json", digest(11).replace(':', "-"))),
        "{\"Payload\": \"e30=\", \"Base64Signature\": \"AAAA\"}\n",
    )
    .unwrap();
    let a = s.attestations(REPO, &digest(11));
    let MaterialState::Unreadable { reason, .. } = &a.material else {
        panic!("{a:?}");
    };
    assert!(reason.contains("image signature"), "{reason}");

    // A failing SBOM next to a good provenance: the SBOM's failure is reported, not "none".
    let d = digest(12);
    let mut bad_sbom = envelope(&release, INTOTO_PAYLOAD_TYPE, &spdx(&d));
    let other: Signature = release.sign(b"something else");
    bad_sbom["signatures"][0]["sig"] = STANDARD.encode(other.to_der().as_bytes()).into();
    write_lines(
        tmp.path(),
        &d,
        &[
            envelope(&release, INTOTO_PAYLOAD_TYPE, &provenance(&d, BUILDER)),
            bad_sbom,
        ],
    );
    let a = s.attestations(REPO, &d);
    assert!(a.judge(Need::Provenance, s.policy()).is_met());
    let Judgement::Failed(f) = a.judge(Need::Sbom, s.policy()) else {
        panic!("{a:?}");
    };
    assert_eq!(f.claimed_type.as_deref(), Some(intoto::SPDX));
}

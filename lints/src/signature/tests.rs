use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePublicKey;

use super::*;

// A published cosign test vector: the public key, simple-signing payload and signature that
// sigstore-rs uses for a key-signed image (repository sigstore/sigstore-rs, file
// src/cosign/signature_layers.rs, `build_correct_signature_layer_without_bundle`). The payload
// there is built with `json!` and serialised compactly; these are those bytes.
const VECTOR_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENptdY/l3nB0yqkXLBWkZWQwo6+cu
OSWS1X9vPavpiQOoTTGC0xX57OojUadxF1cdQmrsiReWg2Wn4FneJfa8xw==
-----END PUBLIC KEY-----";
const VECTOR_SIGNATURE: &str = "MEUCIQD6q/COgzOyW0YH1Dk+CCYSt4uAhm3FDHUwvPI55zwnlwIgE0ZK58ZOWpZw8YVmBapJhBqCfdPekIknimuO0xH8Jh8=";
const VECTOR_PAYLOAD: &str = r#"{"critical":{"identity":{"docker-reference":"registry-testing.svc.lan/busybox"},"image":{"docker-manifest-digest":"sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b"},"type":"cosign container image signature"},"optional":null}"#;
const VECTOR_DIGEST: &str =
    "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06b";

const REPO: &str = "registry.example.com/edge/agent";

fn key(seed: u8) -> SigningKey {
    let mut bytes = [0x11u8; 32];
    bytes[31] = seed;
    SigningKey::from_slice(&bytes).expect("a valid scalar")
}

fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

fn payload(digest: &str, kind: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{REPO}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"{kind}"}},"optional":null}}"#
    )
    .into_bytes()
}

fn line(payload: &[u8], signature: &[u8], cert: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "Base64Signature": STANDARD.encode(signature),
        "Payload": STANDARD.encode(payload),
        "Cert": null,
        "Chain": null,
        "Bundle": null,
    });
    if let Some(c) = cert {
        v["Cert"] = c.into();
    }
    v.to_string()
}

fn der(sk: &SigningKey, payload: &[u8]) -> Vec<u8> {
    let sig: Signature = sk.sign(payload);
    sig.to_der().as_bytes().to_vec()
}

fn pem(sk: &SigningKey) -> String {
    use p256::pkcs8::{EncodePublicKey, LineEnding};
    sk.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("encodable")
}

fn store(dir: &Path, keys: &[(&str, &SigningKey, &[&str])]) -> TrustStore {
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
        dir,
    )
    .expect("valid patterns")
}

fn write(dir: &Path, digest: &str, lines: &[String]) {
    std::fs::write(
        dir.join(format!("{}.json", digest.replace(':', "-"))),
        lines.join("\n") + "\n",
    )
    .unwrap();
}

fn outcome(v: &Verification) -> Outcome {
    match &v.verdict {
        Verdict::Verified(o) | Verdict::Rejected(o) => o.outcome.clone(),
        other => panic!("expected a judged signature, got {other:?}"),
    }
}

/// A store trusting the published vector's key for its repository, material in `dir`.
fn vector_store(vk: VerifyingKey, dir: &Path) -> TrustStore {
    TrustStore::from_keys(
        vec![(
            "vector".into(),
            vk,
            vec!["registry-testing.svc.lan/**".into()],
        )],
        dir,
        dir,
    )
    .unwrap()
}

#[test]
fn published_vector_is_accepted_and_a_changed_byte_rejected() {
    let vk = VerifyingKey::from_public_key_pem(VECTOR_PUBLIC_KEY).expect("vector key");
    let signature = STANDARD.decode(VECTOR_SIGNATURE).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let s = vector_store(vk, tmp.path());
    write(
        tmp.path(),
        VECTOR_DIGEST,
        &[line(VECTOR_PAYLOAD.as_bytes(), &signature, None)],
    );
    let v = s.verify("registry-testing.svc.lan/busybox", VECTOR_DIGEST);
    assert_eq!(
        outcome(&v),
        Outcome::Verified {
            key: "vector".into()
        }
    );

    // One byte of the payload changed (the digest's last hex digit `b` -> `c`): the signature
    // no longer holds, under the trusted key or any other.
    let mut changed = VECTOR_PAYLOAD.as_bytes().to_vec();
    let at = VECTOR_PAYLOAD.find("b06b\"").unwrap() + 3;
    changed[at] = b'c';
    assert_ne!(changed, VECTOR_PAYLOAD.as_bytes());
    let other = "sha256:f3cfc9d0dbf931d3db4685ec659b7ac68e2a578219da4aae65427886e649b06c";
    write(tmp.path(), other, &[line(&changed, &signature, None)]);
    let v = s.verify("registry-testing.svc.lan/busybox", other);
    assert_eq!(
        outcome(&v),
        Outcome::NoTrustedKey {
            keys: vec!["vector".into()]
        }
    );
    // With the key named by the material, the same change reads as tampering.
    write(
        tmp.path(),
        other,
        &[line(&changed, &signature, Some(VECTOR_PUBLIC_KEY))],
    );
    let s2 = vector_store(vk, tmp.path());
    assert_eq!(
        outcome(&s2.verify("registry-testing.svc.lan/busybox", other)),
        Outcome::Tampered
    );
}

#[test]
fn every_outcome_is_told_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let trusted = key(1);
    let platform = key(2);
    let stranger = key(3);
    let s = store(
        tmp.path(),
        &[
            ("release", &trusted, &["registry.example.com/edge/*"]),
            ("platform", &platform, &["registry.example.com/platform/**"]),
        ],
    );

    // Signed by the trusted key, raw DER and fixed-size r||s both accepted.
    let d = digest(1);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(tmp.path(), &d, &[line(&p, &der(&trusted, &p), None)]);
    assert_eq!(
        outcome(&s.verify(REPO, &d)),
        Outcome::Verified {
            key: "release".into()
        }
    );
    let d = digest(2);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    let fixed: Signature = trusted.sign(&p);
    write(tmp.path(), &d, &[line(&p, &fixed.to_bytes(), None)]);
    assert!(matches!(
        outcome(&s.verify(REPO, &d)),
        Outcome::Verified { .. }
    ));

    // No material at all.
    let v = s.verify(REPO, &digest(3));
    assert!(matches!(&v.verdict, Verdict::NoMaterial { looked } if looked.len() == 2));

    // Unreadable: broken JSON on line 2, with line and column.
    let d = digest(4);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(
        tmp.path(),
        &d,
        &[line(&p, &der(&trusted, &p), None), "{\"Payload\": ".into()],
    );
    match &s.verify(REPO, &d).verdict {
        Verdict::Unreadable { origin, .. } => {
            assert!(
                origin.ends_with(&format!("{}.json:2:12", d.replace(':', "-"))),
                "{origin}"
            )
        }
        other => panic!("{other:?}"),
    }

    // Signed by a key not in the store, which the material names.
    let d = digest(5);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(
        tmp.path(),
        &d,
        &[line(&p, &der(&stranger, &p), Some(&pem(&stranger)))],
    );
    assert!(matches!(
        outcome(&s.verify(REPO, &d)),
        Outcome::UntrustedKey { .. }
    ));

    // Signed by a key not in the store, material names no key.
    let d = digest(6);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(tmp.path(), &d, &[line(&p, &der(&stranger, &p), None)]);
    assert!(matches!(
        outcome(&s.verify(REPO, &d)),
        Outcome::NoTrustedKey { .. }
    ));

    // A trusted key, not trusted for this repository.
    let d = digest(7);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(tmp.path(), &d, &[line(&p, &der(&platform, &p), None)]);
    assert_eq!(
        outcome(&s.verify(REPO, &d)),
        Outcome::KeyNotAllowed {
            key: "platform".into(),
            repository: REPO.into()
        }
    );
    // `*` is one path segment: a deeper repository is not covered by `edge/*`.
    let deeper = "registry.example.com/edge/team/agent";
    write(tmp.path(), &d, &[line(&p, &der(&trusted, &p), None)]);
    assert!(matches!(
        outcome(&s.verify(deeper, &d)),
        Outcome::KeyNotAllowed { .. }
    ));

    // Signed by the trusted key for another digest.
    let d = digest(8);
    let p = payload(&digest(9), IMAGE_SIGNATURE_TYPE);
    write(tmp.path(), &d, &[line(&p, &der(&trusted, &p), None)]);
    assert_eq!(
        outcome(&s.verify(REPO, &d)),
        Outcome::DigestMismatch {
            key: "release".into(),
            signed: digest(9)
        }
    );

    // Signed payload changed afterwards, the material naming the signer.
    let d = digest(10);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    let sig = der(&trusted, &p);
    let mut altered = p.clone();
    let i = altered.len() - 3;
    altered[i] ^= 0x01;
    write(
        tmp.path(),
        &d,
        &[line(&altered, &sig, Some(&pem(&trusted)))],
    );
    assert_eq!(outcome(&s.verify(REPO, &d)), Outcome::Tampered);

    // Wrong critical.type (an attestation, say).
    let d = digest(11);
    let p = payload(&d, "cosign container image attestation");
    write(tmp.path(), &d, &[line(&p, &der(&trusted, &p), None)]);
    assert!(matches!(
        outcome(&s.verify(REPO, &d)),
        Outcome::WrongType { found, .. } if found == "`cosign container image attestation`"
    ));

    // One good signature among bad ones is enough, as for cosign.
    let d = digest(12);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(
        tmp.path(),
        &d,
        &[
            line(&p, &der(&stranger, &p), None),
            line(&p, &der(&trusted, &p), None),
        ],
    );
    assert!(matches!(s.verify(REPO, &d).verdict, Verdict::Verified(_)));
}

#[test]
fn identical_digests_are_verified_once() {
    let tmp = tempfile::tempdir().unwrap();
    let trusted = key(1);
    let s = store(tmp.path(), &[("release", &trusted, &["**"])]);
    let d = digest(1);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    write(tmp.path(), &d, &[line(&p, &der(&trusted, &p), None)]);
    use rayon::prelude::*;
    (0..1000).into_par_iter().for_each(|_| {
        assert!(matches!(s.verify(REPO, &d).verdict, Verdict::Verified(_)));
    });
    assert_eq!(s.verifications(), 1);
    s.verify(REPO, &digest(2));
    assert_eq!(s.verifications(), 2);
}

#[test]
fn digests_are_checked_before_they_name_a_file() {
    assert!(is_valid_digest(&digest(1)));
    assert!(!is_valid_digest("sha256:../../etc/passwd"));
    assert!(!is_valid_digest("sha256:ABC"));
    assert!(!is_valid_digest(&digest(1).replace("sha256", "md5")));
    let tmp = tempfile::tempdir().unwrap();
    let s = store(tmp.path(), &[("release", &key(1), &["**"])]);
    assert!(matches!(
        s.verify_image("registry.example.com/a@sha256:../../x"),
        ImageVerdict::MalformedDigest(_)
    ));
    assert!(matches!(
        s.verify_image("registry.example.com/a:1"),
        ImageVerdict::Unpinned
    ));
}

#[test]
fn repositories_are_normalised_as_runtimes_pull_them() {
    use crate::rules::images::ImageRef;
    let r = |i: &str| repository(&ImageRef::parse(i));
    assert_eq!(r("nginx@sha256:00"), "docker.io/library/nginx");
    assert_eq!(r("acme/agent:1"), "docker.io/acme/agent");
    assert_eq!(
        r("registry.example.com:5000/edge/a:1"),
        "registry.example.com:5000/edge/a"
    );
    assert_eq!(r("localhost/app"), "localhost/app");
}

#[test]
fn oci_layout_as_cosign_save_writes_it() {
    use sha2::Digest as _;
    let tmp = tempfile::tempdir().unwrap();
    let trusted = key(1);
    let s = store(tmp.path(), &[("release", &trusted, &["**"])]);
    let d = digest(1);
    let p = payload(&d, IMAGE_SIGNATURE_TYPE);
    let sig = STANDARD.encode(der(&trusted, &p));
    let root = tmp.path().join(d.replace(':', "-"));
    std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
    let put = |bytes: &[u8]| {
        let hex: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(root.join("blobs/sha256").join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    };
    let layer = put(&p);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": put(b"{}")},
        "layers": [{
            "mediaType": SIMPLE_SIGNING_MEDIA_TYPE,
            "size": p.len(),
            "digest": layer,
            "annotations": {SIGNATURE_ANNOTATION: sig}
        }]
    })
    .to_string();
    let manifest_digest = put(manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10, "digest": d,
             "annotations": {"kind": "dev.cosignproject.cosign/image"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": manifest.len(),
             "digest": manifest_digest, "annotations": {"kind": "dev.cosignproject.cosign/sigs"}}
        ]
    });
    std::fs::write(root.join("index.json"), index.to_string()).unwrap();
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    assert!(matches!(s.verify(REPO, &d).verdict, Verdict::Verified(_)));

    // A blob that does not match its digest is unreadable material.
    let hex = layer.strip_prefix("sha256:").unwrap();
    std::fs::write(root.join("blobs/sha256").join(hex), b"{}").unwrap();
    let s = store(tmp.path(), &[("release", &trusted, &["**"])]);
    assert!(matches!(
        s.verify(REPO, &d).verdict,
        Verdict::Unreadable { .. }
    ));
}

#[test]
fn a_certificate_names_the_signer() {
    // A self-signed P-256 certificate's DER layout, built by hand around the key's SPKI: the
    // parser must find the SPKI after the version, serial, algorithm, issuer, validity and
    // subject.
    use p256::pkcs8::EncodePublicKey;
    let sk = key(7);
    let spki = sk.verifying_key().to_public_key_der().unwrap();
    let el = |tag: u8, body: &[u8]| {
        let mut v = vec![tag];
        if body.len() < 0x80 {
            v.push(body.len() as u8);
        } else {
            v.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        v.extend_from_slice(body);
        v
    };
    let mut tbs = Vec::new();
    tbs.extend(el(0xa0, &el(0x02, &[2])));
    tbs.extend(el(0x02, &[1]));
    tbs.extend(el(
        0x30,
        &el(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    ));
    tbs.extend(el(0x30, &[]));
    tbs.extend(el(0x30, &[]));
    tbs.extend(el(0x30, &[]));
    tbs.extend_from_slice(spki.as_bytes());
    let mut cert = el(0x30, &tbs);
    cert.extend(el(0x30, &[]));
    cert.extend(el(0x03, &[0]));
    let cert = el(0x30, &cert);
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        STANDARD.encode(&cert)
    );
    let found = material::key_from_pem(&pem).expect("key found");
    assert_eq!(found, *sk.verifying_key());
}

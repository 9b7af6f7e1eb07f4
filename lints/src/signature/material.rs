//! Reading exported signature material for one digest (layouts in `docs/signatures.md`):
//!
//! 1. `<material>/<alg>-<hex>.json`: JSON lines as `cosign download signature` prints them,
//!    one signature a line (`Payload`: base64 payload bytes, `Base64Signature`, optional `Cert`).
//! 2. `<material>/<alg>-<hex>/`: an OCI image layout as `cosign save` writes it (`index.json` →
//!    the manifest annotated `kind: dev.cosignproject.cosign/sigs` → layers of media type
//!    `application/vnd.dev.cosign.simplesigning.v1+json`, each blob a payload and its annotation
//!    `dev.cosignproject.cosign/signature` the base64 signature).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::Digest;

/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the signer's certificate (PEM), when there is one.
const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// `index.json` annotation marking the signatures manifest, and the image's.
pub(super) const KIND_ANNOTATION: &str = "kind";
const KIND_SIGNATURES: &str = "dev.cosignproject.cosign/sigs";
const KIND_IMAGE: &[&str] = &[
    "dev.cosignproject.cosign/image",
    "dev.cosignproject.cosign/imageIndex",
];

/// Material files larger than this are refused (a signature is a few hundred bytes).
const MAX_MATERIAL_BYTES: u64 = 16 * 1024 * 1024;

/// One signature read from the material.
#[derive(Debug, Clone)]
pub struct MaterialSignature {
    /// Where it was read, for messages.
    pub origin: String,
    /// The payload bytes exactly as signed.
    pub payload: Vec<u8>,
    /// The decoded signature bytes.
    pub signature: Vec<u8>,
    /// The public key the material says signed it (from a certificate or a PEM key), if any.
    pub claimed_key: Option<VerifyingKey>,
}

pub(crate) enum Material {
    Missing { looked: Vec<String> },
    Unreadable { origin: String, reason: String },
    Found(Vec<MaterialSignature>),
}

/// Every signature stored for `digest` (already validated: `alg:hex`).
pub(crate) fn load(dir: &Path, shown: &Path, digest: &str) -> Material {
    let stem = digest.replace(':', "-");
    let json = dir.join(format!("{stem}.json"));
    let layout = dir.join(&stem);
    let json_shown = shown.join(format!("{stem}.json"));
    let layout_shown = shown.join(&stem);
    let mut found = Vec::new();
    let mut any = false;
    if json.is_file() {
        any = true;
        match read_download_lines(&json, &json_shown.display().to_string()) {
            Ok(s) => found.extend(s),
            Err((origin, reason)) => return Material::Unreadable { origin, reason },
        }
    }
    if layout.is_dir() {
        any = true;
        match read_layout(&layout, &layout_shown, digest) {
            Ok(s) => found.extend(s),
            Err((origin, reason)) => return Material::Unreadable { origin, reason },
        }
    }
    if !any {
        return Material::Missing {
            looked: vec![
                json_shown.display().to_string(),
                format!("{}/", layout_shown.display()),
            ],
        };
    }
    Material::Found(found)
}

pub(super) type Unreadable = (String, String);

pub(super) fn read_bytes(path: &Path, shown: &str) -> Result<Vec<u8>, Unreadable> {
    let meta = std::fs::metadata(path).map_err(|e| (shown.to_owned(), e.to_string()))?;
    if meta.len() > MAX_MATERIAL_BYTES {
        return Err((
            shown.to_owned(),
            format!(
                "larger than the {} MiB edgefleet reads",
                MAX_MATERIAL_BYTES / (1024 * 1024)
            ),
        ));
    }
    std::fs::read(path).map_err(|e| (shown.to_owned(), e.to_string()))
}

/// Layout 1: JSON lines from `cosign download signature`.
fn read_download_lines(path: &Path, shown: &str) -> Result<Vec<MaterialSignature>, Unreadable> {
    parse_download_lines(read_bytes(path, shown)?, shown)
}

/// The signatures of layout 1 (JSON lines as `cosign download signature` prints them), read from
/// bytes; `shown` names the file in messages. An error is (where, why), located at `file:line:col`
/// when it is about one line.
pub fn parse_download_lines(
    bytes: Vec<u8>,
    shown: &str,
) -> Result<Vec<MaterialSignature>, (String, String)> {
    let text = String::from_utf8(bytes).map_err(|_| (shown.to_owned(), "not UTF-8".to_owned()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let at = |col: usize| format!("{shown}:{n}:{col}");
        let entry: Value = serde_json::from_str(line).map_err(|e| {
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            (at(e.column().max(1)), format!("invalid JSON: {message}"))
        })?;
        let field = |name: &str| -> Result<&str, Unreadable> {
            match entry.get(name) {
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err((
                    at(column_of(line, name)),
                    format!("`{name}` is not a string"),
                )),
                None => Err((
                    at(1),
                    format!("no `{name}`: not a line of `cosign download signature` output"),
                )),
            }
        };
        let payload = STANDARD.decode(field("Payload")?).map_err(|e| {
            (
                at(column_of(line, "Payload")),
                format!("`Payload` is not base64: {e}"),
            )
        })?;
        let signature = STANDARD
            .decode(field("Base64Signature")?.trim())
            .map_err(|e| {
                (
                    at(column_of(line, "Base64Signature")),
                    format!("`Base64Signature` is not base64: {e}"),
                )
            })?;
        out.push(MaterialSignature {
            origin: format!("{shown}:{n}"),
            payload,
            signature,
            claimed_key: entry.get("Cert").and_then(claimed_key),
        });
    }
    if out.is_empty() {
        return Err((shown.to_owned(), "holds no signature".to_owned()));
    }
    Ok(out)
}

/// 1-based column of `"name"` in a JSON line (for messages), 1 when absent.
fn column_of(line: &str, name: &str) -> usize {
    line.find(&format!("\"{name}\""))
        .map_or(1, |i| line[..i].chars().count() + 1)
}

/// The key named by a `Cert` field: a PEM public key or certificate, or a certificate as Go's
/// JSON encoding of `x509.Certificate` writes it (`RawSubjectPublicKeyInfo`, base64 DER).
fn claimed_key(cert: &Value) -> Option<VerifyingKey> {
    match cert {
        Value::String(pem) => key_from_pem(pem),
        Value::Object(o) => {
            let der = STANDARD
                .decode(o.get("RawSubjectPublicKeyInfo")?.as_str()?)
                .ok()?;
            VerifyingKey::from_public_key_der(&der).ok()
        }
        _ => None,
    }
}

/// The public key in a PEM public key or certificate, `None` when there is none or it is not a
/// P-256 key.
pub fn key_from_pem(pem: &str) -> Option<VerifyingKey> {
    let pem = pem.trim();
    if pem.contains("-----BEGIN PUBLIC KEY-----") {
        return VerifyingKey::from_public_key_pem(pem).ok();
    }
    let body = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(body).ok()?;
    VerifyingKey::from_public_key_der(certificate_spki(&der)?).ok()
}

/// The SubjectPublicKeyInfo of a DER X.509 certificate: the seventh field of the TBS
/// certificate, or the sixth when the optional `[0]` version is absent.
pub fn certificate_spki(der: &[u8]) -> Option<&[u8]> {
    let (cert, _) = tlv(der, 0x30)?;
    let (tbs, _) = tlv(content(cert)?, 0x30)?;
    let mut rest = content(tbs)?;
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest, 0xa0)?.1;
    }
    // serial, signature algorithm, issuer, validity, subject
    for _ in 0..5 {
        rest = tlv(rest, rest.first().copied()?)?.1;
    }
    Some(tlv(rest, 0x30)?.0)
}

/// Splits one DER element (tag `tag`) off the front: (the whole element, the rest).
fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *input.first()? != tag {
        return None;
    }
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    (end <= input.len()).then(|| (&input[..end], &input[end..]))
}

/// The content of one DER element (after its tag and length).
fn content(element: &[u8]) -> Option<&[u8]> {
    let first = *element.get(1)? as usize;
    let header = if first < 0x80 { 2 } else { 2 + (first & 0x7f) };
    element.get(header..)
}

/// Layout 2: an OCI image layout written by `cosign save`.
fn read_layout(
    dir: &Path,
    shown: &Path,
    digest: &str,
) -> Result<Vec<MaterialSignature>, Unreadable> {
    let index_shown = shown.join("index.json").display().to_string();
    let index = read_bytes(&dir.join("index.json"), &index_shown)?;
    parse_layout(&index, shown, digest, &|hex: &str| {
        let path = dir.join("blobs/sha256").join(hex);
        let shown = shown.join("blobs/sha256").join(hex).display().to_string();
        read_bytes(&path, &shown)
    })
}

/// The signatures of layout 2 (an OCI image layout as `cosign save` writes it) for `digest`, from
/// the bytes of its `index.json`; `blob` reads the blob named by a SHA-256 hex digest (each is
/// checked against its digest here). `shown` names the layout folder in messages.
/// Reads a blob of an OCI layout by its hex digest; errors are (file shown, message).
pub type BlobReader<'a> = dyn Fn(&str) -> Result<Vec<u8>, (String, String)> + 'a;

pub fn parse_layout(
    index: &[u8],
    shown: &Path,
    digest: &str,
    blob: &BlobReader<'_>,
) -> Result<Vec<MaterialSignature>, (String, String)> {
    let index_shown = shown.join("index.json").display().to_string();
    let index: Value = serde_json::from_slice(index).map_err(|e| {
        (
            format!("{index_shown}:{}:{}", e.line(), e.column()),
            format!("invalid JSON: {e}"),
        )
    })?;
    let manifests = index
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or_else(|| (index_shown.clone(), "no `manifests` list".to_owned()))?;
    let kind = |m: &Value| {
        m.pointer(&format!("/annotations/{KIND_ANNOTATION}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    for m in manifests {
        if kind(m).is_some_and(|k| KIND_IMAGE.contains(&k.as_str()))
            && let Some(d) = m.get("digest").and_then(Value::as_str)
            && d != digest
        {
            return Err((
                index_shown.clone(),
                format!("the layout holds image {d}, not {digest}"),
            ));
        }
    }
    let mut out = Vec::new();
    let mut seen_signatures_manifest = false;
    for m in manifests
        .iter()
        .filter(|m| kind(m).as_deref() == Some(KIND_SIGNATURES))
    {
        seen_signatures_manifest = true;
        let manifest_digest = m.get("digest").and_then(Value::as_str).unwrap_or("");
        let (manifest, manifest_shown) = read_blob(blob, shown, manifest_digest)?;
        let manifest: Value = serde_json::from_slice(&manifest).map_err(|e| {
            (
                format!("{manifest_shown}:{}:{}", e.line(), e.column()),
                format!("invalid JSON: {e}"),
            )
        })?;
        let layers = manifest
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| (manifest_shown.clone(), "no `layers` list".to_owned()))?;
        for layer in layers {
            if layer.get("mediaType").and_then(Value::as_str) != Some(SIMPLE_SIGNING_MEDIA_TYPE) {
                continue;
            }
            let annotation = |key: &str| {
                layer
                    .get("annotations")
                    .and_then(|a| a.get(key))
                    .and_then(Value::as_str)
            };
            let layer_digest = layer.get("digest").and_then(Value::as_str).unwrap_or("");
            let (payload, origin) = read_blob(blob, shown, layer_digest)?;
            let signature = annotation(SIGNATURE_ANNOTATION).ok_or_else(|| {
                (
                    manifest_shown.clone(),
                    format!("layer {layer_digest} has no `{SIGNATURE_ANNOTATION}` annotation"),
                )
            })?;
            let signature = STANDARD.decode(signature.trim()).map_err(|e| {
                (
                    manifest_shown.clone(),
                    format!("layer {layer_digest}: the signature is not base64: {e}"),
                )
            })?;
            out.push(MaterialSignature {
                origin,
                payload,
                signature,
                claimed_key: annotation(CERTIFICATE_ANNOTATION).and_then(key_from_pem),
            });
        }
    }
    if !seen_signatures_manifest {
        return Err((
            index_shown,
            format!("no manifest annotated `{KIND_ANNOTATION}: {KIND_SIGNATURES}`"),
        ));
    }
    Ok(out)
}

/// A blob of the layout, checked against its digest (only `sha256` blobs are read).
pub(super) fn read_blob(
    blob: &dyn Fn(&str) -> Result<Vec<u8>, Unreadable>,
    shown: &Path,
    digest: &str,
) -> Result<(Vec<u8>, String), Unreadable> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            (
                shown.display().to_string(),
                format!("unsupported blob digest `{digest}`"),
            )
        })?;
    let shown = shown.join("blobs/sha256").join(hex).display().to_string();
    let bytes = blob(hex)?;
    let actual: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !actual.eq_ignore_ascii_case(hex) {
        return Err((
            shown,
            format!("the blob's SHA-256 is {actual}, not the digest that names it"),
        ));
    }
    Ok((bytes, shown))
}

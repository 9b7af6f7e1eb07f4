//! DSSE envelopes, the signed wrapper `cosign attest` puts around an in-toto statement, read
//! bare (as `cosign download attestation` prints them and as `cosign save` stores them) or from
//! inside a Sigstore bundle (`dsseEnvelope`).
//!
//! The signature covers the envelope's pre-authentication encoding (PAE), never the JSON:
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;

/// The payload type of an in-toto statement.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Media type of an attestation layer in a cosign attestations manifest.
pub const DSSE_LAYER_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Every Sigstore bundle media type starts so (`…bundle+json;version=0.1`, `…bundle.v0.3+json`).
const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// A DSSE envelope, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    /// The payload bytes exactly as signed.
    pub payload: Vec<u8>,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Informational: DSSE says a verifier must not rely on it.
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// How an attestation was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A bare DSSE envelope.
    Envelope,
    /// A Sigstore bundle holding a DSSE envelope, with its media type.
    Bundle { media_type: String },
}

impl Shape {
    pub fn describe(&self) -> String {
        match self {
            Shape::Envelope => "DSSE envelope".to_owned(),
            Shape::Bundle { media_type } => format!("Sigstore bundle ({media_type})"),
        }
    }
}

/// One envelope read from material, with the key its bundle names (a certificate's key),
/// which is never trusted by itself: it only tells an untrusted signer from a tampered payload.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub envelope: Envelope,
    pub shape: Shape,
    pub claimed_key: Option<VerifyingKey>,
}

impl Envelope {
    /// The bytes every signature of the envelope covers.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// DSSE allows the standard and the URL-safe base64 alphabets, padded or not.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    for engine in [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        if let Ok(bytes) = engine.decode(text) {
            return Ok(bytes);
        }
    }
    Err("not base64".to_owned())
}

/// Reads one JSON value of attestation material: a DSSE envelope, or a Sigstore bundle that
/// holds one. The error says what the value is instead.
pub fn parse(value: &Value) -> Result<Parsed, String> {
    let Some(object) = value.as_object() else {
        return Err("not a JSON object".to_owned());
    };
    if let Some(media_type) = object.get("mediaType").and_then(Value::as_str)
        && media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX)
    {
        let Some(envelope) = object.get("dsseEnvelope") else {
            return Err(if object.contains_key("messageSignature") {
                "a Sigstore bundle of a message signature, not of an attestation (no `dsseEnvelope`)"
                    .to_owned()
            } else {
                "a Sigstore bundle without `dsseEnvelope`".to_owned()
            });
        };
        let envelope = envelope_of(envelope).map_err(|e| format!("`dsseEnvelope`: {e}"))?;
        return Ok(Parsed {
            envelope,
            shape: Shape::Bundle {
                media_type: media_type.to_owned(),
            },
            claimed_key: bundle_key(value),
        });
    }
    if object.contains_key("payloadType") || object.contains_key("signatures") {
        return Ok(Parsed {
            envelope: envelope_of(value)?,
            shape: Shape::Envelope,
            claimed_key: None,
        });
    }
    if object.contains_key("Payload") && object.contains_key("Base64Signature") {
        return Err(
            "an image signature (`cosign download signature` output), not an attestation"
                .to_owned(),
        );
    }
    Err(
        "neither a DSSE envelope (`payloadType`, `payload`, `signatures`) nor a Sigstore bundle (`mediaType`, `dsseEnvelope`)"
            .to_owned(),
    )
}

fn envelope_of(value: &Value) -> Result<Envelope, String> {
    let text = |name: &str| -> Result<&str, String> {
        match value.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(format!("`{name}` is not a string")),
            None => Err(format!("no `{name}`")),
        }
    };
    let payload_type = text("payloadType")?.to_owned();
    let payload = decode_base64(text("payload")?).map_err(|e| format!("`payload` is {e}"))?;
    let list = match value.get("signatures") {
        Some(Value::Array(list)) => list,
        Some(_) => return Err("`signatures` is not a list".to_owned()),
        None => return Err("no `signatures`".to_owned()),
    };
    let mut signatures = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let sig = s
            .get("sig")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("`signatures[{i}]` has no `sig` string"))?;
        let sig = decode_base64(sig).map_err(|e| format!("`signatures[{i}].sig` is {e}"))?;
        signatures.push(EnvelopeSignature {
            keyid: s
                .get("keyid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            sig,
        });
    }
    if signatures.is_empty() {
        return Err("the envelope holds no signature".to_owned());
    }
    Ok(Envelope {
        payload_type,
        payload,
        signatures,
    })
}

/// The key a bundle's verification material names: its certificate's (v0.3 `certificate`, or
/// the first of v0.1/v0.2 `x509CertificateChain`). A `publicKey` hint names no key.
fn bundle_key(bundle: &Value) -> Option<VerifyingKey> {
    let material = bundle.get("verificationMaterial")?;
    let raw = material
        .pointer("/certificate/rawBytes")
        .or_else(|| material.pointer("/x509CertificateChain/certificates/0/rawBytes"))?
        .as_str()?;
    let der = STANDARD.decode(raw.trim()).ok()?;
    VerifyingKey::from_public_key_der(super::material::certificate_spki(&der)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification() {
        // The example of the DSSE protocol description.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn both_base64_alphabets_are_read() {
        assert_eq!(decode_base64("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_base64("%%").is_err());
    }

    #[test]
    fn shapes_are_told_apart() {
        let envelope = serde_json::json!({
            "payloadType": INTOTO_PAYLOAD_TYPE, "payload": "e30=",
            "signatures": [{"keyid": "", "sig": "AAAA"}]
        });
        let p = parse(&envelope).unwrap();
        assert_eq!(
            (p.shape, p.envelope.payload),
            (Shape::Envelope, b"{}".to_vec())
        );
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "x"}},
            "dsseEnvelope": envelope,
        });
        let p = parse(&bundle).unwrap();
        assert!(matches!(p.shape, Shape::Bundle { .. }) && p.claimed_key.is_none());
        let message = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.2",
            "messageSignature": {},
        });
        assert!(parse(&message).unwrap_err().contains("message signature"));
        let signature = serde_json::json!({"Payload": "e30=", "Base64Signature": "AAAA"});
        assert!(parse(&signature).unwrap_err().contains("image signature"));
        let empty = serde_json::json!({"payloadType": "x", "payload": "", "signatures": []});
        assert!(parse(&empty).unwrap_err().contains("no signature"));
    }
}

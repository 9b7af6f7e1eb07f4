//! in-toto statements (the payload of an attestation) and the predicates edgefleet judges:
//! SLSA provenance (v1 and v0.2) and SBOMs (SPDX and CycloneDX).
//!
//! Statement versions: `https://in-toto.io/Statement/v0.1` is what cosign builds from a
//! predicate (`cosign attest --type ...`, pkg/cosign/attestation: `in_toto.StatementInTotoV01`);
//! `https://in-toto.io/Statement/v1` is what in-toto attestation v1 tools, sigstore-go based
//! signers and cosign `--statement` (cosign 2.6 and later signs a statement given to it) carry.
//! Both have `subject` (name and `digest` algorithm → hex), `predicateType` and `predicate`.

use std::collections::BTreeMap;

use serde_json::Value;

pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
/// cosign `--type spdx` / `spdxjson` (in-toto-golang `PredicateSPDX`); versioned forms such as
/// `https://spdx.dev/Document/v2.3` are accepted too.
pub const SPDX: &str = "https://spdx.dev/Document";
/// cosign `--type cyclonedx` (in-toto-golang `PredicateCycloneDX`); versioned forms such as
/// `https://cyclonedx.org/bom/v1.5` are accepted too.
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";

/// A statement's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementVersion {
    V01,
    V1,
}

impl StatementVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementVersion::V01 => "in-toto Statement v0.1",
            StatementVersion::V1 => "in-toto Statement v1",
        }
    }
}

/// A SLSA provenance predicate's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlsaVersion {
    V1,
    V02,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    Spdx,
    CycloneDx,
}

/// What the predicate is, as far as edgefleet's rules care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// SLSA provenance; `builder` is `runDetails.builder.id` (v1) or `builder.id` (v0.2).
    Provenance {
        version: SlsaVersion,
        builder: Option<String>,
    },
    /// An SBOM; `version` is what the document says (`SPDX-2.3`, `CycloneDX 1.5`).
    Sbom { format: SbomFormat, version: String },
    /// Any other predicate type (vulnerability scans, npm publish, custom).
    Other,
}

impl Predicate {
    pub fn describe(&self, predicate_type: &str) -> String {
        match self {
            Predicate::Provenance { version, builder } => format!(
                "SLSA provenance {} from builder {}",
                match version {
                    SlsaVersion::V1 => "v1",
                    SlsaVersion::V02 => "v0.2",
                },
                builder
                    .as_deref()
                    .map_or_else(|| "(none named)".to_owned(), |b| format!("`{b}`"))
            ),
            Predicate::Sbom { format, version } => format!(
                "{} SBOM ({version})",
                match format {
                    SbomFormat::Spdx => "SPDX",
                    SbomFormat::CycloneDx => "CycloneDX",
                }
            ),
            Predicate::Other => format!("predicate `{predicate_type}`"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    /// Algorithm (`sha256`) → lowercase hex.
    pub digest: BTreeMap<String, String>,
}

/// A statement, read from a payload whose signature held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub version: StatementVersion,
    pub subjects: Vec<Subject>,
    pub predicate_type: String,
    pub predicate: Predicate,
}

impl Statement {
    /// Whether a subject has exactly this digest (`sha256:<hex>`).
    pub fn names_digest(&self, digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subjects
            .iter()
            .any(|s| s.digest.get(algorithm).is_some_and(|h| h == hex))
    }

    /// The subjects as `name@alg:hex`, for messages.
    pub fn subject_list(&self) -> Vec<String> {
        self.subjects
            .iter()
            .map(|s| {
                let digests: Vec<String> =
                    s.digest.iter().map(|(a, h)| format!("{a}:{h}")).collect();
                format!("{}@{}", s.name, digests.join(","))
            })
            .collect()
    }
}

/// The `predicateType` of a payload, read without trusting it (for messages about attestations
/// whose signature does not hold).
pub fn claimed_predicate_type(payload: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(payload).ok()?;
    doc.get("predicateType")?.as_str().map(str::to_owned)
}

/// Reads a statement. Errors say what is wrong with it.
pub fn parse(payload: &[u8]) -> Result<Statement, String> {
    let doc: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the statement is not JSON: {e}"))?;
    let version = match doc.get("_type").and_then(Value::as_str) {
        Some(STATEMENT_V01) => StatementVersion::V01,
        Some(STATEMENT_V1) => StatementVersion::V1,
        Some(other) => {
            return Err(format!(
                "unknown statement type `{other}` (expected `{STATEMENT_V1}` or `{STATEMENT_V01}`)"
            ));
        }
        None => return Err("no `_type`: not an in-toto statement".to_owned()),
    };
    let subjects = doc
        .get("subject")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or("no `subject` list: the statement is about nothing")?
        .iter()
        .map(|s| Subject {
            name: s
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            digest: s
                .get("digest")
                .and_then(Value::as_object)
                .map(|d| {
                    d.iter()
                        .filter_map(|(a, h)| Some((a.clone(), h.as_str()?.to_ascii_lowercase())))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let predicate_type = doc
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or("no `predicateType`")?
        .to_owned();
    let body = doc.get("predicate").unwrap_or(&Value::Null);
    let predicate = predicate(&predicate_type, body)?;
    Ok(Statement {
        version,
        subjects,
        predicate_type,
        predicate,
    })
}

fn is_type(predicate_type: &str, base: &str) -> bool {
    predicate_type == base
        || predicate_type
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with("/v"))
}

fn predicate(predicate_type: &str, body: &Value) -> Result<Predicate, String> {
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if predicate_type == SLSA_PROVENANCE_V1 {
        if body.get("buildDefinition").is_none() || body.get("runDetails").is_none() {
            return Err(format!(
                "a `{SLSA_PROVENANCE_V1}` predicate needs `buildDefinition` and `runDetails`"
            ));
        }
        return Ok(Predicate::Provenance {
            version: SlsaVersion::V1,
            builder: text("/runDetails/builder/id"),
        });
    }
    if predicate_type == SLSA_PROVENANCE_V02 {
        if !body.is_object() {
            return Err(format!(
                "a `{SLSA_PROVENANCE_V02}` predicate must be an object"
            ));
        }
        return Ok(Predicate::Provenance {
            version: SlsaVersion::V02,
            builder: text("/builder/id"),
        });
    }
    if is_type(predicate_type, SPDX) {
        // SPDX 2 JSON carries `spdxVersion`; cosign `--type spdx` embeds the tag-value text.
        let version = match body {
            Value::Object(_) => text("/spdxVersion"),
            Value::String(s) => s
                .lines()
                .find_map(|l| l.strip_prefix("SPDXVersion:"))
                .map(|v| v.trim().to_owned()),
            _ => None,
        };
        return match version {
            Some(version) if version.starts_with("SPDX-") => Ok(Predicate::Sbom {
                format: SbomFormat::Spdx,
                version,
            }),
            _ => Err(format!(
                "the `{predicate_type}` predicate is not an SPDX document (no `spdxVersion`)"
            )),
        };
    }
    if is_type(predicate_type, CYCLONEDX) {
        if body.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
            return Err(format!(
                "the `{predicate_type}` predicate is not a CycloneDX BOM (`bomFormat` is not `CycloneDX`)"
            ));
        }
        return Ok(Predicate::Sbom {
            format: SbomFormat::CycloneDx,
            version: format!(
                "CycloneDX {}",
                text("/specVersion").unwrap_or_else(|| "?".to_owned())
            ),
        });
    }
    Ok(Predicate::Other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statement(t: &str, predicate_type: &str, predicate: Value) -> Vec<u8> {
        json!({
            "_type": t,
            "subject": [{"name": "registry.example.com/edge/agent", "digest": {"sha256": "AB01"}}],
            "predicateType": predicate_type,
            "predicate": predicate,
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn both_statement_versions_and_every_predicate_are_read() {
        let s = parse(&statement(
            STATEMENT_V1,
            SLSA_PROVENANCE_V1,
            json!({"buildDefinition": {}, "runDetails": {"builder": {"id": "https://ci/b"}}}),
        ))
        .unwrap();
        assert_eq!(s.version, StatementVersion::V1);
        assert!(s.names_digest("sha256:ab01") && !s.names_digest("sha512:ab01"));
        assert_eq!(
            s.predicate,
            Predicate::Provenance {
                version: SlsaVersion::V1,
                builder: Some("https://ci/b".into())
            }
        );
        let s = parse(&statement(
            STATEMENT_V01,
            SLSA_PROVENANCE_V02,
            json!({"builder": {"id": "https://ci/b"}}),
        ))
        .unwrap();
        assert_eq!(s.version, StatementVersion::V01);
        assert!(matches!(
            s.predicate,
            Predicate::Provenance {
                version: SlsaVersion::V02,
                ..
            }
        ));
        let spdx = parse(&statement(
            STATEMENT_V01,
            SPDX,
            json!({"spdxVersion": "SPDX-2.3"}),
        ))
        .unwrap();
        assert_eq!(spdx.predicate.describe(SPDX), "SPDX SBOM (SPDX-2.3)");
        let text = parse(&statement(
            STATEMENT_V1,
            "https://spdx.dev/Document/v2.3",
            json!("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n"),
        ))
        .unwrap();
        assert!(matches!(
            text.predicate,
            Predicate::Sbom {
                format: SbomFormat::Spdx,
                ..
            }
        ));
        let cdx = parse(&statement(
            STATEMENT_V1,
            "https://cyclonedx.org/bom/v1.5",
            json!({"bomFormat": "CycloneDX", "specVersion": "1.5"}),
        ))
        .unwrap();
        assert_eq!(
            cdx.predicate.describe(CYCLONEDX),
            "CycloneDX SBOM (CycloneDX 1.5)"
        );
        let vuln = parse(&statement(
            STATEMENT_V01,
            "https://cosign.sigstore.dev/attestation/vuln/v1",
            json!({}),
        ))
        .unwrap();
        assert_eq!(vuln.predicate, Predicate::Other);
    }

    #[test]
    fn malformed_statements_say_why() {
        let bad = |payload: &[u8]| parse(payload).unwrap_err();
        assert!(bad(b"{").contains("not JSON"));
        assert!(
            bad(&statement(
                "https://in-toto.io/Statement/v2",
                SPDX,
                json!({})
            ))
            .contains("unknown statement type")
        );
        assert!(bad(br#"{"predicateType": "x"}"#).contains("no `_type`"));
        assert!(
            bad(&statement(STATEMENT_V1, SLSA_PROVENANCE_V1, json!({})))
                .contains("buildDefinition")
        );
        assert!(bad(&statement(STATEMENT_V1, SPDX, json!({"name": "x"}))).contains("not an SPDX"));
        assert!(bad(&statement(STATEMENT_V1, CYCLONEDX, json!({}))).contains("not a CycloneDX"));
        let no_subject = json!({"_type": STATEMENT_V1, "subject": [], "predicateType": SPDX});
        assert!(bad(no_subject.to_string().as_bytes()).contains("about nothing"));
        // A look-alike predicate type is another predicate.
        let s = parse(&statement(
            STATEMENT_V1,
            "https://spdx.dev/Documentary",
            json!({}),
        ))
        .unwrap();
        assert_eq!(s.predicate, Predicate::Other);
    }
}

//! Offline verification of in-toto attestations (DSSE envelopes signed by `cosign attest` or a
//! Sigstore signer) against the trust store, and the attestation policy of `[signatures]`:
//! SLSA provenance from an allowed builder, and SBOMs for the sites that need them.
//!
//! For a digest `sha256:<hex>` the material folder may hold (see `docs/signatures.md`):
//! - `sha256-<hex>.att.json`: `cosign download attestation` output, one DSSE envelope a line;
//! - `sha256-<hex>.sigstore.json`: one or more Sigstore bundles (v0.1 to v0.3) holding a
//!   `dsseEnvelope` (a pretty-printed bundle, or one a line);
//! - `sha256-<hex>/`: the `cosign save` layout, whose manifest annotated
//!   `kind: dev.cosignproject.cosign/atts` has one DSSE envelope per layer.
//!
//! Each file may mix envelopes and bundles. An attestation is verified when one of its
//! signatures holds, over the envelope's PAE, under a key trusted for the image's repository;
//! only then is its statement read, and it must name the image's digest among its subjects.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::Value;

use super::dsse::{self, INTOTO_PAYLOAD_TYPE, Parsed, Shape};
use super::intoto::{self, Predicate, Statement};
use super::material::{KIND_ANNOTATION, Unreadable, read_blob, read_bytes};
use super::{Outcome, TrustStore};

/// `index.json` annotation of the attestations manifest in a `cosign save` layout.
pub const KIND_ATTESTATIONS: &str = "dev.cosignproject.cosign/atts";

/// The attestation policy of `[signatures]`.
#[derive(Debug, Clone, Default)]
pub struct AttestationPolicy {
    /// Globs over SLSA `builder.id`; when not empty, every image needs a verified provenance
    /// from one of them.
    pub allowed_builders: Vec<String>,
    builders: GlobSet,
    /// Sites whose backhaul may be out at least this long need an SBOM for every image.
    pub sbom_min_outage: Option<edgefleet_inventory::units::Duration>,
}

impl AttestationPolicy {
    pub fn new(
        allowed_builders: Vec<String>,
        sbom_min_outage: Option<edgefleet_inventory::units::Duration>,
    ) -> Result<Self, (usize, String)> {
        let mut globs = GlobSetBuilder::new();
        for (i, b) in allowed_builders.iter().enumerate() {
            if b.trim().is_empty() {
                return Err((i, "an allowed builder is empty".to_owned()));
            }
            globs.add(
                GlobBuilder::new(b)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| (i, format!("invalid builder pattern: {e}")))?,
            );
        }
        Ok(Self {
            builders: globs.build().map_err(|e| (0, e.to_string()))?,
            allowed_builders,
            sbom_min_outage,
        })
    }

    pub fn requires_provenance(&self) -> bool {
        !self.allowed_builders.is_empty()
    }

    pub fn builder_allowed(&self, builder: &str) -> bool {
        self.builders.is_match(builder)
    }

    /// Whether a site whose backhaul can be out `max_outage_seconds` needs SBOMs.
    pub fn sbom_required_at(&self, max_outage_seconds: u64) -> bool {
        self.sbom_min_outage
            .as_ref()
            .is_some_and(|min| max_outage_seconds >= min.seconds)
    }
}

/// What one attestation proves.
#[derive(Debug, Clone, PartialEq)]
pub enum AttestationOutcome {
    /// Signed by a trusted key, an in-toto statement naming the image's digest.
    Verified { key: String, statement: Statement },
    /// No signature holds under a key trusted for the repository (the most telling reason).
    Signature(Outcome),
    /// Signed by a trusted key, but the payload is not an in-toto statement.
    NotInToto { key: String, payload_type: String },
    /// Signed by a trusted key, but the statement or its predicate is malformed.
    BadStatement { key: String, reason: String },
    /// Signed by a trusted key, for other artifacts.
    OtherSubject { key: String, subjects: Vec<String> },
}

impl AttestationOutcome {
    fn rank(&self) -> u8 {
        match self {
            AttestationOutcome::Verified { .. } => 0,
            AttestationOutcome::OtherSubject { .. } => 1,
            AttestationOutcome::BadStatement { .. } => 2,
            AttestationOutcome::NotInToto { .. } => 3,
            AttestationOutcome::Signature(o) => 4 + o.rank(),
        }
    }

    /// One sentence about the attestation.
    pub fn describe(&self, digest: &str) -> String {
        match self {
            AttestationOutcome::Verified { key, statement } => format!(
                "{} ({}), signed by trusted key `{key}` for {digest}",
                statement.predicate.describe(&statement.predicate_type),
                statement.version.as_str()
            ),
            AttestationOutcome::Signature(o) => o.describe(digest),
            AttestationOutcome::NotInToto { key, payload_type } => format!(
                "signed by trusted key `{key}`, but the payload type is `{payload_type}`, not an in-toto statement (`{INTOTO_PAYLOAD_TYPE}`)"
            ),
            AttestationOutcome::BadStatement { key, reason } => {
                format!("signed by trusted key `{key}`, but {reason}")
            }
            AttestationOutcome::OtherSubject { key, subjects } => format!(
                "signed by trusted key `{key}` for another artifact: its subjects are {}, the image is {digest}",
                subjects.join(", ")
            ),
        }
    }

    pub fn help(&self) -> &'static str {
        match self {
            AttestationOutcome::Verified { .. } => "",
            AttestationOutcome::Signature(o) => match o {
                Outcome::NoTrustedKey { .. } => {
                    "do not deploy until a trusted key attests the image; export the attestation again if one did"
                }
                Outcome::Tampered => {
                    "do not deploy: export the attestation again from the registry and find out who changed it"
                }
                Outcome::UntrustedKey { .. } => {
                    "attest with a trusted key, or add the signer's public key to [[signatures.keys]] if it is trusted"
                }
                Outcome::Unreadable { .. } => "export the attestation again",
                other => other.help(),
            },
            AttestationOutcome::NotInToto { .. } | AttestationOutcome::BadStatement { .. } => {
                "attest the image again with `cosign attest --type slsaprovenance1|spdxjson|cyclonedx` and export the attestation"
            }
            AttestationOutcome::OtherSubject { .. } => {
                "export the attestations of this exact digest (these belong to another artifact)"
            }
        }
    }
}

/// One attestation found in the material, with its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationFound {
    /// Where it was read (`signatures/sha256-….att.json:2`, a layout blob).
    pub origin: String,
    pub shape: Shape,
    /// The `predicateType` the payload claims, read before (and whatever) verification says:
    /// only for messages.
    pub claimed_type: Option<String>,
    pub outcome: AttestationOutcome,
}

/// Whether attestation material was found for a digest.
#[derive(Debug, Clone, PartialEq)]
pub enum MaterialState {
    Found,
    Missing { looked: Vec<String> },
    Unreadable { origin: String, reason: String },
}

/// Everything known about the attestations of one (repository, digest).
#[derive(Debug, Clone, PartialEq)]
pub struct Attestations {
    pub repository: String,
    pub digest: String,
    pub material: MaterialState,
    pub found: Vec<AttestationFound>,
}

/// An attestation a policy requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Provenance,
    Sbom,
}

impl Need {
    pub fn name(self) -> &'static str {
        match self {
            Need::Provenance => "SLSA provenance",
            Need::Sbom => "SBOM (SPDX or CycloneDX)",
        }
    }

    fn claims(self, predicate_type: &str) -> bool {
        match self {
            Need::Provenance => predicate_type.starts_with("https://slsa.dev/provenance/"),
            Need::Sbom => {
                predicate_type.starts_with(intoto::SPDX)
                    || predicate_type.starts_with(intoto::CYCLONEDX)
            }
        }
    }
}

/// How a requirement fares against the attestations of an image.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement<'a> {
    Met(&'a AttestationFound),
    NoMaterial {
        looked: &'a [String],
    },
    Unreadable {
        origin: &'a str,
        reason: &'a str,
    },
    /// A verified provenance, from a builder that is not allowed (or names none).
    BuilderNotAllowed {
        found: &'a AttestationFound,
        builder: Option<&'a str>,
    },
    /// An attestation that claims to be of the kind, and fails.
    Failed(&'a AttestationFound),
    /// Attestations exist, none of the kind (their predicate types, verified or not).
    NoneOfKind {
        found: Vec<String>,
    },
}

impl Attestations {
    /// Judges one requirement.
    pub fn judge(&self, need: Need, policy: &AttestationPolicy) -> Judgement<'_> {
        match &self.material {
            MaterialState::Missing { looked } => return Judgement::NoMaterial { looked },
            MaterialState::Unreadable { origin, reason } => {
                return Judgement::Unreadable { origin, reason };
            }
            MaterialState::Found => {}
        }
        let verified = self.found.iter().filter_map(|a| match &a.outcome {
            AttestationOutcome::Verified { statement, .. } => Some((a, statement)),
            _ => None,
        });
        let mut not_allowed = None;
        for (a, s) in verified {
            match (&s.predicate, need) {
                (Predicate::Provenance { builder, .. }, Need::Provenance) => {
                    if builder
                        .as_deref()
                        .is_some_and(|b| policy.builder_allowed(b))
                    {
                        return Judgement::Met(a);
                    }
                    not_allowed.get_or_insert(Judgement::BuilderNotAllowed {
                        found: a,
                        builder: builder.as_deref(),
                    });
                }
                (Predicate::Sbom { .. }, Need::Sbom) => return Judgement::Met(a),
                _ => {}
            }
        }
        if let Some(j) = not_allowed {
            return j;
        }
        let failed = self
            .found
            .iter()
            .filter(|a| !matches!(a.outcome, AttestationOutcome::Verified { .. }))
            .filter(|a| a.claimed_type.as_deref().is_none_or(|t| need.claims(t)))
            .min_by_key(|a| a.outcome.rank());
        if let Some(a) = failed {
            return Judgement::Failed(a);
        }
        Judgement::NoneOfKind {
            found: self
                .found
                .iter()
                .map(|a| match &a.outcome {
                    AttestationOutcome::Verified { statement, .. } => {
                        format!("`{}`", statement.predicate_type)
                    }
                    _ => format!(
                        "`{}` (not verified)",
                        a.claimed_type.as_deref().unwrap_or("?")
                    ),
                })
                .collect(),
        }
    }
}

impl Judgement<'_> {
    pub fn is_met(&self) -> bool {
        matches!(self, Judgement::Met(_))
    }

    /// The finding's message about `image` (empty when met) and its advice.
    pub fn message(
        &self,
        need: Need,
        image: &str,
        digest: &str,
        policy: &AttestationPolicy,
    ) -> (String, &'static str) {
        let kind = need.name();
        match self {
            Judgement::Met(a) => (format!("{}: {}", a.origin, a.outcome.describe(digest)), ""),
            Judgement::NoMaterial { looked } => (
                format!(
                    "image `{image}` has no attestations: no {kind} can be verified (looked for {})",
                    looked.join(", ")
                ),
                "attest the digest (`cosign attest --key ... --type slsaprovenance1|spdxjson|cyclonedx`) and export it: `cosign download attestation IMAGE > <material>/sha256-<hex>.att.json`",
            ),
            Judgement::Unreadable { origin, reason } => (
                format!("attestation material of `{image}` is unreadable: {origin}: {reason}"),
                "export the attestations again (see docs/signatures.md for the layouts)",
            ),
            Judgement::BuilderNotAllowed { found, builder } => (
                format!(
                    "image `{image}`: its SLSA provenance names {} as the builder, which is not an allowed builder ({}) ({})",
                    builder.map_or_else(|| "no builder".to_owned(), |b| format!("`{b}`")),
                    policy.allowed_builders.join(", "),
                    found.origin
                ),
                "build the image on an allowed builder, or add the builder to `allowed_builders` under [signatures] if it is trusted",
            ),
            Judgement::Failed(a) => (
                format!(
                    "image `{image}`: its {} attestation is not acceptable: {} ({})",
                    a.claimed_type
                        .as_deref()
                        .map_or_else(|| kind.to_owned(), |t| format!("`{t}`")),
                    a.outcome.describe(digest),
                    a.origin
                ),
                a.outcome.help(),
            ),
            Judgement::NoneOfKind { found } => (
                format!(
                    "image `{image}` has no {kind} attestation (found {})",
                    found.join(", ")
                ),
                match need {
                    Need::Provenance => {
                        "attest the build's provenance (`cosign attest --type slsaprovenance1`) on an allowed builder and export it"
                    }
                    Need::Sbom => {
                        "attest an SBOM (`cosign attest --type spdxjson` or `--type cyclonedx`) and export it"
                    }
                },
            ),
        }
    }
}

pub(super) enum Material {
    Missing { looked: Vec<String> },
    Unreadable { origin: String, reason: String },
    Found(Vec<(String, Parsed)>),
}

/// Every attestation stored for `digest` (already validated: `alg:hex`).
pub(super) fn load(dir: &Path, shown: &Path, digest: &str) -> Material {
    let stem = digest.replace(':', "-");
    let mut looked = Vec::new();
    let mut found = Vec::new();
    let mut any = false;
    for suffix in [".att.json", ".sigstore.json"] {
        let name = format!("{stem}{suffix}");
        let file_shown = shown.join(&name).display().to_string();
        looked.push(file_shown.clone());
        let file = dir.join(&name);
        if !file.is_file() {
            continue;
        }
        any = true;
        match read_file(&file, &file_shown) {
            Ok(items) => found.extend(items),
            Err((origin, reason)) => return Material::Unreadable { origin, reason },
        }
    }
    let layout = dir.join(&stem);
    let layout_shown = shown.join(&stem);
    looked.push(format!(
        "{}/ (a manifest annotated `kind: {KIND_ATTESTATIONS}`)",
        layout_shown.display()
    ));
    if layout.join("index.json").is_file() {
        match read_layout(&layout, &layout_shown) {
            Ok(Some(items)) => {
                any = true;
                found.extend(items);
            }
            Ok(None) => {}
            Err((origin, reason)) => return Material::Unreadable { origin, reason },
        }
    }
    if !any {
        return Material::Missing { looked };
    }
    Material::Found(found)
}

/// A file of envelopes and bundles: one JSON document, or one a line.
fn read_file(path: &Path, shown: &str) -> Result<Vec<(String, Parsed)>, Unreadable> {
    let bytes = read_bytes(path, shown)?;
    let text = String::from_utf8(bytes).map_err(|_| (shown.to_owned(), "not UTF-8".to_owned()))?;
    let mut out = Vec::new();
    // One pretty-printed document (a bundle as written to a file), or one a line.
    let pretty = text.trim().contains('\n') && text.trim_start().starts_with("{\n");
    if pretty {
        let doc: Value = serde_json::from_str(&text).map_err(|e| {
            (
                format!("{shown}:{}:{}", e.line(), e.column()),
                format!("invalid JSON: {}", strip_position(&e.to_string())),
            )
        })?;
        let parsed = dsse::parse(&doc).map_err(|e| (format!("{shown}:1:1"), e))?;
        out.push((shown.to_owned(), parsed));
        return Ok(out);
    }
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let doc: Value = serde_json::from_str(line).map_err(|e| {
            (
                format!("{shown}:{n}:{}", e.column().max(1)),
                format!("invalid JSON: {}", strip_position(&e.to_string())),
            )
        })?;
        let parsed = dsse::parse(&doc).map_err(|e| (format!("{shown}:{n}:1"), e))?;
        out.push((format!("{shown}:{n}"), parsed));
    }
    if out.is_empty() {
        return Err((shown.to_owned(), "holds no attestation".to_owned()));
    }
    Ok(out)
}

/// serde_json appends " at line L column C"; messages carry the place in their origin.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The attestations manifest(s) of a `cosign save` layout; `None` when it has none.
fn read_layout(dir: &Path, shown: &Path) -> Result<Option<Vec<(String, Parsed)>>, Unreadable> {
    let index_shown = shown.join("index.json").display().to_string();
    let index: Value = serde_json::from_slice(&read_bytes(&dir.join("index.json"), &index_shown)?)
        .map_err(|e| {
            (
                format!("{index_shown}:{}:{}", e.line(), e.column()),
                format!("invalid JSON: {}", strip_position(&e.to_string())),
            )
        })?;
    let blob = |hex: &str| {
        let path = dir.join("blobs/sha256").join(hex);
        let shown = shown.join("blobs/sha256").join(hex).display().to_string();
        read_bytes(&path, &shown)
    };
    let manifests = index
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or_else(|| (index_shown.clone(), "no `manifests` list".to_owned()))?;
    let mut out = None;
    for m in manifests.iter().filter(|m| {
        m.pointer(&format!("/annotations/{KIND_ANNOTATION}"))
            .and_then(Value::as_str)
            == Some(KIND_ATTESTATIONS)
    }) {
        let found: &mut Vec<_> = out.get_or_insert_with(Vec::new);
        let manifest_digest = m.get("digest").and_then(Value::as_str).unwrap_or("");
        let (manifest, manifest_shown) = read_blob(&blob, shown, manifest_digest)?;
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
            if layer.get("mediaType").and_then(Value::as_str) != Some(dsse::DSSE_LAYER_MEDIA_TYPE) {
                continue;
            }
            let layer_digest = layer.get("digest").and_then(Value::as_str).unwrap_or("");
            let (blob, origin) = read_blob(&blob, shown, layer_digest)?;
            let doc: Value = serde_json::from_slice(&blob).map_err(|e| {
                (
                    format!("{origin}:{}:{}", e.line(), e.column()),
                    format!("invalid JSON: {e}"),
                )
            })?;
            let parsed = dsse::parse(&doc).map_err(|e| (origin.clone(), e))?;
            found.push((origin, parsed));
        }
    }
    Ok(out)
}

impl TrustStore {
    /// Judges one attestation: a signature must hold over the envelope's PAE under a trusted
    /// key before its statement is read.
    pub(super) fn judge_attestation(
        &self,
        repository: &str,
        digest: &str,
        parsed: &Parsed,
    ) -> AttestationOutcome {
        let message = parsed.envelope.pae();
        let mut failures = Vec::new();
        for s in &parsed.envelope.signatures {
            match self.signer(repository, &message, &s.sig, parsed.claimed_key.as_ref()) {
                Ok(key) => return check_statement(key, digest, &parsed.envelope),
                Err(o) => failures.push(o),
            }
        }
        AttestationOutcome::Signature(
            failures
                .into_iter()
                .min_by_key(Outcome::rank)
                .unwrap_or(Outcome::NoTrustedKey { keys: Vec::new() }),
        )
    }

    pub(super) fn attestations_uncached(&self, repository: &str, digest: &str) -> Attestations {
        let (material, found) = match load(&self.material, &self.material_shown, digest) {
            Material::Missing { looked } => (MaterialState::Missing { looked }, Vec::new()),
            Material::Unreadable { origin, reason } => {
                (MaterialState::Unreadable { origin, reason }, Vec::new())
            }
            Material::Found(items) => (
                MaterialState::Found,
                items
                    .into_iter()
                    .map(|(origin, parsed)| AttestationFound {
                        outcome: self.judge_attestation(repository, digest, &parsed),
                        claimed_type: intoto::claimed_predicate_type(&parsed.envelope.payload),
                        shape: parsed.shape,
                        origin,
                    })
                    .collect(),
            ),
        };
        Attestations {
            repository: repository.to_owned(),
            digest: digest.to_owned(),
            material,
            found,
        }
    }
}

fn check_statement(key: String, digest: &str, envelope: &dsse::Envelope) -> AttestationOutcome {
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
        return AttestationOutcome::NotInToto {
            key,
            payload_type: envelope.payload_type.clone(),
        };
    }
    let statement = match intoto::parse(&envelope.payload) {
        Ok(s) => s,
        Err(reason) => return AttestationOutcome::BadStatement { key, reason },
    };
    if !statement.names_digest(digest) {
        return AttestationOutcome::OtherSubject {
            key,
            subjects: statement.subject_list(),
        };
    }
    AttestationOutcome::Verified { key, statement }
}

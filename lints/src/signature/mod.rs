//! Offline verification of cosign image signatures against a trust store.
//!
//! The trust store (`[signatures]` in `edgefleet.toml`) lists trusted ECDSA P-256 public keys,
//! the repositories each may sign, and a folder of signature material exported per image digest
//! (see `docs/signatures.md`). Verification is ECDSA P-256 / SHA-256 over the raw payload bytes;
//! only a payload whose signature holds is parsed, and it must be a cosign image signature for
//! exactly the image's digest. Nothing here opens a socket: material is read from disk.
//!
//! The same keys verify in-toto attestations (`attestation`): DSSE envelopes, bare or in a
//! Sigstore bundle, whose statements carry SLSA provenance or an SBOM.
//!
//! Verdicts are cached per run by (repository, digest): a fleet of 10,000 sites running the same
//! image verifies it once.

pub mod attestation;
pub mod dsse;
pub mod intoto;
mod material;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;
use serde_json::Value;
use serde_spanned::Spanned;

pub use attestation::{AttestationPolicy, Attestations, Judgement, Need};
pub use material::{
    MaterialSignature, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, certificate_spki,
    key_from_pem, parse_download_lines, parse_layout,
};

/// The `critical.type` of a cosign image signature payload.
pub const IMAGE_SIGNATURE_TYPE: &str = "cosign container image signature";

/// `[signatures]` in `edgefleet.toml`.
///
/// ```toml
/// [signatures]
/// material = "signatures"                 # folder of exported signatures, one entry per digest
///
/// [[signatures.keys]]
/// id = "release-2026"
/// public_key = "keys/release-2026.pub"    # PEM, ECDSA P-256
/// repositories = ["registry.example.com/edge/**"]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignaturesConfig {
    /// Folder of signature material, relative to the config file's folder.
    pub material: Spanned<PathBuf>,
    /// SLSA builders whose provenance is accepted (globs over `builder.id`, `*` within one path
    /// segment, `**` across). When set, every image needs a verified SLSA provenance
    /// attestation from one of them (`images/provenance`).
    #[serde(default)]
    pub allowed_builders: Vec<Spanned<String>>,
    /// Sites whose backhaul can be out at least this long (`24h`; `0` for every site) need a
    /// verified SBOM attestation for every image they run (`images/sbom`).
    #[serde(default)]
    pub sbom_min_outage: Option<Spanned<String>>,
    /// The trusted keys.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
}

/// One `[[signatures.keys]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// A name for the key, shown in findings.
    pub id: Spanned<String>,
    /// PEM file of the public key (`-----BEGIN PUBLIC KEY-----`, ECDSA P-256).
    pub public_key: Spanned<PathBuf>,
    /// Repositories the key may sign: globs over `registry/path/name`, where `*` stays within one
    /// path segment and `**` spans any number (`registry.example.com/edge/**`).
    pub repositories: Vec<Spanned<String>>,
}

/// A trust store that cannot be used. `span` is the byte range in the config file it is about.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TrustStoreError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl TrustStoreError {
    fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            span: Some(span),
            message: message.into(),
        }
    }
}

/// A trusted public key and the repositories it may sign.
pub struct TrustedKey {
    pub id: String,
    pub repositories: Vec<String>,
    key: VerifyingKey,
    globs: GlobSet,
}

impl TrustedKey {
    /// `true` when the key may sign images of `repository` (`registry/path/name`).
    pub fn allows(&self, repository: &str) -> bool {
        self.globs.is_match(repository)
    }
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKey")
            .field("id", &self.id)
            .field("repositories", &self.repositories)
            .finish_non_exhaustive()
    }
}

type CacheKey = (String, String);
type Cache<T> = Mutex<HashMap<CacheKey, Arc<OnceLock<Arc<T>>>>>;

/// Trusted keys, where signature material lives, and the verdicts of this run.
pub struct TrustStore {
    keys: Vec<TrustedKey>,
    /// The material folder, resolved.
    material: PathBuf,
    /// The material folder as the configuration names it (for messages).
    material_shown: PathBuf,
    policy: AttestationPolicy,
    cache: Cache<Verification>,
    attestation_cache: Cache<Attestations>,
    verifications: AtomicUsize,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field("keys", &self.keys)
            .field("material", &self.material)
            .finish_non_exhaustive()
    }
}

impl TrustStore {
    /// Loads the keys of a `[signatures]` section; relative paths resolve against `base` (the
    /// folder of `edgefleet.toml`).
    pub fn load(config: &SignaturesConfig, base: &Path) -> Result<Self, TrustStoreError> {
        let material_shown = config.material.get_ref().clone();
        let material = resolve(base, &material_shown);
        if !material.is_dir() {
            return Err(TrustStoreError::at(
                config.material.span(),
                format!(
                    "[signatures] material: `{}` is not a folder",
                    material.display()
                ),
            ));
        }
        if config.keys.is_empty() {
            return Err(TrustStoreError {
                span: Some(config.material.span()),
                message: "[signatures] lists no keys: add at least one [[signatures.keys]]".into(),
            });
        }
        let mut keys: Vec<TrustedKey> = Vec::new();
        for k in &config.keys {
            let id = k.id.get_ref().trim().to_owned();
            if id.is_empty() {
                return Err(TrustStoreError::at(k.id.span(), "key id is empty"));
            }
            if keys.iter().any(|other| other.id == id) {
                return Err(TrustStoreError::at(
                    k.id.span(),
                    format!("key id `{id}` is used twice"),
                ));
            }
            let path = resolve(base, k.public_key.get_ref());
            let pem = std::fs::read_to_string(&path).map_err(|e| {
                TrustStoreError::at(
                    k.public_key.span(),
                    format!("key `{id}`: {}: {e}", path.display()),
                )
            })?;
            let key = VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
                TrustStoreError::at(
                    k.public_key.span(),
                    format!(
                        "key `{id}`: {}: not a PEM ECDSA P-256 public key ({e})",
                        path.display()
                    ),
                )
            })?;
            if k.repositories.is_empty() {
                return Err(TrustStoreError::at(
                    k.id.span(),
                    format!(
                        "key `{id}` may sign no repository: list them in `repositories` (\"**\" for any)"
                    ),
                ));
            }
            let mut globs = GlobSetBuilder::new();
            let mut repositories = Vec::new();
            for pattern in &k.repositories {
                let glob = GlobBuilder::new(pattern.get_ref())
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        TrustStoreError::at(
                            pattern.span(),
                            format!("key `{id}`: invalid repository pattern: {e}"),
                        )
                    })?;
                globs.add(glob);
                repositories.push(pattern.get_ref().clone());
            }
            let globs = globs.build().map_err(|e| TrustStoreError {
                span: Some(k.id.span()),
                message: format!("key `{id}`: {e}"),
            })?;
            keys.push(TrustedKey {
                id,
                repositories,
                key,
                globs,
            });
        }
        let sbom_min_outage = match &config.sbom_min_outage {
            Some(text) => Some(
                edgefleet_inventory::units::Duration::parse(text.get_ref()).map_err(|e| {
                    TrustStoreError::at(text.span(), format!("sbom_min_outage: {e}"))
                })?,
            ),
            None => None,
        };
        let policy = AttestationPolicy::new(
            config
                .allowed_builders
                .iter()
                .map(|b| b.get_ref().clone())
                .collect(),
            sbom_min_outage,
        )
        .map_err(|(i, message)| {
            let span = config
                .allowed_builders
                .get(i)
                .map_or_else(|| config.material.span(), Spanned::span);
            TrustStoreError::at(span, format!("allowed_builders: {message}"))
        })?;
        Ok(Self::new(keys, material, material_shown).with_policy(policy))
    }

    fn new(keys: Vec<TrustedKey>, material: PathBuf, material_shown: PathBuf) -> Self {
        Self {
            keys,
            material,
            material_shown,
            policy: AttestationPolicy::default(),
            cache: Mutex::new(HashMap::new()),
            attestation_cache: Mutex::new(HashMap::new()),
            verifications: AtomicUsize::new(0),
        }
    }

    /// The same store with an attestation policy (tests and benchmarks build stores with
    /// [`TrustStore::from_keys`]).
    pub fn with_policy(mut self, policy: AttestationPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The attestation policy of `[signatures]`.
    pub fn policy(&self) -> &AttestationPolicy {
        &self.policy
    }

    /// A store from keys already parsed (tests and benchmarks); `shown` is how messages name
    /// the material folder.
    pub fn from_keys(
        keys: Vec<(String, VerifyingKey, Vec<String>)>,
        material: &Path,
        shown: &Path,
    ) -> Result<Self, String> {
        let mut trusted = Vec::new();
        for (id, key, repositories) in keys {
            let mut globs = GlobSetBuilder::new();
            for r in &repositories {
                globs.add(
                    GlobBuilder::new(r)
                        .literal_separator(true)
                        .build()
                        .map_err(|e| e.to_string())?,
                );
            }
            trusted.push(TrustedKey {
                id,
                repositories,
                key,
                globs: globs.build().map_err(|e| e.to_string())?,
            });
        }
        Ok(Self::new(
            trusted,
            material.to_path_buf(),
            shown.to_path_buf(),
        ))
    }

    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// How many (repository, digest) pairs were verified in this run: a cached verdict is not
    /// counted again.
    pub fn verifications(&self) -> usize {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Verifies an image reference (`registry/repo@sha256:...`).
    pub fn verify_image(&self, image: &str) -> ImageVerdict {
        let r = crate::rules::images::ImageRef::parse(image);
        let Some(digest) = r.digest else {
            return ImageVerdict::Unpinned;
        };
        if !is_valid_digest(digest) {
            return ImageVerdict::MalformedDigest(digest.to_owned());
        }
        ImageVerdict::Checked(self.verify(&repository(&r), digest))
    }

    /// The verdict for one digest of one repository, computed once per run.
    pub fn verify(&self, repository: &str, digest: &str) -> Arc<Verification> {
        cached(&self.cache, repository, digest, || {
            self.verifications.fetch_add(1, Ordering::Relaxed);
            self.verify_uncached(repository, digest)
        })
    }

    /// Every attestation of one digest of one repository with its outcome, computed once per
    /// run.
    pub fn attestations(&self, repository: &str, digest: &str) -> Arc<Attestations> {
        cached(&self.attestation_cache, repository, digest, || {
            self.attestations_uncached(repository, digest)
        })
    }

    /// The attestations of an image reference; `None` when it is not pinned by a valid digest
    /// (`images/signature` and `images/not-pinned-by-digest` say so).
    pub fn image_attestations(&self, image: &str) -> Option<Arc<Attestations>> {
        let r = crate::rules::images::ImageRef::parse(image);
        let digest = r.digest.filter(|d| is_valid_digest(d))?;
        Some(self.attestations(&repository(&r), digest))
    }

    fn verify_uncached(&self, repository: &str, digest: &str) -> Verification {
        let material = material::load(&self.material, &self.material_shown, digest);
        let signatures = match material {
            material::Material::Missing { looked } => {
                return Verification {
                    repository: repository.to_owned(),
                    digest: digest.to_owned(),
                    verdict: Verdict::NoMaterial { looked },
                    signatures: Vec::new(),
                };
            }
            material::Material::Unreadable { origin, reason } => {
                return Verification {
                    repository: repository.to_owned(),
                    digest: digest.to_owned(),
                    verdict: Verdict::Unreadable { origin, reason },
                    signatures: Vec::new(),
                };
            }
            material::Material::Found(signatures) => signatures,
        };
        let outcomes: Vec<SignatureOutcome> = signatures
            .iter()
            .map(|s| SignatureOutcome {
                origin: s.origin.clone(),
                outcome: self.judge(repository, digest, s),
            })
            .collect();
        let verdict = match outcomes
            .iter()
            .find(|o| matches!(o.outcome, Outcome::Verified { .. }))
        {
            Some(ok) => Verdict::Verified(ok.clone()),
            None => match outcomes.iter().min_by_key(|o| o.outcome.rank()) {
                Some(worst) => Verdict::Rejected(worst.clone()),
                None => Verdict::NoMaterial {
                    looked: vec![format!(
                        "{} (holds no signature)",
                        material_origin(self, digest)
                    )],
                },
            },
        };
        Verification {
            repository: repository.to_owned(),
            digest: digest.to_owned(),
            verdict,
            signatures: outcomes,
        }
    }

    /// Judges one signature: the raw payload bytes are verified first, and only a payload
    /// signed by a trusted key is parsed.
    fn judge(&self, repository: &str, digest: &str, s: &MaterialSignature) -> Outcome {
        match self.signer(repository, &s.payload, &s.signature, s.claimed_key.as_ref()) {
            Ok(key) => check_payload(&key, digest, &s.payload),
            Err(failure) => failure,
        }
    }

    /// The id of the trusted key, allowed for `repository`, under which `signature` holds over
    /// `message`; otherwise the most telling failure (a trusted key not allowed for the
    /// repository, the untrusted key the material names, a message changed after signing).
    fn signer(
        &self,
        repository: &str,
        message: &[u8],
        signature: &[u8],
        claimed_key: Option<&VerifyingKey>,
    ) -> Result<String, Outcome> {
        let signature =
            decode_signature(signature).map_err(|reason| Outcome::Unreadable { reason })?;
        let verifies = |key: &VerifyingKey| key.verify(message, &signature).is_ok();
        for k in self.keys.iter().filter(|k| k.allows(repository)) {
            if verifies(&k.key) {
                return Ok(k.id.clone());
            }
        }
        for k in self.keys.iter().filter(|k| !k.allows(repository)) {
            if verifies(&k.key) {
                return Err(Outcome::KeyNotAllowed {
                    key: k.id.clone(),
                    repository: repository.to_owned(),
                });
            }
        }
        Err(match claimed_key {
            Some(key) if verifies(key) => Outcome::UntrustedKey {
                fingerprint: fingerprint(key),
            },
            Some(_) => Outcome::Tampered,
            None => Outcome::NoTrustedKey {
                keys: self.keys.iter().map(|k| k.id.clone()).collect(),
            },
        })
    }
}

/// The value cached for (repository, digest), computed by `compute` on first use; concurrent
/// callers wait for the one computation.
fn cached<T>(
    cache: &Cache<T>,
    repository: &str,
    digest: &str,
    compute: impl FnOnce() -> T,
) -> Arc<T> {
    let cell = {
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((repository.to_owned(), digest.to_owned()))
            .or_default()
            .clone()
    };
    cell.get_or_init(|| Arc::new(compute())).clone()
}

fn material_origin(store: &TrustStore, digest: &str) -> String {
    store
        .material_shown
        .join(digest.replace(':', "-"))
        .display()
        .to_string()
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// `registry/path/name` as a runtime pulls it: images without a registry are Docker Hub's, and
/// one-segment names there are under `library/`.
pub fn repository(r: &crate::rules::images::ImageRef<'_>) -> String {
    if r.name.starts_with(r.registry) && r.name[r.registry.len()..].starts_with('/') {
        return r.name.to_owned();
    }
    if r.name.contains('/') {
        format!("docker.io/{}", r.name)
    } else {
        format!("docker.io/library/{}", r.name)
    }
}

/// `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase. Anything else is refused before it is
/// used in a path.
pub fn is_valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// An ECDSA signature as cosign writes it (ASN.1 DER), or as 64 bytes `r || s`.
fn decode_signature(bytes: &[u8]) -> Result<Signature, String> {
    if let Ok(sig) = Signature::from_der(bytes) {
        return Ok(sig);
    }
    if bytes.len() == 64
        && let Ok(sig) = Signature::from_slice(bytes)
    {
        return Ok(sig);
    }
    Err(format!(
        "the signature ({} bytes) is neither an ASN.1 DER nor a 64-byte r||s ECDSA P-256 signature",
        bytes.len()
    ))
}

/// What a payload signed by a trusted key says, checked against the image.
fn check_payload(key: &str, digest: &str, payload: &[u8]) -> Outcome {
    let Ok(doc) = serde_json::from_slice::<Value>(payload) else {
        return Outcome::WrongType {
            key: key.to_owned(),
            found: "(the payload is not JSON)".to_owned(),
        };
    };
    let critical = doc.get("critical");
    let kind = critical.and_then(|c| c.get("type")).and_then(Value::as_str);
    if kind != Some(IMAGE_SIGNATURE_TYPE) {
        return Outcome::WrongType {
            key: key.to_owned(),
            found: kind.map_or_else(|| "(none)".to_owned(), |k| format!("`{k}`")),
        };
    }
    let signed = critical
        .and_then(|c| c.get("image"))
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(Value::as_str);
    if signed != Some(digest) {
        return Outcome::DigestMismatch {
            key: key.to_owned(),
            signed: signed.unwrap_or("(none)").to_owned(),
        };
    }
    Outcome::Verified {
        key: key.to_owned(),
    }
}

/// `sha256:` and the first 16 hex digits of the SHA-256 of the key's DER SubjectPublicKeyInfo.
fn fingerprint(key: &VerifyingKey) -> String {
    use p256::pkcs8::EncodePublicKey;
    use sha2::Digest;
    match key.to_public_key_der() {
        Ok(der) => {
            let hash = sha2::Sha256::digest(der.as_bytes());
            let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}…")
        }
        Err(_) => "(unencodable key)".to_owned(),
    }
}

/// The verdict on one image reference.
#[derive(Debug, Clone)]
pub enum ImageVerdict {
    /// No digest: there is nothing a signature could be checked against.
    Unpinned,
    MalformedDigest(String),
    Checked(Arc<Verification>),
}

/// Everything known about one (repository, digest).
#[derive(Debug, Clone)]
pub struct Verification {
    pub repository: String,
    pub digest: String,
    pub verdict: Verdict,
    /// Each signature found, with its own outcome.
    pub signatures: Vec<SignatureOutcome>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A signature by a key trusted for the repository, for exactly this digest.
    Verified(SignatureOutcome),
    /// No material for the digest: the image is unsigned as far as this store knows.
    NoMaterial { looked: Vec<String> },
    /// The material exists but cannot be read or parsed (`origin` is `file[:line:col]`).
    Unreadable { origin: String, reason: String },
    /// Signatures exist, none is acceptable: the most telling one.
    Rejected(SignatureOutcome),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignatureOutcome {
    /// Where the signature was read (`signatures/sha256-….json:2`, a layout blob).
    pub origin: String,
    pub outcome: Outcome,
}

/// What one signature proves.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Verified {
        key: String,
    },
    /// Valid under a trusted key that may not sign this repository.
    KeyNotAllowed {
        key: String,
        repository: String,
    },
    /// Valid under a trusted key, for another image.
    DigestMismatch {
        key: String,
        signed: String,
    },
    /// Valid under a trusted key, but not a cosign image signature.
    WrongType {
        key: String,
        found: String,
    },
    /// The signature bytes cannot be decoded.
    Unreadable {
        reason: String,
    },
    /// Fails under the key the material itself names: the payload changed after signing.
    Tampered,
    /// Valid under the key the material names, which is not trusted.
    UntrustedKey {
        fingerprint: String,
    },
    /// Fails under every trusted key and the material names no key: signed by another key, or
    /// altered after signing (the two cannot be told apart without the signer's key).
    NoTrustedKey {
        keys: Vec<String>,
    },
}

impl Outcome {
    /// Which failure to report when several signatures fail: the most specific first.
    fn rank(&self) -> u8 {
        match self {
            Outcome::Verified { .. } => 0,
            Outcome::KeyNotAllowed { .. } => 1,
            Outcome::DigestMismatch { .. } => 2,
            Outcome::WrongType { .. } => 3,
            Outcome::Tampered => 4,
            Outcome::UntrustedKey { .. } => 5,
            Outcome::NoTrustedKey { .. } => 6,
            Outcome::Unreadable { .. } => 7,
        }
    }

    /// One sentence about the signature, for findings and `edgefleet sign verify`.
    pub fn describe(&self, digest: &str) -> String {
        match self {
            Outcome::Verified { key } => format!("signed by trusted key `{key}` for {digest}"),
            Outcome::KeyNotAllowed { key, repository } => format!(
                "signed by trusted key `{key}`, which is not trusted for repository `{repository}`"
            ),
            Outcome::DigestMismatch { key, signed } => format!(
                "signed by trusted key `{key}` for another image: the payload names {signed}, the image is {digest}"
            ),
            Outcome::WrongType { key, found } => format!(
                "signed by trusted key `{key}`, but the payload is not an image signature: critical.type is {found}, expected `{IMAGE_SIGNATURE_TYPE}`"
            ),
            Outcome::Unreadable { reason } => format!("signature unreadable: {reason}"),
            Outcome::Tampered => "tampered payload: the signature does not hold under the key the material names, so the payload changed after signing".to_owned(),
            Outcome::UntrustedKey { fingerprint } => format!(
                "signed by an untrusted key (public key {fingerprint}, not in [signatures] keys)"
            ),
            Outcome::NoTrustedKey { keys } => format!(
                "the signature holds under no trusted key ({}): signed by an untrusted key, or the payload was tampered with after signing",
                keys.join(", ")
            ),
        }
    }

    /// Advice for a finding.
    pub fn help(&self) -> &'static str {
        match self {
            Outcome::Verified { .. } => "",
            Outcome::KeyNotAllowed { .. } => {
                "sign with a key trusted for this repository, or add the repository to that key's `repositories` in edgefleet.toml"
            }
            Outcome::DigestMismatch { .. } => {
                "export the signature of this exact digest (the signature belongs to another image)"
            }
            Outcome::WrongType { .. } => {
                "this is not an image signature (an attestation?); export the image's signature"
            }
            Outcome::Unreadable { .. } => "export the signature material again",
            Outcome::Tampered => {
                "do not deploy: export the signature again from the registry and find out who changed it"
            }
            Outcome::UntrustedKey { .. } => {
                "sign with a trusted key, or add the signer's public key to [[signatures.keys]] if it is trusted"
            }
            Outcome::NoTrustedKey { .. } => {
                "do not deploy until the image is signed by a trusted key; export the signature again if it was"
            }
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod attestation_tests;

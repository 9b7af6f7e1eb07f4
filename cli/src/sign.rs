//! `edgefleet sign verify IMAGE [--attestations]`: what the trust store makes of one image (its
//! signatures and, with `--attestations`, its in-toto attestations), to debug it.

use edgefleet_lints::signature::attestation::{AttestationOutcome, MaterialState};
use edgefleet_lints::signature::{ImageVerdict, Need, Outcome, TrustStore, Verdict};

use crate::config::Config;
use crate::exit;

pub fn verify(config: &Config, image: &str, attestations: bool) -> u8 {
    let store = match config.trust_store() {
        Ok(Some(store)) => store,
        Ok(None) => {
            crate::output::error(
                "no [signatures] trust store in edgefleet.toml: nothing to verify against (see docs/signatures.md)",
            );
            return exit::INPUT;
        }
        Err(e) => {
            crate::output::error(&e);
            return exit::INPUT;
        }
    };
    let mut out = format!("image: {image}\n");
    let mut verified = match store.verify_image(image) {
        ImageVerdict::Unpinned => {
            out.push_str("not verified: the image is not pinned by digest, so its signature cannot be verified\n");
            false
        }
        ImageVerdict::MalformedDigest(d) => {
            out.push_str(&format!("not verified: malformed digest `{d}`\n"));
            false
        }
        ImageVerdict::Checked(v) => {
            let trusted: Vec<&str> = store
                .keys()
                .iter()
                .filter(|k| k.allows(&v.repository))
                .map(|k| k.id.as_str())
                .collect();
            out.push_str(&format!("repository: {}\n", v.repository));
            out.push_str(&format!("digest: {}\n", v.digest));
            out.push_str(&format!(
                "keys trusted for this repository: {}\n",
                if trusted.is_empty() {
                    "none".to_owned()
                } else {
                    trusted.join(", ")
                }
            ));
            for s in &v.signatures {
                let mark = if matches!(s.outcome, Outcome::Verified { .. }) {
                    "ok "
                } else {
                    "bad"
                };
                out.push_str(&format!(
                    "  {mark} {}: {}\n",
                    s.origin,
                    s.outcome.describe(&v.digest)
                ));
            }
            match &v.verdict {
                Verdict::Verified(s) => {
                    out.push_str(&format!(
                        "verified: {} ({})\n",
                        s.outcome.describe(&v.digest),
                        s.origin
                    ));
                    true
                }
                Verdict::NoMaterial { looked } => {
                    out.push_str(&format!(
                        "not verified: unsigned: no signature material (looked for {})\n",
                        looked.join(" and ")
                    ));
                    false
                }
                Verdict::Unreadable { origin, reason } => {
                    out.push_str(&format!(
                        "not verified: signature material unreadable: {origin}: {reason}\n"
                    ));
                    false
                }
                Verdict::Rejected(s) => {
                    out.push_str(&format!(
                        "not verified: {} ({})\n",
                        s.outcome.describe(&v.digest),
                        s.origin
                    ));
                    false
                }
            }
        }
    };
    if attestations {
        verified &= show_attestations(&store, image, &mut out);
    }
    print!("{out}");
    if verified { exit::OK } else { exit::FINDINGS }
}

/// Every attestation of the image with its outcome, then each requirement of the policy;
/// `true` when every requirement is met.
fn show_attestations(store: &TrustStore, image: &str, out: &mut String) -> bool {
    let Some(a) = store.image_attestations(image) else {
        out.push_str("attestations: not verified: the image is not pinned by a valid digest\n");
        return false;
    };
    match &a.material {
        MaterialState::Missing { looked } => {
            out.push_str(&format!(
                "attestations: none (looked for {})\n",
                looked.join(", ")
            ));
        }
        MaterialState::Unreadable { origin, reason } => {
            out.push_str(&format!(
                "attestations: material unreadable: {origin}: {reason}\n"
            ));
        }
        MaterialState::Found => {
            out.push_str(&format!("attestations: {}\n", a.found.len()));
            for f in &a.found {
                let mark = if matches!(f.outcome, AttestationOutcome::Verified { .. }) {
                    "ok "
                } else {
                    "bad"
                };
                out.push_str(&format!(
                    "  {mark} {}: {}: {}\n",
                    f.origin,
                    f.shape.describe(),
                    f.outcome.describe(&a.digest)
                ));
            }
        }
    }
    let policy = store.policy();
    let mut needs = Vec::new();
    if policy.requires_provenance() {
        needs.push((
            Need::Provenance,
            format!(
                "provenance (allowed builders: {})",
                policy.allowed_builders.join(", ")
            ),
        ));
    }
    if let Some(min) = &policy.sbom_min_outage {
        needs.push((
            Need::Sbom,
            format!("SBOM (sites that can be out {} or longer)", min.text),
        ));
    }
    if needs.is_empty() {
        out.push_str(
            "requirements: none ([signatures] sets neither `allowed_builders` nor `sbom_min_outage`)\n",
        );
    }
    let mut all = true;
    for (need, title) in needs {
        let judgement = a.judge(need, policy);
        let (message, _) = judgement.message(need, image, &a.digest, policy);
        if judgement.is_met() {
            out.push_str(&format!("{title}: verified: {message}\n"));
        } else {
            all = false;
            out.push_str(&format!("{title}: not verified: {message}\n"));
        }
    }
    all
}

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::signature::Need;

crate::declare_rule! {
    /// ## What it does
    /// When `[signatures]` in `edgefleet.toml` lists `allowed_builders`, checks that every
    /// image pinned by digest carries an in-toto attestation, signed by a key trusted for its
    /// repository, whose statement names the image's digest and whose predicate is SLSA
    /// provenance (`https://slsa.dev/provenance/v1` or `/v0.2`) from an allowed builder
    /// (`runDetails.builder.id`, or `builder.id` in v0.2). Attestations are read offline from
    /// the exported material: `cosign download attestation` output, Sigstore bundles, or the
    /// `cosign save` layout. Each problem is its own finding at the `image` line: no
    /// attestation material; material that cannot be read; a provenance whose builder is not
    /// allowed; a provenance attestation that fails (signed by no trusted key, tampered, a key
    /// not trusted for the repository, not an in-toto statement, a malformed statement, made
    /// for another artifact); attestations that hold no provenance. Images not pinned by digest
    /// are left to `images/signature` and `images/not-pinned-by-digest`. Without
    /// `allowed_builders` the rule is silent. See `docs/signatures.md`.
    ///
    /// ## Why it matters at an edge site
    /// A signature says who published an image, not how it was built. A site that runs for
    /// months between visits should only receive images built by the release pipeline from
    /// reviewed source, and that claim must be checkable on an air-gapped laptop or in CI
    /// without egress, before the image reaches a site that cannot be patched quickly.
    ///
    /// ## Example
    /// ```yaml
    ///     image: registry.example.com/edge/agent@sha256:<digest built on a developer laptop>
    /// ```
    ///
    /// ## Fix
    /// Build the image on an allowed builder, attest its provenance with a trusted key
    /// (`cosign attest --key ... --type slsaprovenance1 --predicate provenance.json IMAGE`) and
    /// export it next to the signatures: `cosign download attestation IMAGE@sha256:<hex> >
    /// signatures/sha256-<hex>.att.json`. `edgefleet sign verify IMAGE --attestations` shows
    /// what the trust store makes of every attestation of one image.
    pub static RULE = {
        id: "images/provenance",
        level: Error,
        summary: "Image has no verified SLSA provenance from an allowed builder",
        check: Check::Object(check),
    };
}

fn check(options: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(store) = &options.signatures else {
        return;
    };
    let policy = store.policy();
    if !policy.requires_provenance() {
        return;
    }
    for c in m.containers() {
        let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
            continue;
        };
        let Some(attestations) = store.image_attestations(image) else {
            continue;
        };
        let judgement = attestations.judge(Need::Provenance, policy);
        if judgement.is_met() {
            continue;
        }
        let (message, help) =
            judgement.message(Need::Provenance, image, &attestations.digest, policy);
        out.push(Violation::at(c.ptr(&["image"]), format!("{}: {message}", c.label())).help(help));
    }
}

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::signature::Need;
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). When `[signatures]` in `edgefleet.toml` sets
    /// `sbom_min_outage`, checks that every image pinned by digest that goes to a site whose
    /// backhaul can be out at least that long (`0` for every site) carries an in-toto
    /// attestation, signed by a key trusted for its repository and naming the image's digest,
    /// whose predicate is an SBOM: SPDX (`https://spdx.dev/Document`, a JSON document with
    /// `spdxVersion` or the tag-value text) or CycloneDX (`https://cyclonedx.org/bom`, with
    /// `bomFormat: CycloneDX`). Attestations are read offline, as for `images/provenance`. Each
    /// problem is its own finding at the `image` line: no attestation material; material that
    /// cannot be read; an SBOM attestation that fails (signed by no trusted key, tampered, a
    /// key not trusted for the repository, not an in-toto statement, a predicate that is not
    /// the SBOM it claims, made for another artifact); attestations that hold no SBOM.
    ///
    /// ## Why it matters at an edge site
    /// When a vulnerability is announced, the platform team must know within the hour which
    /// sites run the affected package. A site that may be unreachable for days cannot be asked:
    /// the answer has to come from an SBOM that was verified before the image was shipped.
    ///
    /// ## Example
    /// A VSAT rig (72h outage) with `sbom_min_outage = "24h"` and an image attested only with
    /// its provenance:
    /// ```yaml
    ///     image: registry.example.com/edge/agent@sha256:<digest without an SBOM attestation>
    /// ```
    ///
    /// ## Fix
    /// Attest an SBOM with a trusted key (`cosign attest --key ... --type spdxjson --predicate
    /// sbom.spdx.json IMAGE`, or `--type cyclonedx`) and export it: `cosign download
    /// attestation IMAGE@sha256:<hex> > signatures/sha256-<hex>.att.json`.
    pub static RULE = {
        id: "images/sbom",
        level: Error,
        summary: "Image going to a site that needs SBOMs has no verified SBOM attestation",
        check: Check::Site(check),
    };
}

fn check(
    options: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let Some(store) = &options.signatures else {
        return;
    };
    let policy = store.policy();
    if !policy.sbom_required_at(site.backhaul.max_outage.seconds) {
        return;
    }
    for (i, m) in manifests.iter().enumerate() {
        for c in m.containers() {
            let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
                continue;
            };
            let Some(attestations) = store.image_attestations(image) else {
                continue;
            };
            let judgement = attestations.judge(Need::Sbom, policy);
            if judgement.is_met() {
                continue;
            }
            let (message, help) =
                judgement.message(Need::Sbom, image, &attestations.digest, policy);
            out.push((
                i,
                Violation::at(
                    c.ptr(&["image"]),
                    format!(
                        "{}: {message}; site `{}` can be out {} (`sbom_min_outage` {})",
                        c.label(),
                        site.id,
                        site.backhaul.max_outage.text,
                        policy
                            .sbom_min_outage
                            .as_ref()
                            .map_or("?", |d| d.text.as_str())
                    ),
                )
                .help(help),
            ));
        }
    }
}

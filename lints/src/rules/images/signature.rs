use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::signature::{ImageVerdict, Verdict};

crate::declare_rule! {
    /// ## What it does
    /// When a trust store is configured (`[signatures]` in `edgefleet.toml`), checks that every
    /// image is pinned by digest and carries a cosign signature, from the exported signature
    /// material, by a key trusted for the image's repository, for exactly that digest. It runs
    /// offline: signatures are read from a folder, never fetched. Each problem is its own
    /// finding at the `image` line: no signature material; material that cannot be read; a
    /// signature that holds under no trusted key (an untrusted signer, or a payload altered after
    /// signing); a signature by an untrusted key the material names; a tampered payload (the
    /// signature fails under the key the material names); a trusted key not allowed for the
    /// repository; a signature made for another digest; a payload that is not an image
    /// signature. Without `[signatures]` the rule has nothing to judge against and stays silent.
    /// See `docs/signatures.md` for the trust store and the accepted material layouts.
    ///
    /// ## Why it matters at an edge site
    /// A site runs whatever its mirror serves, often for months without anyone on site. A
    /// signature from a trusted key is what tells the platform team that the bytes a rig or a
    /// store will run are the ones the release pipeline built, and air-gapped sites and CI
    /// without egress must be able to check it without a network.
    ///
    /// ## Example
    /// ```yaml
    ///     image: registry.example.com/edge/agent@sha256:<digest with no signature>
    /// ```
    ///
    /// ## Fix
    /// Sign the digest with a trusted key (`cosign sign --key ...`) and export its signature
    /// next to the others: `cosign download signature IMAGE@sha256:<hex> >
    /// signatures/sha256-<hex>.json`. `edgefleet sign verify IMAGE` shows what the trust store
    /// makes of one image.
    pub static RULE = {
        id: "images/signature",
        level: Error,
        summary: "Image has no valid signature from a key trusted for its repository",
        check: Check::Object(check),
    };
}

fn check(options: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(store) = &options.signatures else {
        return;
    };
    for c in m.containers() {
        let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
            continue;
        };
        let report = |message: String, help: &str| {
            Violation::at(c.ptr(&["image"]), format!("{}: {message}", c.label())).help(help)
        };
        match store.verify_image(image) {
            ImageVerdict::Unpinned => out.push(report(
                format!("image `{image}` is not pinned by digest, so its signature cannot be verified"),
                "pin the image by digest (@sha256:...); signatures are made for a digest",
            )),
            ImageVerdict::MalformedDigest(d) => out.push(report(
                format!("image `{image}` has a malformed digest `{d}`, so its signature cannot be verified"),
                "a digest is sha256: followed by 64 lowercase hex digits",
            )),
            ImageVerdict::Checked(v) => match &v.verdict {
                Verdict::Verified(_) => {}
                Verdict::NoMaterial { looked } => out.push(report(
                    format!(
                        "image `{image}` is unsigned: no signature material for {} (looked for {})",
                        v.digest,
                        looked.join(" and ")
                    ),
                    "sign the digest with a trusted key and export its signature (`cosign download signature IMAGE > <material>/sha256-<hex>.json`)",
                )),
                Verdict::Unreadable { origin, reason } => out.push(report(
                    format!("signature material of `{image}` is unreadable: {origin}: {reason}"),
                    "export the signature material again (see docs/signatures.md for the layouts)",
                )),
                Verdict::Rejected(s) => out.push(report(
                    format!("image `{image}`: {} ({})", s.outcome.describe(&v.digest), s.origin),
                    s.outcome.help(),
                )),
            },
        }
    }
}

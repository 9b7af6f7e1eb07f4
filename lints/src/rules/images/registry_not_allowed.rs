use serde_json::Value;

use super::ImageRef;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// When `allowed_registries` is set under `[lint]` in `edgefleet.toml`, reports an image
    /// from any other registry. An entry is a registry host (`registry.example.com`) or a
    /// prefix of repositories (`ghcr.io/acme`). Images without a registry are `docker.io`.
    /// Does nothing when no list is configured.
    ///
    /// ## Why it matters at an edge site
    /// Sites pull from a regional mirror: it is what their firewall allows and what survives a
    /// thin or metered link. An image from a public registry fails to pull at air-gapped
    /// sites, or pulls gigabytes over a satellite link, and bypasses the mirror's scanning.
    ///
    /// ## Example
    /// ```yaml
    ///     image: docker.io/library/redis:7.2@sha256:<digest>
    /// ```
    ///
    /// ## Fix
    /// Mirror the image and reference the mirror:
    /// `registry.example.com/library/redis:7.2@sha256:<digest>`.
    pub static RULE = {
        id: "images/registry-not-allowed",
        level: Error,
        summary: "Image comes from a registry not in allowed_registries",
        check: Check::Object(check),
    };
}

/// `true` when `entry` (a host, or a host and path prefix) covers the image.
fn allows(entry: &str, r: &ImageRef<'_>) -> bool {
    let entry = entry.trim_end_matches('/');
    r.registry == entry || r.name.starts_with(&format!("{entry}/"))
}

fn check(options: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    if options.allowed_registries.is_empty() {
        return;
    }
    for c in m.containers() {
        let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
            continue;
        };
        let r = ImageRef::parse(image);
        if !options.allowed_registries.iter().any(|e| allows(e, &r)) {
            out.push(
                Violation::at(
                    c.ptr(&["image"]),
                    format!(
                        "{}: image `{image}` comes from `{}`, which is not an allowed registry",
                        c.label(),
                        r.registry
                    ),
                )
                .help(format!(
                    "allowed: {}",
                    options.allowed_registries.join(", ")
                )),
            );
        }
    }
}

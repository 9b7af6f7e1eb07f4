use serde_json::Value;

use super::ImageRef;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports an image with no tag or the tag `latest`, unless it is pinned by digest.
    ///
    /// ## Why it matters at an edge site
    /// `latest` means "whatever the registry has when this node pulls". Sites pull at
    /// different times (after an outage, after a node replacement), so the fleet silently runs
    /// several versions, and a rollback in Git does not roll anything back.
    ///
    /// ## Example
    /// ```yaml
    ///     image: registry.example.com/edge/agent:latest
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     image: registry.example.com/edge/agent:1.4.2@sha256:<digest>
    /// ```
    pub static RULE = {
        id: "images/latest-tag",
        level: Error,
        summary: "Image has no tag or uses `latest`",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
            continue;
        };
        let r = ImageRef::parse(image);
        if r.is_floating_latest() {
            let what = if r.tag.is_none() {
                "no tag"
            } else {
                "the tag `latest`"
            };
            out.push(
                Violation::at(
                    c.ptr(&["image"]),
                    format!("{}: image `{image}` has {what}", c.label()),
                )
                .help("use a version tag and pin the digest: name:1.4.2@sha256:..."),
            );
        }
    }
}

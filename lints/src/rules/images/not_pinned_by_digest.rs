use serde_json::Value;

use super::ImageRef;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports an image reference without a digest (`@sha256:...`).
    ///
    /// ## Why it matters at an edge site
    /// A tag can be moved; a digest cannot. A pod restarted during a backhaul outage must come
    /// back from the node's image cache, which only works when the reference names exactly the
    /// image already there. Digests also make signature checks and rollbacks mean something.
    ///
    /// ## Example
    /// ```yaml
    ///     image: registry.example.com/edge/agent:1.4.2
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     image: registry.example.com/edge/agent:1.4.2@sha256:<digest>
    /// ```
    pub static RULE = {
        id: "images/not-pinned-by-digest",
        level: Warning,
        summary: "Image is not pinned by digest",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
            continue;
        };
        if ImageRef::parse(image).digest.is_none() {
            out.push(
                Violation::at(
                    c.ptr(&["image"]),
                    format!("{}: image `{image}` is not pinned by digest", c.label()),
                )
                .help("append @sha256:<digest> (e.g. from `crane digest IMAGE`)"),
            );
        }
    }
}

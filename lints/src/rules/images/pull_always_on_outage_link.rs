use serde_json::Value;

use super::ImageRef;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a container whose image pull policy is
    /// `Always` (written, or defaulted by Kubernetes: no `imagePullPolicy` and an image without
    /// digest whose tag is `latest` or missing) at a site whose backhaul profile has a
    /// `max_outage` above zero. Sites whose link is declared never to drop are not reported.
    ///
    /// When the site is known, this rule replaces `images/pull-always`: that rule judges a
    /// manifest without knowing where it lands and stays a warning; this one knows the link
    /// will drop and is an error. `edgefleet lint --fleet` does not run `images/pull-always`.
    ///
    /// ## Why it matters at an edge site
    /// With `Always`, the kubelet asks the registry on every container start. When the backhaul
    /// is down (up to the profile's `max_outage`: hours on LTE, days on VSAT), a crashed or
    /// evicted pod cannot restart although its image is on the node, and the site loses the
    /// workload until the link returns.
    ///
    /// ## Example
    /// At a site on `vsat-2m` (`max_outage: 72h`):
    /// ```yaml
    ///     image: registry.example.com/edge/agent:latest
    /// ```
    ///
    /// ## Fix
    /// Pin the image by digest and set `imagePullPolicy: IfNotPresent` (the backhaul component
    /// of generated trees does this).
    pub static RULE = {
        id: "images/pull-always-on-outage-link",
        level: Error,
        summary: "Pull policy Always at a site whose backhaul can drop: pods cannot restart during an outage",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let link = &site.backhaul;
    if !link.can_drop() {
        return;
    }
    let outage = &link.max_outage;
    for (i, m) in manifests.iter().enumerate() {
        for c in m.containers() {
            let report = match c.get(&["imagePullPolicy"]).and_then(Value::as_str) {
                Some("Always") => Violation::at(
                    c.ptr(&["imagePullPolicy"]),
                    format!(
                        "{}: imagePullPolicy Always, but backhaul `{}` can be down for {outage}",
                        c.label(),
                        link.name
                    ),
                ),
                Some(_) => continue,
                None => {
                    let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
                        continue;
                    };
                    if !ImageRef::parse(image).is_floating_latest() {
                        continue;
                    }
                    Violation::at(
                        c.ptr(&["image"]),
                        format!(
                            "{}: image `{image}` defaults imagePullPolicy to Always, but backhaul `{}` can be down for {outage}",
                            c.label(),
                            link.name
                        ),
                    )
                }
            };
            out.push((
                i,
                report.help("pin the image by digest and set imagePullPolicy: IfNotPresent"),
            ));
        }
    }
}

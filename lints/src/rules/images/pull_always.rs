use serde_json::Value;

use super::ImageRef;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container whose image pull policy is `Always`: written explicitly, or
    /// defaulted by Kubernetes (no `imagePullPolicy` and an image that is not pinned by digest
    /// and has the tag `latest` or no tag).
    ///
    /// ## Why it matters at an edge site
    /// With `Always`, the kubelet contacts the registry on every container start. During a
    /// backhaul outage (hours on a satellite link), a crashed or rescheduled pod cannot start
    /// even though its image is on the node: `ErrImagePull`, and the site loses the workload
    /// until the link is back. This is deliberately the opposite of Checkov's CKV_K8S_15.
    ///
    /// This rule judges a manifest without knowing its site. `edgefleet lint --fleet` knows each
    /// site's backhaul and runs `images/pull-always-on-outage-link` instead (an error where the
    /// link can drop, silent where it cannot).
    ///
    /// ## Example
    /// ```yaml
    ///     image: registry.example.com/edge/agent:1.4.2@sha256:<digest>
    ///     imagePullPolicy: Always
    /// ```
    ///
    /// ## Fix
    /// Pin the image by digest and use `imagePullPolicy: IfNotPresent`.
    pub static RULE = {
        id: "images/pull-always",
        level: Warning,
        summary: "Image pull policy is Always (explicit or defaulted): pods cannot restart offline",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        match c.get(&["imagePullPolicy"]).and_then(Value::as_str) {
            Some("Always") => out.push(
                Violation::at(
                    c.ptr(&["imagePullPolicy"]),
                    format!(
                        "{}: imagePullPolicy Always needs the registry on every restart",
                        c.label()
                    ),
                )
                .help("use IfNotPresent with an image pinned by digest"),
            ),
            Some(_) => {}
            None => {
                let Some(image) = c.get(&["image"]).and_then(Value::as_str) else {
                    continue;
                };
                if ImageRef::parse(image).is_floating_latest() {
                    out.push(
                        Violation::at(
                            c.ptr(&["image"]),
                            format!(
                                "{}: image `{image}` defaults imagePullPolicy to Always",
                                c.label()
                            ),
                        )
                        .help("pin the image by digest and set imagePullPolicy: IfNotPresent"),
                    );
                }
            }
        }
    }
}

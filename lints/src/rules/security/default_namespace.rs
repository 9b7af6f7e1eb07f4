use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a namespaced object that names the `default` namespace, or names no namespace
    /// at all. Off by default: turn it on for manifests applied as they are (`kubectl apply`),
    /// where a missing namespace means `default`.
    ///
    /// ## Why it matters at an edge site
    /// A site cluster runs a handful of workloads from different teams. In `default` they share
    /// one set of RBAC bindings, quotas and NetworkPolicies, so a mistake in one can reach the
    /// others, and nobody on site can untangle it. In a Kustomize base a missing namespace is
    /// normal (the overlay's `namespace:` or the Argo CD destination sets it), which is why the
    /// rule is off unless you ask for it.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: agent
    ///   namespace: default
    /// ```
    ///
    /// ## Fix
    /// Give every workload its own namespace (`metadata.namespace`, the overlay's `namespace:`,
    /// or the Application's destination namespace).
    pub static RULE = {
        id: "security/default-namespace",
        level: Off,
        summary: "Object lands in the default namespace",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let kind = m.kind();
    if kind.is_empty()
        || kube_basics::kinds::is_cluster_scoped_api(m.api_version(), kind)
        || kind.ends_with("List")
    {
        return;
    }
    match m.value.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some("default") => out.push(
            Violation::at("/metadata/namespace", format!("{kind} is in the `default` namespace"))
                .help("give the workload its own namespace"),
        ),
        None => out.push(
            Violation::at(
                "/metadata",
                format!("{kind} names no namespace, so `kubectl apply` puts it in `default`"),
            )
            .help("set metadata.namespace, or leave it to the overlay's `namespace:` and keep this rule off"),
        ),
        Some(_) => {}
    }
}

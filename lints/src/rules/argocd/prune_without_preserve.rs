use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports an `ApplicationSet` whose Application template enables automated sync with
    /// `prune: true` while the ApplicationSet does not set
    /// `spec.syncPolicy.preserveResourcesOnDeletion: true`.
    ///
    /// ## Why it matters at an edge site
    /// When a generator run goes wrong (a glob that matches nothing, a deleted `site.json`),
    /// the ApplicationSet deletes the Applications it no longer generates, and with pruning
    /// their resources: every workload at every affected site is deleted, and restoring them
    /// means re-pulling every image over the backhaul.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ApplicationSet
    /// spec:
    ///   template:
    ///     spec:
    ///       syncPolicy:
    ///         automated: {prune: true}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// spec:
    ///   syncPolicy:
    ///     preserveResourcesOnDeletion: true
    /// ```
    pub static RULE = {
        id: "argocd/prune-without-preserve",
        level: Error,
        summary: "ApplicationSet prunes automatically without preserveResourcesOnDeletion",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    if m.kind() != "ApplicationSet" || !m.api_version().starts_with("argoproj.io/") {
        return;
    }
    let prune = "/spec/template/spec/syncPolicy/automated/prune";
    if !crate::rules::is_true(m.value.pointer(prune)) {
        return;
    }
    let preserve = m
        .value
        .pointer("/spec/syncPolicy/preserveResourcesOnDeletion")
        .and_then(serde_json::Value::as_bool);
    if preserve != Some(true) {
        out.push(
            Violation::at(
                prune,
                format!(
                    "{} prunes automatically but does not preserve resources on deletion",
                    m.object
                ),
            )
            .help("set spec.syncPolicy.preserveResourcesOnDeletion: true on the ApplicationSet"),
        );
    }
}

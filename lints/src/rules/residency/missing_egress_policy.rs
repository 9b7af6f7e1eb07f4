use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a workload that handles a restricted data
    /// class (`edgefleet.io/data-class`; restricted where `residency.policy` does not allow it
    /// `any` zone from the site's zone) when no NetworkPolicy of the site, in the workload's
    /// namespace, restricts egress (`policyTypes` with `Egress`, or `egress` rules without
    /// `policyTypes`) and selects its pods (`podSelector` matching the pod template's labels; an
    /// empty selector selects every pod).
    ///
    /// It checks that egress is restricted at all, not what the policy allows: a NetworkPolicy
    /// selects destinations by IP block, namespace and pod, never by host name, so the allowed
    /// endpoints cannot be compared with the residency catalogue.
    ///
    /// ## Why it matters at an edge site
    /// The residency rules check the endpoints written in the manifests. A library that phones
    /// home, a debugging change made on site, or a compromised container can still send data
    /// anywhere unless the pod's egress is closed by default. At a remote site nobody watches the
    /// traffic; the policy is the only guard that acts without a person.
    ///
    /// ## Example
    /// A Deployment labelled `edgefleet.io/data-class: video-raw` in namespace `edge-inference`,
    /// and no NetworkPolicy with `policyTypes: [Egress]` selecting its pods there.
    ///
    /// ## Fix
    /// Ship a NetworkPolicy with the workload that selects its pods, sets `policyTypes: [Egress]`
    /// and allows only DNS and the ports of its in-zone endpoints (the default templates do).
    pub static RULE = {
        id: "residency/missing-egress-policy",
        level: Warning,
        summary: "A workload handling a restricted data class has no NetworkPolicy restricting its egress",
        check: Check::Site(check),
    };
}

fn namespace(m: &Manifest) -> &str {
    m.value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn restricts_egress(np: &Value) -> bool {
    match np.pointer("/spec/policyTypes").and_then(Value::as_array) {
        Some(types) => types.iter().any(|t| t.as_str() == Some("Egress")),
        None => np.pointer("/spec/egress").is_some(),
    }
}

/// Kubernetes label selector semantics (`matchLabels` and `matchExpressions`).
pub(crate) fn selects(selector: Option<&Value>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector else {
        // A NetworkPolicy without podSelector is invalid; treat it as selecting nothing.
        return false;
    };
    for (k, v) in selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if labels.get(k).map(String::as_str) != v.as_str() {
            return false;
        }
    }
    for e in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).map(String::as_str);
        let ok = match e.get("operator").and_then(Value::as_str) {
            Some("In") => have.is_some_and(|h| values.contains(&h)),
            Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
            Some("Exists") => have.is_some(),
            Some("DoesNotExist") => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn pod_labels(m: &Manifest) -> BTreeMap<String, String> {
    let pointer = match m.kind() {
        "Pod" => "/metadata/labels",
        "CronJob" => "/spec/jobTemplate/spec/template/metadata/labels",
        _ => "/spec/template/metadata/labels",
    };
    m.value
        .pointer(pointer)
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let zone = &site.region.zone;
    let policies: Vec<&Manifest> = manifests
        .iter()
        .filter(|m| m.kind() == "NetworkPolicy" && restricts_egress(&m.value))
        .collect();
    for (i, m) in manifests.iter().enumerate() {
        if m.pod_spec().is_none() {
            continue;
        }
        let classes = super::data_classes(m);
        let restricted: Vec<(&String, &String)> = classes
            .iter()
            .filter(|(c, _)| site.residency.allowed(c, zone).restricted())
            .collect();
        let Some((_, pointer)) = restricted.first() else {
            continue;
        };
        let labels = pod_labels(m);
        let ns = namespace(m);
        let covered = policies.iter().any(|np| {
            namespace(np) == ns && selects(np.value.pointer("/spec/podSelector"), &labels)
        });
        if covered {
            continue;
        }
        let names: Vec<String> = restricted.iter().map(|(c, _)| format!("`{c}`")).collect();
        let in_ns = if ns.is_empty() {
            String::new()
        } else {
            format!(" in namespace `{ns}`")
        };
        out.push((
            i,
            Violation::at(
                (*pointer).clone(),
                format!(
                    "{} handles {} data at {}, but no NetworkPolicy{in_ns} restricts its egress",
                    m.object,
                    names.join(", "),
                    super::site_text(site),
                ),
            )
            .help("add a NetworkPolicy selecting its pods with policyTypes [Egress] that allows only DNS and its in-zone endpoints"),
        ));
    }
}

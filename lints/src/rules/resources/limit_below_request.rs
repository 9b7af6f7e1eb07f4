use edgefleet_inventory::units::Quantity;
use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container whose CPU or memory limit is lower than its request.
    ///
    /// ## Why it matters at an edge site
    /// The API server rejects such a pod, so the rollout stalls at every site of the wave, and
    /// the previous version keeps running with no alert at the site itself.
    ///
    /// ## Example
    /// ```yaml
    ///     resources:
    ///       requests: {memory: 512Mi}
    ///       limits: {memory: 256Mi}
    /// ```
    ///
    /// ## Fix
    /// Make the limit at least the request (`limits: {memory: 512Mi}`).
    pub static RULE = {
        id: "resources/limit-below-request",
        level: Error,
        summary: "Resource limit is lower than the request",
        check: Check::Object(check),
    };
}

fn quantity(v: Option<&Value>) -> Option<Quantity> {
    match v? {
        Value::String(s) => Quantity::parse(s).ok(),
        Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
        _ => None,
    }
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        for resource in ["cpu", "memory"] {
            let request = quantity(c.get(&["resources", "requests", resource]));
            let limit = quantity(c.get(&["resources", "limits", resource]));
            if let (Some(request), Some(limit)) = (request, limit)
                && limit.value < request.value
            {
                out.push(
                    Violation::at(
                        c.ptr(&["resources", "limits", resource]),
                        format!(
                            "{}: {resource} limit {limit} is lower than its request {request}",
                            c.label()
                        ),
                    )
                    .help("the API server rejects this pod; raise the limit or lower the request"),
                );
            }
        }
    }
}

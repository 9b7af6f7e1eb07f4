pub mod limit_below_request;
pub mod missing_cpu_limit;
pub mod missing_cpu_request;
pub mod missing_memory_limit;
pub mod missing_memory_request;

use crate::manifest::Manifest;
use crate::rule::Violation;

/// Reports every container lacking `resources.<section>.<resource>`.
fn missing(m: &Manifest, section: &str, resource: &str, help: &str, out: &mut Vec<Violation>) {
    for c in m.containers() {
        if c.get(&["resources", section, resource]).is_some() {
            continue;
        }
        out.push(
            Violation::at(
                super::deepest(&c, &["resources", section]),
                format!(
                    "{} has no {resource} {}",
                    c.label(),
                    section.trim_end_matches('s')
                ),
            )
            .help(help.to_owned()),
        );
    }
}

pub mod accelerator_unavailable;
pub mod site_over_capacity;

use serde_json::Value;

/// How many pods of an object a site runs at once: `replicas` (default 1) for controllers,
/// one per site for a DaemonSet (a site is sized as one node), `parallelism` for Jobs.
pub(crate) fn pods_at_site(m: &Manifest) -> u64 {
    let count = |ptr: &str| m.value.pointer(ptr).and_then(Value::as_u64).unwrap_or(1);
    match m.kind() {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
            count("/spec/replicas")
        }
        "Job" => count("/spec/parallelism"),
        "CronJob" => count("/spec/jobTemplate/spec/parallelism"),
        _ => 1,
    }
}

/// A container's request for a resource: `requests.<name>`, else `limits.<name>` (Kubernetes
/// defaults a missing request to the limit). In base units (cores, bytes, devices), with the
/// JSON pointer of the field it was read from.
pub(crate) fn container_request(
    c: &crate::manifest::Container<'_>,
    name: &str,
) -> Option<(f64, String)> {
    for section in ["requests", "limits"] {
        if let Some(v) = c.get(&["resources", section, name]) {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if let Ok(q) = edgefleet_inventory::units::Quantity::parse(&text) {
                return Some((q.value, c.ptr(&["resources", section, name])));
            }
        }
    }
    None
}

/// A pod's effective request for a resource (the larger of the sum over its containers and
/// the largest init container, as the scheduler counts it), and the pointer of the field that
/// contributes most.
pub(crate) fn pod_request(m: &Manifest, name: &str) -> Option<(f64, String)> {
    let mut sum = 0.0;
    let mut init_max: f64 = 0.0;
    let mut biggest: Option<(f64, String)> = None;
    for c in m.containers() {
        let Some((v, ptr)) = container_request(&c, name) else {
            continue;
        };
        if c.init {
            init_max = init_max.max(v);
        } else {
            sum += v;
        }
        if biggest.as_ref().is_none_or(|(b, _)| v > *b) {
            biggest = Some((v, ptr));
        }
    }
    biggest.map(|(_, ptr)| (sum.max(init_max), ptr))
}

//! `replicas`: Kustomize's replica count transformer (`spec.replicas` of the workloads named).

use serde_json::Value;

use super::field_spec::visit;
use crate::Resource;
use crate::kustomization::ReplicaSpec;

/// `replicas`: `spec.replicas` of the workloads named (original or current name).
pub fn replicas(resources: &mut [Resource], specs: &[ReplicaSpec]) {
    for spec in specs {
        for r in resources.iter_mut() {
            if !matches!(
                r.kind(),
                "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet"
            ) {
                continue;
            }
            if r.name() != spec.name && r.original_name != spec.name {
                continue;
            }
            let path = ["spec".to_owned(), "replicas".to_owned()];
            visit(&mut r.value, &path, true, &mut |leaf| {
                *leaf = Value::from(spec.count);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::metadata::prefix_suffix;
    use crate::transform::test_support::*;

    #[test]
    fn replicas_by_original_or_current_name() {
        let mut rs = vec![deployment()];
        prefix_suffix(&mut rs, "p-", "");
        replicas(
            &mut rs,
            &[ReplicaSpec {
                name: "web".into(),
                count: 3,
            }],
        );
        assert_eq!(rs[0].value["spec"]["replicas"], 3);
        replicas(
            &mut rs,
            &[ReplicaSpec {
                name: "p-web".into(),
                count: 4,
            }],
        );
        assert_eq!(rs[0].value["spec"]["replicas"], 4);
    }
}

//! `replicas`: Kustomize's replica count transformer (`spec.replicas` of the workloads named).

use serde_json::Value;

use super::field_spec::{FieldSpec, visit};
use crate::Resource;
use crate::kustomization::ReplicaSpec;

/// The kinds whose `spec.replicas` kustomize's `replicas` sets (its field specs, in its order).
const KINDS: [&str; 4] = [
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// `replicas`: `spec.replicas` of the workloads named, by their current name or any earlier
/// one (a base's name before this kustomization's prefix, the original name). As in kustomize,
/// an entry naming nothing of those kinds is an error.
#[cfg(test)]
pub fn replicas(resources: &mut [Resource], specs: &[ReplicaSpec]) -> Result<(), String> {
    replicas_with(resources, specs, &[])
}

/// [`replicas`] with `extra` field specs from custom configurations (objects of other kinds,
/// other count fields).
pub(crate) fn replicas_with(
    resources: &mut [Resource],
    specs: &[ReplicaSpec],
    extra: &[FieldSpec],
) -> Result<(), String> {
    let path = ["spec".to_owned(), "replicas".to_owned()];
    for spec in specs {
        let mut found = false;
        for r in resources.iter_mut() {
            let named = |kind_ok: &dyn Fn(&str) -> bool| {
                (kind_ok(r.kind()) && r.name() == spec.name)
                    || r.prev_ids
                        .iter()
                        .any(|id| kind_ok(&id.kind) && id.name == spec.name)
            };
            let extras: Vec<&FieldSpec> = extra
                .iter()
                .filter(|fs| {
                    fs.matches(r) && named(&|k: &str| fs.kind.as_deref().is_none_or(|x| x == k))
                })
                .collect();
            for fs in &extras {
                found = true;
                visit(&mut r.value, &fs.path, fs.create, &mut |leaf| {
                    *leaf = Value::from(spec.count);
                });
            }
            if !names(r, &spec.name) {
                continue;
            }
            found = true;
            visit(&mut r.value, &path, true, &mut |leaf| {
                *leaf = Value::from(spec.count);
            });
        }
        if !found {
            return Err(format!(
                "resource with name {} does not match a config with the following GVK \
                 [Deployment StatefulSet ReplicaSet ReplicationController]",
                spec.name
            ));
        }
    }
    Ok(())
}

/// A `ReplicaCountTransformer` config: `count` at each field spec's path of the objects whose
/// current or any earlier id has `name` and the spec's kind (group, version). Matching nothing
/// (no field specs at all, too) is an error, as in kustomize.
pub fn replicas_with_specs(
    resources: &mut [Resource],
    name: &str,
    count: i64,
    specs: &[super::FieldSpec],
) -> Result<(), String> {
    let mut found = false;
    for spec in specs {
        for r in resources.iter_mut() {
            let (g, v) = r.group_version();
            let gv = spec.group.as_deref().is_none_or(|x| x == g)
                && spec.version.as_deref().is_none_or(|x| x == v);
            let kind_ok = |k: &str| spec.kind.as_deref().is_none_or(|x| x == k);
            let selected = gv
                && ((r.name() == name && kind_ok(r.kind()))
                    || r.prev_ids
                        .iter()
                        .any(|id| id.name == name && kind_ok(&id.kind)));
            if !selected {
                continue;
            }
            found = true;
            visit(&mut r.value, &spec.path, spec.create, &mut |leaf| {
                *leaf = Value::from(count);
            });
        }
    }
    if !found {
        let gvks: Vec<String> = specs
            .iter()
            .map(|s| {
                format!(
                    "{}.{}.{}",
                    s.kind.as_deref().unwrap_or("~K"),
                    s.version.as_deref().unwrap_or("[noVer]"),
                    s.group.as_deref().unwrap_or("[noGrp]")
                )
            })
            .collect();
        return Err(format!(
            "resource with name {name} does not match a config with the following GVK [{}]",
            gvks.join(" ")
        ));
    }
    Ok(())
}

/// Whether `replicas` entry `name` sets `r` (as [`replicas`] matches).
pub(crate) fn names(r: &Resource, name: &str) -> bool {
    (KINDS.contains(&r.kind()) && r.name() == name)
        || r.prev_ids
            .iter()
            .any(|id| KINDS.contains(&id.kind.as_str()) && id.name == name)
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
        )
        .unwrap();
        assert_eq!(rs[0].value["spec"]["replicas"], 3);
        replicas(
            &mut rs,
            &[ReplicaSpec {
                name: "p-web".into(),
                count: 4,
            }],
        )
        .unwrap();
        assert!(
            replicas(
                &mut rs,
                &[ReplicaSpec {
                    name: "absent".into(),
                    count: 1,
                }],
            )
            .is_err()
        );
        assert_eq!(rs[0].value["spec"]["replicas"], 4);
    }
}

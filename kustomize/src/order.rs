//! Output order, as `kubectl kustomize` prints it.
//!
//! `legacy` (the default): kinds in `orderFirst` come first in that order, kinds in `orderLast`
//! last in that order, every other kind in between; ties (the same priority) are broken by
//! `group_version_kind` (an empty group reads `~G`), then by the string
//! `<namespace>|<name>` (no namespace reads `~X`), compared as one string, so `zz|a` sorts before
//! `z|b` — measured with Kustomize v5.8.1. `fifo` keeps the order in which resources were
//! accumulated. When `legacySortOptions` is given, its lists replace both defaults (a missing
//! list is empty).

use super::Resource;
use super::kustomization::SortOptions;

/// Kustomize's default `orderFirst`.
pub const ORDER_FIRST: [&str; 22] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kustomize's default `orderLast`.
pub const ORDER_LAST: [&str; 2] = [
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn gvk_string(r: &Resource) -> String {
    let (g, v) = r.group_version();
    // kustomize's `gvkLessThan`: two `Namespace` kinds of which one is the core one compare
    // reversed, so the core `v1 Namespace` comes before every other group's (measured).
    if g.is_empty() && r.kind() == "Namespace" {
        return format!("\u{0}{v}");
    }
    let g = if g.is_empty() { "~G" } else { g };
    let v = if v.is_empty() { "~V" } else { v };
    format!("{g}_{v}_{}", r.kind())
}

/// Sorts `resources` in place as `sortOptions` says (legacy when `None`).
pub fn sort(resources: &mut Vec<Resource>, options: Option<&SortOptions>) {
    let (first, last): (Vec<String>, Vec<String>) = match options {
        Some(SortOptions::Fifo) => return,
        Some(SortOptions::Legacy {
            order_first,
            order_last,
        }) => (
            order_first
                .clone()
                .unwrap_or_else(|| ORDER_FIRST.iter().map(|s| (*s).to_owned()).collect()),
            order_last
                .clone()
                .unwrap_or_else(|| ORDER_LAST.iter().map(|s| (*s).to_owned()).collect()),
        ),
        None => (
            ORDER_FIRST.iter().map(|s| (*s).to_owned()).collect(),
            ORDER_LAST.iter().map(|s| (*s).to_owned()).collect(),
        ),
    };
    let priority = |kind: &str| -> i64 {
        // first kinds get negative ranks, last kinds positive, everything else 0
        if let Some(i) = first.iter().position(|k| k == kind) {
            i as i64 - first.len() as i64
        } else if let Some(i) = last.iter().position(|k| k == kind) {
            i as i64 + 1
        } else {
            0
        }
    };
    // kustomize compares `<gvk>|<namespace or ~X>|<name or ~N>` as one string
    let mut keyed: Vec<(i64, String, String, usize)> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let ns = r.namespace().filter(|n| !n.is_empty()).unwrap_or("~X");
            let name = Some(r.name()).filter(|n| !n.is_empty()).unwrap_or("~N");
            (priority(r.kind()), gvk_string(r), format!("{ns}|{name}"), i)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    let order: Vec<usize> = keyed.into_iter().map(|k| k.3).collect();
    permute(resources, &order);
}

/// Reorders `items` so that position `i` holds the item that was at `order[i]`.
fn permute(items: &mut Vec<Resource>, order: &[usize]) {
    let mut taken: Vec<Option<Resource>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&from| taken[from].take()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Origin;
    use serde_json::json;
    use std::path::Path;
    use std::sync::Arc;

    fn r(api: &str, kind: &str, name: &str, ns: Option<&str>) -> Resource {
        let mut v = json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        Resource::new(
            v,
            Origin {
                file: Arc::from(Path::new("/x")),
                document: 0,
            },
        )
    }

    fn names(rs: &[Resource]) -> Vec<String> {
        rs.iter()
            .map(|r| format!("{}/{}/{}", r.kind(), r.namespace().unwrap_or(""), r.name()))
            .collect()
    }

    #[test]
    fn legacy_order() {
        let mut rs = vec![
            r("apps/v1", "Deployment", "d", None),
            r("zeta.com/v1", "Bar", "a", None),
            r("example.com/v1", "Foo", "a", None),
            r("v1", "ConfigMap", "a", None),
            r("v1", "ConfigMap", "a", Some("b")),
            r("v1", "ConfigMap", "a-b", None),
            r("v1", "ConfigMap", "b", Some("z")),
            r("v1", "ConfigMap", "a", Some("zz")),
            r(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "w",
                None,
            ),
            r("v1", "Namespace", "n", None),
        ];
        sort(&mut rs, None);
        assert_eq!(
            names(&rs),
            [
                "Namespace//n",
                "ConfigMap/b/a",
                "ConfigMap/zz/a",
                "ConfigMap/z/b",
                "ConfigMap//a",
                "ConfigMap//a-b",
                "Deployment//d",
                "Foo//a",
                "Bar//a",
                "ValidatingWebhookConfiguration//w"
            ]
        );
    }

    #[test]
    fn fifo_and_custom_lists() {
        let mut rs = vec![
            r("apps/v1", "Deployment", "d", None),
            r("v1", "Service", "s", None),
        ];
        sort(&mut rs, Some(&SortOptions::Fifo));
        assert_eq!(names(&rs), ["Deployment//d", "Service//s"]);
        sort(
            &mut rs,
            Some(&SortOptions::Legacy {
                order_first: Some(vec![]),
                order_last: Some(vec!["Service".into()]),
            }),
        );
        assert_eq!(names(&rs), ["Deployment//d", "Service//s"]);
    }
}

//! What a binding matches (resource rules, namespace and object selectors) and the `request`
//! an evaluation sees.

use super::*;

pub(super) fn labels(o: &Value) -> BTreeMap<String, String> {
    o.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub(super) fn group_version(api: &str) -> (&str, &str) {
    api.rsplit_once('/').unwrap_or(("", api))
}

/// The resource (plural) of a kind, as the API server names it.
pub(crate) fn resource_of(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k == "endpoints" {
        return k;
    }
    if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh") {
        format!("{k}es")
    } else if let Some(stem) = k.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{k}s")
    }
}

pub(super) fn request(object: &Value) -> Value {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, version) = group_version(api);
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    let namespace = object
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource_of(kind)},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource_of(kind)},
        "name": name,
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": "edgefleet-lint", "groups": ["system:authenticated"]},
        "dryRun": true,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    })
}

pub(super) fn any_or(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

pub(super) fn rule_matches(r: &ResourceRule, object: &Value, cluster_scoped: bool) -> bool {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, version) = group_version(api);
    let resource = resource_of(kind);
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ops_ok = r.operations.is_empty() || any_or(&r.operations, "CREATE");
    let scope_ok = match r.scope.as_str() {
        "Cluster" => cluster_scoped,
        "Namespaced" => !cluster_scoped,
        _ => true,
    };
    any_or(&r.api_groups, group)
        && any_or(&r.api_versions, version)
        && r.resources
            .iter()
            .any(|x| x == "*" || *x == resource || x == "*/*")
        && ops_ok
        && scope_ok
        && (r.resource_names.is_empty() || r.resource_names.iter().any(|n| n == name))
}

pub(super) fn matches(
    m: &MatchResources,
    object: &Value,
    cluster_scoped: bool,
    namespace: Option<&Value>,
    policy: bool,
) -> bool {
    // A policy must list its resources; a binding without resourceRules takes the policy's.
    if (policy || !m.rules.is_empty())
        && !m
            .rules
            .iter()
            .any(|r| rule_matches(r, object, cluster_scoped))
    {
        return false;
    }
    if m.exclude
        .iter()
        .any(|r| rule_matches(r, object, cluster_scoped))
    {
        return false;
    }
    if let Some(sel) = &m.object_selector
        && !selects(Some(sel), &labels(object))
    {
        return false;
    }
    if let Some(sel) = &m.namespace_selector {
        // Cluster-scoped objects other than Namespaces are not subject to namespaceSelector.
        let ns_labels = match (namespace, object.get("kind").and_then(Value::as_str)) {
            (_, Some("Namespace")) => Some(labels(object)),
            (Some(ns), _) => Some(labels(ns)),
            (None, _) => None,
        };
        if let Some(l) = ns_labels
            && !selects(Some(sel), &l)
        {
            return false;
        }
    }
    true
}

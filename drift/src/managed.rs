//! `metadata.managedFields`: which field manager set which field of a live object.
//!
//! Every write to the API server records its manager (`kubectl-edit`, `kube-controller-manager`,
//! `argocd-controller`, …) with the set of fields it owns, in the `FieldsV1` format of
//! structured-merge-diff: a tree whose keys are
//!
//! - `f:<name>`: a field of a map (`f:spec`, `f:replicas`);
//! - `k:<json object>`: an element of an associative list, by its key fields
//!   (`k:{"name":"app"}`, `k:{"containerPort":8080,"protocol":"TCP"}`);
//! - `v:<json value>`: an element of a set (`v:"example.com/finalizer"`);
//! - `i:<index>`: an element of an atomic list, by position;
//! - `.`: the node itself (its existence is owned, not only fields under it).
//!
//! A leaf (`{}`) is a scalar field or an atomic value owned whole. [`ManagedFields::managers_at`]
//! walks a path through a live object and answers which managers own a node there; the
//! comparison uses it to tell a field typed by hand (`kubectl-edit`, `kubectl-set`) from one a
//! controller set.

use serde_json::{Map, Value};

/// One step of a path inside an object: a map field, or a list element (the element itself, for
/// matching `k:` and `v:` keys, and its index).
#[derive(Debug, Clone)]
pub(crate) enum Step<'a> {
    Field(&'a str),
    Item(&'a Value, usize),
}

#[derive(Debug, Clone, PartialEq)]
enum Element {
    Field(String),
    Key(Map<String, Value>),
    Value(Value),
    Index(usize),
}

/// A node of a `FieldsV1` tree.
#[derive(Debug, Clone, Default, PartialEq)]
struct FieldSet {
    children: Vec<(Element, FieldSet)>,
    /// `.` was present: the node's existence is owned (a map or list item created by the
    /// manager), not necessarily what is under it.
    dot: bool,
}

impl FieldSet {
    fn parse(v: &Value) -> Result<FieldSet, String> {
        let Some(map) = v.as_object() else {
            return Err("a FieldsV1 node is not a map".to_owned());
        };
        let mut children = Vec::with_capacity(map.len());
        let mut dot = false;
        for (k, child) in map {
            if k == "." {
                dot = true;
                continue;
            }
            let element = if let Some(name) = k.strip_prefix("f:") {
                Element::Field(name.to_owned())
            } else if let Some(key) = k.strip_prefix("k:") {
                match serde_json::from_str::<Value>(key) {
                    Ok(Value::Object(m)) => Element::Key(m),
                    _ => return Err(format!("bad list key `{k}`")),
                }
            } else if let Some(value) = k.strip_prefix("v:") {
                Element::Value(
                    serde_json::from_str(value).map_err(|_| format!("bad set value `{k}`"))?,
                )
            } else if let Some(index) = k.strip_prefix("i:") {
                Element::Index(index.parse().map_err(|_| format!("bad index `{k}`"))?)
            } else {
                return Err(format!("unknown FieldsV1 key `{k}`"));
            };
            children.push((element, FieldSet::parse(child)?));
        }
        Ok(FieldSet { children, dot })
    }

    fn child(&self, step: &Step<'_>) -> Option<&FieldSet> {
        self.children
            .iter()
            .find(|(e, _)| matches(e, step))
            .map(|(_, s)| s)
    }

    /// A scalar, or an atomic value owned whole.
    fn is_leaf(&self) -> bool {
        self.children.is_empty() && !self.dot
    }
}

/// Whether a `FieldsV1` element names the path step.
fn matches(element: &Element, step: &Step<'_>) -> bool {
    match (element, step) {
        (Element::Field(name), Step::Field(field)) => name == field,
        (Element::Key(keys), Step::Item(item, _)) => keys.iter().all(|(k, v)| {
            item.get(k)
                .is_some_and(|found| found == v || crate::compare::same_scalar(found, v))
        }),
        (Element::Value(v), Step::Item(item, _)) => *item == v,
        (Element::Index(i), Step::Item(_, index)) => i == index,
        _ => false,
    }
}

/// One manager's fields.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) manager: String,
    fields: FieldSet,
}

/// The managers of a live object and their fields (status subresource updates left out: status
/// is never compared).
#[derive(Debug, Clone, Default)]
pub(crate) struct ManagedFields {
    pub(crate) entries: Vec<Entry>,
}

/// Who owns a node of the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// The manager owns the node whole (a scalar, or an atomic map or list).
    Whole,
    /// The manager owns fields under the node (or its existence): look deeper.
    Partly,
}

impl ManagedFields {
    /// The `metadata.managedFields` of a live object. Entries that cannot be read are skipped
    /// (an unreadable entry must not hide the rest); `None` when the object has none at all
    /// (`kubectl get -o yaml` leaves them out unless `--show-managed-fields`).
    pub(crate) fn of(object: &Value) -> Option<ManagedFields> {
        let list = object.pointer("/metadata/managedFields")?.as_array()?;
        if list.is_empty() {
            return None;
        }
        let mut entries = Vec::new();
        for e in list {
            if e.get("subresource").and_then(Value::as_str) == Some("status") {
                continue;
            }
            if e.get("fieldsType")
                .and_then(Value::as_str)
                .unwrap_or("FieldsV1")
                != "FieldsV1"
            {
                continue;
            }
            let Some(manager) = e.get("manager").and_then(Value::as_str) else {
                continue;
            };
            let Some(Ok(fields)) = e.get("fieldsV1").map(FieldSet::parse) else {
                continue;
            };
            entries.push(Entry {
                manager: manager.to_owned(),
                fields,
            });
        }
        Some(ManagedFields { entries })
    }

    /// The managers owning a node at `path`, each with how much of it they own.
    pub(crate) fn managers_at(&self, path: &[Step<'_>]) -> Vec<(&str, Ownership)> {
        let mut found = Vec::new();
        'entries: for e in &self.entries {
            let mut node = &e.fields;
            for step in path {
                if node.is_leaf() && !std::ptr::eq(node, &e.fields) {
                    // An atomic value owned whole covers everything under it.
                    found.push((e.manager.as_str(), Ownership::Whole));
                    continue 'entries;
                }
                match node.child(step) {
                    Some(n) => node = n,
                    None => continue 'entries,
                }
            }
            let how = if node.is_leaf() {
                Ownership::Whole
            } else {
                Ownership::Partly
            };
            found.push((e.manager.as_str(), how));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Deployment after `kubectl set env deployment/collector DEBUG=1` on a cluster where
    /// Argo CD applied it server-side: the entries as the API server writes them.
    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "collector",
                "managedFields": [
                    {
                        "manager": "argocd-controller",
                        "operation": "Apply",
                        "apiVersion": "apps/v1",
                        "time": "2026-11-30T08:12:40Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {
                            "f:spec": {
                                "f:replicas": {},
                                "f:template": {"f:spec": {"f:containers": {
                                    "k:{\"name\":\"app\"}": {
                                        ".": {},
                                        "f:image": {},
                                        "f:name": {},
                                        "f:ports": {"k:{\"containerPort\":4317,\"protocol\":\"TCP\"}": {
                                            ".": {}, "f:containerPort": {}, "f:name": {}
                                        }},
                                        "f:args": {}
                                    }
                                }}}
                            }
                        }
                    },
                    {
                        "manager": "kubectl-set",
                        "operation": "Update",
                        "apiVersion": "apps/v1",
                        "time": "2026-12-01T02:03:04Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {
                            "f:spec": {"f:template": {"f:spec": {"f:containers": {
                                "k:{\"name\":\"app\"}": {"f:env": {
                                    ".": {},
                                    "k:{\"name\":\"DEBUG\"}": {".": {}, "f:name": {}, "f:value": {}}
                                }}
                            }}}}
                        }
                    },
                    {
                        "manager": "kube-controller-manager",
                        "operation": "Update",
                        "apiVersion": "apps/v1",
                        "subresource": "status",
                        "time": "2026-12-01T02:03:09Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:status": {"f:replicas": {}}}
                    }
                ]
            },
            "spec": {"template": {"spec": {"containers": [{
                "name": "app",
                "args": ["--config", "/etc/app.yaml"],
                "ports": [{"containerPort": 4317, "protocol": "TCP", "name": "otlp"}],
                "env": [{"name": "DEBUG", "value": "1"}]
            }]}}}
        })
    }

    #[test]
    fn fields_v1_paths_are_followed_through_list_keys() {
        let d = deployment();
        let m = ManagedFields::of(&d).unwrap();
        assert_eq!(m.entries.len(), 2, "the status entry is left out");
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        let base = [
            Step::Field("spec"),
            Step::Field("template"),
            Step::Field("spec"),
            Step::Field("containers"),
            Step::Item(container, 0),
        ];
        let at = |rest: &[Step<'_>]| {
            let mut path = base.to_vec();
            path.extend_from_slice(rest);
            m.managers_at(&path)
        };
        assert_eq!(
            at(&[Step::Field("env")]),
            vec![("kubectl-set", Ownership::Partly)]
        );
        let env = &container["env"][0];
        assert_eq!(
            at(&[Step::Field("env"), Step::Item(env, 0), Step::Field("value")]),
            vec![("kubectl-set", Ownership::Whole)]
        );
        assert_eq!(
            at(&[Step::Field("image")]),
            vec![("argocd-controller", Ownership::Whole)]
        );
        let port = &container["ports"][0];
        assert_eq!(
            at(&[Step::Field("ports"), Step::Item(port, 0)]),
            vec![("argocd-controller", Ownership::Partly)]
        );
        // Under an atomic list owned whole.
        assert_eq!(
            at(&[Step::Field("args"), Step::Item(&json!("--config"), 0)]),
            vec![("argocd-controller", Ownership::Whole)]
        );
        assert!(at(&[Step::Field("imagePullPolicy")]).is_empty());
        assert!(
            m.managers_at(&[Step::Field("status")]).is_empty(),
            "status updates are not read"
        );
    }

    #[test]
    fn objects_without_managed_fields_say_so() {
        assert!(ManagedFields::of(&json!({"metadata": {"name": "x"}})).is_none());
        assert!(ManagedFields::of(&json!({"metadata": {"managedFields": []}})).is_none());
    }

    #[test]
    fn set_elements_and_bad_entries() {
        let o = json!({"metadata": {"finalizers": ["example.com/keep"], "managedFields": [
            {"manager": "kubectl-patch", "operation": "Update",
             "fieldsV1": {"f:metadata": {"f:finalizers": {".": {}, "v:\"example.com/keep\"": {}}}}},
            {"manager": "broken", "operation": "Update", "fieldsV1": {"x:what": {}}}
        ]}});
        let m = ManagedFields::of(&o).unwrap();
        assert_eq!(m.entries.len(), 1, "the unreadable entry is skipped");
        let item = json!("example.com/keep");
        assert_eq!(
            m.managers_at(&[
                Step::Field("metadata"),
                Step::Field("finalizers"),
                Step::Item(&item, 0)
            ]),
            vec![("kubectl-patch", Ownership::Whole)]
        );
    }
}

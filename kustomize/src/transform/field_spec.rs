//! Field specs: where a transformer writes (objects of a kind, a path), as Kustomize's
//! `types.FieldSpec`, and the default ones of its built-in configuration (`commonLabels`,
//! `commonAnnotations`, template labels) — which fields of which kinds each transformer touches.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::Resource;

/// Where a transformer writes: objects of a kind (empty fields match any) and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    /// Path segments (`spec/template/metadata/labels`, `\/` escapes a slash in a key; a `[]`
    /// suffix marks a sequence, sequences are traversed in any case).
    pub path: Vec<String>,
    /// Create missing fields on the way.
    pub create: bool,
}

impl FieldSpec {
    /// `"path"` for any kind, `create` as given.
    pub fn any(path: &str, create: bool) -> Self {
        Self::new("", "", "", path, create)
    }

    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> Self {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        FieldSpec {
            group: opt(group),
            version: opt(version),
            kind: opt(kind),
            path: split_path(path),
            create,
        }
    }

    /// A field spec as written in a kustomization (`labels[].fields`).
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let m = v
            .as_object()
            .ok_or_else(|| "a field spec must be a mapping".to_owned())?;
        let s = |k: &str| -> Result<String, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("field spec `{k}` must be a string")),
            }
        };
        for k in m.keys() {
            if !["path", "group", "version", "kind", "create"].contains(&k.as_str()) {
                return Err(format!("unknown field {k:?} in a field spec"));
            }
        }
        let create = match m.get("create") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("field spec `create` must be true or false".into()),
        };
        let path = s("path")?;
        if path.is_empty() {
            return Err("a field spec needs a path".into());
        }
        Ok(Self::new(
            &s("group")?,
            &s("version")?,
            &s("kind")?,
            &path,
            create,
        ))
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let (g, v) = r.group_version();
        self.kind.as_deref().is_none_or(|k| k == r.kind())
            && self.group.as_deref().is_none_or(|x| x == g)
            && self.version.as_deref().is_none_or(|x| x == v)
    }
}

pub(super) fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .filter(|s| !s.is_empty() && s != "[]")
        .collect()
}

/// A path segment's key, and whether it is marked as a sequence (`volumeClaimTemplates[]`):
/// as in kustomize, a marked field is never created, and a null one becomes an empty list.
pub(crate) fn segment(s: &str) -> (&str, bool) {
    match s.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (s, false),
    }
}

/// Calls `leaf` on every value at `path` under `v` (sequences on the way are traversed). With
/// `create`, missing mappings are created (the leaf as `Value::Null`, for `leaf` to fill).
pub fn visit(v: &mut Value, path: &[String], create: bool, leaf: &mut dyn FnMut(&mut Value)) {
    let Some((first, rest)) = path.split_first() else {
        leaf(v);
        return;
    };
    match v {
        Value::Array(items) => {
            for item in items {
                visit(item, path, create, leaf);
            }
        }
        Value::Object(m) => {
            let (key, sequence) = segment(first);
            if !m.contains_key(key) {
                if !create || sequence {
                    return;
                }
                let fresh = if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                };
                m.insert(key.to_owned(), fresh);
            }
            if let Some(child) = m.get_mut(key) {
                if child.is_null() && sequence {
                    *child = Value::Array(Vec::new());
                }
                if child.is_null() && !rest.is_empty() {
                    if !create {
                        return;
                    }
                    *child = Value::Object(Map::new());
                }
                visit(child, rest, create, leaf);
            }
        }
        _ => {}
    }
}

/// Sets `pairs` in the mapping at each field spec's path of each matching object.
pub fn set_pairs(resources: &mut [Resource], specs: &[FieldSpec], pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        for spec in specs {
            if !spec.matches(r) {
                continue;
            }
            visit(&mut r.value, &spec.path, spec.create, &mut |leaf| {
                if leaf.is_null() {
                    *leaf = Value::Object(Map::new());
                }
                if let Value::Object(m) = leaf {
                    for (k, v) in pairs {
                        m.insert(k.clone(), Value::String(v.clone()));
                    }
                }
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Default field specs (kustomize's built-in configuration)

const WORKLOAD_TEMPLATES: [(&str, &str, &str); 5] = [
    ("", "v1", "ReplicationController"),
    ("", "", "Deployment"),
    ("", "", "ReplicaSet"),
    ("", "", "DaemonSet"),
    ("apps", "", "StatefulSet"),
];

/// Labels on objects only (`labels` without templates or selectors).
pub fn metadata_label_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> =
        LazyLock::new(|| vec![FieldSpec::any("metadata/labels", true)]);
    &SPECS
}

/// Labels on objects and the pod templates (and volume claim templates) they stamp out.
pub fn template_label_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> = LazyLock::new(build_template_label_specs);
    &SPECS
}

fn build_template_label_specs() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::any("metadata/labels", true)];
    for (g, ver, k) in WORKLOAD_TEMPLATES {
        v.push(FieldSpec::new(
            g,
            ver,
            k,
            "spec/template/metadata/labels",
            true,
        ));
    }
    v.push(FieldSpec::new(
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "Job",
        "spec/template/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ));
    v
}

/// `commonLabels` (and `labels` with `includeSelectors`): templates plus selectors.
pub fn common_label_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> = LazyLock::new(build_common_label_specs);
    &SPECS
}

fn build_common_label_specs() -> Vec<FieldSpec> {
    let mut v = vec![
        FieldSpec::new("", "v1", "Service", "spec/selector", true),
        FieldSpec::new("", "v1", "ReplicationController", "spec/selector", true),
        FieldSpec::new("", "", "Deployment", "spec/selector/matchLabels", true),
        FieldSpec::new("", "", "ReplicaSet", "spec/selector/matchLabels", true),
        FieldSpec::new("", "", "DaemonSet", "spec/selector/matchLabels", true),
        FieldSpec::new("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
        FieldSpec::new("batch", "", "Job", "spec/selector/matchLabels", false),
        FieldSpec::new(
            "batch",
            "",
            "CronJob",
            "spec/jobTemplate/spec/selector/matchLabels",
            false,
        ),
        FieldSpec::new(
            "policy",
            "",
            "PodDisruptionBudget",
            "spec/selector/matchLabels",
            false,
        ),
        FieldSpec::new(
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/podSelector/matchLabels",
            false,
        ),
        FieldSpec::new(
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/ingress/from/podSelector/matchLabels",
            false,
        ),
        FieldSpec::new(
            "networking.k8s.io",
            "",
            "NetworkPolicy",
            "spec/egress/to/podSelector/matchLabels",
            false,
        ),
    ];
    for kind in ["Deployment", "StatefulSet"] {
        for affinity in ["podAffinity", "podAntiAffinity"] {
            v.push(FieldSpec::new(
                "apps",
                "",
                kind,
                &format!("spec/template/spec/affinity/{affinity}/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels"),
                false,
            ));
            v.push(FieldSpec::new(
                "apps",
                "",
                kind,
                &format!("spec/template/spec/affinity/{affinity}/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels"),
                false,
            ));
        }
        v.push(FieldSpec::new(
            "apps",
            "",
            kind,
            "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
            false,
        ));
    }
    v.extend(template_label_specs().iter().cloned());
    v
}

/// `namePrefix` and `nameSuffix` (kustomize's built-in configuration: every object's name).
pub fn default_name_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> =
        LazyLock::new(|| vec![FieldSpec::any("metadata/name", false)]);
    &SPECS
}

/// `namespace`'s built-in field specs besides `metadata/namespace`.
pub fn default_namespace_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> = LazyLock::new(|| {
        vec![
            FieldSpec::new("", "", "Namespace", "metadata/name", true),
            FieldSpec::new(
                "apiregistration.k8s.io",
                "",
                "APIService",
                "spec/service/namespace",
                true,
            ),
            FieldSpec::new(
                "apiextensions.k8s.io",
                "",
                "CustomResourceDefinition",
                "spec/conversion/webhook/clientConfig/service/namespace",
                false,
            ),
        ]
    });
    &SPECS
}

/// `replicas`' built-in field specs.
pub fn default_replica_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> = LazyLock::new(|| {
        [
            "Deployment",
            "ReplicationController",
            "ReplicaSet",
            "StatefulSet",
        ]
        .into_iter()
        .map(|k| FieldSpec::new("", "", k, "spec/replicas", true))
        .collect()
    });
    &SPECS
}

/// `commonAnnotations`: objects and pod templates.
pub fn common_annotation_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> = LazyLock::new(build_common_annotation_specs);
    &SPECS
}

fn build_common_annotation_specs() -> Vec<FieldSpec> {
    let mut v = vec![FieldSpec::any("metadata/annotations", true)];
    for (g, ver, k) in WORKLOAD_TEMPLATES {
        let g = if k == "StatefulSet" { "" } else { g };
        v.push(FieldSpec::new(
            g,
            ver,
            k,
            "spec/template/metadata/annotations",
            true,
        ));
    }
    v.push(FieldSpec::new(
        "batch",
        "",
        "Job",
        "spec/template/metadata/annotations",
        true,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ));
    v.push(FieldSpec::new(
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_with_escapes() {
        assert_eq!(split_path("a/b\\/c/d[]"), ["a", "b/c", "d[]"]);
        assert_eq!(segment("d[]"), ("d", true));
    }
}

//! The built-in transformers of a kustomization: namespace, name prefix/suffix, labels,
//! annotations, replicas, images, and the final name-reference fix-up — each with kustomize's
//! default field specs (which fields of which kinds they touch).
//!
//! Behaviour checked against `kubectl kustomize` (Kustomize v5.8.1):
//! - `namespace` sets `metadata.namespace` of every namespaced object; RoleBinding and
//!   ClusterRoleBinding subjects follow the ServiceAccount they name (by the name-reference
//!   fix-up, which moves them to the account's new name and namespace);
//! - prefixes and suffixes skip `Namespace`, `CustomResourceDefinition` and `APIService`;
//! - `replicas` matches an object by its original or current name;
//! - `images` rewrites every `containers`/`initContainers` entry anywhere in an object; a name
//!   matches the image without tag and digest (`reg:5000/x` ≠ `docker.io/x`); `newTag` drops the
//!   old digest, `digest` drops the old tag, both give `name:tag@digest`.

use serde_json::{Map, Value};

use super::Resource;
use super::kustomization::{ImageSpec, LabelSpec, ReplicaSpec};

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

fn split_path(path: &str) -> Vec<String> {
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
        .map(|s| s.strip_suffix("[]").map(str::to_owned).unwrap_or(s))
        .filter(|s| !s.is_empty())
        .collect()
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
            if !m.contains_key(first.as_str()) {
                if !create {
                    return;
                }
                let fresh = if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                };
                m.insert(first.clone(), fresh);
            }
            if let Some(child) = m.get_mut(first.as_str()) {
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

/// Labels on objects and the pod templates (and volume claim templates) they stamp out.
pub fn template_label_specs() -> Vec<FieldSpec> {
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
pub fn common_label_specs() -> Vec<FieldSpec> {
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
    v.extend(template_label_specs());
    v
}

/// `commonAnnotations`: objects and pod templates.
pub fn common_annotation_specs() -> Vec<FieldSpec> {
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

// ---------------------------------------------------------------------------------------------
// Transformers

/// `namespace`: every namespaced object moves to `ns`, and every `Namespace` object is renamed
/// to `ns` (as kustomize does). Two objects ending with the same id is an error.
pub fn namespace(resources: &mut [Resource], ns: &str) -> Result<(), String> {
    for r in resources.iter_mut() {
        let key = if r.kind() == "Namespace" && r.api_version() == "v1" {
            "name"
        } else if r.is_cluster_scoped() {
            continue;
        } else {
            "namespace"
        };
        if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
            md.insert(key.into(), Value::String(ns.to_owned()));
        } else if let Value::Object(m) = &mut r.value {
            let mut md = Map::new();
            md.insert(key.into(), Value::String(ns.to_owned()));
            m.insert("metadata".into(), Value::Object(md));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in resources.iter() {
        let id = r.id();
        if !seen.insert(id.clone()) {
            return Err(format!(
                "namespace transformation produces ID conflict: two objects become {id}"
            ));
        }
    }
    Ok(())
}

/// `namePrefix` / `nameSuffix`.
pub fn prefix_suffix(resources: &mut [Resource], prefix: &str, suffix: &str) {
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        if matches!(
            r.kind(),
            "Namespace" | "CustomResourceDefinition" | "APIService"
        ) {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
            md.insert("name".into(), Value::String(name));
        }
    }
}

/// `labels` entries, then `commonLabels` (kustomize's order).
pub fn labels(
    resources: &mut [Resource],
    specs: &[LabelSpec],
    common: &[(String, String)],
) -> Result<(), String> {
    for l in specs {
        let mut fss: Vec<FieldSpec> = l
            .fields
            .iter()
            .map(FieldSpec::from_value)
            .collect::<Result<_, _>>()?;
        if l.include_selectors {
            fss.extend(common_label_specs());
        } else if l.include_templates {
            fss.extend(template_label_specs());
        } else {
            fss.push(FieldSpec::any("metadata/labels", true));
        }
        set_pairs(resources, &fss, &l.pairs);
    }
    set_pairs(resources, &common_label_specs(), common);
    Ok(())
}

/// `commonAnnotations`.
pub fn annotations(resources: &mut [Resource], pairs: &[(String, String)]) {
    set_pairs(resources, &common_annotation_specs(), pairs);
}

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

/// `(name, tag, digest)` of an image reference; the name keeps a registry port.
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A ':' after the last '/' separates the tag (a ':' before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].find(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(&rest[last_slash + i + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

fn rewrite_image(image: &str, specs: &[ImageSpec]) -> Option<String> {
    let (name, tag, digest) = split_image(image);
    let spec = specs.iter().find(|s| s.name == name)?;
    let new_name = spec.new_name.as_deref().unwrap_or(name);
    let (tag, digest) = match (&spec.new_tag, &spec.digest) {
        (Some(t), Some(d)) => (Some(t.as_str()), Some(d.as_str())),
        (Some(t), None) => (Some(t.as_str()), None),
        (None, Some(d)) => (None, Some(d.as_str())),
        (None, None) => (tag, digest),
    };
    let mut out = new_name.to_owned();
    if let Some(t) = tag {
        out.push(':');
        out.push_str(t);
    }
    if let Some(d) = digest {
        out.push('@');
        out.push_str(d);
    }
    Some(out)
}

fn images_in(v: &mut Value, specs: &[ImageSpec]) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for c in items.iter_mut() {
                        if let Some(Value::String(img)) = c.get_mut("image")
                            && let Some(new) = rewrite_image(img, specs)
                        {
                            *img = new;
                        }
                    }
                }
                images_in(child, specs);
            }
        }
        Value::Array(items) => {
            for item in items {
                images_in(item, specs);
            }
        }
        _ => {}
    }
}

/// `images`.
pub fn images(resources: &mut [Resource], specs: &[ImageSpec]) {
    if specs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        images_in(&mut r.value, specs);
    }
}

// ---------------------------------------------------------------------------------------------
// Name references

/// One rule of kustomize's name-reference configuration: objects of `target` kind are referred
/// to from `path` in objects of `referrer` kind.
struct NameRef {
    target_kind: &'static str,
    target_group: &'static str,
    referrer_kind: &'static str,
    referrer_group: Option<&'static str>,
    path: &'static str,
}

fn name_refs() -> Vec<NameRef> {
    let mut v = Vec::new();
    let mut add = |tk: &'static str,
                   tg: &'static str,
                   rk: &'static str,
                   rg: Option<&'static str>,
                   path: &'static str| {
        v.push(NameRef {
            target_kind: tk,
            target_group: tg,
            referrer_kind: rk,
            referrer_group: rg,
            path,
        });
    };
    for k in [
        "Deployment",
        "ReplicationController",
        "ReplicaSet",
        "StatefulSet",
    ] {
        add(
            k,
            "*",
            "HorizontalPodAutoscaler",
            None,
            "spec/scaleTargetRef/name",
        );
    }
    // pod spec locations per workload kind
    let pod_specs: [(&'static str, &'static str); 8] = [
        ("Pod", "spec"),
        ("PodTemplate", "template/spec"),
        ("Deployment", "spec/template/spec"),
        ("ReplicaSet", "spec/template/spec"),
        ("DaemonSet", "spec/template/spec"),
        ("StatefulSet", "spec/template/spec"),
        ("Job", "spec/template/spec"),
        ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ];
    const CM: [&str; 6] = [
        "volumes/configMap/name",
        "containers/env/valueFrom/configMapKeyRef/name",
        "initContainers/env/valueFrom/configMapKeyRef/name",
        "containers/envFrom/configMapRef/name",
        "initContainers/envFrom/configMapRef/name",
        "volumes/projected/sources/configMap/name",
    ];
    const SECRET: [&str; 7] = [
        "volumes/secret/secretName",
        "containers/env/valueFrom/secretKeyRef/name",
        "initContainers/env/valueFrom/secretKeyRef/name",
        "containers/envFrom/secretRef/name",
        "initContainers/envFrom/secretRef/name",
        "imagePullSecrets/name",
        "volumes/projected/sources/secret/name",
    ];
    for (kind, base) in pod_specs {
        for p in CM {
            add("ConfigMap", "", kind, None, leak(format!("{base}/{p}")));
        }
        for p in SECRET {
            add("Secret", "", kind, None, leak(format!("{base}/{p}")));
        }
    }
    for (kind, base) in pod_specs {
        if kind == "ReplicaSet" || kind == "PodTemplate" {
            continue;
        }
        add(
            "ServiceAccount",
            "",
            kind,
            None,
            leak(format!("{base}/serviceAccountName")),
        );
        add(
            "PersistentVolumeClaim",
            "",
            kind,
            None,
            leak(format!("{base}/volumes/persistentVolumeClaim/claimName")),
        );
        add(
            "PriorityClass",
            "scheduling.k8s.io",
            kind,
            None,
            leak(format!("{base}/priorityClassName")),
        );
    }
    add(
        "ServiceAccount",
        "",
        "ReplicationController",
        None,
        "spec/template/spec/serviceAccountName",
    );
    add(
        "PersistentVolumeClaim",
        "",
        "ReplicationController",
        None,
        "spec/template/spec/volumes/persistentVolumeClaim/claimName",
    );
    add("ConfigMap", "", "Node", None, "spec/configSource/configMap");
    add("ConfigMap", "", "Role", None, "rules/resourceNames");
    add("ConfigMap", "", "ClusterRole", None, "rules/resourceNames");
    add(
        "ConfigMap",
        "",
        "Ingress",
        None,
        "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
    );
    add("Secret", "", "Ingress", None, "spec/tls/secretName");
    add(
        "Secret",
        "",
        "Ingress",
        None,
        "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
    );
    add(
        "Secret",
        "",
        "Ingress",
        None,
        "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
    );
    add(
        "Secret",
        "",
        "Ingress",
        None,
        "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
    );
    add(
        "Secret",
        "",
        "ServiceAccount",
        None,
        "imagePullSecrets/name",
    );
    for p in [
        "parameters/secretName",
        "parameters/adminSecretName",
        "parameters/userSecretName",
        "parameters/secretRef",
    ] {
        add("Secret", "", "StorageClass", None, p);
    }
    add("Secret", "", "Role", None, "rules/resourceNames");
    add("Secret", "", "ClusterRole", None, "rules/resourceNames");
    add(
        "Secret",
        "",
        "PersistentVolume",
        None,
        "spec/azureFile/secretName",
    );
    add(
        "Service",
        "",
        "StatefulSet",
        Some("apps"),
        "spec/serviceName",
    );
    add(
        "Service",
        "",
        "Ingress",
        None,
        "spec/rules/http/paths/backend/serviceName",
    );
    add("Service", "", "Ingress", None, "spec/backend/serviceName");
    add(
        "Service",
        "",
        "Ingress",
        None,
        "spec/rules/http/paths/backend/service/name",
    );
    add(
        "Service",
        "",
        "Ingress",
        None,
        "spec/defaultBackend/service/name",
    );
    add(
        "Service",
        "",
        "APIService",
        Some("apiregistration.k8s.io"),
        "spec/service/name",
    );
    add(
        "Service",
        "",
        "ValidatingWebhookConfiguration",
        Some("admissionregistration.k8s.io"),
        "webhooks/clientConfig/service",
    );
    add(
        "Service",
        "",
        "MutatingWebhookConfiguration",
        Some("admissionregistration.k8s.io"),
        "webhooks/clientConfig/service",
    );
    add(
        "Service",
        "",
        "HTTPRoute",
        None,
        "spec/rules/backendRefs/name",
    );
    add(
        "Role",
        "rbac.authorization.k8s.io",
        "RoleBinding",
        Some("rbac.authorization.k8s.io"),
        "roleRef/name",
    );
    add(
        "ClusterRole",
        "rbac.authorization.k8s.io",
        "RoleBinding",
        Some("rbac.authorization.k8s.io"),
        "roleRef/name",
    );
    add(
        "ClusterRole",
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        Some("rbac.authorization.k8s.io"),
        "roleRef/name",
    );
    add(
        "ServiceAccount",
        "",
        "RoleBinding",
        Some("rbac.authorization.k8s.io"),
        "subjects",
    );
    add(
        "ServiceAccount",
        "",
        "ClusterRoleBinding",
        Some("rbac.authorization.k8s.io"),
        "subjects",
    );
    add(
        "PersistentVolume",
        "",
        "PersistentVolumeClaim",
        None,
        "spec/volumeName",
    );
    add(
        "PersistentVolume",
        "",
        "ClusterRole",
        None,
        "rules/resourceNames",
    );
    for (k, p) in [
        ("PersistentVolume", "spec/storageClassName"),
        ("PersistentVolumeClaim", "spec/storageClassName"),
        (
            "StatefulSet",
            "spec/volumeClaimTemplates/spec/storageClassName",
        ),
    ] {
        add("StorageClass", "storage.k8s.io", k, None, p);
    }
    add(
        "IngressClass",
        "networking.k8s.io",
        "Ingress",
        None,
        "spec/ingressClassName",
    );
    v
}

fn leak(s: String) -> &'static str {
    // The table is built once per process (see `NAME_REFS`), so this leaks a bounded amount.
    Box::leak(s.into_boxed_str())
}

fn name_ref_table() -> &'static [(NameRef, Vec<String>)] {
    static TABLE: std::sync::OnceLock<Vec<(NameRef, Vec<String>)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        name_refs()
            .into_iter()
            .map(|r| {
                let p = split_path(r.path);
                (r, p)
            })
            .collect()
    })
}

/// What a referenced object is now called.
#[derive(Clone)]
struct Target {
    kind: String,
    group: String,
    original_name: String,
    original_namespace: Option<String>,
    name: String,
    namespace: Option<String>,
}

fn pick<'a>(candidates: &[&'a Target], referrer_ns: Option<&str>) -> Option<&'a Target> {
    match candidates {
        [] => None,
        [one] => Some(one),
        many => {
            let same_ns: Vec<&Target> = many
                .iter()
                .copied()
                .filter(|t| t.namespace.as_deref() == referrer_ns)
                .collect();
            if let [one] = same_ns.as_slice() {
                return Some(one);
            }
            // Several with the same new name: any will do.
            let first = many[0];
            many.iter().all(|t| t.name == first.name).then_some(first)
        }
    }
}

/// Rewrites references (ConfigMap and Secret names in pod specs, RoleBinding subjects, ...)
/// to objects whose name changed (prefix, suffix, content hash): a reference to an object's
/// original name becomes its current name.
pub fn fix_name_references(resources: &mut [Resource]) {
    let targets: Vec<Target> = resources
        .iter()
        .filter(|r| r.original_name != r.name() || r.original_namespace.as_deref() != r.namespace())
        .map(|r| Target {
            kind: r.kind().to_owned(),
            group: r.group_version().0.to_owned(),
            original_name: r.original_name.clone(),
            original_namespace: r.original_namespace.clone(),
            name: r.name().to_owned(),
            namespace: r.namespace().map(str::to_owned),
        })
        .collect();
    if targets.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        let referrer_kind = r.kind().to_owned();
        let referrer_group = r.group_version().0.to_owned();
        let referrer_ns = r.namespace().map(str::to_owned);
        for (rule, path) in name_ref_table() {
            if rule.referrer_kind != referrer_kind
                || rule.referrer_group.is_some_and(|g| g != referrer_group)
            {
                continue;
            }
            let candidates_named = |name: &str| candidates(&targets, rule, name);
            visit(&mut r.value, path, false, &mut |leaf| match leaf {
                Value::String(s) => {
                    if let Some(t) = pick(&candidates_named(s), referrer_ns.as_deref()) {
                        *s = t.name.clone();
                    }
                }
                Value::Array(items) if rule.path == "subjects" => {
                    for subject in items {
                        fix_subject(subject, &candidates_named);
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        if let Value::String(s) = item
                            && let Some(t) = pick(&candidates_named(s), referrer_ns.as_deref())
                        {
                            *s = t.name.clone();
                        }
                    }
                }
                Value::Object(m) => {
                    let name = m.get("name").and_then(Value::as_str).map(str::to_owned);
                    if let Some(name) = name {
                        let ns = m
                            .get("namespace")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        let cands: Vec<&Target> = candidates_named(&name)
                            .into_iter()
                            .filter(|t| ns.is_none() || t.original_namespace == ns)
                            .collect();
                        if let Some(t) = pick(&cands, ns.as_deref()) {
                            m.insert("name".into(), Value::String(t.name.clone()));
                            if ns.is_some()
                                && let Some(new_ns) = &t.namespace
                            {
                                m.insert("namespace".into(), Value::String(new_ns.clone()));
                            }
                        }
                    }
                }
                _ => {}
            });
        }
    }
}

fn candidates<'t>(targets: &'t [Target], rule: &NameRef, name: &str) -> Vec<&'t Target> {
    targets
        .iter()
        .filter(|t| {
            t.kind == rule.target_kind
                && (rule.target_group == "*"
                    || rule.target_group.is_empty() && t.group.is_empty()
                    || t.group == rule.target_group)
                && t.original_name == name
        })
        .collect()
}

fn fix_subject<'t>(subject: &mut Value, candidates_named: &dyn Fn(&str) -> Vec<&'t Target>) {
    let Value::Object(m) = subject else { return };
    if m.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
        return;
    }
    let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let ns = m
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let cands: Vec<&Target> = candidates_named(&name)
        .into_iter()
        .filter(|t| match &ns {
            None => true,
            Some(ns) => t.original_namespace.as_deref().unwrap_or("default") == ns,
        })
        .collect();
    if let Some(t) = pick(&cands, ns.as_deref()) {
        m.insert("name".into(), Value::String(t.name.clone()));
        if let Some(new_ns) = &t.namespace {
            m.insert("namespace".into(), Value::String(new_ns.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Origin;
    use serde_json::json;
    use std::path::Path;
    use std::sync::Arc;

    fn res(v: Value) -> Resource {
        Resource::new(
            v,
            Origin {
                file: Arc::from(Path::new("/r.yaml")),
                document: 0,
            },
        )
    }

    fn deployment() -> Resource {
        res(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {
                "serviceAccountName": "sa",
                "containers": [{"name": "c", "image": "nginx:1.0",
                    "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
                "volumes": [{"name": "v", "configMap": {"name": "cfg"}}]}}}
        }))
    }

    #[test]
    fn paths_split_with_escapes() {
        assert_eq!(split_path("a/b\\/c/d[]"), ["a", "b/c", "d"]);
    }

    #[test]
    fn labels_with_and_without_selectors() {
        let mut rs = vec![deployment()];
        let spec = LabelSpec {
            pairs: vec![("site".into(), "s1".into())],
            include_templates: true,
            ..LabelSpec::default()
        };
        labels(&mut rs, &[spec], &[]).unwrap();
        assert_eq!(rs[0].value["metadata"]["labels"]["site"], "s1");
        assert_eq!(
            rs[0].value["spec"]["template"]["metadata"]["labels"]["site"],
            "s1"
        );
        assert!(
            rs[0].value["spec"]["selector"]["matchLabels"]
                .get("site")
                .is_none()
        );
        labels(&mut rs, &[], &[("team".into(), "t".into())]).unwrap();
        assert_eq!(rs[0].value["spec"]["selector"]["matchLabels"]["team"], "t");
    }

    #[test]
    fn namespace_skips_cluster_scoped() {
        let mut rs = vec![
            deployment(),
            res(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}),
            ),
        ];
        namespace(&mut rs, "edge").unwrap();
        assert_eq!(rs[0].namespace(), Some("edge"));
        assert_eq!(rs[1].namespace(), None);
    }

    #[test]
    fn prefix_and_references() {
        let mut rs = vec![
            deployment(),
            res(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}})),
            res(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}})),
            res(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]}),
            ),
        ];
        namespace(&mut rs, "ns").unwrap();
        prefix_suffix(&mut rs, "p-", "-s");
        fix_name_references(&mut rs);
        let d = &rs[0].value["spec"]["template"]["spec"];
        assert_eq!(d["serviceAccountName"], "p-sa-s");
        assert_eq!(d["volumes"][0]["configMap"]["name"], "p-cfg-s");
        assert_eq!(
            d["containers"][0]["envFrom"][0]["configMapRef"]["name"],
            "p-cfg-s"
        );
        assert_eq!(
            rs[3].value["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "p-sa-s", "namespace": "ns"})
        );
        // roleRef to a ClusterRole not in the build is left alone
        assert_eq!(rs[3].value["roleRef"]["name"], "r");
    }

    #[test]
    fn image_rules() {
        let specs = [
            ImageSpec {
                name: "nginx".into(),
                new_name: Some("my/nginx".into()),
                new_tag: Some("9".into()),
                digest: None,
            },
            ImageSpec {
                name: "reg:5000/x".into(),
                new_name: None,
                new_tag: None,
                digest: Some("sha256:d".into()),
            },
            ImageSpec {
                name: "bb".into(),
                new_name: None,
                new_tag: Some("2".into()),
                digest: Some("sha256:e".into()),
            },
        ];
        assert_eq!(
            rewrite_image("nginx@sha256:1", &specs).unwrap(),
            "my/nginx:9"
        );
        assert_eq!(
            rewrite_image("reg:5000/x:1@sha256:a", &specs).unwrap(),
            "reg:5000/x@sha256:d"
        );
        assert_eq!(rewrite_image("bb:1", &specs).unwrap(), "bb:2@sha256:e");
        assert!(rewrite_image("docker.io/nginx:1", &specs).is_none());
        assert_eq!(split_image("reg:5000/x"), ("reg:5000/x", None, None));
    }

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

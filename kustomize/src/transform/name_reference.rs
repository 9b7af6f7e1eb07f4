//! Name references: after prefixes, suffixes and content hashes rename objects, every field that
//! names one (a `configMapRef`, a volume's `secret`, a RoleBinding subject, ...) follows it, as
//! Kustomize's name-reference transformer does with its built-in `nameReference` configuration.

use serde_json::Value;

use super::field_spec::{split_path, visit};
use crate::Resource;

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
    use crate::transform::metadata::{namespace, prefix_suffix};
    use crate::transform::test_support::*;
    use serde_json::json;

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
}

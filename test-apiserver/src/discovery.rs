//! The API resources the loopback server advertises: what a k3s 1.33 server serves for the
//! kinds edge workloads use, with the verbs, scopes, short names and subresources of the real
//! discovery documents, plus any other kind found among the served objects.

use serde_json::{Value, json};

/// One resource of one group version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// `v1` or `group/version`.
    pub group_version: String,
    pub kind: String,
    /// The plural (`deployments`), or `deployments/status` for a subresource.
    pub name: String,
    pub namespaced: bool,
    pub verbs: Vec<&'static str>,
    pub short_names: Vec<&'static str>,
}

impl Resource {
    pub fn group(&self) -> &str {
        self.group_version
            .split_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    pub fn is_subresource(&self) -> bool {
        self.name.contains('/')
    }

    pub fn listable(&self) -> bool {
        !self.is_subresource() && self.verbs.contains(&"list")
    }

    /// The plural as error messages spell it (`deployments.apps`, `configmaps`).
    pub fn qualified(&self) -> String {
        match self.group() {
            "" => self.name.clone(),
            g => format!("{}.{g}", self.name),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "singularName": if self.is_subresource() { String::new() } else { self.kind.to_lowercase() },
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
        });
        if !self.short_names.is_empty() {
            v["shortNames"] = json!(self.short_names);
        }
        if !self.is_subresource() && self.verbs.contains(&"list") {
            v["storageVersionHash"] = json!(storage_hash(&self.group_version, &self.kind));
        }
        v
    }
}

fn storage_hash(gv: &str, kind: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    (gv, kind).hash(&mut h);
    let x = h.finish();
    // Eight bytes, base64 without padding: 11 characters like the real ones.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..11)
        .map(|i| alphabet[((x >> (i * 6)) & 63) as usize] as char)
        .collect()
}

const ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NO_COLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const SUB: &[&str] = &["get", "patch", "update"];

fn r(
    gv: &str,
    kind: &str,
    name: &str,
    namespaced: bool,
    verbs: &[&'static str],
    short: &[&'static str],
) -> Resource {
    Resource {
        group_version: gv.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespaced,
        verbs: verbs.to_vec(),
        short_names: short.to_vec(),
    }
}

/// The built-in resources, in discovery order.
pub fn builtin() -> Vec<Resource> {
    vec![
        r("v1", "Binding", "bindings", true, &["create"], &[]),
        r(
            "v1",
            "ComponentStatus",
            "componentstatuses",
            false,
            &["get", "list"],
            &["cs"],
        ),
        r("v1", "ConfigMap", "configmaps", true, ALL, &["cm"]),
        r("v1", "Endpoints", "endpoints", true, ALL, &["ep"]),
        r("v1", "Event", "events", true, ALL, &["ev"]),
        r("v1", "LimitRange", "limitranges", true, ALL, &["limits"]),
        r(
            "v1",
            "Namespace",
            "namespaces",
            false,
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
            &["ns"],
        ),
        r(
            "v1",
            "Namespace",
            "namespaces/finalize",
            false,
            &["update"],
            &[],
        ),
        r("v1", "Namespace", "namespaces/status", false, SUB, &[]),
        r("v1", "Node", "nodes", false, ALL, &["no"]),
        r("v1", "Node", "nodes/status", false, SUB, &[]),
        r(
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
            ALL,
            &["pvc"],
        ),
        r(
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims/status",
            true,
            SUB,
            &[],
        ),
        r(
            "v1",
            "PersistentVolume",
            "persistentvolumes",
            false,
            ALL,
            &["pv"],
        ),
        r("v1", "Pod", "pods", true, ALL, &["po"]),
        r("v1", "Pod", "pods/log", true, &["get"], &[]),
        r("v1", "Pod", "pods/status", true, SUB, &[]),
        r("v1", "PodTemplate", "podtemplates", true, ALL, &[]),
        r(
            "v1",
            "ReplicationController",
            "replicationcontrollers",
            true,
            ALL,
            &["rc"],
        ),
        r(
            "v1",
            "ResourceQuota",
            "resourcequotas",
            true,
            ALL,
            &["quota"],
        ),
        r("v1", "Secret", "secrets", true, ALL, &[]),
        r(
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            true,
            ALL,
            &["sa"],
        ),
        r(
            "v1",
            "TokenRequest",
            "serviceaccounts/token",
            true,
            &["create"],
            &[],
        ),
        r("v1", "Service", "services", true, NO_COLLECTION, &["svc"]),
        r("v1", "Service", "services/status", true, SUB, &[]),
        r(
            "apps/v1",
            "ControllerRevision",
            "controllerrevisions",
            true,
            ALL,
            &[],
        ),
        r("apps/v1", "DaemonSet", "daemonsets", true, ALL, &["ds"]),
        r("apps/v1", "DaemonSet", "daemonsets/status", true, SUB, &[]),
        r(
            "apps/v1",
            "Deployment",
            "deployments",
            true,
            ALL,
            &["deploy"],
        ),
        r("apps/v1", "Scale", "deployments/scale", true, SUB, &[]),
        r(
            "apps/v1",
            "Deployment",
            "deployments/status",
            true,
            SUB,
            &[],
        ),
        r("apps/v1", "ReplicaSet", "replicasets", true, ALL, &["rs"]),
        r(
            "apps/v1",
            "ReplicaSet",
            "replicasets/status",
            true,
            SUB,
            &[],
        ),
        r(
            "apps/v1",
            "StatefulSet",
            "statefulsets",
            true,
            ALL,
            &["sts"],
        ),
        r("apps/v1", "Scale", "statefulsets/scale", true, SUB, &[]),
        r(
            "apps/v1",
            "StatefulSet",
            "statefulsets/status",
            true,
            SUB,
            &[],
        ),
        r(
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            false,
            &["create"],
            &[],
        ),
        r(
            "authentication.k8s.io/v1",
            "TokenReview",
            "tokenreviews",
            false,
            &["create"],
            &[],
        ),
        r(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            false,
            &["create"],
            &[],
        ),
        r(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            ALL,
            &["hpa"],
        ),
        r(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers/status",
            true,
            SUB,
            &[],
        ),
        r(
            "autoscaling/v1",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            ALL,
            &["hpa"],
        ),
        r("batch/v1", "CronJob", "cronjobs", true, ALL, &["cj"]),
        r("batch/v1", "CronJob", "cronjobs/status", true, SUB, &[]),
        r("batch/v1", "Job", "jobs", true, ALL, &[]),
        r("batch/v1", "Job", "jobs/status", true, SUB, &[]),
        r("coordination.k8s.io/v1", "Lease", "leases", true, ALL, &[]),
        r(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            "endpointslices",
            true,
            ALL,
            &[],
        ),
        r(
            "networking.k8s.io/v1",
            "IngressClass",
            "ingressclasses",
            false,
            ALL,
            &[],
        ),
        r(
            "networking.k8s.io/v1",
            "Ingress",
            "ingresses",
            true,
            ALL,
            &["ing"],
        ),
        r(
            "networking.k8s.io/v1",
            "Ingress",
            "ingresses/status",
            true,
            SUB,
            &[],
        ),
        r(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
            ALL,
            &["netpol"],
        ),
        r(
            "policy/v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            ALL,
            &["pdb"],
        ),
        r(
            "policy/v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets/status",
            true,
            SUB,
            &[],
        ),
        r(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
            ALL,
            &[],
        ),
        r(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            "clusterroles",
            false,
            ALL,
            &[],
        ),
        r(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "rolebindings",
            true,
            ALL,
            &[],
        ),
        r(
            "rbac.authorization.k8s.io/v1",
            "Role",
            "roles",
            true,
            ALL,
            &[],
        ),
        r(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            "priorityclasses",
            false,
            ALL,
            &["pc"],
        ),
        r(
            "storage.k8s.io/v1",
            "StorageClass",
            "storageclasses",
            false,
            ALL,
            &["sc"],
        ),
    ]
}

/// A resource for a kind the built-in table lacks (a custom resource): plural by the usual
/// rule, scope from the object.
pub fn custom(group_version: &str, kind: &str, namespaced: bool) -> Resource {
    let lower = kind.to_lowercase();
    let plural = if lower.ends_with('s') || lower.ends_with('x') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    };
    r(group_version, kind, &plural, namespaced, ALL, &[])
}

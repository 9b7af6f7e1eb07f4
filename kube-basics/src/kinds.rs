//! Which kinds have no namespace: one table for the whole workspace.
//!
//! Two questions are asked of it, and they have different answers:
//! - **Kubernetes** ([`is_cluster_scoped`]): is an object of this group and kind cluster-scoped on
//!   an API server (Kubernetes 1.35)? Linters and drift ask this.
//! - **Kustomize** ([`kustomize_cluster_scoped`]): does Kustomize v5.8 treat this exact
//!   `apiVersion` and kind as cluster-scoped? Kustomize answers from the OpenAPI document built
//!   into it, which predates several kinds and versions: it gives `ValidatingAdmissionPolicy`,
//!   `DeviceClass`, `IPAddress`, `ServiceCIDR` or `flowcontrol.apiserver.k8s.io/v1` objects a
//!   namespace under `namespace:`, and so must a renderer that prints what it prints. The
//!   versions in [`ClusterScoped::kustomize_versions`] were read off `kubectl kustomize`
//!   (kubectl 1.37.1, Kustomize v5.8.1) by building every group, kind and version of this table
//!   under `namespace:`; `tests/tests/render_conformance.rs` repeats that check against the
//!   pinned kubectl.

/// A cluster-scoped kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterScoped {
    /// API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// The versions Kustomize's built-in schema knows as cluster-scoped (empty: Kustomize
    /// treats every version of the kind as namespaced).
    pub kustomize_versions: &'static [&'static str],
}

const fn k(
    group: &'static str,
    kind: &'static str,
    kustomize_versions: &'static [&'static str],
) -> ClusterScoped {
    ClusterScoped {
        group,
        kind,
        kustomize_versions,
    }
}

const V1_V1BETA1: &[&str] = &["v1", "v1beta1"];

/// Every cluster-scoped kind of Kubernetes 1.35 (and of a few ubiquitous add-ons), sorted by
/// group and kind.
pub const CLUSTER_SCOPED: &[ClusterScoped] = &[
    k("", "ComponentStatus", &["v1"]),
    k("", "Namespace", &["v1"]),
    k("", "Node", &["v1"]),
    k("", "PersistentVolume", &["v1"]),
    k(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicy",
        &[],
    ),
    k(
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
        &[],
    ),
    k(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        V1_V1BETA1,
    ),
    k(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        &[],
    ),
    k(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        &[],
    ),
    k(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        V1_V1BETA1,
    ),
    k(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        V1_V1BETA1,
    ),
    k("apiregistration.k8s.io", "APIService", V1_V1BETA1),
    k("authentication.k8s.io", "SelfSubjectReview", &[]),
    k("authentication.k8s.io", "TokenReview", &[]),
    k("authorization.k8s.io", "SelfSubjectAccessReview", &[]),
    k("authorization.k8s.io", "SelfSubjectRulesReview", &[]),
    k("authorization.k8s.io", "SubjectAccessReview", &[]),
    k("cert-manager.io", "ClusterIssuer", &[]),
    k(
        "certificates.k8s.io",
        "CertificateSigningRequest",
        V1_V1BETA1,
    ),
    k("certificates.k8s.io", "ClusterTrustBundle", &[]),
    k("flowcontrol.apiserver.k8s.io", "FlowSchema", &["v1beta1"]),
    k(
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        &["v1beta1"],
    ),
    k("internal.apiserver.k8s.io", "StorageVersion", &[]),
    k("networking.k8s.io", "IPAddress", &[]),
    k("networking.k8s.io", "IngressClass", V1_V1BETA1),
    k("networking.k8s.io", "ServiceCIDR", &[]),
    k("node.k8s.io", "RuntimeClass", V1_V1BETA1),
    k("policy", "PodSecurityPolicy", &["v1beta1"]),
    k("rbac.authorization.k8s.io", "ClusterRole", V1_V1BETA1),
    k(
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        V1_V1BETA1,
    ),
    k("resource.k8s.io", "DeviceClass", &[]),
    k("resource.k8s.io", "DeviceTaintRule", &[]),
    k("resource.k8s.io", "ResourceSlice", &[]),
    k("scheduling.k8s.io", "PriorityClass", V1_V1BETA1),
    k("storage.k8s.io", "CSIDriver", V1_V1BETA1),
    k("storage.k8s.io", "CSINode", V1_V1BETA1),
    k("storage.k8s.io", "StorageClass", V1_V1BETA1),
    k("storage.k8s.io", "VolumeAttachment", V1_V1BETA1),
    k("storage.k8s.io", "VolumeAttributesClass", &[]),
    k("storagemigration.k8s.io", "StorageVersionMigration", &[]),
];

/// `(group, version)` of an `apiVersion` (`"apps/v1"` → `("apps", "v1")`, `"v1"` → `("", "v1")`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn find(group: &str, kind: &str) -> Option<&'static ClusterScoped> {
    CLUSTER_SCOPED
        .iter()
        .find(|c| c.kind == kind && c.group == group)
}

/// Whether objects of `group` and `kind` are cluster-scoped on a Kubernetes API server.
/// Unknown kinds (custom resources) are taken as namespaced.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    find(group, kind).is_some()
}

/// [`is_cluster_scoped`] for an `apiVersion` (`rbac.authorization.k8s.io/v1`).
pub fn is_cluster_scoped_api(api_version: &str, kind: &str) -> bool {
    is_cluster_scoped(split_api_version(api_version).0, kind)
}

/// Whether Kustomize v5.8 treats `apiVersion` + `kind` as cluster-scoped (see the module docs).
pub fn kustomize_cluster_scoped(api_version: &str, kind: &str) -> bool {
    let (group, version) = split_api_version(api_version);
    find(group, kind).is_some_and(|c| c.kustomize_versions.contains(&version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_has_no_duplicates() {
        for w in CLUSTER_SCOPED.windows(2) {
            assert!(
                (w[0].group, w[0].kind) < (w[1].group, w[1].kind),
                "{:?} before {:?}",
                w[0],
                w[1]
            );
        }
    }

    #[test]
    fn kubernetes_and_kustomize_answers_differ_where_kustomize_lags() {
        assert!(is_cluster_scoped_api(
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicy"
        ));
        assert!(!kustomize_cluster_scoped(
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicy"
        ));
        assert!(kustomize_cluster_scoped(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole"
        ));
        assert!(kustomize_cluster_scoped("v1", "Namespace"));
        // The kind alone is not enough: a `Namespace` in another group is namespaced.
        assert!(!kustomize_cluster_scoped("apps/v1", "Namespace"));
        assert!(!is_cluster_scoped_api("example.com/v1", "Namespace"));
        assert!(!is_cluster_scoped("", "ConfigMap"));
    }
}

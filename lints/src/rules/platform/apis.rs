//! Which API groups, versions and kinds each distribution and Kubernetes minor serves: the
//! table `platform/api-not-served` judges objects with. Each row names its source; the same
//! table, with the same sources, is in `docs/platforms.md`.
//!
//! Only what a row states is judged: an object whose group no row names (a CRD the user
//! installs, cert-manager, Argo CD) is not reported, nor a version of a distribution's own group
//! that no row lists (edgefleet does not know it is absent).

use edgefleet_inventory::{Distribution, KubeMinor, PlatformProfile};

/// Who serves a (group, version, kinds) row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Serves {
    /// Built into the Kubernetes API server from minor `since` (inclusive) until `removed`
    /// (exclusive), whatever the distribution.
    Kubernetes { since: u32, removed: Option<u32> },
    /// Installed with these distributions only (their CRDs or API servers).
    Only(&'static [Distribution]),
    /// Served by none of the distributions edgefleet knows (the text says who serves it).
    Elsewhere(&'static str),
}

pub(crate) struct ApiRow {
    pub group: &'static str,
    /// `*`: every version of the group.
    pub version: &'static str,
    /// Empty: every kind of the group and version.
    pub kinds: &'static [&'static str],
    pub serves: Serves,
    pub source: &'static str,
}

const DEPRECATION_GUIDE: &str = "Kubernetes deprecated API migration guide";

use Distribution as D;
use Serves::*;

/// The rows, most specific first: the first row that matches an object decides.
pub(crate) static ROWS: &[ApiRow] = &[
    // Kubernetes: APIs added as GA within 1.29–1.35.
    ApiRow {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1",
        kinds: &[],
        serves: Kubernetes {
            since: 29,
            removed: None,
        },
        source: "Kubernetes 1.29 release (KEP-1040, API Priority and Fairness GA)",
    },
    ApiRow {
        group: "admissionregistration.k8s.io",
        version: "v1",
        kinds: &[
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
        ],
        serves: Kubernetes {
            since: 30,
            removed: None,
        },
        source: "Kubernetes 1.30 release (KEP-3488, ValidatingAdmissionPolicy GA)",
    },
    ApiRow {
        group: "networking.k8s.io",
        version: "v1",
        kinds: &["ServiceCIDR", "IPAddress"],
        serves: Kubernetes {
            since: 33,
            removed: None,
        },
        source: "Kubernetes 1.33 release (KEP-1880, multiple Service CIDRs GA)",
    },
    ApiRow {
        group: "resource.k8s.io",
        version: "v1",
        kinds: &[
            "ResourceClaim",
            "ResourceClaimTemplate",
            "DeviceClass",
            "ResourceSlice",
        ],
        serves: Kubernetes {
            since: 34,
            removed: None,
        },
        source: "Kubernetes 1.34 release (KEP-4381, dynamic resource allocation GA)",
    },
    ApiRow {
        group: "storage.k8s.io",
        version: "v1",
        kinds: &["VolumeAttributesClass"],
        serves: Kubernetes {
            since: 34,
            removed: None,
        },
        source: "Kubernetes 1.34 release (KEP-3751, VolumeAttributesClass GA)",
    },
    // Kubernetes: APIs removed.
    ApiRow {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1beta3",
        kinds: &[],
        serves: Kubernetes {
            since: 26,
            removed: Some(32),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1beta2",
        kinds: &[],
        serves: Kubernetes {
            since: 23,
            removed: Some(29),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "flowcontrol.apiserver.k8s.io",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 20,
            removed: Some(26),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "storage.k8s.io",
        version: "v1beta1",
        kinds: &["CSIStorageCapacity"],
        serves: Kubernetes {
            since: 21,
            removed: Some(27),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "autoscaling",
        version: "v2beta2",
        kinds: &[],
        serves: Kubernetes {
            since: 12,
            removed: Some(26),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "autoscaling",
        version: "v2beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 8,
            removed: Some(25),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "batch",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 8,
            removed: Some(25),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "discovery.k8s.io",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 17,
            removed: Some(25),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "events.k8s.io",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 8,
            removed: Some(25),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "policy",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 5,
            removed: Some(25),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "node.k8s.io",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 14,
            removed: Some(25),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "networking.k8s.io",
        version: "v1beta1",
        kinds: &["Ingress", "IngressClass"],
        serves: Kubernetes {
            since: 14,
            removed: Some(22),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "extensions",
        version: "v1beta1",
        kinds: &["Ingress"],
        serves: Kubernetes {
            since: 0,
            removed: Some(22),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "extensions",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 0,
            removed: Some(16),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "apps",
        version: "v1beta2",
        kinds: &[],
        serves: Kubernetes {
            since: 8,
            removed: Some(16),
        },
        source: DEPRECATION_GUIDE,
    },
    ApiRow {
        group: "apps",
        version: "v1beta1",
        kinds: &[],
        serves: Kubernetes {
            since: 5,
            removed: Some(16),
        },
        source: DEPRECATION_GUIDE,
    },
    // MicroShift: the OpenShift APIs it serves, and those it does not.
    ApiRow {
        group: "route.openshift.io",
        version: "v1",
        kinds: &["Route"],
        serves: Only(&[D::MicroShift]),
        source: "MicroShift documentation, OpenShift APIs served by MicroShift",
    },
    ApiRow {
        group: "security.openshift.io",
        version: "v1",
        kinds: &["SecurityContextConstraints"],
        serves: Only(&[D::MicroShift]),
        source: "MicroShift documentation, OpenShift APIs served by MicroShift",
    },
    ApiRow {
        group: "topolvm.io",
        version: "*",
        kinds: &[],
        serves: Only(&[D::MicroShift]),
        source: "MicroShift documentation, LVMS storage (TopoLVM CRDs installed with MicroShift)",
    },
    ApiRow {
        group: "apps.openshift.io",
        version: "*",
        kinds: &[],
        serves: Elsewhere("OpenShift Container Platform (MicroShift does not serve it)"),
        source: "MicroShift documentation, OpenShift APIs served by MicroShift",
    },
    ApiRow {
        group: "build.openshift.io",
        version: "*",
        kinds: &[],
        serves: Elsewhere("OpenShift Container Platform (MicroShift does not serve it)"),
        source: "MicroShift documentation, OpenShift APIs served by MicroShift",
    },
    ApiRow {
        group: "image.openshift.io",
        version: "*",
        kinds: &[],
        serves: Elsewhere("OpenShift Container Platform (MicroShift does not serve it)"),
        source: "MicroShift documentation, OpenShift APIs served by MicroShift",
    },
    ApiRow {
        group: "project.openshift.io",
        version: "*",
        kinds: &[],
        serves: Elsewhere("OpenShift Container Platform (MicroShift does not serve it)"),
        source: "MicroShift documentation, OpenShift APIs served by MicroShift",
    },
    // k3s: its own controllers and the packaged Traefik.
    ApiRow {
        group: "helm.cattle.io",
        version: "v1",
        kinds: &["HelmChart", "HelmChartConfig"],
        serves: Only(&[D::K3s]),
        source: "k3s documentation, Helm (the embedded helm-controller)",
    },
    ApiRow {
        group: "k3s.cattle.io",
        version: "v1",
        kinds: &["Addon", "ETCDSnapshotFile"],
        serves: Only(&[D::K3s]),
        source: "k3s documentation, auto-deploying manifests (Addon) and etcd snapshots",
    },
    ApiRow {
        group: "traefik.io",
        version: "v1alpha1",
        kinds: &[],
        serves: Only(&[D::K3s]),
        source: "k3s documentation, networking services (packaged Traefik ingress controller)",
    },
    // KubeEdge: the CRDs cloudcore installs (manifests/charts/cloudcore/crds).
    ApiRow {
        group: "devices.kubeedge.io",
        version: "v1beta1",
        kinds: &["Device", "DeviceModel"],
        serves: Only(&[D::KubeEdge]),
        source: "KubeEdge cloudcore chart CRDs (devices_v1beta1_device.yaml, devices_v1beta1_devicemodel.yaml)",
    },
    ApiRow {
        group: "devices.kubeedge.io",
        version: "v1alpha2",
        kinds: &[],
        serves: Elsewhere("KubeEdge releases before 1.15 (replaced by v1beta1)"),
        source: "KubeEdge cloudcore chart CRDs (v1alpha2 device CRDs removed)",
    },
    ApiRow {
        group: "rules.kubeedge.io",
        version: "v1",
        kinds: &["Rule", "RuleEndpoint"],
        serves: Only(&[D::KubeEdge]),
        source: "KubeEdge cloudcore chart CRDs (router_v1_*.yaml)",
    },
    ApiRow {
        group: "apps.kubeedge.io",
        version: "v1alpha1",
        kinds: &["NodeGroup", "EdgeApplication"],
        serves: Only(&[D::KubeEdge]),
        source: "KubeEdge cloudcore chart CRDs (apps_v1alpha1_nodegroup.yaml, apps_v1alpha1_edgeapplication.yaml)",
    },
    ApiRow {
        group: "operations.kubeedge.io",
        version: "*",
        kinds: &[],
        serves: Only(&[D::KubeEdge]),
        source: "KubeEdge cloudcore chart CRDs (operations_v1alpha1_*.yaml, operations_v1alpha2_*.yaml)",
    },
    // OpenYurt: the CRDs yurt-manager installs (charts/yurt-manager/crds).
    ApiRow {
        group: "apps.openyurt.io",
        version: "*",
        kinds: &[
            "NodePool",
            "YurtAppSet",
            "YurtAppDaemon",
            "YurtStaticSet",
            "NodeBucket",
            "YurtAppOverrider",
        ],
        serves: Only(&[D::OpenYurt]),
        source: "OpenYurt yurt-manager chart CRDs (apps.openyurt.io_*.yaml)",
    },
    ApiRow {
        group: "raven.openyurt.io",
        version: "*",
        kinds: &["Gateway"],
        serves: Only(&[D::OpenYurt]),
        source: "OpenYurt yurt-manager chart CRDs (raven.openyurt.io_gateways.yaml)",
    },
    ApiRow {
        group: "iot.openyurt.io",
        version: "*",
        kinds: &["PlatformAdmin"],
        serves: Only(&[D::OpenYurt]),
        source: "OpenYurt yurt-manager chart CRDs (iot.openyurt.io_platformadmins.yaml)",
    },
    ApiRow {
        group: "network.openyurt.io",
        version: "*",
        kinds: &["PoolService"],
        serves: Only(&[D::OpenYurt]),
        source: "OpenYurt yurt-manager chart CRDs (network.openyurt.io_poolservices.yaml)",
    },
];

/// Why a site does not serve an object's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotServed {
    /// A built-in API the site's Kubernetes minor does not have yet.
    TooNew { since: KubeMinor },
    /// A built-in API removed before the site's Kubernetes minor.
    Removed { removed: KubeMinor },
    /// Another distribution's API.
    OtherDistribution(Vec<Distribution>),
    /// An API none of the known distributions serves.
    Elsewhere(&'static str),
}

/// `group/version` → (group, version); the core group is `""`.
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The row deciding an object, if any.
pub(crate) fn row_for(api_version: &str, kind: &str) -> Option<&'static ApiRow> {
    let (group, version) = split_api_version(api_version);
    ROWS.iter().find(|r| {
        r.group == group
            && (r.version == "*" || r.version == version)
            && (r.kinds.is_empty() || r.kinds.contains(&kind))
    })
}

/// Whether the platform serves `kind` in `api_version`: `None` when it does, or when the table
/// has no fact about it.
pub(crate) fn not_served(
    platform: &PlatformProfile,
    api_version: &str,
    kind: &str,
) -> Option<(NotServed, &'static ApiRow)> {
    let row = row_for(api_version, kind)?;
    let why = match row.serves {
        Kubernetes { since, removed } => {
            let minor = platform.kubernetes.0;
            if minor < since {
                NotServed::TooNew {
                    since: KubeMinor(since),
                }
            } else if let Some(r) = removed.filter(|r| minor >= *r) {
                NotServed::Removed {
                    removed: KubeMinor(r),
                }
            } else {
                return None;
            }
        }
        Only(ds) if ds.contains(&platform.distribution) => return None,
        Only(ds) => NotServed::OtherDistribution(ds.to_vec()),
        Elsewhere(who) => NotServed::Elsewhere(who),
    };
    Some((why, row))
}

//! The platform a site runs: its Kubernetes distribution and version, the RuntimeClasses its
//! nodes have (containers, WebAssembly, confidential VMs), and its workload identity settings.
//!
//! Facts kept here (each with its source in `docs/platforms.md`):
//! - which Kubernetes minor each distribution release is built on ([`KNOWN_VERSIONS`]);
//! - which RuntimeClass names the usual installers create, and what they run
//!   ([`well_known_runtime`]).

use std::collections::BTreeMap;
use std::fmt;

use crate::source::SourceLocation;
use crate::units::Duration;

/// A Kubernetes distribution an edge site may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Distribution {
    /// Upstream Kubernetes (kubeadm and the like).
    Kubernetes,
    /// Rancher k3s.
    K3s,
    /// Red Hat build of MicroShift (OpenShift APIs for single-node edge devices).
    MicroShift,
    /// KubeEdge: upstream Kubernetes in the cloud, edge nodes joined by `keadm`.
    KubeEdge,
    /// OpenYurt: upstream Kubernetes with node pools and edge autonomy.
    OpenYurt,
}

impl Distribution {
    pub const ALL: [Distribution; 5] = [
        Distribution::Kubernetes,
        Distribution::K3s,
        Distribution::MicroShift,
        Distribution::KubeEdge,
        Distribution::OpenYurt,
    ];

    /// The name written in the inventory.
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::Kubernetes => "kubernetes",
            Distribution::K3s => "k3s",
            Distribution::MicroShift => "microshift",
            Distribution::KubeEdge => "kubeedge",
            Distribution::OpenYurt => "openyurt",
        }
    }

    pub fn parse(s: &str) -> Option<Distribution> {
        Distribution::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether the distribution is an add-on to a Kubernetes cluster whose version the inventory
    /// must give separately (`kubernetes:`): the API server is the cluster's, not the add-on's.
    pub fn runs_on_cluster(self) -> bool {
        matches!(self, Distribution::KubeEdge | Distribution::OpenYurt)
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Kubernetes minor release (`1.33`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeMinor(pub u32);

impl fmt::Display for KubeMinor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.0)
    }
}

/// Kubernetes minors whose served APIs edgefleet knows (the lint tables cover these).
pub const KUBERNETES_MINORS: std::ops::RangeInclusive<u32> = 29..=35;

/// Releases edgefleet knows, per distribution, with the Kubernetes minor they are built on.
/// k3s follows upstream minors one for one (`v1.33.x+k3s1`). MicroShift 4.N is built on the
/// Kubernetes of OpenShift 4.N (4.16: 1.29 … 4.20: 1.33). KubeEdge and OpenYurt releases
/// run on a cluster whose version is given separately, so only their own releases are listed
/// (with `None`).
pub const KNOWN_VERSIONS: &[(Distribution, &str, Option<u32>)] = &[
    (Distribution::Kubernetes, "1.29", Some(29)),
    (Distribution::Kubernetes, "1.30", Some(30)),
    (Distribution::Kubernetes, "1.31", Some(31)),
    (Distribution::Kubernetes, "1.32", Some(32)),
    (Distribution::Kubernetes, "1.33", Some(33)),
    (Distribution::Kubernetes, "1.34", Some(34)),
    (Distribution::Kubernetes, "1.35", Some(35)),
    (Distribution::K3s, "1.29", Some(29)),
    (Distribution::K3s, "1.30", Some(30)),
    (Distribution::K3s, "1.31", Some(31)),
    (Distribution::K3s, "1.32", Some(32)),
    (Distribution::K3s, "1.33", Some(33)),
    (Distribution::K3s, "1.34", Some(34)),
    (Distribution::K3s, "1.35", Some(35)),
    (Distribution::MicroShift, "4.16", Some(29)),
    (Distribution::MicroShift, "4.17", Some(30)),
    (Distribution::MicroShift, "4.18", Some(31)),
    (Distribution::MicroShift, "4.19", Some(32)),
    (Distribution::MicroShift, "4.20", Some(33)),
    (Distribution::KubeEdge, "1.19", None),
    (Distribution::KubeEdge, "1.20", None),
    (Distribution::KubeEdge, "1.21", None),
    (Distribution::KubeEdge, "1.22", None),
    (Distribution::OpenYurt, "1.4", None),
    (Distribution::OpenYurt, "1.5", None),
    (Distribution::OpenYurt, "1.6", None),
];

/// The releases of a distribution edgefleet knows, as written in the inventory.
pub fn known_versions(d: Distribution) -> Vec<&'static str> {
    KNOWN_VERSIONS
        .iter()
        .filter(|(x, _, _)| *x == d)
        .map(|(_, v, _)| *v)
        .collect()
}

/// The Kubernetes minor a release of a distribution is built on (`None`: unknown release, or
/// an add-on release whose cluster version is given separately).
pub fn kubernetes_minor_of(d: Distribution, version: &str) -> Option<KubeMinor> {
    KNOWN_VERSIONS
        .iter()
        .find(|(x, v, _)| *x == d && *v == version)
        .and_then(|(_, _, k)| k.map(KubeMinor))
}

/// `1.33` (or `v1.33`, `1.33.4`) → minor 33, when it is a Kubernetes minor edgefleet knows.
pub fn parse_kubernetes_minor(s: &str) -> Option<KubeMinor> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let mut parts = s.split('.');
    if parts.next()? != "1" {
        return None;
    }
    let minor: u32 = parts.next()?.parse().ok()?;
    if let Some(patch) = parts.next()
        && patch.parse::<u32>().is_err()
    {
        return None;
    }
    KUBERNETES_MINORS
        .contains(&minor)
        .then_some(KubeMinor(minor))
}

/// A trusted execution environment: hardware that keeps a VM's memory encrypted and attests
/// what runs in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tee {
    /// AMD SEV-SNP.
    SevSnp,
    /// Intel TDX.
    Tdx,
    /// IBM Secure Execution (s390x).
    Se,
}

impl Tee {
    pub const ALL: [Tee; 3] = [Tee::SevSnp, Tee::Tdx, Tee::Se];

    pub fn as_str(self) -> &'static str {
        match self {
            Tee::SevSnp => "sev-snp",
            Tee::Tdx => "tdx",
            Tee::Se => "se",
        }
    }

    pub fn parse(s: &str) -> Option<Tee> {
        Tee::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a RuntimeClass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuntimeKind {
    /// Linux containers (runc, crun, nvidia, gVisor, a Kata VM without a TEE).
    Container,
    /// WebAssembly modules through a containerd shim (Spin, WasmEdge, wasmtime, ...).
    Wasm,
    /// A confidential VM (Kata with a TEE), for the TEE given.
    Confidential(Tee),
}

impl RuntimeKind {
    pub fn is_wasm(self) -> bool {
        self == RuntimeKind::Wasm
    }

    pub fn tee(self) -> Option<Tee> {
        match self {
            RuntimeKind::Confidential(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeKind::Container => f.write_str("container"),
            RuntimeKind::Wasm => f.write_str("wasm"),
            RuntimeKind::Confidential(t) => write!(f, "confidential ({t})"),
        }
    }
}

/// The kind of a RuntimeClass by its usual name: the names k3s creates when it finds a Wasm
/// shim, those SpinKube and the KWasm operator install, and those the confidential-containers
/// operator (kata-deploy) installs. `None` for other names (plain containers unless the
/// inventory says otherwise).
pub fn well_known_runtime(name: &str) -> Option<RuntimeKind> {
    Some(match name {
        "spin" | "wasmtime-spin" | "wasmtime-spin-v2" | "wasmedge" | "wasmtime" | "wasmer"
        | "wws" | "lunatic" | "slight" => RuntimeKind::Wasm,
        "kata-qemu-snp" | "kata-qemu-nvidia-gpu-snp" => RuntimeKind::Confidential(Tee::SevSnp),
        "kata-qemu-tdx" | "kata-qemu-nvidia-gpu-tdx" => RuntimeKind::Confidential(Tee::Tdx),
        "kata-qemu-se" => RuntimeKind::Confidential(Tee::Se),
        // Kata for development: the confidential stack without a TEE.
        "kata-qemu-coco-dev"
        | "kata-qemu"
        | "kata-clh"
        | "kata"
        | "runc"
        | "crun"
        | "nvidia"
        | "nvidia-experimental"
        | "gvisor"
        | "runsc" => RuntimeKind::Container,
        _ => return None,
    })
}

/// One RuntimeClass installed at the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeClass {
    pub name: String,
    pub kind: RuntimeKind,
}

/// Workload identity at the site (SPIFFE/SPIRE).
#[derive(Debug, Clone)]
pub struct Identity {
    /// SPIFFE trust domain (`edge.example.net`).
    pub trust_domain: String,
    /// Lifetime of the X.509 SVIDs the site's workloads get (the SPIRE server's
    /// `default_x509_svid_ttl`, or what its registration entries set).
    pub svid_ttl: Duration,
    /// Where `svid_ttl` is written.
    pub svid_ttl_location: SourceLocation,
}

/// A platform profile: what a site's cluster is and can run.
#[derive(Debug, Clone)]
pub struct PlatformProfile {
    pub name: String,
    pub distribution: Distribution,
    /// The distribution's release as written (`1.33`, `4.18`, `1.21`).
    pub version: String,
    /// The Kubernetes minor that serves the site's API.
    pub kubernetes: KubeMinor,
    /// RuntimeClasses installed on the site's nodes, by name.
    pub runtime_classes: BTreeMap<String, RuntimeClass>,
    pub identity: Option<Identity>,
    pub location: SourceLocation,
}

impl PlatformProfile {
    /// Whether any installed RuntimeClass runs WebAssembly.
    pub fn has_wasm_runtime(&self) -> bool {
        self.runtime_classes.values().any(|r| r.kind.is_wasm())
    }

    /// The installed RuntimeClasses that run confidential VMs.
    pub fn confidential_runtimes(&self) -> impl Iterator<Item = &RuntimeClass> {
        self.runtime_classes
            .values()
            .filter(|r| r.kind.tee().is_some())
    }

    /// The first installed Wasm RuntimeClass (by name), for templates.
    pub fn wasm_runtime(&self) -> Option<&RuntimeClass> {
        self.runtime_classes.values().find(|r| r.kind.is_wasm())
    }

    /// The platform as templates (`platform`) and Rego policies (`data.edgefleet.site.platform`)
    /// see it: the distribution, the Kubernetes minor, every RuntimeClass with its kind, the
    /// Wasm runtime and the confidential runtime for the hardware's TEE (first by name, or
    /// null), and the identity settings.
    pub fn context(&self, hardware: &crate::HardwareProfile) -> serde_json::Value {
        let classes: Vec<serde_json::Value> = self
            .runtime_classes
            .values()
            .map(|r| {
                let kind = match r.kind {
                    RuntimeKind::Container => "container",
                    RuntimeKind::Wasm => "wasm",
                    RuntimeKind::Confidential(_) => "confidential",
                };
                serde_json::json!({"name": r.name, "kind": kind, "tee": r.kind.tee().map(Tee::as_str)})
            })
            .collect();
        let confidential = hardware.tee.and_then(|tee| {
            self.confidential_runtimes()
                .find(|r| r.kind.tee() == Some(tee))
                .map(|r| r.name.clone())
        });
        serde_json::json!({
            "name": self.name,
            "distribution": self.distribution.as_str(),
            "version": self.version,
            "kubernetes": self.kubernetes.to_string(),
            "kubernetes_minor": self.kubernetes.0,
            "runtime_classes": classes,
            "wasm_runtime": self.wasm_runtime().map(|r| r.name.clone()),
            "confidential_runtime": confidential,
            "identity": self.identity.as_ref().map(|i| serde_json::json!({
                "trust_domain": i.trust_domain,
                "svid_ttl": i.svid_ttl.text,
                "svid_ttl_seconds": i.svid_ttl.seconds,
            })),
        })
    }

    /// `k3s 1.33`, `kubeedge 1.21 on Kubernetes 1.31`.
    pub fn describe(&self) -> String {
        if self.distribution.runs_on_cluster() {
            format!(
                "{} {} on Kubernetes {}",
                self.distribution, self.version, self.kubernetes
            )
        } else {
            format!("{} {}", self.distribution, self.version)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_minors_parse_within_the_known_range() {
        assert_eq!(parse_kubernetes_minor("1.31"), Some(KubeMinor(31)));
        assert_eq!(parse_kubernetes_minor("v1.33.4"), Some(KubeMinor(33)));
        assert_eq!(parse_kubernetes_minor("1.28"), None);
        assert_eq!(parse_kubernetes_minor("2.1"), None);
        assert_eq!(parse_kubernetes_minor("1.x"), None);
    }

    #[test]
    fn releases_map_to_their_kubernetes() {
        assert_eq!(
            kubernetes_minor_of(Distribution::MicroShift, "4.18"),
            Some(KubeMinor(31))
        );
        assert_eq!(
            kubernetes_minor_of(Distribution::K3s, "1.33"),
            Some(KubeMinor(33))
        );
        assert_eq!(kubernetes_minor_of(Distribution::KubeEdge, "1.21"), None);
        assert!(known_versions(Distribution::OpenYurt).contains(&"1.5"));
    }

    #[test]
    fn runtime_names_are_classified() {
        assert_eq!(well_known_runtime("spin"), Some(RuntimeKind::Wasm));
        assert_eq!(
            well_known_runtime("kata-qemu-tdx"),
            Some(RuntimeKind::Confidential(Tee::Tdx))
        );
        assert_eq!(
            well_known_runtime("kata-qemu-coco-dev"),
            Some(RuntimeKind::Container)
        );
        assert_eq!(well_known_runtime("my-shim"), None);
    }
}

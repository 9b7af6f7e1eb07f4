use super::apis::{NotServed, not_served};
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports an object whose `apiVersion` and `kind`
    /// the site's platform does not serve: a built-in Kubernetes API that the site's Kubernetes
    /// minor does not have yet or no longer has (`flowcontrol.apiserver.k8s.io/v1beta3` on
    /// 1.32 and later, `resource.k8s.io/v1` before 1.34), or an API of another distribution
    /// (an OpenShift `Route` on k3s, a k3s `HelmChart` on MicroShift, an OpenYurt `NodePool` on
    /// KubeEdge). The finding is at `apiVersion` and names the platform from the inventory
    /// (`platforms:`) and the source of the fact. The table and its sources are in
    /// `docs/platforms.md`; APIs the table does not name (CRDs you install) are not judged.
    ///
    /// ## Why it matters at an edge site
    /// A manifest that is valid for the cloud cluster it was tested on is refused by the site's
    /// API server (`no matches for kind`), and Argo CD leaves the whole Application out of sync.
    /// At a site behind a satellite link nobody notices until the workload is needed.
    ///
    /// ## Example
    /// At a site whose platform is k3s 1.33:
    /// ```yaml
    /// apiVersion: route.openshift.io/v1
    /// kind: Route
    /// ```
    ///
    /// ## Fix
    /// Use the API the site's distribution serves (an `Ingress`, or Traefik's `IngressRoute` on
    /// k3s), move to the version the site's Kubernetes serves, or keep the workload off sites
    /// of that platform.
    pub static RULE = {
        id: "platform/api-not-served",
        level: Error,
        summary: "Object's API group, version or kind is not served by the site's distribution and version",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let Some(platform) = &site.platform else {
        return;
    };
    for (i, m) in manifests.iter().enumerate() {
        let (api, kind) = (m.api_version(), m.kind());
        let Some((why, row)) = not_served(platform, api, kind) else {
            continue;
        };
        let on = format!("platform `{}` ({})", platform.name, platform.describe());
        let message = match why {
            NotServed::TooNew { since } => format!(
                "{kind} {api} is served from Kubernetes {since}; {on} runs Kubernetes {}",
                platform.kubernetes
            ),
            NotServed::Removed { removed } => format!(
                "{kind} {api} was removed in Kubernetes {removed}; {on} runs Kubernetes {}",
                platform.kubernetes
            ),
            NotServed::OtherDistribution(ds) => format!(
                "{kind} {api} is served by {}, not by {on}",
                ds.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ),
            NotServed::Elsewhere(who) => {
                format!("{kind} {api} is served by {who}, not by {on}")
            }
        };
        out.push((
            i,
            Violation::at("/apiVersion", message).help(format!(
                "use an API the site's platform serves (source: {})",
                row.source
            )),
        ));
    }
}

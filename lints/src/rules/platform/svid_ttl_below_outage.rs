use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::rules::outage::{go_duration_seconds, show_seconds};
use crate::site::SiteContext;

/// The CSI driver that mounts the SPIRE agent's Workload API socket into pods.
pub const SPIFFE_CSI_DRIVER: &str = "csi.spiffe.io";
/// The SPIRE controller manager's registration kind.
const CLUSTER_SPIFFE_ID: (&str, &str) = ("spire.spiffe.io/v1alpha1", "ClusterSPIFFEID");

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports workload identities that expire before
    /// the site's longest backhaul outage (`max_outage`) is over:
    /// - a SPIRE `ClusterSPIFFEID` (`spire.spiffe.io/v1alpha1`) whose `spec.ttl` is shorter,
    ///   or which sets none while the platform's `identity.svid_ttl` (the SPIRE server's
    ///   default) is shorter;
    /// - a pod that gets its SVID from the SPIFFE CSI driver (a `csi` volume with driver
    ///   `csi.spiffe.io`) at a site whose platform `identity.svid_ttl` is shorter.
    ///
    /// The finding is at `spec.ttl`, or at the CSI driver of the pod, and names the site's
    /// backhaul and the inventory's TTL. Sites whose link is declared never to drop are not
    /// judged.
    ///
    /// ## Why it matters at an edge site
    /// SPIRE agents renew SVIDs from the SPIRE server. When the server is across the backhaul
    /// (a KubeEdge or OpenYurt control plane in the cloud, a regional SPIRE server), a site cut
    /// off for longer than the SVID lifetime ends the outage with expired identities: mTLS
    /// between the site's own services fails, and the site stops working exactly when it had
    /// to work alone.
    ///
    /// ## Example
    /// At a site on `vsat-2m` (`max_outage: 72h`):
    /// ```yaml
    /// apiVersion: spire.spiffe.io/v1alpha1
    /// kind: ClusterSPIFFEID
    /// spec:
    ///   ttl: 1h
    /// ```
    ///
    /// ## Fix
    /// Give the site's SVIDs a lifetime longer than its longest outage (with room for the
    /// agent's renewal at half-life), or run a SPIRE server at the site (nested SPIRE) so
    /// renewal does not cross the backhaul.
    pub static RULE = {
        id: "platform/svid-ttl-below-outage",
        level: Error,
        summary: "Workload identity (SPIFFE SVID) expires before the site's max backhaul outage is over",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let outage = site.backhaul.max_outage.seconds as f64;
    if outage <= 0.0 {
        return;
    }
    let identity = site.platform.as_ref().and_then(|p| p.identity.as_ref());
    let default_ttl = identity.map(|id| id.svid_ttl.seconds as f64);
    let link = format!(
        "the site's backhaul `{}` can be down {}",
        site.backhaul.name, site.backhaul.max_outage.text
    );
    let help = "make SVIDs outlive the site's longest outage, or run a SPIRE server at the site";
    for (i, m) in manifests.iter().enumerate() {
        if (m.api_version(), m.kind()) == CLUSTER_SPIFFE_ID {
            match m.value.pointer("/spec/ttl").and_then(Value::as_str) {
                Some(text) => match go_duration_seconds(text) {
                    Ok(ttl) if ttl > 0.0 && ttl < outage => out.push((
                        i,
                        Violation::at(
                            "/spec/ttl",
                            format!(
                                "SVIDs of this ClusterSPIFFEID live {}, and {link}",
                                show_seconds(ttl)
                            ),
                        )
                        .help(help),
                    )),
                    Ok(_) => {}
                    Err(e) => out.push((i, Violation::at("/spec/ttl", e))),
                },
                None => {
                    if let (Some(ttl), Some(id)) = (default_ttl, identity)
                        && ttl < outage
                    {
                        out.push((
                            i,
                            Violation::at(
                                "/spec",
                                format!(
                                    "no spec.ttl: SVIDs get the SPIRE server's default, {} (identity.svid_ttl of the platform), and {link}",
                                    id.svid_ttl.text
                                ),
                            )
                            .help(help),
                        ));
                    }
                }
            }
            continue;
        }
        let (Some(ttl), Some(id)) = (default_ttl, identity) else {
            continue;
        };
        if ttl >= outage {
            continue;
        }
        let Some(pod) = m.pod_spec() else { continue };
        for (v, volume) in pod
            .spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if volume.pointer("/csi/driver").and_then(Value::as_str) != Some(SPIFFE_CSI_DRIVER) {
                continue;
            }
            out.push((
                i,
                Violation::at(
                    format!("{}/volumes/{v}/csi/driver", pod.pointer),
                    format!(
                        "the pod's SPIFFE identity lives {} (identity.svid_ttl of platform `{}`), and {link}",
                        id.svid_ttl.text,
                        site.platform.as_ref().map(|p| p.name.as_str()).unwrap_or_default()
                    ),
                )
                .help(help),
            ));
        }
    }
}

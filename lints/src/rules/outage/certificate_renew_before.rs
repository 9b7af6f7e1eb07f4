use serde_json::Value;

use super::{go_duration_seconds, show_seconds};
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

/// cert-manager's default `spec.duration`: 90 days.
const DEFAULT_DURATION_SECONDS: f64 = 90.0 * 86_400.0;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a cert-manager `Certificate`
    /// (`cert-manager.io/v1`) whose renewal starts less than the site backhaul's `max_outage`
    /// before the certificate expires. The renewal window is judged as cert-manager computes it
    /// from the requested lifetime (`spec.duration`, default 90 days):
    /// - `spec.renewBefore` when it is above zero and below the lifetime;
    /// - else `spec.renewBeforePercentage` % of the lifetime when it is in (0, 100);
    /// - else a third of the lifetime (cert-manager's default: renew 2/3 through).
    ///
    /// The finding points at `renewBefore` (or `renewBeforePercentage`, or `duration` when the
    /// default applies, else the `spec`) and names the site and its backhaul. A value that is
    /// not a Go duration (`720h`, `2160h0m0s`) is reported at its line. Sites whose link is
    /// declared never to drop are not judged.
    ///
    /// The requested lifetime is what is judged: an issuer that signs shorter certificates than
    /// requested shortens the window too (cert-manager computes it from the issued certificate).
    ///
    /// ## Why it matters at an edge site
    /// cert-manager renews by reaching an issuer (ACME, Vault, a cloud CA) over the backhaul. If
    /// the link goes down just before renewal starts and stays down for the site's longest
    /// outage, the certificate must still be valid when the link returns; otherwise it expires
    /// mid-outage and the site comes back unable to authenticate — to the region's broker, to
    /// its telemetry endpoint, sometimes to the GitOps controller that would ship the fix.
    ///
    /// ## Example
    /// At a site on `vsat-2m` (`max_outage: 72h`):
    /// ```yaml
    /// apiVersion: cert-manager.io/v1
    /// kind: Certificate
    /// spec:
    ///   duration: 168h
    ///   renewBefore: 24h
    /// ```
    ///
    /// ## Fix
    /// Set `renewBefore` to at least the site's `max_outage`, with room for retries (e.g.
    /// `720h` on a 90-day certificate), or use a longer-lived certificate.
    pub static RULE = {
        id: "outage/certificate-renew-before",
        level: Error,
        summary: "cert-manager Certificate renews less than the site's max backhaul outage before it expires",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let link = &site.backhaul;
    for (i, m) in manifests.iter().enumerate() {
        if m.kind() != "Certificate" || m.api_version() != "cert-manager.io/v1" {
            continue;
        }
        let Some(spec) = m.value.get("spec").filter(|s| s.is_object()) else {
            continue;
        };
        let field = |name: &str| spec.get(name).filter(|v| !v.is_null());
        let duration = |name: &str, out: &mut Vec<(usize, Violation)>| -> Result<Option<f64>, ()> {
            let Some(v) = field(name) else {
                return Ok(None);
            };
            let parsed = v
                .as_str()
                .ok_or_else(|| format!("`{name}` must be a Go duration string, e.g. 720h"))
                .and_then(go_duration_seconds);
            match parsed {
                Ok(s) => Ok(Some(s)),
                Err(why) => {
                    out.push((
                        i,
                        Violation::at(format!("/spec/{name}"), format!("{}: {why}", m.object))
                            .help("write it as Go's time.ParseDuration reads it: 720h, 2160h0m0s"),
                    ));
                    Err(())
                }
            }
        };
        let Ok(requested) = duration("duration", out) else {
            continue;
        };
        let Ok(renew_before) = duration("renewBefore", out) else {
            continue;
        };
        if !link.can_drop() {
            continue;
        }
        let lifetime = requested.unwrap_or(DEFAULT_DURATION_SECONDS);
        let percentage = field("renewBeforePercentage").and_then(Value::as_f64);
        // cert-manager's order (desiredRenewalTime): a usable renewBefore, else a usable
        // percentage, else a third of the lifetime.
        let (window, ptr, how) = match (renew_before, percentage) {
            (Some(rb), _) if rb > 0.0 && rb < lifetime => {
                (rb, "/spec/renewBefore", "renewBefore".to_owned())
            }
            (_, Some(p)) if p > 0.0 && p < 100.0 => (
                lifetime * p.trunc() / 100.0,
                "/spec/renewBeforePercentage",
                format!(
                    "renewBeforePercentage {} of {}",
                    p.trunc(),
                    show_seconds(lifetime)
                ),
            ),
            _ => {
                // The line to change: an unusable renewBefore, else the lifetime.
                let ptr = if renew_before.is_some() {
                    "/spec/renewBefore"
                } else if requested.is_some() {
                    "/spec/duration"
                } else {
                    "/spec"
                };
                let lifetime_text = format!(
                    "{}{}",
                    show_seconds(lifetime),
                    if requested.is_some() {
                        ""
                    } else {
                        " (default)"
                    }
                );
                let how = match renew_before {
                    Some(rb) => format!(
                        "renewBefore {} is not within the {lifetime_text} lifetime, so cert-manager uses its default third",
                        show_seconds(rb)
                    ),
                    None => format!("the default third of its {lifetime_text} lifetime"),
                };
                (lifetime / 3.0, ptr, how)
            }
        };
        let outage = link.max_outage.seconds as f64;
        if window >= outage {
            continue;
        }
        out.push((
            i,
            Violation::at(
                ptr,
                format!(
                    "{} starts renewing {} before it expires ({how}), but backhaul `{}` can be down for {}",
                    m.object,
                    show_seconds(window),
                    link.name,
                    link.max_outage
                ),
            )
            .help(format!(
                "set spec.renewBefore to at least {} plus room for retries, below spec.duration",
                show_seconds(outage)
            )),
        ));
    }
}

use edgefleet_inventory::residency::{EndpointZone, Host};

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports an endpoint (found as in
    /// `residency/endpoint-outside-zone`) that receives a restricted data class while its zone
    /// cannot be known: an IP literal (IPv4 or IPv6; loopback and `0.0.0.0` excepted, they stay on
    /// the node), or a host name neither in `residency.endpoints` nor among the regions'
    /// `endpoints`. Such an endpoint is never assumed to be allowed.
    ///
    /// A class is restricted at a site unless `residency.policy` allows it `any` zone from the
    /// site's zone (by default `personal`, `video-raw` and `telemetry` are restricted, `public` is
    /// not). Cluster-internal names (a single label, `*.svc`, `*.cluster.local`) are on the site
    /// and are not reported.
    ///
    /// ## Why it matters at an edge site
    /// An address nobody catalogued is one nobody checked: an IP can be anywhere and move, and a
    /// new vendor's host name may resolve to another continent. For sovereign data the burden of
    /// proof is on the endpoint, and the linter cannot prove anything about an unknown one.
    ///
    /// ## Example
    /// At a site in zone EEA, a `telemetry` collector:
    /// ```yaml
    ///             - name: EDGEFLEET_TELEMETRY_ENDPOINT
    ///               value: https://10.20.30.40:4318
    /// ```
    ///
    /// ## Fix
    /// Use a host name, and put it in the catalogue with its zone (`residency.endpoints` in the
    /// inventory, e.g. `collector.partner.example.org: EEA`), or use the region's endpoint.
    pub static RULE = {
        id: "residency/unknown-endpoint",
        level: Error,
        summary: "A restricted data class is sent to an IP literal or a host missing from the endpoint catalogue",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let zone = &site.region.zone;
    for found in super::endpoints(manifests) {
        if super::zone_of(site, &found.endpoint) != EndpointZone::Unknown {
            continue;
        }
        let restricted: Vec<String> = found
            .classes
            .keys()
            .filter(|c| site.residency.allowed(c, zone).restricted())
            .map(|c| format!("`{c}`"))
            .collect();
        if restricted.is_empty() {
            continue;
        }
        let why = match found.endpoint.host {
            Host::Ip(_) => "an IP literal, whose zone cannot be known",
            Host::Name(_) => "a host missing from the endpoint catalogue",
        };
        out.push((
            found.index,
            Violation::at(
                found.pointer,
                format!(
                    "{} sends {} data from {} to `{}`: {why}",
                    found.what,
                    restricted.join(", "),
                    super::site_text(site),
                    found.endpoint.host,
                ),
            )
            .help("use a catalogued host name: add it with its zone to residency.endpoints in the inventory"),
        ));
    }
}

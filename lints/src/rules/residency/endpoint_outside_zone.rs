use edgefleet_inventory::residency::EndpointZone;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Finds where each workload sends data (a container
    /// `env` value that is a URL, `host:port` or IP; a ConfigMap value it mounts or reads: the
    /// whole value, an OpenTelemetry exporter `endpoint`, a Prometheus `remote_write` `url`, an
    /// S3 `endpoint`, an MQTT bridge `address`), looks the host up in the fleet's endpoint
    /// catalogue, and reports an endpoint whose zone the residency policy does not allow for
    /// the workload's data classes (`edgefleet.io/data-class`) from the site's zone.
    ///
    /// The policy it enforces is the inventory's `residency.policy`: data class → zone of the
    /// site → zones its endpoints may be in (`same`: the site's zone; `any`: anywhere). Without a
    /// `residency:` section, `personal`, `video-raw` and `telemetry` data stay in the site's zone
    /// and `public` data may go anywhere; a class missing from the policy is judged as `[same]`.
    /// The finding is at the line that sets the endpoint (the region component's `value:` in a
    /// generated tree) and names the site's jurisdiction and zone, the host and its zone, and
    /// the class.
    ///
    /// ## Why it matters at an edge site
    /// Sovereignty is a hard rule: raw video or personal data from a site in the EEA must not be
    /// sent to an endpoint outside the EEA. One template change that points a region at the
    /// wrong collector ships that leak to every site of the region at the next sync, and the data
    /// cannot be called back once it has crossed the border.
    ///
    /// ## Example
    /// At a site in Norway (zone EEA), a collector labelled `edgefleet.io/data-class: telemetry`:
    /// ```yaml
    ///           env:
    ///             - name: EDGEFLEET_TELEMETRY_ENDPOINT
    ///               value: https://otlp.us-gulf.example.com
    /// ```
    ///
    /// ## Fix
    /// Send the data to an endpoint in an allowed zone (the region's `endpoints` in the
    /// inventory), or, if the transfer is lawful, say so in `residency.policy`.
    pub static RULE = {
        id: "residency/endpoint-outside-zone",
        level: Error,
        summary: "A workload sends a data class to an endpoint in a zone its residency policy does not allow from the site's zone",
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
        let EndpointZone::Known(endpoint_zone) = super::zone_of(site, &found.endpoint) else {
            continue;
        };
        let mut broken = Vec::new();
        for class in found.classes.keys() {
            let allowed = site.residency.allowed(class, zone);
            if !allowed.any && !allowed.zones.contains(&endpoint_zone) {
                let to = if allowed.zones.is_empty() {
                    "nowhere outside the site".to_owned()
                } else {
                    allowed.zones_text()
                };
                broken.push(format!("`{class}` (allowed: {to})"));
            }
        }
        if broken.is_empty() {
            continue;
        }
        out.push((
            found.index,
            Violation::at(
                found.pointer,
                format!(
                    "{} sends {} data from {} to `{}` in zone {endpoint_zone}",
                    found.what,
                    broken.join(", "),
                    super::site_text(site),
                    found.endpoint.host,
                ),
            )
            .help(format!(
                "use an endpoint in an allowed zone (region `{}` endpoints), or change residency.policy if the transfer is lawful",
                site.region.name
            )),
        ));
    }
}

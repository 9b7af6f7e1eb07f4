use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports an object whose annotation (or label)
    /// `edgefleet.io/allowed-zones` (a comma list of residency zones, e.g. `EEA` or `EEA,CH`,
    /// on the object or its pod template) does not include the zone of the site it is targeted
    /// at. In a generated tree the message names the ApplicationSet that targets the site's
    /// overlay; the finding is at the annotation.
    ///
    /// The policy it enforces is the workload's own: the zones in the annotation, compared with
    /// the zone of the site's region in the inventory.
    ///
    /// ## Why it matters at an edge site
    /// Some workloads may only run under one law: a face-matching model licensed for the EEA, a
    /// workload that stores personal data on the node. Selecting sites by label or region makes
    /// it easy to target one at a site in another zone by adding a site to a list, and a synced
    /// Application runs it there within minutes.
    ///
    /// ## Example
    /// Targeted at a site in Texas (zone US):
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     edgefleet.io/allowed-zones: EEA
    /// ```
    ///
    /// ## Fix
    /// Leave the workload out of that site (`workloads:` of the site in the inventory, or the
    /// ApplicationSet's selector), or, if it may run there, add the zone to the annotation.
    pub static RULE = {
        id: "residency/zone-restricted-workload",
        level: Error,
        summary: "A workload restricted to some residency zones is targeted at a site in another zone",
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
    for (i, m) in manifests.iter().enumerate() {
        let Some((zones, pointer)) = super::allowed_zones(m) else {
            continue;
        };
        if zones.contains(zone) {
            continue;
        }
        let targeted = super::overlay_name(m)
            .and_then(|o| site.applicationsets.get(&o))
            .filter(|a| !a.is_empty())
            .map(|a| {
                let names: Vec<String> = a.iter().map(|n| format!("`{n}`")).collect();
                format!(" by ApplicationSet {}", names.join(", "))
            })
            .unwrap_or_default();
        let list: Vec<&str> = zones.iter().map(String::as_str).collect();
        out.push((
            i,
            Violation::at(
                pointer,
                format!(
                    "{} may only run in zone {}, but is targeted{targeted} at {} (region `{}`)",
                    m.object,
                    if list.is_empty() { "(none)".to_owned() } else { list.join(", ") },
                    super::site_text(site),
                    site.region.name,
                ),
            )
            .help("leave the workload out of this site (the site's `workloads:` in the inventory), or add the zone to edgefleet.io/allowed-zones if it may run there"),
        ));
    }
}

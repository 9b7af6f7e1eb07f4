use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Adds up the CPU and memory requests of every
    /// workload that lands on a site (each pod counted once per replica, a DaemonSet once per
    /// site, a Job once per `parallelism`; a pod's request is the larger of its containers' sum
    /// and its largest init container, a missing request counts its limit) and reports the site
    /// when a total exceeds the allocatable CPU or memory of the site's hardware profile.
    /// The finding points at the biggest request of the object that asks for the most.
    ///
    /// ## Why it matters at an edge site
    /// A site is one or two small nodes, not an elastic cluster: there is no autoscaler and no
    /// spare node. Workloads whose requests do not fit stay `Pending` for good, and the one that
    /// loses the race is often the telemetry or metrics agent that would have told you.
    ///
    /// ## Example
    /// A site on `rpi-cm4` (3500m CPU, 6Gi) that receives an inference server requesting 8 cores:
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 8000m, memory: 16Gi}
    /// ```
    ///
    /// ## Fix
    /// Size the workload for the hardware profile (in the profile's component), move the
    /// workload off that site (`workloads:` in the inventory), or give the site bigger hardware.
    pub static RULE = {
        id: "resources/site-over-capacity",
        level: Error,
        summary: "Sum of CPU or memory requests at a site exceeds its hardware allocatable",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let hw = &site.hardware;
    for (resource, allocatable) in [("cpu", hw.cpu.value), ("memory", hw.memory.value)] {
        let mut total = 0.0;
        let mut biggest: Option<(usize, f64, String)> = None;
        for (i, m) in manifests.iter().enumerate() {
            let Some((per_pod, ptr)) = super::pod_request(m, resource) else {
                continue;
            };
            let amount = per_pod * super::pods_at_site(m) as f64;
            total += amount;
            if biggest.as_ref().is_none_or(|(_, b, _)| amount > *b) {
                biggest = Some((i, amount, ptr));
            }
        }
        // A small tolerance: quantities are parsed to floating point.
        if total <= allocatable * (1.0 + 1e-9) {
            continue;
        }
        let Some((i, amount, ptr)) = biggest else {
            continue;
        };
        let show = |v: f64| format_quantity(resource, v);
        out.push((
            i,
            Violation::at(
                ptr,
                format!(
                    "{resource} requests at the site total {} but hardware `{}` has {} allocatable; {} asks for {}",
                    show(total),
                    hw.name,
                    show(allocatable),
                    manifests[i].object,
                    show(amount),
                ),
            )
            .help(format!(
                "size the workloads for `{}`, remove one from the site, or give the site bigger hardware",
                hw.name
            )),
        ));
    }
}

/// Cores with up to three decimals, memory in MiB.
fn format_quantity(resource: &str, v: f64) -> String {
    if resource == "cpu" {
        let millis = (v * 1000.0).round() as u64;
        if millis.is_multiple_of(1000) {
            format!("{} cores", millis / 1000)
        } else {
            format!("{millis}m CPU")
        }
    } else {
        format!("{}Mi", (v / (1024.0 * 1024.0)).ceil() as u64)
    }
}

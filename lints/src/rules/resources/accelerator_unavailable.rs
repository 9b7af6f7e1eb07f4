use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a container that requests or limits an
    /// extended resource (a name with a domain, such as `nvidia.com/gpu` or `amd.com/gpu`) that
    /// the site's hardware profile does not list under `accelerators`, or more of it than the
    /// profile has; and a site whose pods together need more of an accelerator than it has
    /// (replicas counted, a DaemonSet once).
    ///
    /// ## Why it matters at an edge site
    /// A pod that asks for a GPU the node does not have is never scheduled: it stays `Pending`
    /// with no error anyone sees, at a site nobody visits. Mixed fleets (Jetson and Raspberry
    /// Pi, GPU and CPU-only servers) make this the most common sizing mistake.
    ///
    /// ## Example
    /// On a site whose hardware is `xeon-d-2u` (no accelerators):
    /// ```yaml
    ///     resources:
    ///       limits: {nvidia.com/gpu: "1"}
    /// ```
    ///
    /// ## Fix
    /// Enable the workload only on sites with the accelerator (`workloads:` in the inventory),
    /// fall back to CPU in the hardware profile's component, or correct the site's hardware.
    pub static RULE = {
        id: "resources/accelerator-unavailable",
        level: Error,
        summary: "Container requests an accelerator the site's hardware lacks, or more than it has",
        check: Check::Site(check),
    };
}

/// Extended resources: `domain/name`, excluding the `kubernetes.io` ones.
fn is_extended(name: &str) -> bool {
    match name.split_once('/') {
        Some((domain, _)) => !(domain == "kubernetes.io" || domain.ends_with(".kubernetes.io")),
        None => false,
    }
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let hw = &site.hardware;
    // Per accelerator: site total, and the biggest user (object index, amount, pointer).
    let mut totals: std::collections::BTreeMap<String, (f64, usize, f64, String)> =
        Default::default();
    for (i, m) in manifests.iter().enumerate() {
        let pods = super::pods_at_site(m) as f64;
        for c in m.containers() {
            let mut names: Vec<String> = Vec::new();
            for section in ["requests", "limits"] {
                if let Some(map) = c.get(&["resources", section]).and_then(Value::as_object) {
                    names.extend(map.keys().filter(|k| is_extended(k)).cloned());
                }
            }
            names.sort();
            names.dedup();
            for name in names {
                let Some((amount, ptr)) = super::container_request(&c, &name) else {
                    continue;
                };
                let have = hw.accelerators.get(&name).copied().unwrap_or(0) as f64;
                if have == 0.0 {
                    out.push((
                        i,
                        Violation::at(
                            ptr,
                            format!(
                                "{} asks for {name}, which hardware `{}` does not have",
                                c.label(),
                                hw.name
                            ),
                        )
                        .help(format!(
                            "do not run this workload on `{}` sites, or add {name} to the profile's accelerators if the hardware has it",
                            hw.name
                        )),
                    ));
                    continue;
                }
                if amount > have {
                    out.push((
                        i,
                        Violation::at(
                            ptr.clone(),
                            format!(
                                "{} asks for {amount} {name}, hardware `{}` has {have}",
                                c.label(),
                                hw.name
                            ),
                        )
                        .help("request at most what the hardware profile offers"),
                    ));
                    continue;
                }
                let entry = totals.entry(name).or_insert((0.0, i, 0.0, ptr.clone()));
                entry.0 += amount * pods;
                if amount * pods > entry.2 {
                    (entry.1, entry.2, entry.3) = (i, amount * pods, ptr);
                }
            }
        }
    }
    for (name, (total, i, _, ptr)) in totals {
        let have = hw.accelerators.get(&name).copied().unwrap_or(0) as f64;
        if total > have {
            out.push((
                i,
                Violation::at(
                    ptr,
                    format!(
                        "the site's pods need {total} {name} in total, hardware `{}` has {have}",
                        hw.name
                    ),
                )
                .help("lower the replicas or the accelerator requests of the site's workloads"),
            ));
        }
    }
}

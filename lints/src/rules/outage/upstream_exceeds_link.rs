use super::{
    Declared, KEEP_RATIO, LINK_SHARE, UPSTREAM_KBPS, annotation_ptr, fraction, rate, show_kbps,
};
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). For a workload that declares its upstream rate
    /// (`edgefleet.io/upstream-kbps`, kbit/s; see `docs/outage.md`), reports a kept rate (the
    /// rate × `edgefleet.io/upstream-keep-ratio`, default 1) above the workload's link budget:
    /// the site backhaul's `bandwidth_kbps` × `edgefleet.io/link-share` (default 1, the whole
    /// link), rounded down to whole kbit/s as `edgefleet generate` computes it. Also reports an
    /// annotation value that is not a number (a rate) or a fraction in (0, 1] (keep ratio, link
    /// share). The finding points at the line that sets the rate and names the site and its
    /// backhaul.
    ///
    /// The policy is the generator's (`edgefleet_inventory::OutageBuffer`): a workload whose
    /// rate is above its budget is reduced at the source so that the kept rate is half the
    /// budget, and the other half drains the backlog after an outage.
    ///
    /// ## Why it matters at an edge site
    /// When the link comes back after an outage, the queue drains only as fast as the link
    /// carries more than the workload produces. If the workload produces more than its share of
    /// the link, the backlog never drains: every outage's data is lost at the back of the queue,
    /// the link stays saturated, and the other workloads of the site starve. No buffer size
    /// fixes that; only sending less does.
    ///
    /// ## Example
    /// At a site on `vsat-2m` (2048 kbit/s), a collector allowed a quarter of the link (512
    /// kbit/s) that sends 2304 kbit/s:
    /// ```yaml
    ///     edgefleet.io/upstream-kbps: "2304"
    ///     edgefleet.io/link-share: "0.25"
    /// ```
    ///
    /// ## Fix
    /// Reduce at the source — sample traces and logs, aggregate metrics, scrape less often —
    /// and declare the kept share in `edgefleet.io/upstream-keep-ratio` (the generated trees do
    /// this when `buffer.reduce` is true), or give the site a faster backhaul.
    pub static RULE = {
        id: "outage/upstream-exceeds-link",
        level: Error,
        summary: "Declared upstream rate above the site's link budget: the backlog after an outage never drains",
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
        let mut valid = |d: Declared<f64>, key: &str, default: f64| match d {
            Declared::Absent => Some(default),
            Declared::Valid(v) => Some(v),
            Declared::Invalid(why) => {
                out.push((
                    i,
                    Violation::at(annotation_ptr(key), why)
                        .help("see docs/outage.md for the annotations and their units"),
                ));
                None
            }
        };
        let rate = valid(rate(m), UPSTREAM_KBPS, f64::NAN);
        let keep = valid(fraction(m, KEEP_RATIO), KEEP_RATIO, 1.0);
        let share = valid(fraction(m, LINK_SHARE), LINK_SHARE, 1.0);
        let (Some(rate), Some(keep), Some(share)) = (rate, keep, share) else {
            continue;
        };
        if rate.is_nan() {
            continue; // no rate declared: nothing to judge
        }
        let budget = (link.bandwidth_kbps as f64 * share).floor();
        let kept = rate * keep;
        if kept <= budget {
            continue;
        }
        let sent = if keep < 1.0 {
            format!(
                "keeps {} of {} ({}%)",
                show_kbps(kept),
                show_kbps(rate),
                (keep * 1000.0).round() / 10.0
            )
        } else {
            format!("sends {}", show_kbps(rate))
        };
        let budget_text = if share < 1.0 {
            format!(
                "its budget of {} ({}% of backhaul `{}`'s {})",
                show_kbps(budget),
                (share * 1000.0).round() / 10.0,
                link.name,
                show_kbps(link.bandwidth_kbps as f64)
            )
        } else {
            format!(
                "backhaul `{}`'s {}",
                link.name,
                show_kbps(link.bandwidth_kbps as f64)
            )
        };
        out.push((
            i,
            Violation::at(
                annotation_ptr(UPSTREAM_KBPS),
                format!(
                    "{} {sent} upstream, more than {budget_text}: the backlog after an outage never drains",
                    m.object
                ),
            )
            .help(format!(
                "reduce at the source to at most {} (half the budget leaves the other half to drain the backlog) and declare the kept share in `{KEEP_RATIO}`",
                show_kbps((budget / 2.0).floor())
            )),
        ));
    }
}

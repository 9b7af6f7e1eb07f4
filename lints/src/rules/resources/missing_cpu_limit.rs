use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container or init container without `resources.limits.cpu`. Off by default:
    /// enable it with `"resources/missing-cpu-limit" = "warning"` under `[lint.rules]`.
    ///
    /// ## Why it matters at an edge site
    /// CPU limits are a trade-off: they throttle a container even when the node is idle, which
    /// hurts latency-sensitive edge workloads, but without them a runaway process can starve
    /// the site's other workloads. Teams that run hard real-time or shared nodes enable it.
    ///
    /// ## Example
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m, memory: 128Mi}
    ///       limits: {memory: 256Mi}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///       limits: {cpu: 500m, memory: 256Mi}
    /// ```
    pub static RULE = {
        id: "resources/missing-cpu-limit",
        level: Off,
        summary: "Container has no CPU limit (off by default)",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    super::missing(
        m,
        "limits",
        "cpu",
        "set resources.limits.cpu (e.g. 500m)",
        out,
    );
}

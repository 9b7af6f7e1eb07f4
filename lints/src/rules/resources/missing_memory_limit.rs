use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container or init container without `resources.limits.memory`.
    ///
    /// ## Why it matters at an edge site
    /// One leaking container without a memory limit can take the whole node down with it:
    /// the kernel's OOM killer then picks victims among the site's other workloads, possibly
    /// the network agent that lets you reach the site at all. With a limit, only the leaking
    /// container is restarted.
    ///
    /// ## Example
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m, memory: 128Mi}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m, memory: 128Mi}
    ///       limits: {memory: 256Mi}
    /// ```
    pub static RULE = {
        id: "resources/missing-memory-limit",
        level: Error,
        summary: "Container has no memory limit",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    super::missing(
        m,
        "limits",
        "memory",
        "set resources.limits.memory (e.g. 256Mi)",
        out,
    );
}

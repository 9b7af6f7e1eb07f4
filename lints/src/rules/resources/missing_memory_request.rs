use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container or init container without `resources.requests.memory`.
    ///
    /// ## Why it matters at an edge site
    /// Memory is the scarcest resource at a site (often 8–16 GiB for every workload). A pod
    /// without a memory request is the first evicted under pressure, and the scheduler can
    /// overcommit the node: under load, the node thrashes and the kubelet evicts pods that
    /// nobody on site will notice are gone.
    ///
    /// ## Example
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m, memory: 128Mi}
    /// ```
    pub static RULE = {
        id: "resources/missing-memory-request",
        level: Warning,
        summary: "Container has no memory request",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    super::missing(
        m,
        "requests",
        "memory",
        "set resources.requests.memory (e.g. 128Mi)",
        out,
    );
}

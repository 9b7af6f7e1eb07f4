use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container or init container without `resources.requests.cpu`.
    ///
    /// ## Why it matters at an edge site
    /// Edge nodes are small (a Jetson has 6 cores). Without a CPU request the scheduler
    /// packs pods blindly and the kubelet gives the container the lowest share under
    /// contention: the telemetry agent starves exactly when the site is busiest, and nobody
    /// is there to restart anything.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: agent
    ///     image: registry.example.com/agent@sha256:...
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m, memory: 64Mi}
    /// ```
    pub static RULE = {
        id: "resources/missing-cpu-request",
        level: Warning,
        summary: "Container has no CPU request",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    super::missing(
        m,
        "requests",
        "cpu",
        "set resources.requests.cpu (e.g. 100m)",
        out,
    );
}

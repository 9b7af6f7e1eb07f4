use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container of a long-running workload without a `livenessProbe`. Jobs and
    /// CronJobs are exempt.
    ///
    /// ## Why it matters at an edge site
    /// A deadlocked process with no liveness probe stays "Running" forever. In a data centre
    /// someone restarts it; at a site with no technician within 400 km, the liveness probe is
    /// the only one who will.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: collector
    ///     readinessProbe: {httpGet: {path: /ready, port: 13133}}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     livenessProbe:
    ///       httpGet: {path: /healthz, port: 13133}
    ///       periodSeconds: 20
    /// ```
    pub static RULE = {
        id: "probes/missing-liveness",
        level: Warning,
        summary: "Long-running container has no liveness probe",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    super::missing(
        m,
        "livenessProbe",
        "add a livenessProbe so a hung process is restarted",
        out,
    );
}

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container whose `livenessProbe` is identical to its `readinessProbe`.
    ///
    /// ## Why it matters at an edge site
    /// Readiness answers "can I serve now?", liveness "am I stuck for good?". When both are
    /// the same check, a pod that is merely busy (catching up on a backlog after a backhaul
    /// outage) is killed instead of being taken out of rotation, and the restart loses the
    /// backlog: the site enters a restart loop exactly when it reconnects.
    ///
    /// ## Example
    /// ```yaml
    ///     readinessProbe: {httpGet: {path: /healthz, port: http}}
    ///     livenessProbe: {httpGet: {path: /healthz, port: http}}
    /// ```
    ///
    /// ## Fix
    /// Give liveness a cheaper endpoint and a longer failure threshold than readiness.
    pub static RULE = {
        id: "probes/identical-liveness-readiness",
        level: Warning,
        summary: "Liveness and readiness probes are identical",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in super::probed(m) {
        if let (Some(l), Some(r)) = (c.get(&["livenessProbe"]), c.get(&["readinessProbe"]))
            && l == r
        {
            out.push(
                Violation::at(
                    c.ptr(&["livenessProbe"]),
                    format!("{}: livenessProbe is identical to readinessProbe", c.label()),
                )
                .help("a busy pod should leave rotation, not be restarted: use a separate liveness check or a higher failureThreshold"),
            );
        }
    }
}

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container of a long-running workload (Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, restarting Pod) without a `readinessProbe`. Jobs and CronJobs are exempt.
    ///
    /// ## Why it matters at an edge site
    /// Without readiness, a pod receives traffic before it can serve, and ArgoCD's health
    /// gating (used by progressive RollingSync waves) marks a broken rollout healthy: the bad
    /// version moves on from the canary sites to the whole fleet.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     ports: [{name: http, containerPort: 8080}]
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     readinessProbe:
    ///       httpGet: {path: /ready, port: http}
    /// ```
    pub static RULE = {
        id: "probes/missing-readiness",
        level: Warning,
        summary: "Long-running container has no readiness probe",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    super::missing(
        m,
        "readinessProbe",
        "add a readinessProbe so rollouts are health-gated",
        out,
    );
}

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container that may run as root: `runAsNonRoot` is neither `true` on the
    /// container's `securityContext` nor inherited from the pod's `securityContext`.
    ///
    /// ## Why it matters at an edge site
    /// Most images default to root. A process running as root that escapes its container
    /// controls the node, and an edge node is a box in a cabinet with no one to re-image it.
    /// `runAsNonRoot: true` makes the kubelet refuse to start a root image.
    ///
    /// ## Example
    /// ```yaml
    ///     securityContext: {allowPrivilegeEscalation: false}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///   securityContext: {runAsNonRoot: true, runAsUser: 10001}   # pod or container
    /// ```
    pub static RULE = {
        id: "security/run-as-non-root",
        level: Warning,
        summary: "Container may run as root (runAsNonRoot not true)",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(pod) = m.pod_spec() else {
        return;
    };
    let pod_level = pod
        .spec
        .pointer("/securityContext/runAsNonRoot")
        .and_then(Value::as_bool);
    for c in m.containers() {
        let path = ["securityContext", "runAsNonRoot"];
        let effective = c.get(&path).and_then(Value::as_bool).or(pod_level);
        if effective == Some(true) {
            continue;
        }
        let pointer = if c.get(&path).is_some() {
            c.ptr(&path)
        } else if pod_level.is_some() {
            format!("{}/securityContext/runAsNonRoot", pod.pointer)
        } else {
            crate::rules::deepest(&c, &path)
        };
        out.push(
            Violation::at(pointer, format!("{} may run as root", c.label()))
                .help("set securityContext.runAsNonRoot: true on the pod or the container"),
        );
    }
}

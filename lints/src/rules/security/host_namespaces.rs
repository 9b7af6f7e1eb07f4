use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a pod spec with `hostNetwork`, `hostPID` or `hostIPC` set to `true`.
    ///
    /// ## Why it matters at an edge site
    /// Sharing the node's namespaces lets the pod see and talk to every process and interface
    /// of the node, including the site's uplink. A bug or compromise there reaches the
    /// management plane you need to recover the site remotely.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostNetwork: true
    /// ```
    ///
    /// ## Fix
    /// Remove the field; expose ports through a Service, or suppress with a written reason
    /// for a CNI or node agent that truly needs it.
    pub static RULE = {
        id: "security/host-namespaces",
        level: Error,
        summary: "Pod shares the host network, PID or IPC namespace",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(pod) = m.pod_spec() else {
        return;
    };
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if crate::rules::is_true(pod.spec.get(field)) {
            out.push(
                Violation::at(
                    format!("{}/{field}", pod.pointer),
                    format!("pod sets {field}: true"),
                )
                .help(format!("remove {field}; it exposes the node to the pod")),
            );
        }
    }
}

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container whose `securityContext.readOnlyRootFilesystem` is not `true`.
    ///
    /// ## Why it matters at an edge site
    /// A writable root filesystem lets a compromised process persist tools in the container,
    /// and lets a chatty one fill the node's small disk with logs until the kubelet starts
    /// evicting pods. Writable paths should be explicit, sized volumes.
    ///
    /// ## Example
    /// ```yaml
    ///     securityContext: {runAsNonRoot: true}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext: {readOnlyRootFilesystem: true}
    ///     volumeMounts: [{name: tmp, mountPath: /tmp}]   # emptyDir with a sizeLimit
    /// ```
    pub static RULE = {
        id: "security/writable-root-filesystem",
        level: Warning,
        summary: "Container root filesystem is writable",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        let path = ["securityContext", "readOnlyRootFilesystem"];
        if c.get(&path).and_then(Value::as_bool) == Some(true) {
            continue;
        }
        out.push(
            Violation::at(
                crate::rules::deepest(&c, &path),
                format!("{} has a writable root filesystem", c.label()),
            )
            .help("set securityContext.readOnlyRootFilesystem: true and mount emptyDirs where it writes"),
        );
    }
}

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container whose `securityContext.allowPrivilegeEscalation` is not `false`
    /// (unset defaults to allowed).
    ///
    /// ## Why it matters at an edge site
    /// With escalation allowed, a setuid binary in the image turns a compromised process into
    /// root. Edge images are often vendor-supplied and rarely rebuilt; closing the door costs
    /// one line.
    ///
    /// ## Example
    /// ```yaml
    ///     securityContext: {runAsNonRoot: true}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext: {allowPrivilegeEscalation: false}
    /// ```
    pub static RULE = {
        id: "security/privilege-escalation",
        level: Warning,
        summary: "Container does not set allowPrivilegeEscalation: false",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        let path = ["securityContext", "allowPrivilegeEscalation"];
        if c.get(&path).and_then(Value::as_bool) == Some(false) {
            continue;
        }
        out.push(
            Violation::at(
                crate::rules::deepest(&c, &path),
                format!("{} allows privilege escalation", c.label()),
            )
            .help("set securityContext.allowPrivilegeEscalation: false"),
        );
    }
}

use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container whose `securityContext.capabilities.drop` does not contain `ALL`.
    ///
    /// ## Why it matters at an edge site
    /// The default capability set includes `NET_RAW` (spoofing on the site LAN) and
    /// `CHOWN`/`SETUID` among others. Dropping all and adding back the few a workload needs
    /// keeps a compromise in one container from reaching the site's industrial network.
    ///
    /// ## Example
    /// ```yaml
    ///     securityContext:
    ///       capabilities: {drop: [NET_RAW]}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext:
    ///       capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
    /// ```
    pub static RULE = {
        id: "security/capabilities-not-dropped",
        level: Warning,
        summary: "Container does not drop ALL capabilities",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        let path = ["securityContext", "capabilities", "drop"];
        let drops_all = c
            .get(&path)
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("ALL")));
        if drops_all {
            continue;
        }
        out.push(
            Violation::at(
                crate::rules::deepest(&c, &path),
                format!("{} does not drop ALL capabilities", c.label()),
            )
            .help("set securityContext.capabilities.drop: [ALL] and add back only what it needs"),
        );
    }
}

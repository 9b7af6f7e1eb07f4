use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a container with `securityContext.privileged: true`.
    ///
    /// ## Why it matters at an edge site
    /// A privileged container is root on the node: every device, every kernel setting. Edge
    /// nodes sit in cabinets, on rigs and in shops, physically reachable by anyone; one
    /// compromised container owns the node, and re-imaging it means a truck roll.
    ///
    /// ## Example
    /// ```yaml
    ///     securityContext: {privileged: true}
    /// ```
    ///
    /// ## Fix
    /// Grant only the capability or device the container needs (`capabilities.add: [NET_ADMIN]`,
    /// a device plugin), or suppress with a written reason.
    pub static RULE = {
        id: "security/privileged",
        level: Error,
        summary: "Container runs privileged",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in m.containers() {
        if crate::rules::is_true(c.get(&["securityContext", "privileged"])) {
            out.push(
                Violation::at(
                    c.ptr(&["securityContext", "privileged"]),
                    format!("{} runs privileged", c.label()),
                )
                .help("grant the specific capability or device instead"),
            );
        }
    }
}

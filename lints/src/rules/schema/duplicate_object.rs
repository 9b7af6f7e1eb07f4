use std::collections::HashMap;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports an object whose kind, namespace and name repeat an earlier object of the same
    /// input set (the files and folders of one `edgefleet lint` run).
    ///
    /// ## Why it matters at an edge site
    /// Two objects with one identity fight: whichever is applied last wins, and which one
    /// that is depends on file order. ArgoCD reports the app as out of sync forever, and the
    /// site runs a configuration nobody reviewed.
    ///
    /// ## Example
    /// Two files that both define `ConfigMap edge/telemetry-config`.
    ///
    /// ## Fix
    /// Merge the two objects, or rename one of them.
    pub static RULE = {
        id: "schema/duplicate-object",
        level: Error,
        summary: "Two objects with the same kind, namespace and name",
        check: Check::Set(check),
    };
}

fn check(_: &RuleOptions, manifests: &[Manifest], out: &mut Vec<(usize, Violation)>) {
    let mut seen: HashMap<(&str, Option<&str>, &str), usize> = HashMap::new();
    for (i, m) in manifests.iter().enumerate() {
        let Some(name) = m.value.pointer("/metadata/name").and_then(|v| v.as_str()) else {
            continue;
        };
        let kind = m.kind();
        if kind.is_empty() {
            continue;
        }
        let key = (kind, m.object.namespace.as_deref(), name);
        match seen.get(&key) {
            Some(&first) => {
                let at = manifests[first].locate("/metadata/name");
                out.push((
                    i,
                    Violation::at(
                        "/metadata/name",
                        format!("{} is defined twice; first at {at}", m.object),
                    )
                    .help("keep one definition: the last one applied would silently win"),
                ));
            }
            None => {
                seen.insert(key, i);
            }
        }
    }
}

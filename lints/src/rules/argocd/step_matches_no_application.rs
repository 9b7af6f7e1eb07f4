use super::RollingSync;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a RollingSync step of an ApplicationSet that cannot match any of its
    /// Applications, judged from the static labels of the ApplicationSet's own template: the
    /// step asks for a label the template does not set, or for a value the template's fixed
    /// label never has. Steps on templated labels (`{{.wave}}`) are not judged.
    ///
    /// ## Why it matters at an edge site
    /// A step that matches nothing is usually a typo in a label key. The progressive rollout
    /// then does not do what the plan says: the canary wave is empty and the change goes
    /// straight to a later, larger wave of sites.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   type: RollingSync
    ///   rollingSync:
    ///     steps:
    ///       - matchExpressions: [{key: wav, operator: In, values: [canary]}]
    /// template:
    ///   metadata:
    ///     labels: {wave: "{{.wave}}"}
    /// ```
    ///
    /// ## Fix
    /// Use the label key and values the template sets (`key: wave`).
    pub static RULE = {
        id: "argocd/step-matches-no-application",
        level: Error,
        summary: "RollingSync step matches none of the ApplicationSet's Applications",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(rs) = RollingSync::of(m) else {
        return;
    };
    for (i, step) in rs.steps.iter().enumerate() {
        if rs.step_matches(step) == Some(false) {
            out.push(
                Violation::at(
                    format!("/spec/strategy/rollingSync/steps/{i}"),
                    format!(
                        "RollingSync step {} matches no Application: the template's labels never satisfy it",
                        i + 1
                    ),
                )
                .help("match on a label that spec.template.metadata.labels sets, with a value it can take"),
            );
        }
    }
}

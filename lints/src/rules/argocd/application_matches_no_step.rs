use super::RollingSync;
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports an ApplicationSet with a RollingSync strategy whose Applications (judged from
    /// the static labels of its template) match none of the steps. Only reported when every
    /// step can be judged, i.e. no step depends on a templated label value.
    ///
    /// ## Why it matters at an edge site
    /// Argo CD silently never syncs an Application that matches no RollingSync step. The
    /// change is merged, the dashboards look calm, and no site ever receives it — including
    /// the security fix you were rolling out.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   type: RollingSync
    ///   rollingSync:
    ///     steps:
    ///       - matchExpressions: [{key: wave, operator: In, values: [canary]}]
    /// template:
    ///   metadata:
    ///     labels: {wave: main}
    /// ```
    ///
    /// ## Fix
    /// Add a step for the Applications' label value (often a trailing catch-all step), or
    /// template the label from the generator (`wave: "{{.wave}}"`).
    pub static RULE = {
        id: "argocd/application-matches-no-step",
        level: Error,
        summary: "ApplicationSet's Applications match no RollingSync step and are never synced",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(rs) = RollingSync::of(m) else {
        return;
    };
    if rs.steps.is_empty() {
        return;
    }
    let verdicts: Vec<Option<bool>> = rs.steps.iter().map(|s| rs.step_matches(s)).collect();
    if verdicts.iter().all(|v| *v == Some(false)) {
        let pointer = if rs.labels.is_some() {
            "/spec/template/metadata/labels"
        } else {
            "/spec/template/metadata"
        };
        out.push(
            Violation::at(
                pointer,
                format!(
                    "the Applications of {} match none of its {} RollingSync steps: Argo CD never syncs them",
                    m.object,
                    rs.steps.len()
                ),
            )
            .help("add a step that matches these labels, e.g. a trailing step for the rest of the fleet"),
        );
    }
}

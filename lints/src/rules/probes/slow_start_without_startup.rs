use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

/// A liveness probe that waits this long before its first check marks a slow starter.
pub const SLOW_START_SECONDS: u64 = 60;

crate::declare_rule! {
    /// ## What it does
    /// Reports a container that is a slow starter — its `livenessProbe.initialDelaySeconds` is
    /// 60 or more — but has no `startupProbe`.
    ///
    /// ## Why it matters at an edge site
    /// A long initial delay is a guess at the start-up time. On a slow edge CPU, after a power
    /// cut, or while a model is loaded from a slow disk, the guess is wrong: the liveness probe
    /// kills the container before it is up, for ever. When it is too long instead, a real hang
    /// goes unnoticed for minutes. A `startupProbe` waits exactly as long as start-up takes.
    ///
    /// ## Example
    /// ```yaml
    ///     livenessProbe:
    ///       httpGet: {path: /healthz, port: http}
    ///       initialDelaySeconds: 120
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     startupProbe:
    ///       httpGet: {path: /healthz, port: http}
    ///       periodSeconds: 10
    ///       failureThreshold: 30     # up to 5 minutes
    ///     livenessProbe:
    ///       httpGet: {path: /healthz, port: http}
    /// ```
    pub static RULE = {
        id: "probes/slow-start-without-startup",
        level: Warning,
        summary: "Slow-starting container (liveness initialDelaySeconds >= 60) has no startupProbe",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    for c in super::probed(m) {
        let delay = c
            .get(&["livenessProbe", "initialDelaySeconds"])
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if delay >= SLOW_START_SECONDS && c.get(&["startupProbe"]).is_none() {
            out.push(
                Violation::at(
                    c.ptr(&["livenessProbe", "initialDelaySeconds"]),
                    format!(
                        "{}: liveness waits {delay}s before its first check but there is no startupProbe",
                        c.label()
                    ),
                )
                .help("add a startupProbe and drop the long initialDelaySeconds"),
            );
        }
    }
}
